/**
 * TLS for both services: a self-signed certificate made at test time with the openssl CLI (skipped
 * when openssl is missing), packets round trip, limits apply as over TCP, and a plain-TCP client fails
 * the handshake without a session.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeCertificate, type Pem } from '../helpers/certificate.js';
import { assertCause, pollUntil, WatchedEcho, WatchedSession } from '../helpers/limits.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { RecordingSession } from '../helpers/recording-session.js';
import { makeClient, startServer } from '../helpers/services.js';
import { cleanupAfter, withTimeout } from '../helpers/wait.js';

describe('TLS', () => {
  let dir = '';
  let pem: Pem | string = 'not made';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gamewire-tls-'));
    pem = makeCertificate(dir);
  });
  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  /** The certificate, or undefined after skipping the test with the reason. */
  function certificate(t: { skip(message?: string): void }): Pem | undefined {
    if (typeof pem === 'string') {
      t.skip(pem);
      return undefined;
    }
    return pem;
  }

  it('ServerService({tls}) with EchoSession and ClientService({tls}) PacketSession: packets round trip', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), { tls: { key: tls.key, cert: tls.cert } });
    assert.equal(server.service.secure, true);
    const client = makeClient(cleanup, () => new WatchedSession(), {
      port: server.service.port,
      tls: { ca: tls.cert, servername: 'localhost' },
    });
    await client.service.start();
    const session = await client.collector.nth(0);
    const bodies = Array.from({ length: 200 }, (_, i) => Buffer.alloc(1 + ((i * 97) % 3000), i & 0xff));
    for (const [i, body] of bodies.entries()) session.sendPacket(100 + i, body);
    const total = bodies.reduce((n, b) => n + b.length + 4, 0);
    await session.until(() => session.packetBytes === total, `${total} bytes echoed over TLS`);
    assert.equal(session.packetCount, bodies.length);
    assert.equal(server.service.tlsFailureCount, 0);
    assert.equal(server.service.sessionCount, 1);
    assert.equal((await server.collector.nth(0)).remoteAddress, '127.0.0.1');
  });

  it('echoes exact bytes and ids over TLS (a recording client)', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), { tls: { key: tls.key, cert: tls.cert } });
    const seen: Array<{ id: number; body: Buffer }> = [];
    const client = makeClient(cleanup, () => new WatchedSession((_s, id, body) => seen.push({ id, body: Buffer.from(body) })), {
      port: server.service.port,
      tls: { ca: tls.cert, servername: 'localhost' },
    });
    await client.service.start();
    const session = await client.collector.nth(0);
    const sent = [
      { id: 1, body: Buffer.from('hello over tls') },
      { id: 65519, body: Buffer.alloc(0) },
      { id: 7, body: Buffer.alloc(60_000, 0x3c) },
    ];
    for (const p of sent) session.sendPacket(p.id, p.body);
    await session.until(() => seen.length === sent.length, 'three echoes');
    assert.deepEqual(seen, sent);
  });

  it('the same limits apply over TLS: maxPacketSize ends the session with PACKET_TOO_LARGE', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), { tls: { key: tls.key, cert: tls.cert }, packet: { maxPacketSize: 64 } });
    const client = makeClient(cleanup, () => new WatchedSession(), {
      port: server.service.port,
      tls: { ca: tls.cert, servername: 'localhost' },
    });
    await client.service.start();
    const session = await client.collector.nth(0);
    session.sendPacket(1, Buffer.alloc(60 - 4, 1)); // fits
    await session.until(() => session.packetCount === 1, 'the small echo');
    session.sendPacket(1, Buffer.alloc(100, 2)); // 104 > 64
    const serverSession = await server.collector.nth(0);
    assertCause(await serverSession.untilDisconnected(), 'PACKET_TOO_LARGE', 'GW_ERR_PACKET_TOO_LARGE');
    assert.equal((await session.untilDisconnected()).code, 'PEER_CLOSED');
  });

  it('idleTimeoutMs applies over TLS too', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), {
      tls: { key: tls.key, cert: tls.cert },
      idleTimeoutMs: 200,
    });
    // A raw-bytes client: it does not answer the server's keepalive ping, so it is idle.
    const client = makeClient(cleanup, () => new RecordingSession(), {
      port: server.service.port,
      tls: { ca: tls.cert, servername: 'localhost' },
    });
    await client.service.start();
    const serverSession = await server.collector.nth(0);
    assertCause(await serverSession.untilDisconnected(), 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
  });

  it('a plain-TCP client fails the handshake: counted in tlsFailureCount, no session made', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), { tls: { key: tls.key, cert: tls.cert } });
    const plain = await RawClient.connect(server.service.port, { cleanup });
    await plain.write(packet(1, 'not a ClientHello'));
    await plain.waitForClose();
    await pollUntil(() => server.service.tlsFailureCount === 1, 'tlsFailureCount 1');
    assert.equal(server.collector.sessions.length, 0);
    assert.equal(server.service.sessionCount, 0);
    assert.equal(server.service.acceptedCount, 0);
    const reader = new PacketReader();
    const echoed = (() => {
      try {
        return reader.push(plain.received).filter((p) => p.id === 1).length;
      } catch {
        return 0; // a TLS alert is not a packet
      }
    })();
    assert.equal(echoed, 0, 'nothing was echoed to the plain client');

    // The server is fine afterwards: a TLS client still round trips.
    const client = makeClient(cleanup, () => new WatchedSession(), {
      port: server.service.port,
      tls: { ca: tls.cert, servername: 'localhost' },
    });
    await client.service.start();
    const session = await client.collector.nth(0);
    session.sendPacket(2, Buffer.from('after the plain client'));
    await session.until(() => session.packetCount === 1, 'an echo');
    assert.equal(server.service.tlsFailureCount, 1);
  });

  it('drops a connection that never starts the handshake once handshakeTimeout passes', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), {
      tls: { key: tls.key, cert: tls.cert, handshakeTimeout: 300 },
    });
    const silent = await RawClient.connect(server.service.port, { cleanup });
    await pollUntil(() => server.service.tlsFailureCount === 1, 'the handshake timeout to count', 3_000);
    await silent.waitForClose(3_000); // Node's tls.Server reports the timeout but leaves the socket open
    assert.equal(server.collector.sessions.length, 0);
  });

  it('close() resolves within closeGraceMs while a TLS handshake is pending', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), {
      tls: { key: tls.key, cert: tls.cert },
      closeGraceMs: 300,
    });
    const established = makeClient(cleanup, () => new WatchedSession(), {
      port: server.service.port,
      tls: { ca: tls.cert, servername: 'localhost' },
    });
    await established.service.start();
    await server.collector.nth(0);
    await RawClient.connect(server.service.port, { cleanup }); // connected, no ClientHello yet
    const start = performance.now();
    await withTimeout(server.service.close(), 'close() with a pending handshake', 3_000);
    assert.ok(performance.now() - start < 3_000);
    assert.equal(server.service.state, 'closed');
  });

  it('a client that does not trust the certificate fails to connect; the server counts it', async (t) => {
    const tls = certificate(t);
    if (tls === undefined) return;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedEcho(), { tls: { key: tls.key, cert: tls.cert } });
    const client = makeClient(cleanup, () => new WatchedSession(), { port: server.service.port, tls: { servername: 'localhost' } });
    await assert.rejects(client.service.connect(), { code: 'GW_ERR_CONNECT' });
    await pollUntil(() => server.service.tlsFailureCount === 1, 'tlsFailureCount 1');
    assert.equal(server.collector.sessions.length, 0);
  });
});
