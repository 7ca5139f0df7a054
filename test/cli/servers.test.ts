import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

/** Starts `<command> --port 0` and resolves with the process and the port from its ready line. */
async function startServerCli(cleanup: Cleanup, command: string, extra: readonly string[] = []): Promise<{ cli: CliProcess; port: number }> {
  const cli = runCli(cleanup, [command, '--port', '0', ...extra]);
  const line = await cli.waitForLine(LISTENING, 10_000);
  const record = JSON.parse(line) as { msg: string; port: number; name: string; maxSessionCount: number };
  assert.equal(record.name, command);
  const port = Number(LISTENING.exec(record.msg)?.[1]);
  assert.ok(port > 0 && port < 65536, record.msg);
  assert.equal(record.port, port);
  return { cli, port };
}

/** Sends `p` from `from` and waits until each client in `to` has received `p` as its next bytes. */
async function broadcastAndCheck(p: Buffer, from: RawClient, to: readonly RawClient[]): Promise<void> {
  const starts = to.map((c) => c.byteCount);
  await from.write(p);
  await Promise.all(
    to.map(async (client, i) => {
      const start = starts[i] as number;
      const all = await client.waitForBytes(start + p.length, `the broadcast packet at client ${i}`);
      assert.deepEqual(all.subarray(start, start + p.length), p, `client ${i}`);
    }),
  );
}

describe('gamewire broadcast-server and chat-server', () => {
  it('broadcast-server --port 0 prints the ready line, sends a packet to every client, exits 0 on SIGTERM', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startServerCli(cleanup, 'broadcast-server', ['--max-sessions', '5']);
    const a = await RawClient.connect(port, { cleanup });
    // The sender gets its own packets back: once a's first packet is back, a is in the room.
    await broadcastAndCheck(packet(1, 'a is here'), a, [a]);
    const b = await RawClient.connect(port, { cleanup });
    // a is already a member, so b's packet reaching b (and a) shows b is in the room too.
    await broadcastAndCheck(packet(2, 'b is here'), b, [a, b]);
    const p = packet(3, 'to everyone');
    await broadcastAndCheck(p, a, [a, b]);
    const reader = new PacketReader();
    assert.deepEqual(
      reader.push(a.received).map((x) => x.id),
      [1, 2, 3],
    );
    assert.deepEqual(
      new PacketReader().push(b.received).map((x) => x.id),
      [2, 3],
    );
    cli.child.kill('SIGTERM');
    // Graceful: the connected clients are closed with a FIN, then the process exits 0.
    await a.waitForEnd(10_000);
    await b.waitForEnd(10_000);
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
    assert.ok(cli.stdoutLines.some((line) => /"msg":"closed"/.test(line)), cli.output());
  });

  it('broadcast-server with --max-sessions 1 refuses a second client', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startServerCli(cleanup, 'broadcast-server', ['--max-sessions', '1']);
    const a = await RawClient.connect(port, { cleanup });
    await broadcastAndCheck(packet(1, 'in'), a, [a]);
    const b = await RawClient.connect(port, { cleanup });
    await b.waitForClose(10_000);
    assert.equal(b.byteCount, 0);
    await broadcastAndCheck(packet(2, 'still alone'), a, [a]);
    cli.child.kill('SIGTERM');
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
  });

  it('chat-server --port 0 prints the ready line and exits 0 on SIGTERM', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli } = await startServerCli(cleanup, 'chat-server');
    const ready = cli.stdoutLines.filter((line) => /listening/.test(line));
    assert.equal(ready.length, 1, `one ready line\n${cli.output()}`);
    assert.match(ready[0] as string, /"driveWith":".*dummy-client --scenario chat/, cli.output());
    cli.child.kill('SIGTERM');
    assert.equal(await cli.waitForExit(10_000), 0, cli.output());
  });

  it('dummy-client --scenario chat against chat-server exits 0 with deliveries', { timeout: 40_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli: server, port } = await startServerCli(cleanup, 'chat-server');
    const dummy = runCli(cleanup, [
      'dummy-client',
      '--scenario',
      'chat',
      '--port',
      String(port),
      '--sessions',
      '5',
      '--interval-ms',
      '100',
      '--duration-s',
      '2',
    ]);
    assert.equal(await dummy.waitForExit(20_000), 0, dummy.output());
    const out = dummy.stdoutLines.join('\n');
    const roundTrips = Number(/round trips\s+(\d+)/.exec(out)?.[1]);
    const delivered = Number(/counter deliveries\s+(\d+)/.exec(out)?.[1]);
    assert.ok(roundTrips > 0, out);
    // The run drains before its totals: every chat came back to its sender; its copies to the other 4
    // bots left in the same turn, but the last few may still be on the wire when the bots close.
    assert.ok(delivered <= 5 * roundTrips && delivered >= 5 * roundTrips - 20, out);
    assert.match(out, /counter entered\s+5/, out);
    assert.match(out, /unanswered requests\s+0/, out);
    assert.match(out, /result\s+PASS/, out);
    server.child.kill('SIGTERM');
    assert.equal(await server.waitForExit(10_000), 0, server.output());
  });

  for (const [scenario, server] of [['chat', 'chat-server'], ['echo', 'echo-server']] as const) {
    it(`${scenario} bots quieter than the server's --idle-timeout-ms stay connected: they answer its pings`, { timeout: 40_000 }, async (t) => {
      const IDLE_MS = 600;
      const cleanup = cleanupAfter(t);
      const { cli: serverCli, port } = await startServerCli(cleanup, server, ['--idle-timeout-ms', String(IDLE_MS)]);
      // A request every 5 idle timeouts, for 10 of them: without the pings each bot would be cut.
      const dummy = runCli(cleanup, [
        'dummy-client', '--scenario', scenario, '--port', String(port), '--sessions', '3',
        '--interval-ms', String(5 * IDLE_MS), '--duration-s', String((10 * IDLE_MS) / 1000),
      ]);
      assert.equal(await dummy.waitForExit(30_000), 0, dummy.output());
      const out = dummy.stdoutLines.join('\n');
      assert.match(out, /result\s+PASS/, out);
      assert.match(out, /unanswered requests\s+0/, out);
      assert.ok(Number(/round trips\s+(\d+)/.exec(out)?.[1]) >= 3, out);
      serverCli.child.kill('SIGTERM');
      assert.equal(await serverCli.waitForExit(10_000), 0, serverCli.output());
    });
  }

  it('dummy-client --scenario nope exits 2 and names the scenario', async (t) => {
    const cli = runCli(cleanupAfter(t), ['dummy-client', '--scenario', 'nope']);
    assert.equal(await cli.waitForExit(10_000), 2, cli.output());
    assert.match(cli.stderrLines.join('\n'), /--scenario must be echo or chat, got 'nope'/);
    assert.equal(cli.stdoutLines.length, 0, cli.output());
  });
});
