/**
 * A rolling reload of `chat-server --workers 2` (SIGHUP) under chat load, with real processes and
 * plain (not resumable) players: none is dropped before its worker's drain deadline, every chat
 * reaches every player exactly once and in order per sender while both are connected, old and new
 * workers share the room during the overlap, players who join while the last old worker drains
 * land only on new workers, and /healthz stays 200 (the server as a whole keeps serving).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ChatPlayer } from '../helpers/chat-player.js';
import { httpGet } from '../helpers/scrape.js';
import { cleanupAfter } from '../helpers/wait.js';
import { playerBlock, records, startCluster } from './cluster-fixtures.js';

const OLD_PLAYERS = 12;
const NEW_PLAYERS = 6;
const CHAT_EVERY_MS = 100;
const DRAIN_MS = 1500;

/** Seqs from one sender as one receiver got them: each exactly once, in order, none skipped. */
function assertContiguous(seqs: readonly number[], label: string): void {
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] as number) + 1, `${label}: ${seqs.slice(Math.max(0, i - 3), i + 2).join(',')}`);
}

it('SIGHUP under chat load: the old workers drain at their deadline, none dropped before, every chat once and in order', { timeout: 120_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const { cli, ready } = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--drain-timeout-ms', String(DRAIN_MS), '--metrics-port', '0']);
  const metricsPort = Number(/metrics on 127\.0\.0\.1:(\d+)/.exec(String(records(cli, /^listening on/)[0]?.msg))?.[1]);
  const olds: ChatPlayer[] = [];
  for (let i = 0; i < OLD_PLAYERS; i++) olds.push(await ChatPlayer.join(cleanup, ready.port, `old${i}`));
  assert.ok(olds.every((p) => playerBlock(p.playerId) <= 2), 'the first workers have id blocks 1 and 2');
  const news: ChatPlayer[] = [];
  const closedAt = new Map<ChatPlayer, number>();
  for (const player of olds) player.client.socket.once('close', () => closedAt.set(player, performance.now()));
  let chatting = true;
  const tick = setInterval(() => {
    if (!chatting) return;
    for (const player of [...olds, ...news]) if (!player.client.closed && !player.client.ended) void player.chat().catch(() => {});
  }, CHAT_EVERY_MS);
  cleanup.add(() => clearInterval(tick));
  await Promise.all(olds.map((p) => p.waitForChats(OLD_PLAYERS * 3)));

  const sighupAt = performance.now();
  cli.child.kill('SIGHUP');
  await cli.waitForLine(/reload: draining old worker 0/, 30_000);
  // The first old worker drains and the other still serves its players: new players land only on
  // the new workers (blocks 3 and 4), as every old worker stopped accepting once the new ones listen.
  // They start chatting together, once all are in the room, so each hears every chat of the others.
  const joined: ChatPlayer[] = [];
  for (let i = 0; i < NEW_PLAYERS; i++) joined.push(await ChatPlayer.join(cleanup, ready.port, `new${i}`));
  news.push(...joined);
  const blocks = news.map((p) => playerBlock(p.playerId));
  assert.ok(blocks.every((block) => block >= 3), `new players on blocks ${blocks.join(',')}`);
  assert.equal((await httpGet(metricsPort, '/healthz')).status, 200, 'the server as a whole serves during a reload');
  await cli.waitForLine(/reload done/, 30_000);
  const done = records(cli, /reload done/)[0] as { workers: string[] };
  assert.equal(done.workers.length, 2);

  // Every old player was closed by the drain, and none before its worker's deadline.
  await Promise.all(olds.map((p) => p.client.waitForClose(10_000)));
  for (const player of olds) {
    const afterMs = (closedAt.get(player) as number) - sighupAt;
    assert.ok(afterMs >= DRAIN_MS, `old player ${player.playerId} closed ${afterMs.toFixed(0)} ms after SIGHUP, before the ${DRAIN_MS} ms drain deadline`);
    assert.ok(player.client.ended && player.client.error === undefined, 'a graceful close (FIN), not a reset');
  }
  // Old and new workers shared the room while the old ones drained.
  const fromOld = news.reduce((n, p) => n + p.chats.filter(([from]) => playerBlock(from) <= 2).length, 0);
  assert.ok(fromOld > 0, 'new players got chats from players on an old worker');

  // Let the new players' last chats arrive, then check every one.
  chatting = false;
  await Promise.all(news.map((p) => p.changed.until(() => news.every((s) => p.seqsFrom(s.playerId).length === s.sent), `player ${p.playerId} to get every chat of the new players (got ${news.map((s) => `${p.seqsFrom(s.playerId).length}/${s.sent}`).join(' ')})`, 10_000)));
  for (const receiver of [...olds, ...news]) {
    for (const sender of [...olds, ...news]) assertContiguous(receiver.seqsFrom(sender.playerId), `${receiver.playerId} from ${sender.playerId}`);
  }
  for (const receiver of news) for (const sender of news) assert.deepEqual(receiver.seqsFrom(sender.playerId), Array.from({ length: sender.sent }, (_, i) => i));
  t.diagnostic(`${OLD_PLAYERS} old and ${NEW_PLAYERS} new players; ${fromOld} chats crossed from old workers to new ones; old players closed ${Math.min(...olds.map((p) => (closedAt.get(p) as number) - sighupAt)).toFixed(0)}..${Math.max(...olds.map((p) => (closedAt.get(p) as number) - sighupAt)).toFixed(0)} ms after SIGHUP (drain ${DRAIN_MS} ms each, one at a time)`);
  cli.child.kill('SIGTERM');
  assert.equal(await cli.waitForExit(20_000), 0, cli.output());
});
