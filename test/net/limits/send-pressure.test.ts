/**
 * Send pressure alone, without sockets: progress is the bytes the peer takes (not completed writes),
 * a member whose peer keeps taking bytes is never cut off however long no write completes, one whose
 * peer takes nothing is cut off after stallTimeoutMs, and past the cap the bytes nothing holds cut off
 * a member while a held flood's do not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DisconnectCause } from '../../../src/core/disconnect-cause.js';
import { swapReadSource } from '../../../src/core/read-source.js';
import { FanoutFlow } from '../../../src/net/limits/fanout-flow.js';
import { SendPressure } from '../../../src/net/limits/send-pressure.js';
import { kCutOff, kFanoutPaused, kFlowState, kPauseOwnReading, kPendingBytes, kTakenBytes, kWritabilityChanged } from '../../../src/net/symbols.js';
import type { PressuredConnection } from '../../../src/net/limits/send-pressure.js';
import type { SessionSettings } from '../../../src/net/session-owner.js';
import { cleanupAfter, Condition } from '../../helpers/wait.js';

const HIGH = 64 * 1024;

function settings(overrides: Partial<SessionSettings> = {}): SessionSettings {
  return {
    sendHighWaterMark: HIGH,
    sendLowWaterMark: HIGH / 2,
    maxSendQueueBytes: 1024 * 1024,
    stallTimeoutMs: 200,
    fanoutShareBytesPerSecond: 4096,
    pauseReadingWhenUnwritable: true,
    ...overrides,
  } as SessionSettings;
}

/** A connection as send pressure sees it: a count of bytes its peer took, and what it was told. */
class FakeConnection implements PressuredConnection {
  connected = true;
  taken = 0;
  pending = 0;
  cause: DisconnectCause | undefined;
  cutAt = 0;
  paused: boolean[] = [];
  readonly pressure: SendPressure;
  readonly changed = new Condition();
  readonly #flow: FanoutFlow;

  constructor(settingsOf: SessionSettings) {
    this.pressure = new SendPressure(this, settingsOf);
    this.#flow = this.pressure.flow;
  }
  [kFlowState](): FanoutFlow {
    return this.#flow;
  }
  [kFanoutPaused](paused: boolean): void {
    this.paused.push(paused);
  }
  [kPendingBytes](): number {
    return this.pending;
  }
  [kTakenBytes](): number {
    return this.taken;
  }
  [kWritabilityChanged](): void {}
  [kPauseOwnReading](): void {}
  [kCutOff](cause: DisconnectCause): void {
    this.cause = cause;
    this.cutAt = performance.now();
    this.connected = false;
    this.pressure.close();
    this.changed.notify();
  }
}

describe('SendPressure: progress is bytes the peer takes', () => {
  it('a peer that takes a little now and then is never cut off; one that takes nothing is, after stallTimeoutMs', async (t) => {
    const cleanup = cleanupAfter(t);
    const stallTimeoutMs = 200;
    const slow = new FakeConnection(settings({ stallTimeoutMs }));
    const stuck = new FakeConnection(settings({ stallTimeoutMs }));
    cleanup.add(() => {
      slow.pressure.close();
      stuck.pressure.close();
    });
    const start = performance.now();
    assert.equal(slow.pressure.aboveHigh(HIGH + 1, 1), true);
    assert.equal(stuck.pressure.aboveHigh(HIGH + 1, 1), true);
    assert.equal(slow.pressure.writable, false);
    // The slow peer takes one byte every 150 ms, and no write ever completes.
    let steps = 0;
    const timer = setInterval(() => {
      slow.taken++;
      steps++;
      slow.changed.notify();
    }, 150);
    cleanup.add(() => clearInterval(timer));
    await stuck.changed.until(() => stuck.cause !== undefined, 'the stuck peer to be cut off', 5_000);
    const after = stuck.cutAt - start;
    assert.equal(stuck.cause?.code, 'SEND_STALLED');
    assert.ok(after >= stallTimeoutMs && after <= stallTimeoutMs * 1.25 + 100, `cut off after ${after.toFixed(0)} ms`);
    // Ten more of the slow peer's steps (1.5 s, over seven stall timeouts) and it is still there.
    const until = steps + 10;
    await slow.changed.until(() => steps >= until || slow.cause !== undefined, 'ten more steps', 5_000);
    assert.equal(slow.cause, undefined, 'the slow peer is kept');
  });
});

describe('SendPressure: past maxSendQueueBytes', () => {
  const cap = 256 * 1024;

  it("bytes from a source within its share cut off the member: it is too slow for the room's ordinary traffic", () => {
    const member = new FakeConnection(settings({ maxSendQueueBytes: cap }));
    const chatter = new FakeConnection(settings());
    const previous = swapReadSource(chatter);
    try {
      assert.equal(member.pressure.aboveHigh(cap, 1_000), true, 'at the cap');
      assert.equal(member.pressure.aboveHigh(cap + 1_000, 1_000), false, 'past it');
    } finally {
      swapReadSource(previous);
      member.pressure.close();
    }
    assert.equal(member.cause?.code, 'SEND_QUEUE_OVERFLOW');
    assert.deepEqual(chatter.paused, [], 'the chatter was never held');
  });

  it('a source within its share does not cut off a member that is past the cap only by what floods queued', () => {
    const member = new FakeConnection(settings({ maxSendQueueBytes: cap }));
    const flooders = [new FakeConnection(settings()), new FakeConnection(settings())];
    const chatter = new FakeConnection(settings());
    let queued = HIGH;
    const send = (source: FakeConnection, bytes: number): boolean => {
      const previous = swapReadSource(source);
      try {
        queued += bytes;
        return member.pressure.aboveHigh(queued, bytes);
      } finally {
        swapReadSource(previous);
      }
    };
    try {
      // Two floods each read 64 KiB × 2 in the turn before they are held: the queue goes past the cap.
      for (const flooder of flooders) for (let i = 0; i < 128; i++) assert.equal(send(flooder, 1024), true);
      assert.ok(queued > cap, `${queued} queued`);
      for (const flooder of flooders) assert.deepEqual(flooder.paused, [true]);
      // A chatter's chats are within its share: queued, never held, and the member is kept ...
      for (let i = 0; i < 16; i++) assert.equal(send(chatter, 1000), true);
      assert.deepEqual(chatter.paused, []);
      assert.equal(member.cause, undefined);
      // ... until what nothing holds back is past the cap on its own.
      const cause = (): DisconnectCause | undefined => member.cause;
      while (cause() === undefined && queued < 4 * cap) send(new FakeConnection(settings()), 1000);
      assert.equal(cause()?.code, 'SEND_QUEUE_OVERFLOW');
      assert.ok(queued - member.pressure.flow.heldBytes > cap);
    } finally {
      member.pressure.close();
    }
  });

  it('bytes from a held flood past the cap do not cut off a member whose peer takes bytes; once it takes none for stallTimeoutMs they do', () => {
    const stallTimeoutMs = 200;
    const member = new FakeConnection(settings({ maxSendQueueBytes: cap, stallTimeoutMs }));
    const flooder = new FakeConnection(settings());
    const previous = swapReadSource(flooder);
    try {
      assert.equal(member.pressure.aboveHigh(HIGH + 64 * 1024, 64 * 1024), true);
      assert.deepEqual(flooder.paused, [true], 'held: past its share at once');
      assert.equal(member.pressure.aboveHigh(cap + 1, 1), true, 'held input past the cap, the peer just went above its mark');
      member.pressure.flow.progressAt -= stallTimeoutMs; // as if stallTimeoutMs passed
      member.taken += 100; // ... in which the peer took some bytes
      assert.equal(member.pressure.aboveHigh(cap + 2, 1), true, 'it took bytes: kept');
      member.pressure.flow.progressAt -= stallTimeoutMs; // and then nothing for stallTimeoutMs
      assert.equal(member.pressure.aboveHigh(cap + 3, 1), false);
    } finally {
      swapReadSource(previous);
      member.pressure.close();
    }
    assert.equal(member.cause?.code, 'SEND_QUEUE_OVERFLOW');
    assert.deepEqual(flooder.paused, [true, false], 'released once the member was cut off');
  });
});
