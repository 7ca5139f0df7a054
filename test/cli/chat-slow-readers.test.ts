/**
 * Fan-out flow control against `gamewire chat-server` from the network's side: players on slow links
 * (a token-bucket reader at 20, 50 and 100 KB/s), players chatting at an ordinary pace, and one client
 * sending 1000-byte chats as fast as the server takes them. With the CLI's defaults no reader that
 * keeps reading is cut off, the flood is held to what the readers take, the chatters are never held,
 * and every reader gets every chat in order. A reader that stops reading is cut off with SEND_STALLED
 * at `--stall-timeout-ms` and holds nobody after that.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatChatter, ChatFlooder, ChatReader } from '../helpers/chat-reader.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { scrape, sampleKey } from '../helpers/scrape.js';
import { cleanupAfter, type Cleanup } from '../helpers/wait.js';

const READERS = 12;
const CHATTERS = 2;
/** A chatter's pace: a 100-character chat every 250 ms (about 500 B/s of S_CHAT to every member). */
const CHAT_EVERY_MS = 250;
const CHAT_BYTES = 100;
/** How long each flood lasts (GAMEWIRE_FLOOD_MS to measure longer: docs/flow-control.md has 60 s). */
const FLOOD_MS = Number(process.env['GAMEWIRE_FLOOD_MS'] ?? 20_000);
/** Bytes of one flood chat as every member receives it (S_CHAT: header, player id, msg, sentAtMs). */
const FLOOD_CHAT_BYTES = 1015;
/**
 * What the server may take from the flooder beyond what the slowest reader read: the kernel buffers
 * between them (Linux autotunes the send buffer up to tcp_wmem's 4 MiB; the reader's receive buffer
 * stays near its 128 KiB default) and the reader's queue (a high mark and a read budget or two).
 */
const HELD_BYTES = 8 * 1024 * 1024;

interface Server {
  readonly cli: CliProcess;
  readonly port: number;
  readonly metricsPort: number;
}

async function chatServer(cleanup: Cleanup, args: readonly string[] = []): Promise<Server> {
  const cli = runCli(cleanup, ['chat-server', '--port', '0', '--metrics-port', '0', '--no-stats', ...args]);
  const line = await cli.waitForLine(/listening on .*metrics on/, 15_000);
  const [, port, metricsPort] = /listening on [^:]+:(\d+).*metrics on [^:]+:(\d+)/.exec(line) as RegExpExecArray;
  cleanup.add(async () => {
    if (!cli.exited) cli.child.kill('SIGTERM');
    await cli.waitForExit(15_000);
  });
  return { cli, port: Number(port), metricsPort: Number(metricsPort) };
}

async function evictions(server: Server, cause: string): Promise<number> {
  return (await scrape(server.metricsPort)).get(sampleKey('gamewire_evictions_total', { transport: 'tcp', cause })) ?? 0;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;
}

/** Resolves once every player has every chat of every sender (fails early when one closes). */
async function untilAllDelivered(players: readonly ChatReader[], senders: readonly ChatReader[], sent: () => number[]): Promise<void> {
  for (const player of players) {
    await player.changed.until(
      () => {
        if (player.closed) throw new Error(`player ${player.playerId} closed`);
        const counts = sent();
        return senders.every((sender, i) => player.receivedFrom(sender.playerId) >= (counts[i] as number));
      },
      `every chat at player ${player.playerId}`,
      60_000,
    );
  }
}

describe('chat-server: twelve readers on slow links and a flooder', { concurrency: true, timeout: 180_000 }, () => {
  // The last case spreads the players over two workers: the flood crosses the primary to reach
  // half of the readers, and the relay charges it to the flooder there (its session id travels in
  // the room frame); no reader may be cut, the flood must be held, and the chatters never are.
  const cases: ReadonlyArray<readonly [rate: number, args: readonly string[]]> = [
    [20_000, []],
    [50_000, []],
    [100_000, []],
    [20_000, ['--workers', '2']],
  ];
  for (const [rate, args] of cases) {
    const label = args.length === 0 ? '' : `, ${args.join(' ')}`;
    it(`readers at ${rate / 1000} KB/s${label}: none cut off, the flood held to their pace, chatters never held, every chat in order`, async (t) => {
      const cleanup = cleanupAfter(t);
      const server = await chatServer(cleanup, args);
      const readers: ChatReader[] = [];
      for (let i = 0; i < READERS; i++) readers.push(await ChatReader.join(cleanup, server.port, `reader${i}`));
      const chatters: ChatChatter[] = [];
      for (let i = 0; i < CHATTERS; i++) chatters.push(await ChatChatter.join(cleanup, server.port, `chatter${i}`));
      const flooder = await ChatFlooder.join(cleanup, server.port, 'flooder');
      for (const reader of readers) reader.throttle(rate);
      for (const chatter of chatters) {
        chatter.throttle(0);
        chatter.start(CHAT_EVERY_MS, CHAT_BYTES);
      }

      const start = performance.now();
      // Halfway through, once the kernel's buffers toward each reader have filled: the pace from then on.
      let half = { at: 0, taken: 0, slowest: 0 };
      const halfway = setTimeout(() => {
        const read = Math.min(...readers.map((r) => r.receivedFrom(flooder.playerId)));
        half = { at: performance.now(), taken: flooder.receivedFrom(flooder.playerId), slowest: read };
      }, FLOOD_MS / 2);
      cleanup.add(() => clearTimeout(halfway));
      await flooder.flood(start + FLOOD_MS);
      const seconds = (performance.now() - start) / 1000;
      const lateSeconds = (performance.now() - half.at) / 1000;
      const taken = flooder.receivedFrom(flooder.playerId); // the server broadcast each chat to the flooder too
      const slowest = Math.min(...readers.map((r) => r.receivedFrom(flooder.playerId)));
      const readRate = Math.min(...readers.map((r) => r.byteCount)) / seconds;
      for (const chatter of chatters) chatter.stop();
      const delays = chatters.flatMap((c) => c.delays);
      const chatsSent = chatters.reduce((sum, c) => sum + c.sent, 0);
      const cutDuringFlood = readers.filter((r) => r.closed).length;

      // Then the readers read at full speed: everything the server took must reach each of them, in order.
      for (const reader of readers) reader.throttle(0);
      const senders = [flooder, ...chatters];
      await untilAllDelivered([...readers, ...chatters], senders, () => senders.map((s) => s.sent));
      const stalled = await evictions(server, 'SEND_STALLED');
      const overflowed = await evictions(server, 'SEND_QUEUE_OVERFLOW');
      t.diagnostic(
        `${rate / 1000} KB/s: readers read ${(readRate / 1000).toFixed(1)} KB/s; the server took ${taken} chats from the ` +
          `flooder in ${seconds.toFixed(1)} s (${(taken / seconds).toFixed(0)}/s), the slowest reader got ${slowest} of them ` +
          `(${(slowest / seconds).toFixed(0)}/s); second half: ${((taken - half.taken) / lateSeconds).toFixed(0)}/s taken, ` +
          `${((slowest - half.slowest) / lateSeconds).toFixed(0)}/s read; chat delay p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, ` +
          `max ${Math.max(...delays)} ms (${delays.length} of ${chatsSent} chats back); cut off: ${cutDuringFlood} (SEND_STALLED ${stalled}, ` +
          `SEND_QUEUE_OVERFLOW ${overflowed})`,
      );
      assert.equal(cutDuringFlood, 0, 'no reader cut off');
      assert.equal(stalled + overflowed, 0, 'no session evicted');
      for (const player of [...readers, ...chatters]) assert.deepEqual(player.problems, [], `player ${player.playerId}: every chat in order`);
      assert.ok(readRate >= rate * 0.8, `the readers read ${readRate.toFixed(0)} B/s`);
      assert.ok(
        (taken - slowest) * FLOOD_CHAT_BYTES <= HELD_BYTES,
        `the server took ${taken} flood chats while the slowest reader read ${slowest}: the flood was not held`,
      );
      // Across workers too, relayed chats are charged to their sender: the flooder is held on its
      // worker, the chatters never (docs/cluster.md, "Flow between workers").
      assert.ok(delays.length >= CHATTERS * (FLOOD_MS / CHAT_EVERY_MS) * 0.8, `${delays.length} of ${chatsSent} chats came back`);
      assert.ok(percentile(delays, 99) < 1_000, `chat delay p99 ${percentile(delays, 99)} ms: the chatters were held`);
    });
  }
});

describe('chat-server: a reader that stops reading', { timeout: 120_000 }, () => {
  it('is cut off with SEND_STALLED at --stall-timeout-ms; it held the flood until then and the chatters never', async (t) => {
    const cleanup = cleanupAfter(t);
    const stallTimeoutMs = 3_000;
    const server = await chatServer(cleanup, ['--stall-timeout-ms', String(stallTimeoutMs)]);
    const readers: ChatReader[] = [];
    for (let i = 0; i < 4; i++) readers.push(await ChatReader.join(cleanup, server.port, `reader${i}`));
    const stopped = await ChatReader.join(cleanup, server.port, 'stopped');
    const chatters: ChatChatter[] = [];
    for (let i = 0; i < CHATTERS; i++) chatters.push(await ChatChatter.join(cleanup, server.port, `chatter${i}`));
    const flooder = await ChatFlooder.join(cleanup, server.port, 'flooder');
    for (const player of [...readers, ...chatters]) player.throttle(0);
    stopped.stopReading();
    for (const chatter of chatters) chatter.start(CHAT_EVERY_MS, CHAT_BYTES);

    const start = performance.now();
    const floodMs = stallTimeoutMs * 3;
    const flooding = flooder.flood(start + floodMs);
    // The server's state is only visible through a scrape: read it until the eviction shows. The cut
    // came between the last scrape that did not show it and the first that did; what the server took
    // from the flooder is counted at the start of that last scrape (once cut off, the stopped reader
    // holds nobody, and the flood goes at full speed).
    let cutAt = 0;
    let heldUntil = 0;
    let takenBeforeCut = 0;
    while (cutAt === 0 && performance.now() < start + floodMs) {
      const before = performance.now();
      const taken = flooder.receivedFrom(flooder.playerId);
      if ((await evictions(server, 'SEND_STALLED')) > 0) {
        cutAt = performance.now() - start;
      } else {
        heldUntil = before - start;
        takenBeforeCut = taken;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    await flooding;
    const taken = flooder.receivedFrom(flooder.playerId);
    for (const chatter of chatters) chatter.stop();
    const senders = [flooder, ...chatters];
    await untilAllDelivered([...readers, ...chatters], senders, () => senders.map((s) => s.sent));
    const delays = chatters.flatMap((c) => c.delays);
    t.diagnostic(
      `cut off ${(heldUntil / 1000).toFixed(2)}–${(cutAt / 1000).toFixed(2)} s into the flood (--stall-timeout-ms ` +
        `${stallTimeoutMs}); the server took ${takenBeforeCut} flood chats in the first ${(heldUntil / 1000).toFixed(2)} s ` +
        `and ${taken - takenBeforeCut} in all from then to the end (${((floodMs - heldUntil) / 1000).toFixed(1)} s); ` +
        `chat delay p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms`,
    );
    assert.ok(cutAt > 0, 'the stopped reader was cut off during the flood');
    // The clock starts once the kernel's buffers toward it are full, a fraction of a second into the
    // flood; the check runs every quarter of the timeout.
    assert.ok(cutAt >= stallTimeoutMs && heldUntil <= stallTimeoutMs * 1.25 + 1_500, `cut off ${heldUntil.toFixed(0)}–${cutAt.toFixed(0)} ms in`);
    assert.equal(await evictions(server, 'SEND_STALLED'), 1, 'only the stopped reader');
    assert.equal(await evictions(server, 'SEND_QUEUE_OVERFLOW'), 0);
    for (const player of [...readers, ...chatters]) assert.deepEqual(player.problems, [], `player ${player.playerId}: every chat in order`);
    assert.ok(takenBeforeCut * FLOOD_CHAT_BYTES <= HELD_BYTES, `the server took ${takenBeforeCut} flood chats before the cut: not held`);
    assert.ok(taken - takenBeforeCut > 4 * takenBeforeCut, `after the cut the flood went on at the readers' pace (${taken - takenBeforeCut} chats)`);
    assert.ok(percentile(delays, 99) < 1_000, `chat delay p99 ${percentile(delays, 99)} ms: the chatters were held`);
  });
});
