import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Gauge } from 'prom-client';
import { ListenError } from '../../src/core/errors.js';
import { GamewireMetrics } from '../../src/metrics/gamewire-metrics.js';
import { serveMetrics } from '../../src/metrics/metrics-server.js';
import { EchoSession } from '../../src/samples/echo-session.js';
import { RawClient } from '../helpers/raw-client.js';
import { httpGet, parseSamples, sampleKey, waitForSample, scrape } from '../helpers/scrape.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';

describe('serveMetrics', () => {
  it('serves /metrics in the Prometheus text format, and /healthz 200 until markClosing, then 503', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new EchoSession());
    const endpoint = await serveMetrics({ port: 0, services: [service] });
    cleanup.add(() => endpoint.close());
    assert.ok(endpoint.port > 0);
    assert.equal(endpoint.host, '127.0.0.1');
    const metrics = await httpGet(endpoint.port, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
    assert.match(metrics.body, /# TYPE gamewire_sessions gauge/);
    assert.match(metrics.body, /# TYPE gamewire_disconnects_total counter/);
    assert.ok(parseSamples(metrics.body).has('nodejs_eventloop_lag_seconds'));

    await RawClient.connect(service.port, { cleanup });
    await waitForSample(() => scrape(endpoint.port), sampleKey('gamewire_sessions', { transport: 'tcp' }), (n) => n === 1);

    assert.deepEqual(await httpGet(endpoint.port, '/healthz'), { status: 200, contentType: 'text/plain', body: 'ok\n' });
    assert.equal((await httpGet(endpoint.port, '/nope')).status, 404);
    endpoint.markClosing();
    assert.equal((await httpGet(endpoint.port, '/healthz')).status, 503);
    assert.equal((await httpGet(endpoint.port, '/metrics')).status, 200, 'metrics are still served while closing');
    await endpoint.close();
    await endpoint.close(); // twice is fine
  });

  it('serves given metrics with game series, answers 503 when healthy() is false, and names the port it cannot listen on', async (t) => {
    const cleanup = cleanupAfter(t);
    const metrics = new GamewireMetrics({ defaultMetrics: false });
    new Gauge({ name: 'game_matches', help: 'Matches running.', registers: [metrics.registry] }).set(7);
    let healthy = false;
    const endpoint = await serveMetrics({ port: 0, metrics, healthy: () => healthy });
    cleanup.add(() => endpoint.close());
    assert.equal(endpoint.metrics, metrics);
    assert.equal((await scrape(endpoint.port)).get('game_matches'), 7);
    assert.equal((await httpGet(endpoint.port, '/healthz')).status, 503);
    healthy = true;
    assert.equal((await httpGet(endpoint.port, '/healthz')).status, 200);
    await assert.rejects(serveMetrics({ port: endpoint.port, metrics }), (error: unknown) => {
      assert.ok(error instanceof ListenError);
      assert.equal(error.syscallCode, 'EADDRINUSE');
      return true;
    });
  });
});
