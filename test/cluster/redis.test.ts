/**
 * Rooms across servers through a real redis-server (started here on a free port, persistence off):
 * two servers are one room, Redis can die and come back mid-chat, and rooms that come and go leave no
 * subscription behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisRoomBus } from '../../src/cluster/redis-room-bus.js';
import { RoomDirectory } from '../../src/room/room-directory.js';
import { encodeRoomFrame } from '../../src/cluster/room-frame.js';
import { ChatPlayer } from '../helpers/chat-player.js';
import { RedisServer, redisSkip } from '../helpers/redis-server.js';
import { cleanupAfter, withTimeout } from '../helpers/wait.js';
import { records, startCluster, terminate } from './cluster-fixtures.js';

/** Polls an outside system (Redis) until `check` holds; bounded like every wait. */
async function eventually(check: () => Promise<boolean>, label: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const skip = redisSkip();

describe('rooms across servers through Redis', { skip }, () => {
  it('two servers (one of 2 workers) are one room: every chat reaches every player once, in order; presence counts them', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const a = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--redis', redis.url]);
    const b = await startCluster(cleanup, 'chat-server', ['--redis', redis.url]);
    const players: ChatPlayer[] = [];
    for (let i = 0; i < 4; i++) players.push(await ChatPlayer.join(cleanup, a.ready.port, `a${i}`));
    for (let i = 0; i < 4; i++) players.push(await ChatPlayer.join(cleanup, b.ready.port, `b${i}`));
    const ids = players.map((p) => p.playerId);
    assert.equal(new Set(ids).size, 8, `player ids unique across servers: ${ids}`);
    const client = redis.client(cleanup);
    await eventually(async () => {
      const keys = await client.keys('gamewire:0:presence:chat:*');
      const counts = keys.length === 0 ? [] : await client.mget(...keys);
      return keys.length === 2 && counts.reduce((sum, n) => sum + Number(n), 0) === 8;
    }, 'presence of 8 members on 2 servers');
    assert.ok((await client.pttl((await client.keys('gamewire:0:presence:chat:*'))[0] as string)) > 0, 'presence has a TTL');
    const CHATS = 20;
    for (let round = 0; round < CHATS; round++) await Promise.all(players.map((p) => p.chat()));
    await Promise.all(players.map((p) => p.waitForChats(8 * CHATS)));
    assert.equal(await terminate(a.cli), 0, a.cli.output());
    assert.equal(await terminate(b.cli), 0, b.cli.output());
    const expected = Array.from({ length: CHATS }, (_, i) => i);
    for (const player of players) {
      assert.equal(player.chats.length, 8 * CHATS);
      for (const from of ids) assert.deepEqual(player.seqsFrom(from), expected, `chats from ${from} at ${player.playerId}`);
    }
    assert.deepEqual(await client.keys('gamewire:0:presence:*'), [], 'closed servers remove their presence');
    assert.deepEqual(await client.pubsub('CHANNELS', 'gamewire:*'), []);
  });

  it('--worker-bus redis: 2 workers that reach each other only through Redis are one room too', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const server = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--redis', redis.url, '--worker-bus', 'redis']);
    const players: ChatPlayer[] = [];
    for (let i = 0; i < 4; i++) players.push(await ChatPlayer.join(cleanup, server.ready.port, `w${i}`));
    const ids = players.map((p) => p.playerId);
    assert.equal(new Set(ids.map((id) => Math.floor(id / 2 ** 20))).size, 2, `players on both workers: ${ids}`);
    for (let round = 0; round < 10; round++) await Promise.all(players.map((p) => p.chat()));
    await Promise.all(players.map((p) => p.waitForChats(4 * 10)));
    assert.equal(await terminate(server.cli), 0, server.cli.output());
    for (const player of players) {
      assert.equal(player.chats.length, 40);
      for (const from of ids) assert.deepEqual(player.seqsFrom(from), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    assert.deepEqual(await redis.client(cleanup).pubsub('CHANNELS', 'gamewire:*'), []);
  });

  it('Redis killed and restarted mid-chat: no server exits, chats cross again within 5 s, the loss is counted', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const a = await startCluster(cleanup, 'chat-server', ['--redis', redis.url]);
    const b = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--redis', redis.url]);
    const pa = await ChatPlayer.join(cleanup, a.ready.port, 'pa');
    const pb = await ChatPlayer.join(cleanup, b.ready.port, 'pb');
    await pa.chat();
    await pb.waitForChats(1);
    await redis.kill();
    // While Redis is down a chat still reaches the players of its own server.
    await pa.chat();
    await pa.changed.until(() => pa.seqsFrom(pa.playerId).length === 2, 'a local chat while Redis is down');
    await redis.restart();
    const restartedAt = performance.now();
    // Chat every 100 ms until one crosses to the other server.
    await withTimeout(
      (async () => {
        const before = pb.seqsFrom(pa.playerId).length;
        while (pb.seqsFrom(pa.playerId).length === before) {
          await pa.chat();
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })(),
      'a chat across servers after the restart',
      10_000,
    );
    const backMs = performance.now() - restartedAt;
    assert.ok(backMs < 5_000, `chats crossed again ${Math.round(backMs)} ms after the restart`);
    assert.equal(a.cli.exited || b.cli.exited, false, 'no server exited');
    const seqs = pb.seqsFrom(pa.playerId);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'still in order');
    assert.equal(new Set(seqs).size, seqs.length, 'no duplicates');
    await a.cli.waitForLine(/redis connection back/, 10_000);
    const dropped = records(a.cli, /redis connection back/).map((r) => Number(r.droppedWhileDown));
    assert.ok(Math.max(...dropped) >= 1, `the chat published while Redis was down is counted: ${dropped}`);
    assert.equal(await terminate(a.cli), 0, a.cli.output());
    assert.equal(await terminate(b.cli), 0, b.cli.output());
  });

  it('1,000 rooms created and closed leave no subscription and no presence behind', { timeout: 60_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const client = redis.client(cleanup);
    const bus = await RedisRoomBus.connect(redis.url);
    cleanup.add(() => bus.close());
    const rooms = new RoomDirectory(bus);
    const made = Array.from({ length: 1000 }, (_, i) => rooms.room(`room-${i}`));
    await bus.settled();
    assert.equal((await client.pubsub('CHANNELS', 'gamewire:0:room:*')).length, 1000);
    assert.deepEqual(await client.pubsub('NUMSUB', 'gamewire:0:room:room-7'), ['gamewire:0:room:room-7', 1]);
    for (const room of made) room.close();
    await bus.settled();
    assert.deepEqual(await client.pubsub('CHANNELS', 'gamewire:*'), []);
    assert.equal(bus.roomCount, 0);
    // And again: names can be reused, and still nothing leaks.
    for (let i = 0; i < 1000; i++) rooms.room(`room-${i % 10}`).close();
    await bus.settled();
    assert.deepEqual(await client.pubsub('CHANNELS', 'gamewire:*'), []);
    assert.deepEqual(await client.keys('gamewire:0:presence:*'), []);
  });

  it('a server that dies without a word: once its server key is gone, its members leave the rooms of the others', { timeout: 30_000 }, async (t) => {
    const cleanup = cleanupAfter(t);
    const redis = await RedisServer.start(cleanup);
    const client = redis.client(cleanup);
    const bus = await RedisRoomBus.connect(redis.url, undefined, { livenessCheckMs: 100 });
    cleanup.add(() => bus.close());
    const room = new RoomDirectory(bus).room('r');
    cleanup.add(() => room.close());
    await bus.settled();
    // A server 9999 (that never wrote gamewire:0:server:9999) announces two members of its process 42.
    await client.publish('gamewire:0:room:r', encodeRoomFrame({ kind: 'enter', origin: 42, members: [1, 2] }, 9999));
    await eventually(() => Promise.resolve(room.remoteMemberCount === 2), 'the remote members');
    await eventually(() => Promise.resolve(room.remoteMemberCount === 0), 'the dead server members to leave', 5_000);
  });
});
