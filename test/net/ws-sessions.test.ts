import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { GameClient, type ClientDisconnectCause, type WebSocketConstructor } from '../../src/client/index.js';
import { Room } from '../../src/room/room.js';
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
