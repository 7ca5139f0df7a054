/**
 * A room member whose peer has said it is leaving, and then stops reading without closing TCP: a
 * WebSocket client that sends its close frame, one that half-closes TCP without a close frame, and a
 * TCP client that half-closes. Each is treated as leaving at once: its session ends `PEER_CLOSED`,
 * never `SEND_STALLED`, and never holds the room's senders (measured: the chat delay of everyone else).
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { Room } from '../../src/room/room.js';
import { PacketRecorder } from '../helpers/packet-recorder.js';
import { packet } from '../helpers/packets.js';
import { closePayload, OPCODE, RawWebSocket } from '../helpers/raw-ws.js';
import { startServer } from '../helpers/services.js';
import { elapse, pollUntil } from '../helpers/limits.js';
import { cleanupAfter, Condition, waitForEvent, type Cleanup } from '../helpers/wait.js';

const PLAYERS = 8;
const CHAT_BYTES = 1000;
const CHAT_EVERY_MS = 20;
/** Chatting after the leaver's close: longer than stallTimeoutMs (2000), so a held room shows. */
const AFTER_CLOSE_MS = 2500;

/** A reading WebSocket player that records how long each chat of the others took to arrive. */
class Player {
  readonly delays: number[] = [];
  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      for (let at = 0; at + 4 <= data.length; at += data.readUInt16LE(at)) {
        if (data.readUInt16LE(at + 2) === 2) this.delays.push(performance.now() - data.readDoubleLE(at + 4));
      }
    });
  }

  chat(bytes = CHAT_BYTES): void {
    const body = Buffer.alloc(bytes);
    body.writeDoubleLE(performance.now(), 0);
    this.socket.send(packet(1, body));
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

type Leave = 'WebSocket close frame' | 'WebSocket TCP FIN' | 'TCP FIN';

/** Connects the leaver; `leave` sends its close and stops reading, keeping TCP open. */
async function leaver(cleanup: Cleanup, how: Leave, port: number, wsPort: number): Promise<() => void> {
  if (how === 'TCP FIN') {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    socket.on('error', () => undefined);
    cleanup.add(() => socket.destroy());
    await waitForEvent(socket, 'connect');
    return () => {
      socket.pause();
      socket.end();
    };
  }
  const raw = await RawWebSocket.connect(wsPort, cleanup);
  return () => {
    raw.stopReading();
    if (how === 'WebSocket close frame') raw.send(OPCODE.close, closePayload(1000, 'bye'));
    else raw.socket.end();
  };
}

describe('a peer that has sent its close is leaving', () => {
  for (const how of ['WebSocket close frame', 'WebSocket TCP FIN', 'TCP FIN'] as const) {
    it(`${how}, then TCP kept open and nothing read: ends PEER_CLOSED at once and never holds the room`, async (t) => {
      const cleanup = cleanupAfter(t);
      const room = new Room<PacketRecorder>();
      cleanup.add(() => room.close());
      const ended = new Condition();
      const causes = new Map<PacketRecorder, { cause: DisconnectCause; at: number }>();
      class Member extends PacketRecorder {
        protected override onDisconnected(cause: DisconnectCause): void {
          super.onDisconnected(cause);
          causes.set(this, { cause, at: performance.now() });
          ended.notify();
        }
      }
      const { service, collector } = await startServer(
        cleanup,
        () => new Member((session, id, body) => void (id === 1 && room.broadcast(packet(2, body), { except: session }))),
        { ws: { port: 0 } },
      );
      const wsPort = service.wsPort as number;
      const players: Player[] = [];
      for (let i = 0; i < PLAYERS; i++) {
        const socket = new WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
        cleanup.add(() => socket.terminate());
        await waitForEvent(socket, 'open');
        players.push(new Player(socket));
        room.enter(await collector.nth(i));
      }
      const leave = await leaver(cleanup, how, service.port, wsPort);
      const leaving = await collector.nth(PLAYERS);
      room.enter(leaving);

      const timer = setInterval(() => players.forEach((player) => player.chat()), CHAT_EVERY_MS);
      cleanup.add(() => clearInterval(timer));
      // Chats flow for a while (the leaver reads them), then it leaves; the room goes on chatting for
      // longer than stallTimeoutMs, so a room held by the leaver would show in the delays.
      await elapse(300);
      players.forEach((player) => (player.delays.length = 0));
      const leftAt = performance.now();
      leave();
      await elapse(AFTER_CLOSE_MS);
      clearInterval(timer);

      await ended.until(() => causes.has(leaving), 'the leaver to end', 10_000);
      const end = causes.get(leaving) as { cause: DisconnectCause; at: number };
      const delays = players.flatMap((player) => player.delays);
      const p99 = percentile(delays, 99);
      const stalled = service.counters.disconnects.get('SEND_STALLED') ?? 0;
      t.diagnostic(
        `${how}: the leaver ended ${end.cause.code} (${end.cause.reason}) ${(end.at - leftAt).toFixed(0)} ms after leaving; ` +
          `${delays.length} chats to the ${PLAYERS} others after it left: p50 ${percentile(delays, 50).toFixed(1)} ms, ` +
          `p99 ${p99.toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms; SEND_STALLED ${stalled}`,
      );
      assert.equal(end.cause.code, 'PEER_CLOSED');
      assert.equal(stalled, 0);
      assert.ok(p99 < 500, `chat delay p99 ${p99.toFixed(0)} ms: the room is not held by a peer that left`);
      assert.ok(delays.length > PLAYERS * (PLAYERS - 1) * (AFTER_CLOSE_MS / CHAT_EVERY_MS) * 0.5, `${delays.length} chats arrived`);
      if (how === 'WebSocket close frame') assert.ok(end.at - leftAt < 1000, 'the closing handshake is done: closed without waiting for TCP');
    });
  }

  it('a WebSocket client that stopped reading, fell behind (holding the room), then sends its close frame: let go of at once, PEER_CLOSED', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<PacketRecorder>();
    cleanup.add(() => room.close());
    const { service, collector } = await startServer(
      cleanup,
      () => new PacketRecorder((session, id, body) => void (id === 1 && room.broadcast(packet(2, body), { except: session }))),
      { ws: { port: 0 } },
    );
    const wsPort = service.wsPort as number;
    const socket = new WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
    cleanup.add(() => socket.terminate());
    await waitForEvent(socket, 'open');
    const player = new Player(socket);
    room.enter(await collector.nth(0));
    const raw = await RawWebSocket.connect(wsPort, cleanup);
    const leaving = await collector.nth(1);
    room.enter(leaving);
    raw.stopReading();
    const timer = setInterval(() => player.chat(60_000), 2);
    cleanup.add(() => clearInterval(timer));
    await pollUntil(() => !leaving.writable, 'the leaver to fall behind', 10_000);
    const behind = leaving.queuedSendBytes + leaving.socketBufferedBytes;
    const leftAt = performance.now();
    raw.send(OPCODE.close, closePayload(1001, 'going away'));
    const cause = await leaving.untilDisconnected();
    const endMs = performance.now() - leftAt;
    clearInterval(timer);
    t.diagnostic(`behind by ${behind} bytes when its close frame came: ended ${cause.code} ${endMs.toFixed(0)} ms later`);
    assert.equal(cause.code, 'PEER_CLOSED');
    assert.ok(endMs < 1000, `ended ${endMs.toFixed(0)} ms after its close frame (stallTimeoutMs is 2000)`);
    assert.equal(service.counters.disconnects.get('SEND_STALLED') ?? 0, 0);
  });
});
