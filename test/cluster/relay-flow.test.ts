/**
 * Flow control across workers, with real processes under a flood: room traffic relayed from another
 * worker is charged to its source, so the flooder is held, never the worker or member that cannot keep
 * up; and the primary's relay queue stays bounded (measured as the primary's resident memory).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { ChatPlayer } from '../helpers/chat-player.js';
import { sampleKey, scrape } from '../helpers/scrape.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';
import { playerBlock, records, startCluster, terminate } from './cluster-fixtures.js';

const CHAT_PADDING = 1000;
/** The slow member's link: bytes it reads per 50 ms tick (~1 MB/s). */
const READ_PER_TICK = 50_000;
const METRICS = /metrics on 127\.0\.0\.1:(\d+)/;

/** Resident memory of process `pid`, bytes (Linux). */
function rss(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) * 1024;
}

/**
 * Writes 1 KB chats from `player` as fast as its socket takes them until `until()`; resolves with how
 * many. `progress` gets the count as it goes.
 */
async function flood(player: ChatPlayer, until: () => boolean, progress: (count: number) => void = () => {}): Promise<number> {
  const socket = player.client.socket;
  let count = 0;
  while (!until() && !player.client.closed) {
    count++;
    progress(count);
    if (socket.write(player.nextChat(CHAT_PADDING))) continue;
    // Held: TCP pushes back. Wait for room in the socket, or look again at the end of the flood.
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        socket.off('drain', done);
        resolve();
      };
      const timer = setTimeout(done, 50);
      socket.on('drain', done);
    });
  }
  return count;
}

async function twoWorkers(cleanup: Cleanup, extra: readonly string[]) {
  const server = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--metrics-port', '0', ...extra]);
  const metricsPort = Number(METRICS.exec(String(records(server.cli, /^listening on/)[0]?.msg))?.[1]);
  const players: ChatPlayer[] = [];
  for (let i = 0; i < 8; i++) players.push(await ChatPlayer.join(cleanup, server.ready.port, `p${i}`));
  // The primary gives worker 0 the first id block (1), worker 1 the second.
  return {
    ...server,
    read: () => scrape(metricsPort),
    onZero: players.filter((p) => playerBlock(p.playerId) === 1),
    onOne: players.filter((p) => playerBlock(p.playerId) === 2),
  };
}

it('a worker that stops reading (SIGSTOP) under a flood from the other: the flooders are held, the primary stays within its relay bound, and after SIGCONT every chat arrives in order', { timeout: 120_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const { cli, ready, read, onZero, onOne } = await twoWorkers(cleanup, ['--worker-timeout-ms', '60000']);
  assert.ok(onZero.length >= 2 && onOne.length >= 3, `${onZero.length} / ${onOne.length}`);
  const flooders = onOne.slice(0, 2);
  const primary = cli.child.pid as number;
  const before = rss(primary);
  const stopped = ready.workerPids[0] as number;
  process.kill(stopped, 'SIGSTOP');
  cleanup.add(() => {
    try {
      process.kill(stopped, 'SIGCONT');
    } catch {
      // gone
    }
  });
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rss(primary))), 50);
  let over = false;
  const window = setTimeout(() => (over = true), 3_000);
  const sent = await Promise.all(flooders.map((f) => flood(f, () => over)));
  clearTimeout(window);
  // The local members (worker 1) stopped hearing the flood: the flooders are held, not just slowed.
  const heard = (onOne[2] as ChatPlayer).chats.length;
  await cli.waitForLine(/holding the sessions that feed its rooms/, 5_000);
  peak = Math.max(peak, rss(primary));
  clearInterval(sampler);
  const growth = peak - before;
  t.diagnostic(`flooders sent ${sent.join(' + ')} chats of ~1 KB in 3 s; primary RSS ${(before / 2 ** 20).toFixed(1)} MB, peak +${(growth / 2 ** 20).toFixed(1)} MB`);
  assert.ok(growth < 40 * 2 ** 20, `the primary grew by ${(growth / 2 ** 20).toFixed(1)} MB while a worker was stopped (relay bound 8 MiB)`);

  process.kill(stopped, 'SIGCONT');
  const everything = async (player: ChatPlayer): Promise<void> =>
    player.changed.until(() => flooders.every((f) => player.seqsFrom(f.playerId).length >= f.sent), `player ${player.playerId}: every flood chat`, 60_000);
  await Promise.all([...onZero, ...onOne].map(everything));
  for (const player of [...onZero, ...onOne]) {
    for (const f of flooders) {
      const seqs = player.seqsFrom(f.playerId);
      assert.equal(seqs.length, f.sent);
      assert.ok(seqs.every((seq, i) => seq === i), `chats of ${f.playerId} at ${player.playerId}: in order, no gap, no duplicate`);
    }
  }
  assert.ok(heard < (onOne[2] as ChatPlayer).chats.length, 'the held flood resumed');
  const samples = await read();
  assert.equal(samples.get(sampleKey('gamewire_cluster_messages_dropped_total', { bus: 'ipc', reason: 'relay_overflow' })), 0, 'nothing dropped');
  assert.equal(samples.get(sampleKey('gamewire_evictions_total', { transport: 'tcp', cause: 'SEND_QUEUE_OVERFLOW' })) ?? 0, 0);
  assert.equal(samples.get('gamewire_cluster_held_rooms'), 0, 'released');
  assert.equal(await terminate(cli), 0, cli.output());
});

it('a member on another worker that reads slowly (~1 MB/s) under a 1 KB-chat flood: never cut, gets every chat in order; the flood is held to its pace', { timeout: 120_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const { cli, read, onZero, onOne } = await twoWorkers(cleanup, []);
  const slow = onZero[0] as ChatPlayer;
  const flooder = onOne[0] as ChatPlayer;
  // A slow link: at most 50 KB per 50 ms, then the socket stops reading until the next tick. (Much
  // slower, the member's own stall rule, no completed write for stallTimeoutMs, cuts it whatever the
  // relay does: this test is about the relay.)
  const socket = slow.client.socket;
  let budget = READ_PER_TICK;
  let paced = true;
  socket.on('data', (chunk: Buffer) => {
    budget -= chunk.length;
    if (paced && budget <= 0) socket.pause();
  });
  const ticker = setInterval(() => {
    budget = Math.min(budget, 0) + READ_PER_TICK;
    if (budget > 0) socket.resume();
  }, 50);
  cleanup.add(() => clearInterval(ticker));
  let over = false;
  const window = setTimeout(() => (over = true), 6_000);
  const startedAt = performance.now();
  // The second half of the window shows the pace once the buffers on the way are full.
  let half: { at: number; sent: number; read: number } | undefined;
  const halfway = setTimeout(() => (half = { at: performance.now(), sent: flooder.sent, read: slow.client.byteCount }), 3_000);
  // The primary's view while it lasts: never the whole room held (the flooder is held by name, in
  // holds that last as long as the member takes to drain, often shorter than a scrape: counted below).
  let heldRooms = 0;
  const watching = (async () => {
    while (!over) {
      const samples = await read();
      heldRooms = Math.max(heldRooms, samples.get('gamewire_cluster_held_rooms') ?? 0);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  const sent = await flood(flooder, () => over);
  await watching;
  clearTimeout(window);
  clearTimeout(halfway);
  const floodMs = performance.now() - startedAt;
  const slowGot = slow.client.byteCount;
  const mid = half as { at: number; sent: number; read: number };
  const lateMs = performance.now() - mid.at;
  const lateRead = (slowGot - mid.read) / (lateMs / 1000);
  const lateFlood = ((sent - mid.sent) * (CHAT_PADDING + 20)) / (lateMs / 1000);
  const during = await read();
  const evicted = (cause: string): number => during.get(sampleKey('gamewire_evictions_total', { transport: 'tcp', cause })) ?? 0;
  t.diagnostic(
    `evictions: SEND_STALLED ${evicted('SEND_STALLED')}, SEND_QUEUE_OVERFLOW ${evicted('SEND_QUEUE_OVERFLOW')}; ` +
      `the flooder held by name ${during.get('gamewire_cluster_sender_holds_total') ?? 0} times`,
  );
  paced = false; // the link gets better: read the rest at full speed
  clearInterval(ticker);
  socket.resume();
  await slow.changed
    .until(() => slow.seqsFrom(flooder.playerId).length >= sent, 'every flood chat at the slow member', 60_000)
    .catch((error: unknown) => {
      throw new Error(`${String(error)}: got ${slow.seqsFrom(flooder.playerId).length} of ${sent}, closed ${slow.client.closed}, flooder closed ${flooder.client.closed}\n${cli.output()}`);
    });
  assert.equal(slow.client.closed, false, 'the slow member was never cut');
  const seqs = slow.seqsFrom(flooder.playerId);
  assert.ok(seqs.length === sent && seqs.every((seq, i) => seq === i), 'in order, no gap');
  const readRate = slowGot / (floodMs / 1000);
  const floodRate = (sent * (CHAT_PADDING + 20)) / (floodMs / 1000);
  t.diagnostic(
    `slow member read ${(readRate / 1024).toFixed(0)} KB/s; the flood got ${(floodRate / 1024).toFixed(0)} KB/s (${sent} chats in ${Math.round(floodMs)} ms); ` +
      `second half: read ${(lateRead / 1024).toFixed(0)} KB/s, flood ${(lateFlood / 1024).toFixed(0)} KB/s`,
  );
  // Once the buffers on the way are full, the flood goes about as fast as the reader: not ten times faster.
  assert.ok(lateFlood < 2 * lateRead + 256 * 1024, `second half: flood ${(lateFlood / 1024).toFixed(0)} KB/s, reader ${(lateRead / 1024).toFixed(0)} KB/s`);
  // Held to the reader's pace, plus what the queues and kernel buffers on the way hold.
  assert.ok(sent * (CHAT_PADDING + 20) < slowGot + 24 * 2 ** 20, `the flood (${sent} chats) ran ${(floodRate / readRate).toFixed(1)}x ahead of the reader`);
  assert.equal(evicted('SEND_QUEUE_OVERFLOW') + evicted('SEND_STALLED'), 0);
  assert.ok((during.get('gamewire_cluster_sender_holds_total') ?? 0) > 0, 'the primary held the flooder by name while the member was behind');
  assert.equal(heldRooms, 0, 'and never the whole room');
  assert.equal(await terminate(cli), 0, cli.output());
});
