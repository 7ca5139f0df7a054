/**
 * TLS connections still handshaking are bounded and counted, seen from the attacker's side with
 * silent TCP connections to a TLS ServerService: against maxSessionCount, maxPendingHandshakes and
 * maxSessionsPerAddress / maxPendingHandshakesPerAddress; a real TLS client still gets in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/core/errors.js';
import { ServerService } from '../../src/net/server-service.js';
import { Session } from '../../src/net/session.js';
import { makeCertificate, type Pem } from '../helpers/certificate.js';
import { pollUntil, WatchedEcho, WatchedSession } from '../helpers/limits.js';
import { makeClient, startServer } from '../helpers/services.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

/** Opens `count` TCP connections that never send a byte, from `localAddress`. */
async function silent(cleanup: Cleanup, port: number, count: number, localAddress = '127.0.0.1'): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i++) {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    socket.on('error', () => undefined);
    cleanup.add(() => socket.destroy());
    sockets.push(socket);
    await new Promise<void>((resolve) => {
      socket.once('connect', resolve);
      socket.once('close', () => resolve());
    });
  }
  return sockets;
}

describe('TLS handshakes are bounded', () => {
  let dir = '';
  let pem: Pem | string = 'not made';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gamewire-hs-'));
    pem = makeCertificate(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('handshakes count against maxSessionCount and maxPendingHandshakes; a real client pushes a silent one out', async (t) => {
    if (typeof pem === 'string') return t.skip(pem);
    const cleanup = cleanupAfter(t);
    const tls = { key: pem.key, cert: pem.cert };
    const { service } = await startServer(cleanup, () => new WatchedEcho(), {
      tls,
      maxSessionCount: 4,
      maxPendingHandshakes: 3,
      maxPendingHandshakesPerAddress: 3,
    });
    await silent(cleanup, service.port, 10, '127.0.0.2');
    await pollUntil(() => service.refusedCount + service.tlsFailureCount >= 7, 'the silent ones past the limits to go');
    assert.ok(service.pendingHandshakeCount <= 3, `${service.pendingHandshakeCount} handshaking`);
    const client = makeClient(cleanup, () => new WatchedSession(), { port: service.port, tls: { ca: pem.cert, servername: 'localhost' } });
    await client.service.start();
    const session = await client.collector.nth(0);
    session.sendPacket(5, Buffer.from('real'));
    await session.until(() => session.packetCount === 1, 'the echo');
    assert.equal(service.sessionCount, 1);
    assert.ok(service.sessionCount + service.pendingHandshakeCount <= 4, 'sessions plus handshakes stay within maxSessionCount');
  });

  it('one address cannot hold more than maxPendingHandshakesPerAddress; maxSessionsPerAddress counts handshakes', async (t) => {
    if (typeof pem === 'string') return t.skip(pem);
    const cleanup = cleanupAfter(t);
    const tls = { key: pem.key, cert: pem.cert };
    const { service } = await startServer(cleanup, () => new Session(), { tls, maxPendingHandshakesPerAddress: 2 });
    await silent(cleanup, service.port, 5, '127.0.0.3');
    await pollUntil(() => service.refusedCount >= 3, 'three refusals');
    assert.equal(service.pendingHandshakeCount, 2);
    const perAddress = await startServer(cleanup, () => new Session(), { tls, maxSessionsPerAddress: 2 });
    await silent(cleanup, perAddress.service.port, 4, '127.0.0.4');
    await pollUntil(() => perAddress.service.refusedCount >= 2, 'two refusals');
    assert.equal(perAddress.service.pendingHandshakeCount, 2);
  });

  it('rejects a per-address handshake cap above the global one, and a handshake timeout past the timer range', () => {
    const base = { port: 0, sessionFactory: () => new Session(), tls: {} };
    assert.throws(() => new ServerService({ ...base, maxPendingHandshakes: 4, maxPendingHandshakesPerAddress: 5 }), InvalidOptionError);
    assert.throws(() => new ServerService({ ...base, tls: { handshakeTimeout: 2 ** 31 } }), InvalidOptionError);
  });
});
