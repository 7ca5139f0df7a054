import { DEFAULTS } from '../../src/core/defaults.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { GameClient, type ClientDisconnectCause, type WebSocketConstructor } from '../../src/client/index.js';
import { ServerService } from '../../src/net/server-service.js';
import { Room } from '../../src/room/room.js';
import { pollUntil } from '../helpers/limits.js';
import { MemoryLogger } from '../helpers/memory-logger.js';
import { RawWebSocket } from '../helpers/raw-ws.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { PacketRecorder } from '../helpers/packet-recorder.js';
import { RawClient } from '../helpers/raw-client.js';
import { makeClient, startServer } from '../helpers/services.js';
import { Condition, cleanupAfter, waitForEvent, type Cleanup } from '../helpers/wait.js';

/** A raw `ws` client that records every binary message. */
async function wsClient(cleanup: Cleanup, port: number): Promise<{ socket: WebSocket; messages: Buffer[]; changed: Condition }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  cleanup.add(() => socket.terminate());
  const messages: Buffer[] = [];
  const changed = new Condition();
  socket.on('message', (data: Buffer) => {
    messages.push(data);
    changed.notify();
  });
  await waitForEvent(socket, 'open');
  return { socket, messages, changed };
}

class RecordingGameClient extends GameClient {
  cause: ClientDisconnectCause | undefined;
  readonly changed = new Condition();
  protected override onDisconnected(cause: ClientDisconnectCause): void {
    this.cause = cause;
    this.changed.notify();
  }
}

const echo = (session: PacketRecorder, id: number, body: Buffer): void => void session.sendPacket(id, body);

describe('WebSocket sessions under the same Session API', () => {
  it('one ServerService serves TCP and WebSocket: same hooks, transport told apart, a turn of packets is one message', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new PacketRecorder(echo), { ws: { port: 0 } });
    assert.ok(service.wsPort !== undefined && service.wsPort !== service.port);
    const tcp = await RawClient.connect(service.port, { cleanup });
    const ws = await wsClient(cleanup, service.wsPort);
    const [first, second] = [await collector.nth(0), await collector.nth(1)];
    assert.deepEqual([first.transport, second.transport].sort(), ['tcp', 'ws']);
    const wsSession = first.transport === 'ws' ? first : second;
    assert.equal(wsSession.remoteAddress, '127.0.0.1');

    const three = Buffer.concat([packet(1, 'a'), packet(2, 'bb'), packet(3, 'ccc')]);
    ws.socket.send(three);
    await ws.changed.until(() => ws.messages.length >= 1, 'the echo');
    assert.deepEqual(ws.messages[0], three, 'three echoes sent in one turn leave as one message');
    assert.deepEqual(await tcp.roundTrip(packet(9, 'tcp')), packet(9, 'tcp'));
    assert.equal(wsSession.packets.length, 3);
  });

  it('a Room mixes TCP and WebSocket members: every broadcast reaches both', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<PacketRecorder>();
    cleanup.add(() => room.close());
    const { service, collector } = await startServer(
      cleanup,
      () => new PacketRecorder((session, _id, body) => room.broadcast(packet(7, body), { except: session })),
      { ws: { port: 0 } },
    );
    const tcp = await RawClient.connect(service.port, { cleanup });
    const ws = await wsClient(cleanup, service.wsPort as number);
    room.enter(await collector.nth(0));
    room.enter(await collector.nth(1));
    await tcp.write(packet(1, 'from tcp'));
    await ws.changed.until(() => ws.messages.length === 1, 'the broadcast at the WebSocket member');
    assert.deepEqual(ws.messages[0], packet(7, 'from tcp'));
    ws.socket.send(packet(1, 'from ws'));
    const reader = new PacketReader();
    const got = await tcp.waitForBytes(packet(7, 'from ws').length);
    assert.deepEqual(reader.push(got).map((p) => p.bytes), [packet(7, 'from ws')]);
  });

  it('close() tells a browser client SERVICE_CLOSING in the close frame; ClientService opens WebSocket sessions', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new PacketRecorder(echo), { ws: { port: 0 } });
    const browser = new RecordingGameClient(`ws://127.0.0.1:${service.wsPort}/ws`, { WebSocket: WebSocket as unknown as WebSocketConstructor });
    cleanup.add(() => browser.disconnect());
    const bots = makeClient(cleanup, () => new PacketRecorder(), { port: service.wsPort as number, ws: {}, maxSessionCount: 2 });
    await bots.service.start();
    const bot = await bots.collector.nth(0);
    assert.equal(bot.transport, 'ws');
    bot.sendPacket(5, Buffer.from('bot'));
    await bot.untilPackets(1);
    assert.deepEqual(bot.packets[0], { id: 5, body: Buffer.from('bot') });
    await collector.nth(2);
    await service.close();
    await browser.changed.until(() => browser.cause !== undefined, 'the browser client to hear the close');
    assert.equal(browser.cause?.code, 'SERVICE_CLOSING');
    assert.equal(browser.cause?.closeCode, 1001);
    assert.equal((await bot.untilDisconnected()).code, 'PEER_CLOSED');
    for (const session of collector.sessions) assert.equal(session.seenCause?.code, 'SERVICE_CLOSING');
  });

  it('limits hold over WebSocket: a packet over maxPacketSize closes 1009 with the cause, a full server answers 503', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new PacketRecorder(echo), {
      packet: { maxPacketSize: 100 },
      ws: { port: 0 },
      maxSessionCount: 1,
    });
    const ws = await wsClient(cleanup, service.wsPort as number);
    const closed = waitForEvent<[number, Buffer]>(ws.socket, 'close');
    ws.socket.send(packet(1, Buffer.alloc(200)));
    const [code, reason] = await closed;
    assert.equal(code, 1009);
    assert.match(reason.toString(), /^PACKET_TOO_LARGE: /);
    assert.equal((await (await collector.nth(0)).untilDisconnected()).code, 'PACKET_TOO_LARGE');

    const holder = await wsClient(cleanup, service.wsPort as number);
    await collector.nth(1);
    const refused = new WebSocket(`ws://127.0.0.1:${service.wsPort}/ws`);
    refused.on('error', () => {});
    const [, response] = await waitForEvent<[unknown, { statusCode: number }]>(refused, 'unexpected-response');
    assert.equal(response.statusCode, 503);
    refused.terminate();
    assert.equal(service.refusedCount, 1);
    assert.equal(service.counters.refused.max_sessions, 1);
    holder.socket.close();
  });
});

describe('WebSocket details', () => {
  it('a burst longer than ws.maxMessageBytes leaves as several messages, each within the limit and holding whole packets', async (t) => {
    const cleanup = cleanupAfter(t);
    const BURST = 400;
    const body = (i: number): Buffer => Buffer.alloc(1000, i & 0xff);
    const { service } = await startServer(
      cleanup,
      () => new PacketRecorder((session, id) => {
        if (id === 9) for (let i = 0; i < BURST; i++) session.sendPacket(3, body(i));
      }),
      { ws: { port: 0 } },
    );
    // A client that accepts what gamewire's clients accept: 256 KiB per message; a longer one closes 1009.
    const socket = new WebSocket(`ws://127.0.0.1:${service.wsPort}/ws`, { maxPayload: DEFAULTS.wsMaxMessageBytes });
    cleanup.add(() => socket.terminate());
    const messages: Buffer[] = [];
    const changed = new Condition();
    let closeCode = 0;
    socket.on('message', (data: Buffer) => {
      messages.push(data);
      changed.notify();
    });
    socket.on('close', (code: number) => {
      closeCode = code;
      changed.notify();
    });
    await waitForEvent(socket, 'open');
    socket.send(packet(9));
    const total = BURST * 1004;
    await changed.until(() => closeCode !== 0 || messages.reduce((n, m) => n + m.length, 0) >= total, 'the burst');
    t.diagnostic(`a burst of ${BURST} packets (${total} bytes) in one turn: ${messages.length} messages of ${messages.map((m) => m.length).join(', ')} bytes (limit ${DEFAULTS.wsMaxMessageBytes}); client close code ${closeCode || 'none'}`);
    assert.equal(closeCode, 0, 'the client did not close the connection');
    assert.ok(messages.length >= 2);
    const packets: Buffer[] = [];
    for (const message of messages) {
      assert.ok(message.length <= DEFAULTS.wsMaxMessageBytes, `a message of ${message.length} bytes`);
      const reader = new PacketReader();
      packets.push(...reader.push(message).map((p) => p.bytes));
      assert.equal(reader.pendingBytes, 0, 'every message holds whole packets');
    }
    assert.deepEqual(packets, Array.from({ length: BURST }, (_, i) => packet(3, body(i))));
  });

  it('protocol errors (text frames, invalid frames) close with their cause, are counted as it, and are logged at debug, never warn', async (t) => {
    const cleanup = cleanupAfter(t);
    const logger = new MemoryLogger();
    const { service } = await startServer(cleanup, () => new PacketRecorder(echo), { ws: { port: 0 }, logger, maxSessionCount: 1000 });
    const wsPort = service.wsPort as number;
    const TEXT = 200;
    const INVALID = 20;
    for (let i = 0; i < TEXT; i++) {
      const socket = new WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
      cleanup.add(() => socket.terminate());
      await waitForEvent(socket, 'open');
      const closed = waitForEvent<[number, Buffer]>(socket, 'close');
      socket.send('hello');
      const [code, reason] = await closed;
      assert.equal(code, 1003);
      assert.match(reason.toString(), /^BAD_PACKET: /);
    }
    for (let i = 0; i < INVALID; i++) {
      const raw = await RawWebSocket.connect(wsPort, cleanup);
      raw.send(3, Buffer.from('reserved opcode'));
      await raw.changed.until(() => raw.ended || raw.closed, 'the server to close');
    }
    const disconnects = service.counters.disconnects;
    const ended = (): number => [...disconnects.values()].reduce((n, count) => n + count, 0);
    await pollUntil(() => ended() >= TEXT + INVALID, 'every session to end').catch(() => undefined);
    const warnings = logger.at('warn');
    const protocolDebug = logger.at('debug').filter((line) => line.message === 'session protocol error').length;
    t.diagnostic(
      `${TEXT} text frames and ${INVALID} invalid frames: BAD_PACKET ${disconnects.get('BAD_PACKET') ?? 0}, MALFORMED_HEADER ${disconnects.get('MALFORMED_HEADER') ?? 0}, ` +
        `SOCKET_ERROR ${disconnects.get('SOCKET_ERROR') ?? 0}, ${TEXT + INVALID - ended()} not ended; ${warnings.length} warn lines, ${protocolDebug} debug lines`,
    );
    assert.equal(disconnects.get('BAD_PACKET'), TEXT);
    assert.equal(disconnects.get('MALFORMED_HEADER'), INVALID);
    assert.equal(disconnects.get('SOCKET_ERROR') ?? 0, 0);
    assert.deepEqual(warnings, []);
    assert.equal(protocolDebug, TEXT + INVALID);
  });

  it('allowedOrigins: another origin is answered 403, counted ws_origin and warned; the page itself, a listed origin and a client without Origin get in', async (t) => {
    const cleanup = cleanupAfter(t);
    const logger = new MemoryLogger();
    const { service } = await startServer(cleanup, () => new PacketRecorder(echo), {
      ws: { port: 0, allowedOrigins: ['https://Game.Example.com/'] },
      logger,
    });
    const url = `ws://127.0.0.1:${service.wsPort}/ws`;
    const status = async (origin?: string): Promise<number> => {
      const socket = new WebSocket(url, origin === undefined ? {} : { origin });
      socket.on('error', () => undefined);
      cleanup.add(() => socket.terminate());
      const settled = await Promise.race([
        waitForEvent(socket, 'open').then(() => 101),
        waitForEvent<[unknown, { statusCode: number }]>(socket, 'unexpected-response').then(([, response]) => response.statusCode),
      ]);
      socket.terminate();
      return settled;
    };
    assert.equal(await status('https://evil.example'), 403);
    assert.equal(await status('null'), 403);
    assert.equal(await status('https://game.example.com'), 101);
    assert.equal(await status(`http://127.0.0.1:${service.wsPort}`), 101, 'the page served by this port');
    assert.equal(await status(), 101, 'no Origin: not a browser');
    assert.equal(service.counters.refused.ws_origin, 2);
    assert.equal(service.refusedCount, 2);
    const warning = logger.at('warn').find((line) => line.message.includes('origin not allowed'));
    assert.match(warning?.message ?? '', /ws\.allowedOrigins.*--ws-allowed-origins/);

    const open = await startServer(cleanup, () => new PacketRecorder(echo), { ws: { port: 0, allowedOrigins: ['*'] } });
    const any = new WebSocket(`ws://127.0.0.1:${open.service.wsPort}/ws`, { origin: 'https://evil.example' });
    cleanup.add(() => any.terminate());
    await waitForEvent(any, 'open');
    assert.throws(
      () => new ServerService({ port: 0, sessionFactory: () => new PacketRecorder(), ws: { port: 0, allowedOrigins: ['game.example.com'] } }),
      { code: 'GW_ERR_INVALID_OPTION', message: /ws\.allowedOrigins/ },
    );
  });
});
