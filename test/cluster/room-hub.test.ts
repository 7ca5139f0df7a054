/**
 * The primary's room relay (src/cluster/room-hub.ts) holding one sender by name, with stand-in
 * workers that record what they are sent: a hold goes to the sender's worker only, for that session
 * only, until the last worker that holds it lets go; a worker of protocol version 1 is asked to hold
 * the whole room instead; a worker that names more senders than a room charges apart is refused; a
 * worker that leaves or dies takes its holds with it.
 */
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { RoomHub } from '../../src/cluster/room-hub.js';

interface Sent {
  readonly type: string;
  readonly room?: string;
  readonly session?: number;
  readonly held?: boolean;
}

/** A worker stand-in: connected, its sends recorded and written at once. */
function fakeWorker(): Worker & { readonly sent: Sent[]; flows(): string[] } {
  const sent: Sent[] = [];
  const worker = {
    sent,
    process: { pid: 1 },
    isConnected: () => true,
    send: (message: Sent, _handle: unknown, _options: unknown, written: (error: Error | null) => void) => {
      sent.push(message);
      written(null);
      return true;
    },
    flows: () =>
      sent
        .filter((m) => m.type === 'flow' || m.type === 'sender-flow')
        .map((m) => `${m.type} ${m.room}${m.session === undefined ? '' : ` ${m.session}`} ${m.held === true ? 'held' : 'released'}`),
  };
  return worker as unknown as Worker & { readonly sent: Sent[]; flows(): string[] };
}

function threeWorkers() {
  const hub = new RoomHub(undefined);
  const [a, b, c] = [fakeWorker(), fakeWorker(), fakeWorker()];
  hub.addWorker(a, 1);
  hub.addWorker(b, 2);
  hub.addWorker(c, 3);
  for (const worker of [a, b, c]) hub.join(worker, 'chat');
  return { hub, a, b, c };
}

describe('room hub: holds by sender', () => {
  it('a sender held by two workers is held on its own worker until both let go; nobody else is told anything', () => {
    const { hub, a, b, c } = threeWorkers();
    assert.equal(hub.senderFlow(b, 'chat', 1, 42, true), true);
    assert.equal(hub.senderFlow(c, 'chat', 1, 42, true), true);
    assert.deepEqual(a.flows(), ['sender-flow chat 42 held']);
    assert.equal(hub.heldSenderCount, 1);
    assert.equal(hub.senderHoldCount, 1, 'one hold, however many workers hold it');
    assert.equal(hub.heldRoomCount, 0, 'no room is held');
    hub.senderFlow(b, 'chat', 1, 42, false);
    assert.deepEqual(a.flows(), ['sender-flow chat 42 held'], 'c still holds it');
    hub.senderFlow(c, 'chat', 1, 42, false);
    assert.deepEqual(a.flows(), ['sender-flow chat 42 held', 'sender-flow chat 42 released']);
    assert.deepEqual([b.flows(), c.flows()], [[], []]);
    assert.equal(hub.heldSenderCount, 0);
  });

  it('a release never held, a hold of a worker not in the room, or of itself: nothing is sent', () => {
    const { hub, a, b } = threeWorkers();
    hub.senderFlow(b, 'chat', 1, 42, false);
    hub.senderFlow(b, 'chat', 9, 42, true);
    hub.senderFlow(b, 'chat', 2, 42, true);
    hub.senderFlow(b, 'other', 1, 42, true);
    assert.deepEqual([a.flows(), b.flows()], [[], []]);
  });

  it('a sender on a worker of protocol version 1 (no sender-flow): its whole room is held there, and released with the last hold', () => {
    const { hub, a, b } = threeWorkers();
    hub.heard(a, 1);
    hub.senderFlow(b, 'chat', 1, 42, true);
    hub.senderFlow(b, 'chat', 1, 43, true);
    assert.deepEqual(a.flows(), ['flow chat held']);
    hub.senderFlow(b, 'chat', 1, 42, false);
    assert.deepEqual(a.flows(), ['flow chat held']);
    hub.senderFlow(b, 'chat', 1, 43, false);
    assert.deepEqual(a.flows(), ['flow chat held', 'flow chat released']);
  });

  it('a worker that names more senders than a room charges apart is refused past the bound (the caller counts it as malformed)', () => {
    const { hub, a, b } = threeWorkers();
    let refused = 0;
    for (let session = 1; session <= DEFAULTS.relaySendersPerRoom + 100; session++) if (!hub.senderFlow(b, 'chat', 1, session, true)) refused++;
    assert.equal(refused, 100);
    assert.equal(hub.heldSenderCount, DEFAULTS.relaySendersPerRoom);
    assert.equal(a.flows().length, DEFAULTS.relaySendersPerRoom);
  });

  it('a holder that leaves the room (or dies) releases what it held; a sender whose worker dies is forgotten', () => {
    const { hub, a, b, c } = threeWorkers();
    hub.senderFlow(b, 'chat', 1, 42, true);
    hub.senderFlow(c, 'chat', 2, 7, true);
    hub.leave(b, 'chat');
    assert.deepEqual(a.flows(), ['sender-flow chat 42 held', 'sender-flow chat 42 released']);
    hub.removeWorker(b);
    assert.equal(hub.heldSenderCount, 0, 'b is gone: its session 7 is no longer held');
    hub.senderFlow(c, 'chat', 2, 7, false); // c lets go of a sender that is gone: nothing to send
    assert.deepEqual(c.flows(), []);
  });
});
