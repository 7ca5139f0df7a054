/**
 * SIGTERM drains a CLI server (one process and --workers 2), seen from outside: /healthz answers
 * 503 `draining` and gamewire_draining counts it, a new connection is refused, the players already
 * there go on being served, a second SIGTERM closes at once (FIN, exit 0); and a drain that reaches
 * its deadline closes a WebSocket client with 1012 SERVICE_DRAINED.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { DEFAULTS } from '../../src/core/defaults.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { packet } from '../helpers/packets.js';
import { connectOutcome, RawClient } from '../helpers/raw-client.js';
import { httpGet, sampleKey, scrape, waitForSample } from '../helpers/scrape.js';
import { cleanupAfter, withTimeout, type Cleanup } from '../helpers/wait.js';

const READY = /listening on 127\.0\.0\.1:(\d+)(?:, websocket listening on 127\.0\.0\.1:(\d+))?, metrics on 127\.0\.0\.1:(\d+)/;

async function start(cleanup: Cleanup, args: readonly string[]): Promise<{ cli: CliProcess; port: number; wsPort: number; metricsPort: number }> {
  const cli = runCli(cleanup, ['echo-server', '--port', '0', '--metrics-port', '0', '--log-format', 'json', ...args]);
  const line = await cli.waitForLine(READY, 20_000);
  const match = READY.exec(line);
  return { cli, port: Number(match?.[1]), wsPort: Number(match?.[2] ?? 0), metricsPort: Number(match?.[3]) };
}

describe('SIGTERM drains a CLI server', () => {
  for (const workers of ['1', '2']) {
    it(`--workers ${workers}: 503 draining, new connections refused, players served; SIGTERM again closes now`, { timeout: 60_000 }, async (t) => {
      const cleanup = cleanupAfter(t);
      const { cli, port, metricsPort } = await start(cleanup, ['--workers', workers, '--drain-timeout-ms', '60000']);
      const players = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port, { cleanup })));
      for (const player of players) assert.equal((await player.roundTrip(packet(1, 'hi'))).subarray(4).toString(), 'hi');
      assert.equal((await httpGet(metricsPort, '/healthz')).body, 'ok\n');

      cli.child.kill('SIGTERM');
      await cli.waitForLine(/"msg":"draining/);
      await waitForSample(() => scrape(metricsPort), sampleKey('gamewire_draining'), (value) => value === Number(workers), 10_000);
      const health = await httpGet(metricsPort, '/healthz');
      assert.equal(health.status, 503);
      assert.equal(health.body, 'draining\n');
      assert.equal(await connectOutcome(port), 'ECONNREFUSED', 'nothing listens once every worker drains');
      for (const player of players) assert.equal((await player.roundTrip(packet(1, 'still'))).subarray(4).toString(), 'still', 'a player is served while draining');

      const secondAt = performance.now();
      cli.child.kill('SIGTERM');
      assert.equal(await cli.waitForExit(20_000), 0, cli.output());
      const exitMs = performance.now() - secondAt;
      assert.ok(exitMs < DEFAULTS.closeGraceMs, `closed ${exitMs.toFixed(0)} ms after the second SIGTERM, not after the 60 s drain`);
      assert.ok(cli.stdoutLines.some((line) => line.includes('SIGTERM while draining: closing now')), cli.output());
      for (const player of players) {
        await player.waitForClose();
        assert.equal(player.ended, true, 'FIN');
        assert.equal(player.error, undefined, 'not a reset');
      }
    });
  }

  it('the drain deadline: a WebSocket client gets 1012 SERVICE_DRAINED, the server exits 0', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, wsPort } = await start(cleanup, ['--ws-port', '0', '--drain-timeout-ms', '300']);
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}/ws`);
    cleanup.add(() => ws.terminate());
    const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const sigtermAt = performance.now();
    cli.child.kill('SIGTERM');
    const close = await withTimeout(closed, 'the close at the drain deadline', 10_000);
    const afterMs = performance.now() - sigtermAt;
    assert.equal(close.code, 1012);
    assert.match(close.reason, /^SERVICE_DRAINED: .*drain deadline \(300 ms/);
    assert.ok(afterMs >= 300, `closed ${afterMs.toFixed(0)} ms after SIGTERM, not before the 300 ms deadline`);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
  });
});
