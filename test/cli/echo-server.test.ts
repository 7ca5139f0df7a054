import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MAIN_JS, runCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/services.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

/** Starts `echo-server --port 0` and resolves with the process and the port from its pino JSON log line. */
async function startEchoServer(cleanup: Cleanup, extra: readonly string[] = []): Promise<{ cli: CliProcess; port: number }> {
  const cli = runCli(cleanup, ['echo-server', '--port', '0', ...extra]);
  const line = await cli.waitForLine(LISTENING, 10_000);
  const record = JSON.parse(line) as { msg: string; port: number; name: string };
  assert.equal(record.name, 'echo-server');
  const port = Number(LISTENING.exec(record.msg)?.[1]);
  assert.ok(port > 0 && port < 65536, record.msg);
  assert.equal(record.port, port);
  return { cli, port };
}

describe('gamewire CLI', () => {
  it('finds the compiled entry point', () => {
    assert.ok(existsSync(MAIN_JS), MAIN_JS);
  });

  it('--help exits 0 and lists echo-server and dummy-client', async (t) => {
    const cli = runCli(cleanupAfter(t), ['--help']);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    const text = cli.stdoutLines.join('\n');
    assert.match(text, /echo-server/);
    assert.match(text, /dummy-client/);
  });

  it('exits 2 for an unknown command and for a bad flag', async (t) => {
    const cleanup = cleanupAfter(t);
    const unknown = runCli(cleanup, ['no-such-command']);
    const badFlag = runCli(cleanup, ['echo-server', '--port', 'seventy']);
    assert.equal(await unknown.waitForExit(10_000), 2, unknown.output());
    assert.match(unknown.stderrLines.join('\n'), /unknown command/);
    assert.equal(await badFlag.waitForExit(10_000), 2, badFlag.output());
    assert.match(badFlag.stderrLines.join('\n'), /--port/);
  });

  it('echo-server echoes a packet and exits 0 on SIGTERM', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startEchoServer(cleanup);
    const client = await RawClient.connect(port, { cleanup });
    const p = packet(42, 'hello through the CLI');
    assert.deepEqual(await client.roundTrip(p), p);
    await client.close();
    cli.child.kill('SIGTERM');
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
  });

  it('echo-server on SIGTERM drains, then at the drain deadline closes a connected client gracefully and exits 0', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startEchoServer(cleanup, ['--drain-timeout-ms', '200']);
    const client = await RawClient.connect(port, { cleanup });
    const p = packet(1, 'x');
    assert.deepEqual(await client.roundTrip(p), p);
    cli.child.kill('SIGTERM');
    await client.waitForEnd(10_000);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
  });

  it('dummy-client against a running echo-server exits 0 with a total line showing echoes', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli: server, port } = await startEchoServer(cleanup);
    const dummy = runCli(cleanup, [
      'dummy-client',
      '--port',
      String(port),
      '--sessions',
      '3',
      '--interval-ms',
      '50',
      '--duration-s',
      '1',
    ]);
    assert.equal(await dummy.waitForExit(15_000), 0, dummy.output());
    const out = dummy.stdoutLines.join('\n');
    const sent = Number(/packets sent\s+(\d+)/.exec(out)?.[1]);
    const received = Number(/packets received\s+(\d+)/.exec(out)?.[1]);
    const roundTrips = Number(/round trips\s+(\d+)/.exec(out)?.[1]);
    assert.ok(received > 0, out);
    assert.equal(sent, received, `the run drains before its totals:\n${out}`);
    assert.equal(roundTrips, sent, out);
    assert.match(out, /over 1 worker to 127\.0\.0\.1/);
    assert.match(out, /result\s+PASS \(0 errors\)/);
    server.child.kill('SIGTERM');
    assert.equal(await server.waitForExit(10_000), 0, server.output());
  });

  it('dummy-client exits 1 when it cannot connect', async (t) => {
    const cleanup = cleanupAfter(t);
    const port = await freePort();
    const dummy = runCli(cleanup, ['dummy-client', '--port', String(port), '--duration-s', '1']);
    assert.equal(await dummy.waitForExit(15_000), 1, dummy.output());
    const out = dummy.stdoutLines.join('\n');
    assert.match(out, /connect failures\s+1\s+\(ECONNREFUSED=1\)/);
    assert.match(out, /reconnects\s+0/, 'a dummy client does not reconnect');
    assert.doesNotMatch(out, /latency p50/, 'no made-up latency when nothing connected');
  });
});
