/**
 * What a transport tells of the bytes its peer takes (`sentBytes`), over real loopback sockets: while
 * one large write goes out to a peer that reads in steps, the count grows with each step long before
 * the write completes (a completed write is what flow control counted before, and a slow reader could
 * take bytes for many seconds without one). Over TLS the transport cannot tell (-1).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { connect as connectTls, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { silentLogger } from '../../../src/core/logger.js';
import { HandshakeGate } from '../../../src/net/listen/handshake-gate.js';
import type { ListenerOwner } from '../../../src/net/listen/listener.js';
import { TcpTransport } from '../../../src/net/transport/tcp-transport.js';
import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../../../src/net/symbols.js';
import type { Transport, TransportSink } from '../../../src/net/transport/transport.js';
import { WebSocketListener } from '../../../src/net/listen/ws-listener.js';
import { makeCertificate } from '../../helpers/certificate.js';
import { Condition, cleanupAfter, waitForEvent, withTimeout, type Cleanup } from '../../helpers/wait.js';

/** One write this large cannot fit in the kernel's buffers: it goes in as the peer reads. */
const WRITE_BYTES = 32 * 1024 * 1024;

class CountingSink implements TransportSink {
  written = 0;
  readonly changed = new Condition();
  [kTransportData](): void {}
  [kTransportEnd](): void {}
  [kTransportError](): void {}
  [kTransportClosed](): void {}
  [kTransportWritten](): void {
    this.written++;
    this.changed.notify();
  }
}

/** A peer that reads `step` bytes at a time, when told to. */
class SteppingReader {
  bytes = 0;
  #until = 0;
  readonly changed = new Condition();

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {
    pause();
  }

  /** Called with each chunk read. */
  onChunk(length: number): void {
    this.bytes += length;
    if (this.bytes >= this.#until) this.pause();
    this.changed.notify();
  }

  /** Reads everything from now on. */
  readAll(): void {
    this.#until = Number.POSITIVE_INFINITY;
    this.resume();
  }

  /** Reads about `count` bytes more, then stops. */
  async read(count: number): Promise<void> {
    this.#until = this.bytes + count;
    this.resume();
    await this.changed.until(() => this.bytes >= this.#until, `${count} bytes read`, 10_000);
  }
}

/** Writes one large buffer through `transport` while `reader` reads it in steps: the count grows with each step. */
async function assertCountsSteps(transport: Transport, sink: CountingSink, reader: SteppingReader): Promise<void> {
  transport.write([Buffer.alloc(WRITE_BYTES, 0x61)], 1, WRITE_BYTES);
  const before = transport.sentBytes;
  assert.ok(before > 0, `the kernel took the first part at once (${before})`);
  const seen = [before];
  for (let step = 0; step < 3; step++) {
    await reader.read(4 * 1024 * 1024);
    // The kernel takes more once the reader freed part of its buffers: wait for the count to move.
    await withTimeout(
      (async () => {
        while (transport.sentBytes === seen.at(-1)) await new Promise((resolve) => setImmediate(resolve));
      })(),
      'the count to grow after a read',
    );
    seen.push(transport.sentBytes);
  }
  assert.equal(sink.written, 0, 'the write has not completed');
  for (let i = 1; i < seen.length; i++) assert.ok((seen[i] as number) > (seen[i - 1] as number), `grows: ${seen.join(' → ')}`);
  reader.readAll();
  await sink.changed.until(() => sink.written === 1, 'the write to complete');
  assert.ok(transport.sentBytes >= WRITE_BYTES, `all of it counted (${transport.sentBytes})`);
}

async function tcpPair(cleanup: Cleanup): Promise<{ server: Socket; client: Socket }> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  cleanup.add(() => new Promise((resolve) => listener.close(resolve)));
  const accepted = waitForEvent<[Socket]>(listener, 'connection');
  const client = connect({ host: '127.0.0.1', port: (listener.address() as { port: number }).port });
  client.on('error', () => {});
  cleanup.add(() => client.destroy());
  const [server] = await accepted;
  cleanup.add(() => server.destroy());
  return { server, client };
}

describe('Transport.sentBytes', () => {
  it('TCP: grows as the peer reads, within one write that has not completed', async (t) => {
    const cleanup = cleanupAfter(t);
    const { server, client } = await tcpPair(cleanup);
    const reader = new SteppingReader(() => client.pause(), () => client.resume());
    client.on('data', (chunk: Buffer) => reader.onChunk(chunk.length));
    const transport = new TcpTransport(server);
    const sink = new CountingSink();
    transport.open(sink);
    assert.equal(transport.sentBytes, 0);
    await assertCountsSteps(transport, sink, reader);
  });

  it('WebSocket: grows as the peer reads, within one message that has not completed', async (t) => {
    const cleanup = cleanupAfter(t);
    const transports: Transport[] = [];
    const admitted = new Condition();
    const gate = new HandshakeGate({ maxPending: 16, maxPendingPerAddress: 16 }, { hasRoom: () => true, refused: () => {} }, silentLogger);
    const owner: ListenerOwner = {
      gate,
      refusal: () => undefined,
      refused: () => {},
      admit: (transport) => {
        transports.push(transport);
        admitted.notify();
      },
      listenerError: (error) => assert.fail(error),
    };
    const listener = new WebSocketListener({ port: 0 }, WRITE_BYTES, owner, '127.0.0.1');
    await listener.listen();
    cleanup.add(async () => {
      for (const transport of transports) transport.destroy();
      gate.destroyAll();
      await listener.close();
    });
    const client = new WebSocket(`ws://127.0.0.1:${listener.port}/ws`, { maxPayload: 2 * WRITE_BYTES });
    cleanup.add(() => client.terminate());
    await waitForEvent(client, 'open');
    await admitted.until(() => transports.length === 1, 'the server transport');
    const transport = transports[0] as Transport;
    const sink = new CountingSink();
    transport.open(sink);
    // ws hands a whole message at once: count the bytes its socket reads instead.
    const raw = (client as unknown as { _socket: Socket })._socket;
    const reader = new SteppingReader(() => client.pause(), () => client.resume());
    raw.on('data', (chunk: Buffer) => reader.onChunk(chunk.length));
    await assertCountsSteps(transport, sink, reader);
  });

  it('TLS: -1 (the connection counts completed writes instead)', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = mkdtempSync(join(tmpdir(), 'gamewire-progress-'));
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    const pem = makeCertificate(dir);
    if (typeof pem === 'string') return t.skip(pem);
    const listener = createTlsServer({ key: pem.key, cert: pem.cert });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise((resolve) => listener.close(resolve)));
    const accepted = waitForEvent<[TLSSocket]>(listener, 'secureConnection');
    const client = connectTls({ host: '127.0.0.1', port: (listener.address() as { port: number }).port, rejectUnauthorized: false });
    client.on('error', () => {});
    cleanup.add(() => client.destroy());
    const [server] = await accepted;
    cleanup.add(() => server.destroy());
    const transport = new TcpTransport(server);
    transport.open(new CountingSink());
    assert.equal(transport.kind, 'tls');
    assert.equal(transport.sentBytes, -1);
  });
});
