import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { disconnectCause } from '../../../src/core/disconnect-cause.js';
import { WebSocketProtocolError } from '../../../src/core/errors.js';
import type { TransportSink } from '../../../src/net/transport/transport.js';
import { silentLogger } from '../../../src/core/logger.js';
import { HandshakeGate } from '../../../src/net/listen/handshake-gate.js';
import type { ListenerOwner } from '../../../src/net/listen/listener.js';
import type { Refusal } from '../../../src/net/listen/refusal.js';
import type { Transport } from '../../../src/net/transport/transport.js';
import { WebSocketConnector } from '../../../src/net/listen/ws-connector.js';
import { WebSocketListener } from '../../../src/net/listen/ws-listener.js';
import { packet } from '../../helpers/packets.js';
import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../../../src/net/symbols.js';
import { Condition, cleanupAfter, waitForEvent, type Cleanup } from '../../helpers/wait.js';

/** Records what a transport tells its connection. */
class RecordingSink implements TransportSink {
  readonly events: string[] = [];
  readonly chunks: Buffer[] = [];
  readonly errors: Error[] = [];
  written = 0;
  readonly changed = new Condition();

  [kTransportData](chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
    this.events.push('data');
    this.changed.notify();
  }
  [kTransportEnd](): void {
    this.events.push('end');
    this.changed.notify();
  }
  [kTransportError](error: Error): void {
    this.errors.push(error);
    this.events.push('error');
    this.changed.notify();
  }
  [kTransportClosed](): void {
    this.events.push('closed');
    this.changed.notify();
  }
  [kTransportWritten](error: Error | null | undefined): void {
    assert.ok(error === undefined || error === null, String(error));
    this.written++;
    this.changed.notify();
  }
}

interface Server {
  listener: WebSocketListener;
  transports: Array<{ transport: Transport; sink: RecordingSink }>;
  refusedWhy: Refusal[];
  changed: Condition;
  url: string;
}

async function startListener(cleanup: Cleanup, refusal?: Refusal): Promise<Server> {
  const transports: Server['transports'] = [];
  const refusedWhy: Refusal[] = [];
  const changed = new Condition();
  const refused = (_address: string, why: Refusal): void => {
    refusedWhy.push(why);
    changed.notify();
  };
  const gate = new HandshakeGate({ maxPending: 16, maxPendingPerAddress: 16 }, { hasRoom: () => true, refused }, silentLogger);
  const host: ListenerOwner = {
    gate,
    refusal: (_address, stage) => (stage === 'session' ? refusal : undefined),
    refused,
    admit: (transport) => {
      const sink = new RecordingSink();
      transport.open(sink);
      transports.push({ transport, sink });
      changed.notify();
    },
    listenerError: (error) => assert.fail(error),
  };
  const listener = new WebSocketListener({ port: 0 }, 1024, host, '127.0.0.1');
  await listener.listen();
  cleanup.add(async () => {
    for (const { transport } of transports) transport.destroy();
    gate.destroyAll();
    await listener.close();
  });
  return { listener, transports, refusedWhy, changed, url: `ws://127.0.0.1:${listener.port}/ws` };
}

async function rawClient(cleanup: Cleanup, url: string): Promise<WebSocket> {
  const socket = new WebSocket(url);
  cleanup.add(() => socket.terminate());
  await waitForEvent(socket, 'open');
  return socket;
}

describe('WebSocketTransport and WebSocketListener', () => {
  it('delivers each binary message as one chunk, and writes several pieces as ONE message', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startListener(cleanup);
    const client = await rawClient(cleanup, server.url);
    await server.changed.until(() => server.transports.length === 1, 'the server transport');
    const { transport, sink } = server.transports[0] as Server['transports'][0];
    assert.equal(transport.kind, 'ws');
    assert.equal(transport.remoteAddress, '127.0.0.1');
    const two = Buffer.concat([packet(1, 'a'), packet(2, 'bb')]);
    client.send(two);
    await sink.changed.until(() => sink.chunks.length === 1, 'the message');
    assert.deepEqual(sink.chunks[0], two);

    const messages: Buffer[] = [];
    const arrived = new Condition();
    client.on('message', (data: Buffer) => {
      messages.push(data);
      arrived.notify();
    });
    const pieces = [packet(3, 'x'), packet(4, 'yy'), packet(5, 'zzz')];
    transport.write(pieces, 3, pieces.reduce((n, p) => n + p.length, 0));
    await sink.changed.until(() => sink.written === 1, 'the write callback');
    await arrived.until(() => messages.length >= 1, 'the message at the client');
    assert.deepEqual(messages[0], Buffer.concat(pieces), 'one write, one message holding every piece');
  });

  it('refuses a text message (1003), a packet split over two messages (1002) and one over the limit (1009)', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startListener(cleanup);
    const cases: Array<[(ws: WebSocket) => void, number, string]> = [
      [(ws) => ws.send('hello'), 1003, 'BAD_PACKET'],
      [(ws) => ws.send(packet(9, 'whole packet').subarray(0, 7)), 1002, 'MALFORMED_HEADER'],
      [(ws) => ws.send(Buffer.alloc(2000)), 1009, 'PACKET_TOO_LARGE'],
    ];
    for (const [index, [send, closeCode, disconnectCode]] of cases.entries()) {
      const client = await rawClient(cleanup, server.url);
      await server.changed.until(() => server.transports.length === index + 1, 'the server transport');
      const closed = waitForEvent<[number, Buffer]>(client, 'close');
      send(client);
      const [code, reason] = await closed;
      assert.equal(code, closeCode);
      // ws closes an oversized message itself, with the code alone; the others carry the cause.
      if (closeCode !== 1009) assert.match(reason.toString(), new RegExp(`^${disconnectCode}: `));
      const { sink } = server.transports[index] as Server['transports'][0];
      await sink.changed.until(() => sink.events.includes('closed'), 'the transport to close');
      assert.deepEqual(sink.chunks, [], 'nothing reached the session');
      const error = sink.errors[0];
      assert.ok(error instanceof WebSocketProtocolError, String(error));
      assert.equal(error.closeCode, closeCode);
      assert.equal(error.disconnectCode, disconnectCode);
    }
  });

  it('end(cause) sends a close frame that tells the cause; a peer close is an end then a close', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startListener(cleanup);
    const first = await rawClient(cleanup, server.url);
    await server.changed.until(() => server.transports.length === 1, 'the first transport');
    const closed = waitForEvent<[number, Buffer]>(first, 'close');
    (server.transports[0] as Server['transports'][0]).transport.end(disconnectCause('SERVICE_CLOSING', 'server shutting down'));
    const [code, reason] = await closed;
    assert.equal(code, 1001);
    assert.equal(reason.toString(), 'SERVICE_CLOSING: server shutting down');
    const firstSink = (server.transports[0] as Server['transports'][0]).sink;
    await firstSink.changed.until(() => firstSink.events.includes('closed'), 'closed');
    assert.deepEqual(firstSink.events, ['closed']);

    const second = await rawClient(cleanup, server.url);
    await server.changed.until(() => server.transports.length === 2, 'the second transport');
    second.close(1000, 'bye');
    const secondSink = (server.transports[1] as Server['transports'][0]).sink;
    await secondSink.changed.until(() => secondSink.events.includes('closed'), 'closed');
    assert.deepEqual(secondSink.events, ['end', 'closed']);
  });

  it('answers 503 when the service refuses, 404 off the path; connectWebSocket opens a client transport', async (t) => {
    const cleanup = cleanupAfter(t);
    const full = await startListener(cleanup, 'maxSessions');
    const refused = new WebSocket(full.url);
    const [, response] = await waitForEvent<[unknown, { statusCode: number }]>(refused, 'unexpected-response');
    assert.equal(response.statusCode, 503);
    refused.on('error', () => {}); // terminate() while connecting reports an error
    refused.terminate();
    assert.deepEqual(full.refusedWhy, ['maxSessions']);

    const server = await startListener(cleanup);
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.listener.port, path: '/elsewhere' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(status, 404);

    const connector = new WebSocketConnector({ host: '127.0.0.1', port: server.listener.port, timeoutMs: 2000, maxMessageBytes: 1024 });
    const sink = new RecordingSink();
    const client = await connector.connect((transport) => {
      transport.open(sink);
      return transport;
    });
    cleanup.add(() => client.destroy());
    await server.changed.until(() => server.transports.length === 1, 'the server side');
    const serverSide = server.transports[0] as Server['transports'][0];
    client.write([packet(7, 'hi')], 1, 6);
    await serverSide.sink.changed.until(() => serverSide.sink.chunks.length === 1, 'the packet at the server');
    assert.deepEqual(serverSide.sink.chunks[0], packet(7, 'hi'));
  });
});
