/**
 * Workers watched by the primary's heartbeat, with real processes: a worker stopped (SIGSTOP) under
 * chat load, and one stuck in a busy loop, are found within workerTimeoutMs plus one ping interval,
 * logged with what happened, killed and replaced, while the players of the other worker keep chatting.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChatPlayer } from '../helpers/chat-player.js';
import { CliProcess } from '../helpers/cli.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { sampleKey, scrape } from '../helpers/scrape.js';
import { cleanupAfter } from '../helpers/wait.js';
import { playerBlock, records, startCluster, terminate } from './cluster-fixtures.js';

const TIMEOUT_MS = 1000;
/** The documented bound: workerTimeoutMs, plus one ping interval (a fifth of it) for the check that sees it. */
const DETECTED_WITHIN_MS = TIMEOUT_MS + TIMEOUT_MS / 5;
/** What a busy 2-core machine adds: timers late, the log line's own write. */
const SLACK_MS = 400;
const PLAYERS = 30;
const CHAT_EVERY_MS = 200;

it('SIGSTOP on one worker while 30 players chat: found within workerTimeoutMs + 1/5, logged, killed, replaced; the other worker\'s players never stop', { timeout: 90_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const { cli, ready } = await startCluster(cleanup, 'chat-server', ['--workers', '2', '--worker-timeout-ms', String(TIMEOUT_MS), '--metrics-port', '0']);
  const metricsPort = Number(/metrics on 127\.0\.0\.1:(\d+)/.exec(String(records(cli, /^listening on/)[0]?.msg))?.[1]);
  const players: ChatPlayer[] = [];
  for (let i = 0; i < PLAYERS; i++) players.push(await ChatPlayer.join(cleanup, ready.port, `p${i}`));
  // The primary gives worker 0 the first id block (1), worker 1 the second.
  const victims = players.filter((p) => playerBlock(p.playerId) === 1);
  const survivors = players.filter((p) => playerBlock(p.playerId) === 2);
  assert.equal(victims.length + survivors.length, PLAYERS);
  assert.ok(victims.length > 5 && survivors.length > 5, `round-robin: ${victims.length} and ${survivors.length}`);
  const survivorIds = new Set(survivors.map((p) => p.playerId));
  // When each survivor received a chat from another survivor: the gaps show whether they kept chatting.
  const arrivals = new Map<ChatPlayer, number[]>(survivors.map((p) => [p, []]));
  for (const survivor of survivors) {
    let seen = 0;
    survivor.client.socket.on('data', () => {
      const now = performance.now();
      for (; seen < survivor.chats.length; seen++) if (survivorIds.has((survivor.chats[seen] as readonly [number, number])[0])) arrivals.get(survivor)?.push(now);
    });
  }
  let stop = false;
  const pumps = players.map(async (player, i) => {
    await new Promise((resolve) => setTimeout(resolve, (i * CHAT_EVERY_MS) / PLAYERS));
    while (!stop && !player.client.closed) {
      await player.chat().catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, CHAT_EVERY_MS));
    }
  });
  await Promise.all(survivors.map((p) => p.changed.until(() => p.chats.length >= 3 * PLAYERS, 'chat flowing', 15_000)));

  const victim = ready.workerPids[0] as number;
  const stoppedAt = Date.now();
  const stoppedAtPerf = performance.now();
  process.kill(victim, 'SIGSTOP');
  cleanup.add(() => {
    try {
      process.kill(victim, 'SIGCONT');
    } catch {
      // already gone: killed by the primary, as it should be
    }
  });
  await cli.waitForLine(/has not answered the primary/, 10_000);
  const found = records(cli, /has not answered the primary/)[0] as { time: number; silentMs: number; workerPid: number; msg: string };
  const detectedMs = found.time - stoppedAt;
  assert.equal(found.workerPid, victim);
  assert.match(found.msg, /stopped or its event loop is blocked/);
  assert.ok(found.silentMs >= TIMEOUT_MS && found.silentMs <= DETECTED_WITHIN_MS + SLACK_MS, `silent ${found.silentMs} ms when found`);
  assert.ok(detectedMs <= DETECTED_WITHIN_MS + SLACK_MS, `found ${detectedMs} ms after SIGSTOP (documented: within ${DETECTED_WITHIN_MS} ms)`);
  await cli.waitForLine(/worker 0 replaced/, 15_000);
  const replaced = records(cli, /worker 0 replaced/)[0] as { time: number };
  const replacedMs = replaced.time - stoppedAt;
  assert.equal(records(cli, /worker 0 died \(SIGKILL\)/).length, 1, cli.output());
  await Promise.all(victims.map((p) => p.client.waitForClose(10_000)));

  // The survivors chatted on all along: no gap between chats of other survivors longer than a few send intervals.
  const endedAt = performance.now();
  await Promise.all(survivors.map((p) => p.changed.until(() => (arrivals.get(p)?.at(-1) ?? 0) > endedAt, 'one more chat')));
  let worstGapMs = 0;
  for (const times of arrivals.values()) {
    const during = times.filter((time) => time >= stoppedAtPerf - CHAT_EVERY_MS);
    for (let i = 1; i < during.length; i++) worstGapMs = Math.max(worstGapMs, (during[i] as number) - (during[i - 1] as number));
  }
  assert.ok(worstGapMs < 5 * CHAT_EVERY_MS, `a survivor waited ${Math.round(worstGapMs)} ms between chats`);

  // The replacement serves the same room.
  const newcomer = await ChatPlayer.join(cleanup, ready.port, 'newcomer');
  const heard = survivors[0] as ChatPlayer;
  await newcomer.chat();
  await heard.changed.until(() => heard.seqsFrom(newcomer.playerId).length === 1, 'the newcomer heard');
  stop = true;
  await Promise.all(pumps);
  const samples = await scrape(metricsPort);
  assert.equal(samples.get(sampleKey('gamewire_cluster_workers_lost_total', { how: 'unresponsive' })), 1);
  assert.equal(samples.get(sampleKey('gamewire_cluster_workers_lost_total', { how: 'exited' })), 0);
  assert.equal(samples.get('gamewire_cluster_worker_replacements_total'), 1);
  t.diagnostic(`SIGSTOP found after ${detectedMs} ms (silent ${found.silentMs} ms), replaced after ${replacedMs} ms; worst survivor gap ${Math.round(worstGapMs)} ms`);
  assert.equal(await terminate(cli), 0, cli.output());
});

it('a worker stuck in a busy loop: found, killed (SIGKILL reaches a spinning process) and replaced; the other worker keeps echoing', { timeout: 60_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const child = spawn(process.execPath, [fileURLToPath(new URL('./busy-worker-fixture.js', import.meta.url))], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, WORKER_TIMEOUT_MS: String(TIMEOUT_MS) },
  });
  const program = new CliProcess(child);
  cleanup.add(async () => {
    if (!program.exited) child.kill('SIGKILL');
    await program.waitForExit();
  });
  const line = await program.waitForLine(/^ready \d+/, 20_000);
  const port = Number(line.split(' ')[1]);
  const [a, b] = [await RawClient.connect(port, { cleanup }), await RawClient.connect(port, { cleanup })];
  const hello = packet(1, 'hello');
  await (a as RawClient).roundTrip(hello);
  await (b as RawClient).roundTrip(hello);
  const spunAt = Date.now();
  await (a as RawClient).write(packet(666));
  const found = JSON.parse(await program.waitForLine(/has not answered the primary/, 10_000)) as { time: number; silentMs: number };
  assert.ok(found.time - spunAt <= DETECTED_WITHIN_MS + SLACK_MS, `found ${found.time - spunAt} ms after the loop began`);
  await (a as RawClient).waitForClose(10_000);
  // The other worker never stopped.
  assert.deepEqual(await (b as RawClient).roundTrip(hello), hello);
  await program.waitForLine(/worker \d replaced/, 15_000);
  const c = await RawClient.connect(port, { cleanup });
  const d = await RawClient.connect(port, { cleanup });
  assert.deepEqual(await c.roundTrip(hello), hello);
  assert.deepEqual(await d.roundTrip(hello), hello, 'both workers serve again');
  child.kill('SIGTERM');
  assert.equal(await program.waitForExit(20_000), 0, program.output());
});
