/**
 * A worker's room bus (src/cluster/ipc-room-bus.ts) telling the primary which senders its members
 * hold, with the IPC channel replaced by a recorder: a primary of this release is told each sender
 * apart (`sender-flow`); a primary of protocol version 1, which drops `sender-flow` as unknown, is
 * told `flow` (the whole room) while any sender is held, so the flood is still held. And a
 * `sender-flow` from the primary reaches the room as a hold of that session only.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { toWorker } from '../../src/cluster/cluster-messages.js';
import { IpcRoomBus } from '../../src/cluster/ipc-room-bus.js';
import { resolveRelayLimits } from '../../src/cluster/relay-channel.js';

interface Sent {
  readonly type: string;
  readonly room?: string;
  readonly origin?: number;
  readonly session?: number;
  readonly held?: boolean;
}

/** Stands in for the IPC channel to the primary for the length of the test: what is sent is recorded and written at once. */
function recordSends(t: TestContext): Sent[] {
  const sent: Sent[] = [];
  const hadSend = Object.getOwnPropertyDescriptor(process, 'send');
  const hadConnected = Object.getOwnPropertyDescriptor(process, 'connected');
  Object.defineProperty(process, 'send', {
    configurable: true,
    writable: true,
    value: (message: Sent, _handle: unknown, _options: unknown, written: (error: Error | null) => void) => {
      sent.push(message);
      written(null);
      return true;
    },
  });
  Object.defineProperty(process, 'connected', { configurable: true, value: true });
  t.after(() => {
    if (hadSend === undefined) delete (process as { send?: unknown }).send;
    else Object.defineProperty(process, 'send', hadSend);
    if (hadConnected === undefined) delete (process as { connected?: unknown }).connected;
    else Object.defineProperty(process, 'connected', hadConnected);
  });
  return sent;
}

function flows(sent: readonly Sent[]): string[] {
  return sent
    .filter((m) => m.type === 'flow' || m.type === 'sender-flow')
    .map((m) => `${m.type}${m.session === undefined ? '' : ` ${m.origin}/${m.session}`} ${m.held === true ? 'held' : 'released'}`);
}

describe('IPC room bus: holds by sender', () => {
  it('a primary of this release is told each sender apart', (t) => {
    const sent = recordSends(t);
    const bus = new IpcRoomBus(1, silentLogger, resolveRelayLimits());
    bus.join('chat', () => {});
    bus.holdSender('chat', 2, 7, true);
    bus.holdSender('chat', 2, 8, true);
    bus.holdSender('chat', 2, 7, false);
    bus.holdSender('other', 2, 9, true); // not joined: nothing
    assert.deepEqual(flows(sent), ['sender-flow 2/7 held', 'sender-flow 2/8 held', 'sender-flow 2/7 released']);
  });

  it('a primary of protocol version 1 is told flow held while any sender is held, released with the last', (t) => {
    const sent = recordSends(t);
    const bus = new IpcRoomBus(1, silentLogger, resolveRelayLimits());
    bus.join('chat', () => {});
    bus.heard(1);
    bus.holdSender('chat', 2, 7, true);
    bus.holdSender('chat', 2, 8, true);
    bus.holdSender('chat', 2, 7, false);
    assert.deepEqual(flows(sent), ['flow held']);
    bus.holdFeeders('chat', true);
    bus.holdFeeders('chat', false);
    assert.deepEqual(flows(sent), ['flow held'], 'still held for sender 8');
    bus.holdSender('chat', 2, 8, false);
    assert.deepEqual(flows(sent), ['flow held', 'flow released']);
  });

  it('a sender-flow from the primary reaches the room as a hold of that session; a flow, of the whole room', (t) => {
    recordSends(t);
    const bus = new IpcRoomBus(1, silentLogger, resolveRelayLimits());
    const told: string[] = [];
    bus.join('chat', () => {}, (held, session) => told.push(`${session ?? 'room'} ${held ? 'held' : 'released'}`));
    bus.receive(toWorker({ type: 'sender-flow', room: 'chat', session: 7, held: true }));
    bus.receive(toWorker({ type: 'sender-flow', room: 'other', session: 7, held: true }));
    bus.receive(toWorker({ type: 'flow', room: 'chat', held: true }));
    bus.receive(toWorker({ type: 'sender-flow', room: 'chat', session: 7, held: false }));
    assert.deepEqual(told, ['7 held', 'room held', '7 released']);
  });
});
