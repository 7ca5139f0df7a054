import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { DEFAULT_CLIENT_KEEPALIVE_INTERVAL_MS, GameClient, type ClientDisconnectCause, type GameClientOptions, type WebSocketConstructor } from '../../src/client/index.js';
import { describeCloseEvent, fitCloseReason, wsCloseReason } from '../../src/core/websocket-close.js';
import { C_CHAT, S_CHAT } from '../../src/samples/protocol/packets.js';
import { elapse, pollUntil, WatchedSession } from '../helpers/limits.js';
import { startServer } from '../helpers/services.js';
import { packet, PacketReader, type ParsedPacket } from '../helpers/packets.js';
import { Condition, cleanupAfter, waitForEvent, type Cleanup } from '../helpers/wait.js';

/** A bare `ws` server standing in for gamewire's: records every binary message it gets. */
async function startWsServer(cleanup: Cleanup): Promise<{ url: string; server: WebSocketServer; peers: WsPeer[]; changed: Condition }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await waitForEvent(server, 'listening');
  const peers: WsPeer[] = [];
  const changed = new Condition();
  server.on('connection', (socket) => {
    peers.push(new WsPeer(socket, changed));
    changed.notify();
  });
  cleanup.add(async () => {
    for (const client of server.clients) client.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, server, peers, changed };
}

class WsPeer {
  readonly messages: Buffer[] = [];
  constructor(
    readonly socket: WebSocket,
    changed: Condition,
  ) {
    socket.on('message', (data: RawData, isBinary: boolean) => {
      if (isBinary) this.messages.push(data as Buffer);
      changed.notify();
    });
  }

  packets(): ParsedPacket[] {
    const reader = new PacketReader();
    return this.messages.flatMap((message) => reader.push(message));
  }
}

/** A GameClient that records what it is told. */
class RecordingClient extends GameClient {
  readonly received: Array<[number, Buffer]> = [];
  connectedCount = 0;
  cause: ClientDisconnectCause | undefined;
  readonly changed = new Condition();

  protected override onConnected(): void {
    this.connectedCount++;
    this.changed.notify();
  }

  protected override onRecvPacket(id: number, body: Uint8Array): void {
    this.received.push([id, Buffer.from(body)]);
    this.changed.notify();
  }

  protected override onDisconnected(cause: ClientDisconnectCause): void {
    this.cause = cause;
    this.changed.notify();
  }
}

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

async function connectedClient(cleanup: Cleanup, url: string, options: GameClientOptions = {}): Promise<RecordingClient> {
  const client = new RecordingClient(url, { WebSocket: NodeWebSocket, ...options });
  cleanup.add(() => client.disconnect('test over'));
  await client.changed.until(() => client.connectedCount === 1, 'the client to connect');
  return client;
}

describe('GameClient (browser client) against a WebSocket server', () => {
  it('sends everything of one turn in one binary message, in order, and typed messages the natural way', async (t) => {
    const cleanup = cleanupAfter(t);
    const { url, peers, changed } = await startWsServer(cleanup);
    const client = await connectedClient(cleanup, url);
    assert.equal(client.connected, true);
    client.sendMessage(C_CHAT, { msg: 'one', sentAtMs: 1 });
    client.send(packet(7, 'two'));
    client.sendMessage(C_CHAT, { msg: 'three', sentAtMs: 3 });
    await changed.until(() => (peers[0]?.messages.length ?? 0) >= 1, 'a message at the server');
    client.send(packet(8, 'next turn'));
    await changed.until(() => (peers[0]?.messages.length ?? 0) >= 2, 'the second message');
    const peer = peers[0] as WsPeer;
    const [first] = peer.messages;
    const firstPackets = new PacketReader().push(first as Buffer);
    assert.deepEqual(firstPackets.map((p) => p.id), [C_CHAT.id, 7, C_CHAT.id], 'one turn, one message');
    assert.equal(C_CHAT.decode((firstPackets[2] as ParsedPacket).bytes.subarray(4)).msg, 'three');
    assert.deepEqual(peer.packets().map((p) => p.id), [C_CHAT.id, 7, C_CHAT.id, 8]);
  });

  it('cuts messages holding several packets into packets and answers heartbeat pings with the same body', async (t) => {
    const cleanup = cleanupAfter(t);
    const { url, peers, changed } = await startWsServer(cleanup);
    const client = await connectedClient(cleanup, url);
    await changed.until(() => peers.length === 1, 'the server side');
    const peer = peers[0] as WsPeer;
    const chat = packet(S_CHAT.id, S_CHAT.encodeBody({ playerId: 4, msg: 'hello' }));
    const ping = packet(0xfffe, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    peer.socket.send(Buffer.concat([chat, ping, packet(9, 'after')]), { binary: true });
    await client.changed.until(() => client.received.length === 2, 'two game packets');
    assert.deepEqual(client.received.map(([id]) => id), [S_CHAT.id, 9], 'the ping is not game code\'s business');
    assert.equal(S_CHAT.decode(client.received[0]?.[1] as Buffer).msg, 'hello');
    await changed.until(() => peer.messages.length === 1, 'the pong');
    assert.deepEqual(peer.packets(), new PacketReader().push(packet(0xffff, Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]))));
  });

  it('reads the server cause from the close frame; disconnect() sends 1000 with the reason', async (t) => {
    const cleanup = cleanupAfter(t);
    const { url, peers, changed } = await startWsServer(cleanup);
    const client = await connectedClient(cleanup, url);
    await changed.until(() => peers.length === 1, 'the server side');
    (peers[0] as WsPeer).socket.close(1001, wsCloseReason('SERVICE_CLOSING', 'server shutting down'));
    await client.changed.until(() => client.cause !== undefined, 'onDisconnected');
    assert.deepEqual(client.cause, { code: 'SERVICE_CLOSING', reason: 'server shutting down', closeCode: 1001 });
    assert.equal(client.connected, false);
    assert.equal(client.send(packet(1, 'late')), false);

    const second = await connectedClient(cleanup, url);
    await changed.until(() => peers.length === 2, 'the second server side');
    const closed = waitForEvent<[number, Buffer]>((peers[1] as WsPeer).socket, 'close');
    second.disconnect('bye now');
    const [code, reason] = await closed;
    assert.equal(code, 1000);
    assert.equal(reason.toString(), 'bye now');

    // A long non-ASCII reason still fits the close frame (cut by bytes) instead of making close() throw.
    const third = await connectedClient(cleanup, url);
    await changed.until(() => peers.length === 3, 'the third server side');
    const thirdClosed = waitForEvent<[number, Buffer]>((peers[2] as WsPeer).socket, 'close');
    third.disconnect('안녕히 가세요 '.repeat(20));
    const [thirdCode, thirdReason] = await thirdClosed;
    assert.equal(thirdCode, 1000);
    assert.ok(thirdReason.length <= 123 && thirdReason.toString().endsWith('...'), thirdReason.toString());
    await second.changed.until(() => second.cause !== undefined, 'onDisconnected of the second');
    assert.equal(second.cause?.closeCode, 1000);
  });

  it('closes with 1003 on a text message and 1002 on a packet that spans messages; onDisconnected once', async (t) => {
    const cleanup = cleanupAfter(t);
    const { url, peers, changed } = await startWsServer(cleanup);
    const texted = await connectedClient(cleanup, url);
    const split = await connectedClient(cleanup, url);
    await changed.until(() => peers.length === 2, 'both server sides');
    const textClosed = waitForEvent<[number]>((peers[0] as WsPeer).socket, 'close');
    const splitClosed = waitForEvent<[number]>((peers[1] as WsPeer).socket, 'close');
    (peers[0] as WsPeer).socket.send('hello as text');
    (peers[1] as WsPeer).socket.send(packet(5, 'whole').subarray(0, 6), { binary: true });
    assert.equal((await textClosed)[0], 1003);
    assert.equal((await splitClosed)[0], 1002);
    await texted.changed.until(() => texted.cause !== undefined, 'the text client to end');
    await split.changed.until(() => split.cause !== undefined, 'the split client to end');
    assert.deepEqual(split.received, []);
  });
});

const PING_ID = 0xfffe;
const PONG_ID = 0xffff;

describe('GameClient keepalive', () => {
  it('pings when it has sent nothing for keepaliveIntervalMs, and keeps the round trip of the pong', async (t) => {
    const INTERVAL = 200;
    const cleanup = cleanupAfter(t);
    const { url, peers, changed } = await startWsServer(cleanup);
    const openedAt = performance.now();
    const client = await connectedClient(cleanup, url, { keepaliveIntervalMs: INTERVAL });
    await changed.until(() => peers.length === 1, 'the server side');
    const peer = peers[0] as WsPeer;
    await changed.until(() => peer.packets().length >= 1, 'a ping', 10 * INTERVAL);
    const pingedAfter = performance.now() - openedAt;
    const [ping] = peer.packets();
    assert.equal(ping?.id, PING_ID);
    assert.equal(ping?.size, 12, 'an 8-byte body: the client clock');
    assert.ok(pingedAfter >= INTERVAL, `pinged ${pingedAfter.toFixed(0)} ms after opening, before ${INTERVAL}`);
    assert.ok(pingedAfter <= 1.25 * INTERVAL + 150, `pinged only ${pingedAfter.toFixed(0)} ms after opening`);
    assert.equal(client.heartbeatRttMs, undefined, 'no pong yet');
    peer.socket.send(packet(PONG_ID, ping.bytes.subarray(4)), { binary: true });
    await pollUntil(() => client.heartbeatRttMs !== undefined, 'the round trip');
    const rtt = client.heartbeatRttMs;
    assert.ok(rtt !== undefined && rtt >= 0 && rtt < 1_000, `heartbeatRttMs ${rtt}`);
    assert.deepEqual(client.received, [], 'a pong is not game code\'s business');
  });

  it('a client that keeps sending, or has keepaliveIntervalMs 0, sends no ping', async (t) => {
    const INTERVAL = 100;
    const cleanup = cleanupAfter(t);
    const { url, peers, changed } = await startWsServer(cleanup);
    const talker = await connectedClient(cleanup, url, { keepaliveIntervalMs: INTERVAL });
    const quiet = await connectedClient(cleanup, url, { keepaliveIntervalMs: 0 });
    await changed.until(() => peers.length === 2, 'both server sides');
    const talk = setInterval(() => talker.send(packet(7, 'move')), INTERVAL / 4);
    cleanup.add(() => clearInterval(talk));
    await elapse(5 * INTERVAL);
    clearInterval(talk);
    const ids = peers.map((peer) => peer.packets().map((p) => p.id));
    assert.ok(ids.flat().length >= 10, 'the talker talked');
    assert.ok(!ids.flat().includes(PING_ID), JSON.stringify(ids));
    assert.equal(quiet.connected, true);
  });

  it('refuses a keepaliveIntervalMs that is not a timer delay; 15 s by default', () => {
    for (const bad of [-1, 1.5, 2 ** 31, Number.NaN]) {
      assert.throws(() => new RecordingClient('ws://127.0.0.1:1/ws', { WebSocket: NodeWebSocket, keepaliveIntervalMs: bad }), {
        code: 'GW_ERR_INVALID_OPTION',
        message: /keepaliveIntervalMs/,
      });
    }
    assert.equal(DEFAULT_CLIENT_KEEPALIVE_INTERVAL_MS, 15_000);
  });

  it('stays connected to a gamewire server with an idle timeout by answering its pings alone (no pings of its own)', async (t) => {
    const T = 300;
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { ws: { port: 0 }, idleTimeoutMs: T });
    const client = await connectedClient(cleanup, `ws://127.0.0.1:${service.wsPort}/ws`, { keepaliveIntervalMs: 0 });
    const session = await collector.nth(0);
    await elapse(5 * T);
    assert.equal(client.cause, undefined, `ended: ${client.cause?.code}`);
    assert.equal(session.cause, undefined);
    assert.equal(typeof session.heartbeatRttMs, 'number', 'the server pinged, the client answered');
    assert.equal(client.heartbeatRttMs, undefined);
  });
});

describe('WebSocket close reasons', () => {
  it('carry the cause code and fit 123 bytes; a reason without a code is read from the close code', () => {
    const long = wsCloseReason('HANDLER_ERROR', 'é'.repeat(200));
    assert.ok(Buffer.byteLength(long) <= 123, `${Buffer.byteLength(long)} bytes`);
    assert.match(long, /^HANDLER_ERROR: é+\.\.\.$/);
    assert.equal(fitCloseReason('bye'), 'bye');
    assert.ok(Buffer.byteLength(fitCloseReason('한'.repeat(60))) <= 123, 'a reason is cut by bytes, not characters');
    assert.deepEqual(describeCloseEvent(1006, ''), { code: 'CONNECTION_RESET', reason: '', closeCode: 1006 });
    assert.deepEqual(describeCloseEvent(1009, 'too big'), { code: 'PACKET_TOO_LARGE', reason: 'too big', closeCode: 1009 });
    assert.deepEqual(describeCloseEvent(1000, 'PEER_CLOSED'), { code: 'PEER_CLOSED', reason: '', closeCode: 1000 });
    // A draining server: 1012 "service restart" says reconnect at once, with or without the cause in the reason.
    assert.deepEqual(describeCloseEvent(1012, ''), { code: 'SERVICE_DRAINED', reason: '', closeCode: 1012 });
    assert.deepEqual(describeCloseEvent(1012, 'SERVICE_DRAINED: go'), { code: 'SERVICE_DRAINED', reason: 'go', closeCode: 1012 });
  });
});
