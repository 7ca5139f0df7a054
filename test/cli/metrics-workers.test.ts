import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { sampleKey, scrape, waitForSample } from '../helpers/scrape.js';
import { cleanupAfter } from '../helpers/wait.js';

const READY = /listening on 127\.0\.0\.1:(\d+), metrics on 127\.0\.0\.1:(\d+)/;
const tcp = { transport: 'tcp' };

it('echo-server --workers 2 --metrics-port: the primary serves the whole server, summed over the workers', { timeout: 60_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const cli = runCli(cleanup, ['echo-server', '--port', '0', '--workers', '2', '--max-sessions', '20', '--metrics-port', '0']);
  const line = await cli.waitForLine(READY, 20_000);
  const ready = JSON.parse(line) as { msg: string; workerPids: number[] };
  assert.equal(ready.workerPids.length, 2);
  const match = READY.exec(ready.msg) as RegExpExecArray;
  const port = Number(match[1]);
  const read = (): Promise<Map<string, number>> => scrape(Number(match[2]));

  // 10 clients over the two workers (round-robin, about 5 each): the scrape shows 10, not one worker's part.
  const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(port, { cleanup })));
  await waitForSample(read, sampleKey('gamewire_sessions', tcp), (n) => n === 10);
  const before = await read();
  // Each worker's own series, told apart by worker: two of them, adding up to the server's sessions.
  const perWorker = [...before].filter(([key]) => key.startsWith('gamewire_worker_sessions{'));
  assert.equal(perWorker.length, 2, `per-worker series: ${perWorker.map(([key]) => key).join(', ')}`);
  assert.equal(perWorker.reduce((sum, [, value]) => sum + value, 0), 10);
  const busy = [...before].filter(([key]) => key.startsWith('gamewire_worker_event_loop_utilization{'));
  assert.equal(busy.length, 2);
  for (const [key, value] of busy) assert.ok(value >= 0 && value <= 1, `${key} = ${value}`);
  const burst = Buffer.concat(Array.from({ length: 20 }, (_, i) => packet(i, `packet ${i}`)));
  await Promise.all(clients.map((client) => client.roundTrip(burst)));
  const after = await read();
  const moved = (name: string): number => (after.get(sampleKey(name, tcp)) ?? 0) - (before.get(sampleKey(name, tcp)) ?? 0);
  assert.ok(moved('gamewire_packets_received_total') >= 200, `received ${moved('gamewire_packets_received_total')}`);
  assert.ok(moved('gamewire_packets_sent_total') >= 200, `sent ${moved('gamewire_packets_sent_total')}`);

  // --max-sessions is the whole server's, 10 per worker: 15 more clients make at least 5 refusals, and
  // every connection is either a session or a refusal in the primary's sums.
  const more = await Promise.all(Array.from({ length: 15 }, () => RawClient.connect(port, { cleanup })));
  const refusedKey = sampleKey('gamewire_sessions_refused_total', { ...tcp, reason: 'max_sessions' });
  const sessionsKey = sampleKey('gamewire_sessions', tcp);
  const seen = async (): Promise<Map<string, number>> => {
    const samples = await read();
    return new Map([['seen', (samples.get(sessionsKey) ?? 0) + (samples.get(refusedKey) ?? 0)]]);
  };
  await waitForSample(seen, 'seen', (v) => v === 25);
  const full = await read();
  assert.ok((full.get(refusedKey) ?? 0) >= 5, `refused ${full.get(refusedKey)}`);
  assert.ok((full.get(sessionsKey) ?? 0) <= 20, `sessions ${full.get(sessionsKey)}`);
  for (const client of more) client.end();
  for (const client of clients) client.end();
  await waitForSample(read, sampleKey('gamewire_sessions', tcp), (v) => v === 0);
  const accepted = (await read()).get(sampleKey('gamewire_sessions_accepted_total', tcp)) ?? 0;
  assert.equal((await read()).get(sampleKey('gamewire_disconnects_total', { ...tcp, cause: 'PEER_CLOSED' })), accepted);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.waitForExit(20_000), 0, cli.output());
});
