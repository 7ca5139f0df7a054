/**
 * The primary's side of sessions that move, with stand-in workers (the IPC is tested with real
 * processes in move-chat.test.ts): the cut is written with move-out in one turn, with the new
 * worker's last publish number; a move with nowhere to go is declined; a new worker that dies after
 * move-out makes the move failed (its client logs in again) and the old worker is told.
 */
import assert from 'node:assert/strict';
import type { Worker } from 'node:cluster';
import { it } from 'node:test';
import { toPrimary, type ToWorkerBody } from '../../src/cluster/cluster-messages.js';
import { MoveCoordinator } from '../../src/cluster/move-coordinator.js';
import { silentLogger } from '../../src/core/logger.js';

function fakeWorker(): Worker & { dead: boolean } {
  const worker = { dead: false, isDead: () => worker.dead };
  return worker as unknown as Worker & { dead: boolean };
}

function setup(targets: Worker[]): { coordinator: MoveCoordinator; sent: Array<[Worker, ToWorkerBody]> } {
  const sent: Array<[Worker, ToWorkerBody]> = [];
  const coordinator = new MoveCoordinator({ targets: () => targets, originOf: () => 7, send: (worker, body) => sent.push([worker, body]) }, silentLogger);
  return { coordinator, sent };
}

const state = { id: 5, kind: 'tcp', remoteAddress: '127.0.0.1', remotePort: 1, received: 0, acked: 0, held: new Uint8Array(0), game: new Uint8Array(0), rooms: ['chat'] } as const;

it('a move goes ask, prepare, move-out with the cut in the same turn, moved, move-in; counted ok', () => {
  const [from, to] = [fakeWorker(), fakeWorker()];
  const { coordinator, sent } = setup([from, to]);
  coordinator.published(to, 41);
  coordinator.receive(from, toPrimary({ type: 'move-ask', session: 5, rooms: ['chat'] }));
  assert.deepEqual(sent.splice(0), [[to, { type: 'move-prepare', session: 5, from: 7, rooms: ['chat'] }]]);
  coordinator.published(to, 42);
  const token = new Uint8Array(24);
  coordinator.receive(to, toPrimary({ type: 'move-prepared', session: 5, key: 9, token }));
  assert.deepEqual(sent.splice(0), [
    [from, { type: 'move-out', session: 5, token }],
    [to, { type: 'move-cut', session: 5, seq: 42 }],
  ]);
  coordinator.receive(from, toPrimary({ type: 'moved', session: 5, state }));
  assert.deepEqual(sent.splice(0), [[to, { type: 'move-in', session: 5, state }]]);
  assert.deepEqual(coordinator.stats, { ok: 0, failed: 0, declined: 0 }, 'not done until the new worker says so');
  coordinator.receive(to, toPrimary({ type: 'move-done', session: 5 }));
  assert.deepEqual(coordinator.stats, { ok: 1, failed: 0, declined: 0 });
});

it('a new worker that could not make the session, or dies after move-in, fails the move', () => {
  const [from, to] = [fakeWorker(), fakeWorker()];
  const { coordinator } = setup([to]);
  for (const session of [5, 6]) {
    coordinator.receive(from, toPrimary({ type: 'move-ask', session, rooms: [] }));
    coordinator.receive(to, toPrimary({ type: 'move-prepared', session, key: session, token: new Uint8Array(24) }));
    coordinator.receive(from, toPrimary({ type: 'moved', session, state: { ...state, id: session } }));
  }
  coordinator.receive(to, toPrimary({ type: 'move-done', session: 5, reason: 'restoreState threw' }));
  assert.deepEqual(coordinator.stats, { ok: 0, failed: 1, declined: 0 });
  to.dead = true;
  coordinator.workerGone(to);
  assert.deepEqual(coordinator.stats, { ok: 0, failed: 2, declined: 0 });
});

it('with no other worker to take it, a move is declined at once: the old worker keeps and drains the session', () => {
  const from = fakeWorker();
  const { coordinator, sent } = setup([from]);
  coordinator.receive(from, toPrimary({ type: 'move-ask', session: 5, rooms: [] }));
  assert.deepEqual(sent, [[from, { type: 'move-cancel', session: 5 }]]);
  assert.deepEqual(coordinator.stats, { ok: 0, failed: 0, declined: 1 });
});

it('the new worker dying after move-out fails the move (counted); before it, declines it; the other side is told', () => {
  const [from, to] = [fakeWorker(), fakeWorker()];
  const { coordinator, sent } = setup([to]);
  coordinator.receive(from, toPrimary({ type: 'move-ask', session: 5, rooms: [] }));
  coordinator.receive(to, toPrimary({ type: 'move-prepared', session: 5, key: 9, token: new Uint8Array(24) }));
  sent.length = 0;
  to.dead = true;
  coordinator.workerGone(to);
  assert.deepEqual(sent, [[from, { type: 'move-cancel', session: 5 }]]);
  assert.deepEqual(coordinator.stats, { ok: 0, failed: 1, declined: 0 });
  // A late `moved` from the old worker is ignored: there is no move any more.
  coordinator.receive(from, toPrimary({ type: 'moved', session: 5, state }));
  assert.equal(sent.length, 1);

  const to2 = fakeWorker();
  const second = setup([to2]);
  second.coordinator.receive(from, toPrimary({ type: 'move-ask', session: 6, rooms: [] }));
  to2.dead = true;
  second.coordinator.workerGone(to2);
  assert.deepEqual(second.coordinator.stats, { ok: 0, failed: 0, declined: 1 });
});

it('a refusal by the new worker, or a failure of the old one, cancels the other side', () => {
  const [from, to] = [fakeWorker(), fakeWorker()];
  const { coordinator, sent } = setup([to]);
  coordinator.receive(from, toPrimary({ type: 'move-ask', session: 5, rooms: [] }));
  coordinator.receive(to, toPrimary({ type: 'move-refused', session: 5, reason: 'closing' }));
  assert.deepEqual(sent.at(-1), [from, { type: 'move-cancel', session: 5 }]);
  coordinator.receive(from, toPrimary({ type: 'move-ask', session: 6, rooms: [] }));
  coordinator.receive(to, toPrimary({ type: 'move-prepared', session: 6, key: 9, token: new Uint8Array(24) }));
  coordinator.receive(from, toPrimary({ type: 'move-failed', session: 6, reason: 'it ended' }));
  assert.deepEqual(sent.at(-1), [to, { type: 'move-cancel', session: 6 }]);
  assert.deepEqual(coordinator.stats, { ok: 0, failed: 0, declined: 2 });
});
