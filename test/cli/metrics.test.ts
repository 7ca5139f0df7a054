import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { CliProcess, MAIN_JS, runCli } from '../helpers/cli.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { httpGet, sampleKey, scrape, waitForSample } from '../helpers/scrape.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

const READY = /listening on 127\.0\.0\.1:(\d+), metrics on 127\.0\.0\.1:(\d+)/;
const tcp = { transport: 'tcp' };

/** Starts a CLI server with `--port 0 --metrics-port 0`; resolves with its game and metrics ports. */
async function startWithMetrics(
  cleanup: Cleanup,
  command: string,
  extra: readonly string[] = [],
): Promise<{ cli: CliProcess; port: number; metricsPort: number }> {
  const cli = runCli(cleanup, [command, '--port', '0', '--metrics-port', '0', ...extra]);
  const line = await cli.waitForLine(READY, 10_000);
  const match = READY.exec((JSON.parse(line) as { msg: string }).msg);
  return { cli, port: Number(match?.[1]), metricsPort: Number(match?.[2]) };
}

describe('CLI servers with --metrics-port', () => {
  it('echo-server: sessions, packets each way, a refusal past --max-sessions, causes, then /healthz 503 while closing', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port, metricsPort } = await startWithMetrics(cleanup, 'echo-server', ['--max-sessions', '10']);
    const read = (): Promise<Map<string, number>> => scrape(metricsPort);
    const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(port, { cleanup })));
    await waitForSample(read, sampleKey('gamewire_sessions', tcp), (n) => n === 10);

    const start = await read();
    const perClient = 20;
    const burst = Buffer.concat(Array.from({ length: perClient }, (_, i) => packet(i, `packet ${i}`)));
    await Promise.all(clients.map((client) => client.roundTrip(burst)));
    const after = await read();
    const moved = (name: string): number => (after.get(sampleKey(name, tcp)) ?? 0) - (start.get(sampleKey(name, tcp)) ?? 0);
    const n = clients.length * perClient;
    assert.ok(moved('gamewire_packets_received_total') >= n, `received ${moved('gamewire_packets_received_total')}`);
    assert.ok(moved('gamewire_packets_sent_total') >= n, `sent ${moved('gamewire_packets_sent_total')}`);
    assert.ok(moved('gamewire_bytes_received_total') >= n * 4 && moved('gamewire_bytes_sent_total') >= n * 4);

    const eleventh = await RawClient.connect(port, { cleanup });
    await eleventh.waitForClose();
    await waitForSample(read, sampleKey('gamewire_sessions_refused_total', { ...tcp, reason: 'max_sessions' }), (v) => v === 1);
    assert.equal((await read()).get(sampleKey('gamewire_sessions', tcp)), 10, 'the live sessions are untouched');

    for (const client of clients.slice(0, 6)) client.end();
    await Promise.all(clients.slice(6, 9).map((client) => client.reset()));
    await waitForSample(read, sampleKey('gamewire_sessions', tcp), (v) => v === 1);
    const causes = await read();
    assert.equal(causes.get(sampleKey('gamewire_disconnects_total', { ...tcp, cause: 'PEER_CLOSED' })), 6);
    assert.equal(causes.get(sampleKey('gamewire_disconnects_total', { ...tcp, cause: 'CONNECTION_RESET' })), 3);
    assert.equal(causes.get(sampleKey('gamewire_sessions_accepted_total', tcp)), 10);

    assert.equal((await httpGet(metricsPort, '/healthz')).status, 200);
    // The last client keeps its side open after the server's FIN: the server stays in 'closing'.
    const last = clients[9] as RawClient;
    last.socket.allowHalfOpen = true;
    cli.child.kill('SIGINT'); // closes now (SIGTERM would drain first: drain.test.ts)
    await last.waitForEnd(10_000);
    assert.equal((await httpGet(metricsPort, '/healthz')).status, 503);
    last.end();
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    await assert.rejects(httpGet(metricsPort, '/healthz'), 'the endpoint is closed with the server');
  });

  it('chat-server counts its room and members; broadcast-server also takes --metrics-port', async (t) => {
    const cleanup = cleanupAfter(t);
    const chat = await startWithMetrics(cleanup, 'chat-server');
    const samples = await scrape(chat.metricsPort);
    assert.equal(samples.get('gamewire_rooms'), 1);
    assert.equal(samples.get('gamewire_room_members'), 0);
    const broadcast = await startWithMetrics(cleanup, 'broadcast-server');
    const client = await RawClient.connect(broadcast.port, { cleanup });
    await client.roundTrip(packet(7, 'to all'));
    const after = await scrape(broadcast.metricsPort);
    assert.equal(after.get('gamewire_room_members'), 1);
    assert.equal(after.get(sampleKey('gamewire_packets_received_total', tcp)), 1);
    assert.equal(after.get(sampleKey('gamewire_packets_sent_total', tcp)), 1);
  });

  it('--stats prints a plain stats line per second when piped; --no-stats and no flag (not a TTY) print none', async (t) => {
    const cleanup = cleanupAfter(t);
    const cli = runCli(cleanup, ['echo-server', '--port', '0', '--stats']);
    await cli.waitForLine(/listening on/, 10_000);
    const stats = /^\[stats\] sessions 0 \| in 0 pkt\/s \| out 0 pkt\/s \| refused 0 \| disconnects 0$/;
    await cli.waitForStderrLine(stats, 5_000);
    assert.ok(!cli.stderrLines.some((line) => line.includes('\r')), 'no carriage return when piped');
    const quiet = runCli(cleanup, ['echo-server', '--port', '0']);
    await quiet.waitForLine(/listening on/, 10_000);
    quiet.child.kill('SIGTERM');
    assert.equal(await quiet.waitForExit(10_000), 0);
    assert.deepEqual(quiet.stderrLines, []);
  });

  it('GAMEWIRE_DEBUG_SESSION=127.0.0.1 logs that session\'s debug traces at log level info, with sessionId, remote and transport', async (t) => {
    const cleanup = cleanupAfter(t);
    const child = spawn(process.execPath, [MAIN_JS, 'echo-server', '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GAMEWIRE_LOG_LEVEL: 'info', GAMEWIRE_DEBUG_SESSION: '127.0.0.1', GAMEWIRE_LOG_FORMAT: 'json' },
    });
    const cli = new CliProcess(child);
    cleanup.add(async () => {
      if (!cli.exited) child.kill('SIGKILL');
      await cli.waitForExit();
    });
    const ready = await cli.waitForLine(/listening on/, 10_000);
    const port = (JSON.parse(ready) as { port: number }).port;
    const client = await RawClient.connect(port, { cleanup });
    const state = JSON.parse(await cli.waitForLine(/"session state"/)) as Record<string, unknown>;
    assert.equal(state['level'], 20, 'a debug line');
    assert.equal(typeof state['sessionId'], 'number');
    assert.equal(state['remote'], `127.0.0.1:${client.socket.localPort}`);
    assert.equal(state['transport'], 'tcp');
    client.end();
    const closed = JSON.parse(await cli.waitForLine(/"session closed"/)) as Record<string, unknown>;
    assert.equal(closed['cause'], 'PEER_CLOSED');
    assert.equal(closed['sessionId'], state['sessionId']);
    assert.equal(closed['remote'], state['remote']);
  });
});
