/**
 * Redis from the attacker's and the careless operator's side, with real servers and a real
 * redis-server: junk published on a room channel, a message from a future release, two deployments on
 * two databases of one Redis, and a password that must never reach a log line, also while Redis is
 * down and a worker has to be replaced.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { S_CHAT, S_DESPAWN, S_ENTER_GAME, S_LOGIN, S_SPAWN } from '../../src/samples/protocol/packets.js';
import { ChatPlayer } from '../helpers/chat-player.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { RedisServer, redisSkip } from '../helpers/redis-server.js';
import { frameHeader, MALFORMED_FRAMES } from '../helpers/room-frames.js';
import { sampleKey, scrape, waitForSample } from '../helpers/scrape.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';
import { playerBlock, records, startCluster, terminate } from './cluster-fixtures.js';

const skip = redisSkip();
const SERVER_PACKETS = new Set([S_LOGIN.id, S_ENTER_GAME.id, S_CHAT.id, S_SPAWN.id, S_DESPAWN.id]);
const METRICS = /metrics on 127\.0\.0\.1:(\d+)/;

/** Starts a chat-server with a metrics endpoint; resolves with it and a scraper. */
async function chatServer(cleanup: Cleanup, extra: readonly string[]): Promise<{ cli: CliProcess; port: number; read: () => Promise<Map<string, number>> }> {
  const { cli, ready } = await startCluster(cleanup, 'chat-server', ['--metrics-port', '0', ...extra]);
  const metricsPort = Number(METRICS.exec(String(records(cli, /^listening on/)[0]?.msg))?.[1]);
  return { cli, port: ready.port, read: () => scrape(metricsPort) };
}

const dropped = (samples: Map<string, number>, reason: string): number => samples.get(sampleKey('gamewire_cluster_messages_dropped_total', { bus: 'redis', reason })) ?? 0;
const droppedTotal = (samples: Map<string, number>): number =>
  ['malformed', 'version', 'unknown', 'not_packets', 'relay_overflow'].reduce((sum, reason) => sum + dropped(samples, reason), 0);

/** A chat as another server would broadcast it: one S_CHAT packet from player `from`, seq `seq`. */
function chatPacket(from: number, seq: number): Buffer {
  return Buffer.from(S_CHAT.makeSendBuffer({ playerId: from, msg: `${from}:${seq}`, sentAtMs: 0 }));
}

/** Every player got only whole packets the chat server sends: no junk, no partial bytes. */
function assertClean(players: readonly ChatPlayer[]): void {
  for (const player of players) {
    for (const id of player.packetIds.keys()) assert.ok(SERVER_PACKETS.has(id), `player ${player.playerId} got a packet with id ${id}`);
    assert.equal(player.pendingBytes, 0, `player ${player.playerId} holds a partial packet`);
    assert.equal(player.client.closed, false, `player ${player.playerId} is still connected`);
  }
}

describe('Redis from the hostile side', { skip }, () => {
  it('junk on a room channel, 35 shapes x 3 and 300 random: no server exits, each is counted by reason, players get nothing of it, chats still cross', { timeout: 90_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const a = await chatServer(cleanup, ['--redis', redis.url]);
    const b = await chatServer(cleanup, ['--workers', '2', '--redis', redis.url]);
    const players = [
      await ChatPlayer.join(cleanup, a.port, 'a0'),
      await ChatPlayer.join(cleanup, a.port, 'a1'),
      await ChatPlayer.join(cleanup, b.port, 'b0'),
      await ChatPlayer.join(cleanup, b.port, 'b1'),
    ];
    const attacker = redis.client(cleanup);
    const expected = new Map<string, number>();
    for (let round = 0; round < 3; round++) {
      for (const [, payload, reason] of MALFORMED_FRAMES) {
        await attacker.publish('gamewire:0:room:chat', payload);
        expected.set(reason, (expected.get(reason) ?? 0) + 1);
      }
    }
    for (let i = 0; i < 300; i++) {
      const noise = randomBytes(1 + (i % 200));
      noise[0] = 0; // never the frame's magic: each is malformed
      await attacker.publish('gamewire:0:room:chat', noise);
    }
    expected.set('malformed', (expected.get('malformed') ?? 0) + 300);
    const total = [...expected.values()].reduce((sum, n) => sum + n, 0);
    // Each server (the single one, and the primary of the other) reads every message once and counts it.
    for (const server of [a, b]) {
      await waitForSample(async () => new Map([['dropped', droppedTotal(await server.read())]]), 'dropped', (n) => n === total, 10_000);
      const samples = await server.read();
      for (const [reason, count] of expected) assert.equal(dropped(samples, reason), count, `${reason} at ${server.cli.child.pid}`);
      assert.equal(server.cli.exited, false, server.cli.output());
      assert.deepEqual(records(server.cli, /died|exited before/), [], 'no worker died');
      // Warned, but throttled: at most one line per reason in the 10 s window (twice if the test crossed one).
      const warnings = records(server.cli, /^dropped \d+ cluster message/);
      assert.ok(warnings.length >= 1 && warnings.length <= 2 * expected.size, `${warnings.length} warnings`);
      assert.ok(warnings.every((w) => w.level === 40 && typeof w.reason === 'string'), JSON.stringify(warnings[0]));
    }
    // Legit chats still cross both servers, exactly once each, after all of it.
    for (let round = 0; round < 5; round++) await Promise.all(players.map((p) => p.chat()));
    await Promise.all(players.map((p) => p.waitForChats(players.length * 5)));
    for (const player of players) {
      for (const from of players) assert.deepEqual(player.seqsFrom(from.playerId), [0, 1, 2, 3, 4]);
    }
    assertClean(players);
    assert.equal(await terminate(a.cli), 0, a.cli.output());
    assert.equal(await terminate(b.cli), 0, b.cli.output());
  });

  it('a message from a future release is dropped and counted; one from the adjacent newer release is delivered', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const server = await chatServer(cleanup, ['--workers', '2', '--redis', redis.url]);
    const players = [await ChatPlayer.join(cleanup, server.port, 'p0'), await ChatPlayer.join(cleanup, server.port, 'p1')];
    const publisher = redis.client(cleanup);
    // Version 9, readable only from 9: a later incompatible format. The same chat, which must not arrive.
    await publisher.publish('gamewire:0:room:chat', Buffer.concat([frameHeader({ version: 9, minReader: 9, sender: 999, origin: 999 }), chatPacket(4242, 0)]));
    // Version 3, readable from 1, with 16 header bytes this release does not know: it must arrive.
    const newer = Buffer.concat([frameHeader({ version: 3, minReader: 1, headerSize: 40, sender: 999, origin: 999 }), chatPacket(4242, 1)]);
    await publisher.publish('gamewire:0:room:chat', newer);
    await Promise.all(players.map((p) => p.changed.until(() => p.seqsFrom(4242).length === 1, 'the newer release chat')));
    for (const player of players) assert.deepEqual(player.seqsFrom(4242), [1], 'the future one never arrived');
    const samples = await server.read();
    assert.equal(dropped(samples, 'version'), 1);
    assert.equal(droppedTotal(samples), 1);
    assertClean(players);
    assert.equal(await terminate(server.cli), 0, server.cli.output());
  });

  it('deployments on db 1 and db 2 of one Redis (and a second one on db 1 with its own prefix) are separate rooms with separate id blocks', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const one = await startCluster(cleanup, 'chat-server', ['--redis', `${redis.url}/1`]);
    const two = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--redis', `${redis.url}/2`]);
    const other = await startCluster(cleanup, 'chat-server', ['--redis', `${redis.url}/1`, '--redis-prefix', 'game-b:']);
    const sides = [
      [await ChatPlayer.join(cleanup, one.ready.port, 'one0'), await ChatPlayer.join(cleanup, one.ready.port, 'one1')],
      [await ChatPlayer.join(cleanup, two.ready.port, 'two0'), await ChatPlayer.join(cleanup, two.ready.port, 'two1')],
      [await ChatPlayer.join(cleanup, other.ready.port, 'other0'), await ChatPlayer.join(cleanup, other.ready.port, 'other1')],
    ];
    const blocks = sides.flat().map((p) => playerBlock(p.playerId));
    assert.equal(new Set(blocks).size, 4, `one block per worker start over the three deployments: ${blocks}`);
    for (let round = 0; round < 3; round++) await Promise.all(sides.flat().map((p) => p.chat()));
    for (const side of sides) await Promise.all(side.map((p) => p.waitForChats(2 * 3)));
    const client = redis.client(cleanup);
    const channels = (await client.pubsub('CHANNELS', '*')).sort();
    assert.deepEqual(channels, ['game-b:room:chat', 'gamewire:1:room:chat', 'gamewire:2:room:chat']);
    // 1 + (the primary's server id and 2 workers) + 1 blocks, from one counter in database 0.
    assert.equal(await client.get('gamewire:id-block'), '5', 'one id-block counter for every deployment, in database 0');
    // Chats published after those above, on each channel; then nothing from the others has arrived.
    for (const side of sides) await Promise.all(side.map((p) => p.chat()));
    for (const side of sides) await Promise.all(side.map((p) => p.waitForChats(2 * 4)));
    for (const [i, side] of sides.entries()) {
      const own = new Set(side.map((p) => p.playerId));
      for (const player of side) assert.ok(player.chats.every(([from]) => own.has(from)), `deployment ${i}: only its own players' chats`);
    }
    for (const server of [one, two, other]) assert.equal(await terminate(server.cli), 0, server.cli.output());
  });

  it('a password never reaches a log line: the ready line, Redis down, a worker replaced once Redis is back, a wrong password, Redis unreachable at start', { timeout: 90_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const redis = await RedisServer.start(cleanup, undefined, ['--requirepass', password]);
    const url = `redis://:${password}@127.0.0.1:${redis.port}/3`;
    const debug = { GAMEWIRE_LOG_LEVEL: 'debug' };
    const server = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--redis', url], debug);
    const perWorker = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--redis', url, '--worker-bus', 'redis'], debug);
    const ready = records(server.cli, /^listening on/)[0] as { redis?: string; redisPrefix?: string };
    assert.equal(ready.redis, `redis://:***@127.0.0.1:${redis.port}/3`);
    assert.equal(ready.redisPrefix, 'gamewire:3:');
    // Round-robin puts one on each worker.
    const both = [await ChatPlayer.join(cleanup, server.ready.port, 'p0'), await ChatPlayer.join(cleanup, server.ready.port, 'p1')];
    await both[0]?.chat();
    await Promise.all(both.map((p) => p.waitForChats(1)));

    // Redis goes away; a worker dies meanwhile: its replacement needs an id block from Redis.
    await redis.kill();
    await server.cli.waitForLine(/redis connection lost/, 10_000);
    await server.cli.waitForLine(/"msg":"redis error"/, 10_000);
    process.kill(server.ready.workerPids[0] as number, 'SIGKILL');
    await Promise.race(both.map((p) => p.changed.until(() => p.client.closed, 'a player of the killed worker to go', 10_000)));
    const player = both.find((p) => !p.client.closed) as ChatPlayer;
    await server.cli.waitForLine(/worker 0 cannot be replaced yet/, 10_000);
    await server.cli.waitForLine(/"attempt":3,.*worker 0 cannot be replaced yet/, 15_000);
    await redis.restart();
    const back = performance.now();
    await server.cli.waitForLine(/worker 0 replaced/, 15_000);
    const replacedMs = performance.now() - back;
    // The delay before the next try doubles from 100 ms (up to 10 s).
    const attempts = records(server.cli, /worker 0 cannot be replaced yet/).map((r) => Number(r.delayMs));
    for (let i = 1; i < attempts.length; i++) assert.equal(attempts[i], Math.min(10_000, 2 * (attempts[i - 1] as number)), `backoff ${attempts}`);
    assert.ok(replacedMs < 2 * Math.max(...attempts) + 3_000, `replaced ${Math.round(replacedMs)} ms after Redis came back (backoff ${attempts})`);
    const newcomer = await ChatPlayer.join(cleanup, server.ready.port, 'newcomer');
    await newcomer.chat();
    await player.changed.until(() => player.seqsFrom(newcomer.playerId).length === 1, 'the newcomer heard', 10_000);
    await perWorker.cli.waitForLine(/redis connection back/, 15_000);

    // A wrong password, and no Redis at all, at start: the error names the URL, redacted.
    const wrong = `wrong-${randomBytes(6).toString('hex')}`;
    const refused = runCli(cleanup, ['chat-server', '--port', '0', '--log-format', 'json', '--redis', `redis://:${wrong}@127.0.0.1:${redis.port}`], debug);
    assert.equal(await refused.waitForExit(20_000), 1, refused.output());
    assert.match(refused.output(), /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1/);
    await redis.kill();
    const unreachable = runCli(cleanup, ['chat-server', '--port', '0', '--workers', '2', '--log-format', 'json', '--redis', url], debug);
    assert.equal(await unreachable.waitForExit(20_000), 1, unreachable.output());
    assert.match(unreachable.output(), /cannot reach Redis at redis:\/\/:\*\*\*@/);
    assert.equal(await terminate(server.cli), 0, server.cli.output());
    assert.equal(await terminate(perWorker.cli), 0, perWorker.cli.output());
    for (const cli of [server.cli, perWorker.cli, refused, unreachable]) {
      const lines = [...cli.stdoutLines, ...cli.stderrLines];
      assert.ok(lines.length > 0, 'it logged');
      if (process.env.GAMEWIRE_TEST_DUMP !== undefined) console.log(lines.join('\n'));
      for (const line of lines) {
        assert.ok(!line.includes(password) && !line.includes(wrong), `a secret in: ${line}`);
      }
    }
  });
});
