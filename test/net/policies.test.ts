/** The connection's policies alone, without sockets: water marks, read throttle, idle silence, packet admission, state moves. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceStateError } from '../../src/core/errors.js';
import { transition } from '../../src/core/state-machine.js';
import { SESSION_MOVES } from '../../src/net/connection/connection-state.js';
import { IDLE_CHECKS, isIdle, isKeepaliveDue, KEEPALIVE_TICK, nextSilentTicks } from '../../src/net/limits/idle-watch.js';
import { ReadThrottle } from '../../src/net/limits/read-throttle.js';
import { writabilityChange } from '../../src/net/limits/write-watermarks.js';
import { PacketAdmission } from '../../src/packet/packet-admission.js';

describe('write water marks', () => {
  const marks = { sendHighWaterMark: 100, sendLowWaterMark: 50 };
  it('goes unwritable above the high mark and writable again at the low mark, with nothing in between', () => {
    assert.equal(writabilityChange(true, 100, marks), undefined);
    assert.equal(writabilityChange(true, 101, marks), false);
    assert.equal(writabilityChange(false, 51, marks), undefined);
    assert.equal(writabilityChange(false, 50, marks), true);
  });
});

describe('ReadThrottle', () => {
  it("'disconnect': past the burst a chunk is over the limit", () => {
    const throttle = new ReadThrottle(100, false, 0);
    assert.equal(throttle.admit(Buffer.alloc(100), 0), 'pass');
    assert.equal(throttle.admit(Buffer.alloc(1), 0), 'over');
  });

  it("'drop': past the burst the chunk is held, later chunks too, and released in order once the debt is paid", () => {
    const throttle = new ReadThrottle(100, true, 0);
    assert.equal(throttle.admit(Buffer.alloc(100), 0), 'pass');
    const a = Buffer.from([1]);
    const b = Buffer.from([2]);
    const wait = throttle.admit(a, 0);
    assert.equal(typeof wait, 'number');
    assert.ok((wait as number) >= 1 && (wait as number) <= 20, `waits ${String(wait)} ms for 1 byte at 100 B/s`);
    assert.equal(throttle.throttled, true);
    assert.equal(throttle.admit(b, 1), 0, 'held while throttled, nothing more to schedule');
    assert.deepEqual(throttle.release(), [a, b]);
    assert.equal(throttle.throttled, false);
    assert.deepEqual(throttle.release(), []);
  });
});

describe('idle watch', () => {
  it(`a peer is idle after ${IDLE_CHECKS} whole tick periods of silence (one timeout); a sign of life starts the count over`, () => {
    // A sign of life sets the count to 0; the first tick after it may come at once or a whole period
    // later, so the count reaches IDLE_CHECKS + 1 between 1 and 1.25 timeouts after the sign of life.
    let ticks = 0;
    for (let i = 0; i < IDLE_CHECKS; i++) ticks = nextSilentTicks(ticks, false);
    assert.equal(isIdle(ticks), false, `${IDLE_CHECKS - 1} whole periods of silence are not idle yet`);
    ticks = nextSilentTicks(ticks, false);
    assert.equal(isIdle(ticks), true);
    // A tick while silence is excused (the connection paused its own reading) is like one right after a sign of life.
    ticks = nextSilentTicks(ticks, true);
    assert.equal(ticks, 1);
    for (let i = 0; i < IDLE_CHECKS - 1; i++) ticks = nextSilentTicks(ticks, false);
    assert.equal(isIdle(ticks), false);
    assert.equal(isIdle(nextSilentTicks(ticks, false)), true);
  });

  it('prompts a silent peer once per silence, a whole tick period after its last sign of life, well before it is idle', () => {
    const due: number[] = [];
    let ticks = 0;
    for (let tick = 1; !isIdle(ticks); tick++) {
      ticks = nextSilentTicks(ticks, false);
      if (isKeepaliveDue(ticks)) due.push(tick);
    }
    assert.deepEqual(due, [KEEPALIVE_TICK], 'one prompt per silence');
    // The peer has at least this many whole periods to answer before the tick that ends it.
    assert.ok(IDLE_CHECKS + 1 - KEEPALIVE_TICK >= 3);
    assert.equal(isKeepaliveDue(nextSilentTicks(0, false)), false, 'never at the first tick: the peer may have spoken just before it');
    // An excused tick starts the count over, so the prompt comes a period after the excuse ends.
    assert.equal(isKeepaliveDue(nextSilentTicks(nextSilentTicks(KEEPALIVE_TICK, true), false)), true);
  });
});

describe('PacketAdmission', () => {
  it("'drop' counts what it drops; 'disconnect' says over", () => {
    const drop = new PacketAdmission(2, 'drop', 0);
    assert.deepEqual([drop.admit(0), drop.admit(0), drop.admit(0), drop.admit(0)], ['pass', 'pass', 'drop', 'drop']);
    assert.equal(drop.dropped, 2);
    assert.equal(drop.admit(1000), 'pass', 'refilled after a second');
    const cut = new PacketAdmission(1, 'disconnect', 0);
    assert.deepEqual([cut.admit(0), cut.admit(0)], ['pass', 'over']);
  });
});

describe('transition', () => {
  it('moves from the expected state, refuses late events, and throws on an illegal move', () => {
    assert.equal(transition(SESSION_MOVES, 'open', 'open', 'closing', 's'), true);
    assert.equal(transition(SESSION_MOVES, 'closing', 'open', 'closing', 's'), false, 'a second close is ignored');
    assert.equal(transition(SESSION_MOVES, 'closing', ['open', 'closing'], 'closed', 's'), true);
    assert.throws(() => transition(SESSION_MOVES, 'closed', 'closed', 'open', 's'), ServiceStateError);
  });
});
