import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/services.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

async function startEchoServer(cleanup: Cleanup): Promise<number> {
  const server = runCli(cleanup, ['echo-server', '--port', '0', '--max-sessions', '100']);
  const line = await server.waitForLine(LISTENING, 10_000);
  return Number(LISTENING.exec(line)?.[1]);
}

function tempDir(cleanup: Cleanup): string {
  const dir = mkdtempSync(join(tmpdir(), 'gamewire-loadtest-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

describe('gamewire loadtest', { timeout: 30_000 }, () => {
  it('is listed by --help and has its own --help', async (t) => {
    const cleanup = cleanupAfter(t);
    const list = runCli(cleanup, ['--help']);
    const own = runCli(cleanup, ['loadtest', '--help']);
    assert.equal(await list.waitForExit(10_000), 0);
    assert.match(list.stdoutLines.join('\n'), /^\s+loadtest\s+load test/m);
    assert.equal(await own.waitForExit(10_000), 0);
    assert.match(own.stdoutLines.join('\n'), /--ramp R/);
  });

  it('against echo-server with 2 workers: exits 0, prints the summary, writes the JSON and the HTML report', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await startEchoServer(cleanup);
    const dir = tempDir(cleanup);
    const jsonPath = join(dir, 'run.json');
    const htmlPath = join(dir, 'run.html');
    const cli = runCli(cleanup, [
      'loadtest', '--port', String(port), '--sessions', '10', '--ramp', '20', '--workers', '2',
      '--duration-s', '2', '--interval-ms', '20', '--json', jsonPath, '--report', htmlPath,
    ]);
    assert.equal(await cli.waitForExit(20_000), 0, cli.output());
    const out = cli.stdoutLines.join('\n');
    assert.match(out, /^\[\s+1s\] sessions \d+\/10/m, 'a plain status line per second (stdout is a pipe)');
    assert.match(out, /result\s+PASS \(0 errors\)/);
    assert.match(out, /latency p99 \/ p99\.9/);

    const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report).sort(), [
      'config', 'drain', 'endedAt', 'errors', 'format', 'latency', 'passed', 'rates', 'runSeconds', 'series',
      'startedAt', 'totals', 'workerErrors',
    ]);
    const totals = report['totals'] as Record<string, unknown>;
    const latency = report['latency'] as Record<string, unknown>;
    const config = report['config'] as Record<string, unknown>;
    const series = report['series'] as Array<Record<string, unknown>>;
    assert.equal(report['passed'], true);
    assert.equal(totals['connects'], 10);
    assert.equal(totals['packetsSent'], totals['packetsReceived']);
    assert.deepEqual(totals['disconnectsByCause'], { SERVICE_CLOSING: 10 });
    for (const key of ['count', 'p50', 'p90', 'p99', 'p99_9', 'max', 'distribution']) assert.ok(key in latency, key);
    assert.equal(config['workers'], 2);
    assert.equal(config['rampPerSecond'], 20);
    assert.ok(series.length >= 2);
    for (const key of ['t', 'sessions', 'packetsSent', 'packetsReceived', 'bytesSent', 'bytesReceived', 'latency']) {
      assert.ok(key in (series[0] ?? {}), key);
    }

    const html = readFileSync(htmlPath, 'utf8');
    const block = /<script type="application\/json" id="gamewire-data">([^<]*)<\/script>/.exec(html);
    assert.ok(block);
    assert.deepEqual(JSON.parse(block[1] as string), report);
  });

  it('exits 1 when connects fail, and 2 for a bad flag', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await freePort();
    const failing = runCli(cleanup, [
      'loadtest', '--port', String(port), '--sessions', '2', '--workers', '1', '--duration-s', '1', '--no-reconnect',
    ]);
    const badFlag = runCli(cleanup, ['loadtest', '--bot-option', 'novalue']);
    assert.equal(await failing.waitForExit(15_000), 1, failing.output());
    assert.match(failing.stdoutLines.join('\n'), /connect failures\s+2\s+\(ECONNREFUSED=2\)/);
    assert.match(failing.stdoutLines.join('\n'), /result\s+FAIL \(2 errors\)/);
    assert.equal(await badFlag.waitForExit(10_000), 2, badFlag.output());
    assert.match(badFlag.stderrLines.join('\n'), /--bot-option must be KEY=VALUE/);
  });

  it('names the built-in bots for a mistyped --bot, and fails clearly for a bot whose createSession returns no Session', async (t) => {
    const cleanup = cleanupAfter(t);
    const typo = runCli(cleanup, ['loadtest', '--bot', 'chatt', '--port', '1', '--duration-s', '1']);
    assert.equal(await typo.waitForExit(10_000), 1, typo.output());
    assert.match(typo.stderrLines.join('\n'), /unknown bot 'chatt': the built-in bots are echo, chat/);

    const port = await startEchoServer(cleanup);
    const dir = tempDir(cleanup);
    const botPath = join(dir, 'not-a-session-bot.mjs');
    writeFileSync(botPath, "export default { name: 'plain', createSession: () => ({ onRecv() { return 0; } }) };\n");
    const bad = runCli(cleanup, ['loadtest', '--bot', botPath, '--port', String(port), '--sessions', '2', '--workers', '1', '--duration-s', '2']);
    assert.equal(await bad.waitForExit(20_000), 1, bad.output());
    assert.match(bad.output(), /bot 'plain': createSession returned Object \(object\), not a Session of this gamewire installation/);
  });

  it('--transport ws drives the same bots over WebSocket: every echo answered, the chat bots see every chat', async (t) => {
    const cleanup = cleanupAfter(t);
    const echo = runCli(cleanup, ['echo-server', '--port', '0', '--ws-port', '0']);
    const echoPort = /websocket listening on 127\.0\.0\.1:(\d+)/.exec(await echo.waitForLine(/websocket listening/, 10_000))?.[1] as string;
    const cli = runCli(cleanup, ['loadtest', '--transport', 'ws', '--port', echoPort, '--sessions', '6', '--workers', '1', '--duration-s', '2', '--interval-ms', '10']);
    assert.equal(await cli.waitForExit(20_000), 0, cli.output());
    const out = cli.stdoutLines.join('\n');
    assert.match(out, /to ws:\/\/127\.0\.0\.1:\d+\/ws/);
    assert.match(out, /result\s+PASS \(0 errors\)/);
    const sent = Number(/packets sent\s+(\d+)/.exec(out)?.[1]);
    assert.ok(sent > 0 && sent === Number(/packets received\s+(\d+)/.exec(out)?.[1]), out);

    const chat = runCli(cleanup, ['chat-server', '--port', '0', '--ws-port', '0']);
    const chatPort = /websocket listening on 127\.0\.0\.1:(\d+)/.exec(await chat.waitForLine(/websocket listening/, 10_000))?.[1] as string;
    const dummy = runCli(cleanup, ['dummy-client', '--scenario', 'chat', '--transport', 'ws', '--port', chatPort, '--sessions', '3', '--interval-ms', '100', '--duration-s', '2']);
    assert.equal(await dummy.waitForExit(20_000), 0, dummy.output());
    const chatOut = dummy.stdoutLines.join('\n');
    const roundTrips = Number(/round trips\s+(\d+)/.exec(chatOut)?.[1]);
    const deliveries = Number(/counter deliveries\s+(\d+)/.exec(chatOut)?.[1]);
    assert.ok(roundTrips > 0 && deliveries <= 3 * roundTrips && deliveries >= 3 * roundTrips - 6, chatOut);
  });
});

