import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CliProcess } from '../helpers/cli.js';
import { sampleKey, scrape, waitForSample } from '../helpers/scrape.js';
import { cleanupAfter } from '../helpers/wait.js';

const FIXTURE = fileURLToPath(new URL('./cluster-fixture.js', import.meta.url));

describe('metrics with node:cluster workers', () => {
  it('the primary serves the sum of 2 real workers (AggregatorRegistry) and its stats line shows it; exit 0 on SIGTERM', async (t) => {
    const cleanup = cleanupAfter(t);
    const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'pipe'] });
    const program = new CliProcess(child);
    cleanup.add(async () => {
      if (!program.exited) child.kill('SIGKILL');
      await program.waitForExit();
    });
    const line = await program.waitForLine(/^metrics on 127\.0\.0\.1:\d+$/, 15_000);
    const port = Number(line.slice(line.lastIndexOf(':') + 1));
    const read = (): Promise<Map<string, number>> => scrape(port);
    // 3 clients per worker on the shared port: 6 server sessions over both workers, whichever accepted them.
    await waitForSample(read, sampleKey('gamewire_sessions', { transport: 'tcp' }), (n) => n === 6, 10_000);
    const samples = await read();
    assert.equal(samples.get(sampleKey('gamewire_sessions_accepted_total', { transport: 'tcp' })), 6);
    assert.equal(samples.get(sampleKey('gamewire_sessions_limit', { transport: 'tcp' })), 200, 'maxSessionCount 100 per worker');
    assert.ok(samples.has('nodejs_eventloop_lag_seconds'), 'default metrics are aggregated too');
    await program.waitForStderrLine(/^\[stats\] sessions 6 \|/, 5_000);
    child.kill('SIGTERM');
    assert.equal(await program.waitForExit(15_000), 0, program.output());
  });
});
