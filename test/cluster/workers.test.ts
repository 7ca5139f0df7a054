/**
 * --workers N with real processes: one ready line, sessions spread over the workers, one room over
 * all of them, the server-wide session limit, and graceful close.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { ChatPlayer } from '../helpers/chat-player.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { runCli } from '../helpers/cli.js';
import { cleanupAfter } from '../helpers/wait.js';
import { playerBlock, records, startCluster, terminate } from './cluster-fixtures.js';

const PLAYERS = 8;
const CHATS = 25;

describe('--workers 2', () => {
  it('chat-server: players spread over both workers; every chat reaches every player exactly once, in order per sender', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, ready } = await startCluster(cleanup, 'chat-server', ['--workers', '2']);
    assert.equal(ready.workers, 2);
    assert.equal(ready.workerPids.length, 2);
    assert.equal(records(cli, /^listening on/).length, 1, 'one ready line for the whole server');
    const players: ChatPlayer[] = [];
    for (let i = 0; i < PLAYERS; i++) players.push(await ChatPlayer.join(cleanup, ready.port, `p${i}`));
    const ids = players.map((p) => p.playerId);
    assert.equal(new Set(ids).size, PLAYERS, `player ids unique: ${ids}`);
    assert.equal(new Set(ids.map(playerBlock)).size, 2, `players on both workers: ${ids}`);
    for (let round = 0; round < CHATS; round++) await Promise.all(players.map((p) => p.chat()));
    await Promise.all(players.map((p) => p.waitForChats(PLAYERS * CHATS)));
    // Closing flushes everything in flight: any duplicate would be counted before the FIN.
    assert.equal(await terminate(cli), 0, cli.output());
    await Promise.all(players.map((p) => p.client.waitForEnd(10_000)));
    const expected = Array.from({ length: CHATS }, (_, i) => i);
    for (const player of players) {
      assert.equal(player.chats.length, PLAYERS * CHATS, `player ${player.playerId}`);
      for (const from of ids) assert.deepEqual(player.seqsFrom(from), expected, `chats from ${from} at ${player.playerId}`);
    }
    assert.deepEqual(records(cli, /^closed$/)[0]?.accepted, PLAYERS);
  });

  it('--max-sessions is for the whole server, split over the workers', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, ready } = await startCluster(cleanup, 'echo-server', ['--workers', '2', '--max-sessions', '4']);
    const clients: RawClient[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await RawClient.connect(ready.port, { cleanup });
      const p = packet(7, `hello ${i}`);
      await client.write(p);
      await client.waitForBytes(p.length, `echo at client ${i}`);
      clients.push(client);
    }
    // Round-robin: the fifth goes to a worker that holds its 2 of the 4 already.
    const fifth = await RawClient.connect(ready.port, { cleanup });
    await fifth.waitForClose(10_000);
    assert.equal(fifth.byteCount, 0);
    assert.equal(await terminate(cli), 0, cli.output());
    const closed = records(cli, /^closed$/)[0];
    assert.equal(closed?.accepted, 4);
    assert.equal(closed?.refused, 1);
  });

  it('SIGTERM to the primary under load: every worker closes gracefully, echoes are exact prefixes, exit 0', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, ready } = await startCluster(cleanup, 'echo-server', ['--workers', '2', '--max-sessions', '100']);
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(ready.port, { cleanup })));
    const sent = clients.map(() => [] as Buffer[]);
    let stop = false;
    const pumps = clients.map(async (client, c) => {
      for (let seq = 0; !stop && !client.closed && !client.ended; seq++) {
        const p = packet(1, `client ${c} packet ${seq}`);
        sent[c]?.push(p);
        await client.write(p).catch(() => undefined);
        if (seq % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
      }
    });
    await Promise.all(clients.map((client) => client.waitForBytes(1000, 'echoes flowing')));
    cli.child.kill('SIGTERM');
    assert.equal(await cli.waitForExit(20_000), 0, cli.output());
    stop = true;
    await Promise.all(pumps);
    for (const [c, client] of clients.entries()) {
      await client.waitForClose(10_000);
      assert.equal(client.error, undefined, `client ${c}: closed with a FIN, not a reset`);
      const echoed = Buffer.concat(client.chunks);
      const mine = Buffer.concat(sent[c] ?? []);
      assert.ok(echoed.length > 0 && echoed.length <= mine.length);
      assert.deepEqual(echoed, mine.subarray(0, echoed.length), `client ${c}: the echo is an exact prefix`);
      assert.equal(new PacketReader().push(echoed).length > 0, true);
    }
  });

  it('a port in use: the error is said once for the whole server, exit 1, no worker left behind', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as AddressInfo).port;
    const cli = runCli(cleanup, ['echo-server', '--port', String(port), '--workers', '2', '--log-format', 'json']);
    assert.equal(await cli.waitForExit(20_000), 1, cli.output());
    const said = cli.stderrLines.filter((line) => /EADDRINUSE/.test(line));
    assert.equal(said.length, 1, cli.output());
  });
});
