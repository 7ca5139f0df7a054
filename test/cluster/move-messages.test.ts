/**
 * The IPC messages of sessions that move, from the hostile side: each well-formed one is read back,
 * and each field out of its range (a wrong id, a token of another length, a state for another
 * session, game bytes over the cap, too many rooms) makes the message `malformed`, never a throw.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MAX_MOVED_GAME_BYTES, MAX_MOVED_ROOMS, parseToPrimary, parseToWorker, toPrimary, toWorker } from '../../src/cluster/cluster-messages.js';

const token = new Uint8Array(24);
const state = { id: 5, kind: 'ws' as const, remoteAddress: '::1', remotePort: 5000, received: 3, acked: 2, held: new Uint8Array(8), game: new Uint8Array(4), rooms: ['chat'] };

it('every move message this release writes, it reads', () => {
  for (const body of [
    { type: 'move-ask', session: 5, rooms: ['chat', 'guild'] },
    { type: 'move-prepared', session: 5, key: 1, token },
    { type: 'move-refused', session: 5, reason: 'closing' },
    { type: 'move-failed', session: 5, reason: '' },
    { type: 'moved', session: 5, state },
    { type: 'move-done', session: 5 },
    { type: 'move-done', session: 5, reason: 'restoreState threw' },
    { type: 'publish', room: 'chat', frame: new Uint8Array(3), seq: 0xffff_ffff },
    { type: 'ready', host: '127.0.0.1', port: 1, moves: true },
  ] as const) {
    assert.deepEqual(parseToPrimary(toPrimary(body)), toPrimary(body), body.type);
  }
  for (const body of [
    { type: 'move-prepare', session: 5, from: 3, rooms: [] },
    { type: 'move-cut', session: 5, seq: 0 },
    { type: 'move-in', session: 5, state },
    { type: 'move-out', session: 5, token },
    { type: 'move-cancel', session: 5 },
    { type: 'drain', timeoutMs: 10, moveResumable: true },
  ] as const) {
    assert.deepEqual(parseToWorker(toWorker(body)), toWorker(body), body.type);
  }
});

it('a field out of range makes a move message malformed', () => {
  const bad: Array<[object, 'primary' | 'worker']> = [
    [{ type: 'move-ask', session: 0, rooms: [] }, 'primary'],
    [{ type: 'move-ask', session: 1.5, rooms: [] }, 'primary'],
    [{ type: 'move-ask', session: 5, rooms: [''] }, 'primary'],
    [{ type: 'move-ask', session: 5, rooms: Array.from({ length: MAX_MOVED_ROOMS + 1 }, (_, i) => `r${i}`) }, 'primary'],
    [{ type: 'move-ask', session: 5, rooms: ['x'.repeat(1025)] }, 'primary'],
    [{ type: 'move-prepared', session: 5, key: 0, token }, 'primary'],
    [{ type: 'move-prepared', session: 5, key: 1, token: new Uint8Array(23) }, 'primary'],
    [{ type: 'move-refused', session: 5, reason: 'x'.repeat(1001) }, 'primary'],
    [{ type: 'moved', session: 6, state }, 'primary'],
    [{ type: 'moved', session: 5, state: { ...state, kind: 'udp' } }, 'primary'],
    [{ type: 'moved', session: 5, state: { ...state, received: -1 } }, 'primary'],
    [{ type: 'moved', session: 5, state: { ...state, held: 'bytes' } }, 'primary'],
    [{ type: 'moved', session: 5, state: { ...state, game: new Uint8Array(MAX_MOVED_GAME_BYTES + 1) } }, 'primary'],
    [{ type: 'moved', session: 5, state: null }, 'primary'],
    [{ type: 'move-done', session: 5, reason: 7 }, 'primary'],
    [{ type: 'publish', room: 'chat', frame: new Uint8Array(3), seq: -1 }, 'primary'],
    [{ type: 'publish', room: 'chat', frame: new Uint8Array(3), seq: 2 ** 32 }, 'primary'],
    [{ type: 'ready', host: 'h', port: 1, moves: 'yes' }, 'primary'],
    [{ type: 'move-prepare', session: 5, from: -1, rooms: [] }, 'worker'],
    [{ type: 'move-cut', session: 5, seq: 1.5 }, 'worker'],
    [{ type: 'move-in', session: 5, state: { ...state, rooms: 'chat' } }, 'worker'],
    [{ type: 'move-out', session: 5, token: Array.from(token) }, 'worker'],
    [{ type: 'move-cancel' }, 'worker'],
    [{ type: 'drain', timeoutMs: 10, moveResumable: 1 }, 'worker'],
  ];
  for (const [body, to] of bad) {
    const raw = to === 'primary' ? toPrimary(body as never) : toWorker(body as never);
    const parsed = to === 'primary' ? parseToPrimary(raw) : parseToWorker(raw);
    assert.equal(parsed, 'malformed', JSON.stringify(body, (_, v: unknown) => (v instanceof Uint8Array ? `bytes(${v.length})` : v)).slice(0, 120));
  }
});
