/**
 * A room's relay flow (src/room/relay-flow.ts) alone, with a recording bus: bytes relayed from other
 * processes are charged to their sender, each with its own share, so a member behind holds only the
 * sender past its share and the bus is asked to hold that session only; the remote senders a room
 * keeps apart are bounded whatever ids a peer names; a process asked to hold one session holds it
 * and nobody else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { swapReadSource } from '../../src/core/read-source.js';
import { FanoutFlow, type FlowParty } from '../../src/net/limits/fanout-flow.js';
import { kFanoutPaused, kFlowState } from '../../src/net/symbols.js';
import { RelayFlow } from '../../src/room/relay-flow.js';
import type { RoomBus } from '../../src/room/room-bus.js';

const SHARE = DEFAULTS.fanoutShareBytesPerSecond;

/** A bus that records the holds it is asked for. */
function recordingBus(): RoomBus & { readonly calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    origin: 1,
    join: () => {},
    leave: () => {},
    publish: () => {},
    holdFeeders: (room, held) => calls.push(`room ${room} ${held ? 'held' : 'released'}`),
    holdSender: (room, origin, session, held) => calls.push(`${room} ${origin}/${session} ${held ? 'held' : 'released'}`),
  };
}

/** A session as fan-out flow control sees it, recording whether its reading is paused. */
class FakeSession implements FlowParty {
  readonly flow = new FanoutFlow(this);
  readonly connected = true;
  paused = false;
  constructor(readonly id: number) {}
  [kFlowState](): FanoutFlow {
    return this.flow;
  }
  [kFanoutPaused](paused: boolean): void {
    this.paused = paused;
  }
}

/** A member above its high mark since now. */
function memberAboveHigh(): FanoutFlow {
  const member = new FanoutFlow(new FakeSession(999));
  member.aboveHighAt = performance.now();
  return member;
}

describe('relay flow', () => {
  it('a flooder and a chatter of another process: only the flooder is held, and the bus is asked to hold that session only', () => {
    const bus = recordingBus();
    const relay = new RelayFlow('chat', bus);
    const flooder = relay.partyFor(2, 2 ** 21 + 5);
    const chatter = relay.partyFor(2, 2 ** 21 + 6);
    assert.notEqual(flooder, relay);
    assert.notEqual(chatter, flooder);
    assert.equal(relay.partyFor(2, 2 ** 21 + 5), flooder, 'the same sender, the same party');
    const member = memberAboveHigh();
    let flooderPaced = false;
    for (let i = 0; i < 100; i++) {
      flooderPaced = member.feed(flooder[kFlowState](), 1015, SHARE);
      assert.equal(member.feed(chatter[kFlowState](), 120, SHARE), false, 'the chatter is within its share');
    }
    assert.equal(flooderPaced, true, 'the flooder is past its share');
    assert.deepEqual(bus.calls, [`chat 2/${2 ** 21 + 5} held`]);
    member.releaseAll();
    assert.deepEqual(bus.calls, [`chat 2/${2 ** 21 + 5} held`, `chat 2/${2 ** 21 + 5} released`]);
  });

  it('bytes that name no sender, or a sender already known from another process, are charged to the room: its hold holds every feeder', () => {
    const bus = recordingBus();
    const relay = new RelayFlow('chat', bus);
    assert.equal(relay.partyFor(2, undefined), relay);
    relay.partyFor(2, 77);
    assert.equal(relay.partyFor(3, 77), relay, 'a confused peer claims a sender of process 2');
    const member = memberAboveHigh();
    member.feed(relay.flow, SHARE * 10, SHARE);
    assert.deepEqual(bus.calls, ['room chat held']);
  });

  it('the remote senders of a room are bounded: 100,000 ids from a hostile peer keep at most the bound, the rest charged to the room', () => {
    const relay = new RelayFlow('chat', recordingBus());
    let toRoom = 0;
    for (let id = 1; id <= 100_000; id++) if (relay.partyFor(2, id) === relay) toRoom++;
    assert.equal(relay.senderCount, DEFAULTS.relaySendersPerRoom);
    assert.equal(toRoom, 100_000 - DEFAULTS.relaySendersPerRoom);
  });

  it('a sender idle for a sweep interval is forgotten to make room; a held one never is', () => {
    const bus = recordingBus();
    const relay = new RelayFlow('chat', bus, { maxSenders: 3, sweepMs: 0 });
    const [a, b, c] = [relay.partyFor(2, 1), relay.partyFor(2, 2), relay.partyFor(2, 3)];
    const member = memberAboveHigh();
    member.hold((a as FlowParty)[kFlowState]());
    // The first sweep finds all three fed since they were made: nobody is forgotten yet.
    assert.equal(relay.partyFor(2, 4), relay);
    // b stays active; c is idle, a is idle but held.
    assert.equal(relay.partyFor(2, 2), b);
    const d = relay.partyFor(2, 4);
    assert.notEqual(d, relay, 'c was forgotten');
    assert.equal(relay.senderCount, 3);
    assert.equal(relay.partyFor(2, 1), a, 'the held sender is kept');
    assert.notEqual(relay.partyFor(2, 3), c, 'c is a new party if it comes back');
  });

  it('a process asked to hold one session holds it at its next broadcast, and nobody else; released, it reads again', () => {
    const relay = new RelayFlow('chat', recordingBus());
    const flooder = new FakeSession(10);
    const chatter = new FakeSession(11);
    const broadcastFrom = (session: FakeSession): void => {
      const previous = swapReadSource(session);
      try {
        if (relay.holdingAny) relay.holdCurrentSource();
      } finally {
        swapReadSource(previous);
      }
    };
    relay.setSenderHeld(10, true);
    assert.equal(relay.holdingAny, true);
    broadcastFrom(chatter);
    broadcastFrom(flooder);
    assert.deepEqual([flooder.paused, chatter.paused], [true, false]);
    // A room-wide hold and release in between: the named hold is caught again at its next broadcast.
    relay.setHolding(true);
    broadcastFrom(chatter);
    assert.deepEqual([flooder.paused, chatter.paused], [true, true]);
    relay.setHolding(false);
    assert.deepEqual([flooder.paused, chatter.paused], [false, false]);
    broadcastFrom(chatter);
    broadcastFrom(flooder);
    assert.deepEqual([flooder.paused, chatter.paused], [true, false]);
    relay.setSenderHeld(10, false);
    assert.equal(flooder.paused, false);
    assert.equal(relay.holdingAny, false);
  });

  it('named holds from a confused primary are bounded', () => {
    const relay = new RelayFlow('chat', recordingBus(), { maxSenders: 8 });
    for (let id = 1; id <= 10_000; id++) relay.setSenderHeld(id, true);
    assert.ok(relay.namedHoldCount <= 32, `${relay.namedHoldCount} named holds kept`);
    relay.close();
    assert.equal(relay.namedHoldCount, 0);
    assert.equal(relay.holdingAny, false);
  });
});
