import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GamewireMetrics } from '../../src/metrics/gamewire-metrics.js';
import { Session } from '../../src/net/session.js';
import { EchoSession } from '../../src/samples/echo-session.js';
import { RawClient } from '../helpers/raw-client.js';
import { parseSamples, sampleKey, waitForSample } from '../helpers/scrape.js';
import { makeClient, startServer } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';

/** A self-signed certificate for 127.0.0.1 made with the openssl CLI, or why it could not be made. */
function certificate(): { key: Buffer; cert: Buffer } | string {
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-metrics-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ], { stdio: 'ignore' });
    return { key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) };
  } catch (error) {
    return `openssl CLI not available (${(error as Error).message}); TLS metrics test skipped`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('GamewireMetrics over TLS', () => {
  it('labels TLS sessions transport="tls" and counts a failed handshake as refused{reason="tls_handshake"}', async (t) => {
    const pem = certificate();
    if (typeof pem === 'string') {
      t.skip(pem);
      return;
    }
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession(), { tls: pem });
    const metrics = new GamewireMetrics({ services: [service], defaultMetrics: false });
    const read = async (): Promise<Map<string, number>> => parseSamples(await metrics.registry.metrics());
    const tls = { transport: 'tls' };
    const client = makeClient(cleanup, () => new Session(), { port: service.port, tls: { ca: pem.cert, servername: 'localhost' } });
    await client.service.start();
    await waitForSample(read, sampleKey('gamewire_sessions', tls), (n) => n === 1);
    assert.equal((await client.collector.nth(0)).transport, 'tls');
    const plain = await RawClient.connect(service.port, { cleanup });
    await plain.write('not a TLS hello\r\n\r\n');
    await plain.waitForClose();
    await waitForSample(read, sampleKey('gamewire_sessions_refused_total', { ...tls, reason: 'tls_handshake' }), (n) => n === 1);
    assert.equal((await read()).has(sampleKey('gamewire_sessions', { transport: 'tcp' })), false, 'no tcp series for a TLS-only server');
  });
});
