/**
 * Sessions that move: `chat-server --workers 2 --resume` under chat load, a rolling reload (SIGHUP)
 * moves every resumable player (ClientService with resume, over TCP and WebSocket) from the old
 * workers to the new ones instead of waiting for the drain deadline. Every player receives every
 * chat exactly once and in order, keeps its player (its chats still go out under its id: the game
 * state crossed), sees no onDisconnected (a MOVE, then a resume at once), and nobody sees anyone
 * leave (no S_DESPAWN).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { C_ENTER_GAME, C_LOGIN } from '../../src/samples/protocol/packets.js';
import { ChatPlayer } from '../helpers/chat-player.js';
import { runCli } from '../helpers/cli.js';
import { packet } from '../helpers/packets.js';
import { httpGet } from '../helpers/scrape.js';
import { makeClient } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';
import { ResumableChatPlayer } from '../helpers/resumable-chat-player.js';
import { records } from './cluster-fixtures.js';

const PLAYERS_PER_TRANSPORT = 6;
const CHAT_EVERY_MS = 100;
/** Long: a player still on an old worker at the deadline would show as a drain, not a move. */
const DRAIN_MS = 20_000;

it('a rolling reload moves every resumable chat player to a new worker: every chat once and in order, no one seen leaving', { timeout: 120_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const cli = runCli(cleanup, ['chat-server', '--port', '0', '--ws-port', '0', '--resume', '--workers', '2', '--metrics-port', '0', '--drain-timeout-ms', String(DRAIN_MS), '--log-format', 'json']);
  const line = await cli.waitForLine(/listening on/, 20_000);
  const ready = JSON.parse(line) as { port: number; wsPort: number; workerPids: number[]; metrics: string };
  const metricsPort = Number(/:(\d+)$/.exec(ready.metrics)?.[1]);
  const players: ResumableChatPlayer[] = [];
  const clients: Array<{ close(): Promise<void> }> = [];
  for (const transport of ['tcp', 'ws'] as const) {
    const client = makeClient(cleanup, () => new ResumableChatPlayer(), {
      port: transport === 'tcp' ? ready.port : ready.wsPort,
      maxSessionCount: PLAYERS_PER_TRANSPORT,
      resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 200 },
      ...(transport === 'ws' ? { ws: {} } : {}),
    });
    clients.push(client.service);
    for (let i = 0; i < PLAYERS_PER_TRANSPORT; i++) {
      const player = await client.service.connect();
      player.send(packet(C_LOGIN.id, C_LOGIN.encodeBody({ account: `${transport}${i}`, token: '' })));
      player.send(packet(C_ENTER_GAME.id, C_ENTER_GAME.encodeBody({ playerIndex: 0 })));
      await player.changed.until(() => player.playerId > 0 && player.resumable, `${transport}${i} in the room`, 10_000);
      players.push(player);
    }
  }
  let chatting = true;
  const tick = setInterval(() => {
    if (chatting) for (const player of players) if (player.state === 'open') player.chat();
  }, CHAT_EVERY_MS);
  cleanup.add(() => clearInterval(tick));
  await Promise.all(players.map((p) => p.changed.until(() => p.chats.length >= players.length * 3, 'chats before the reload')));

  const reloadAt = performance.now();
  cli.child.kill('SIGHUP');
  await cli.waitForLine(/reload done/, 60_000);
  const reloadMs = performance.now() - reloadAt;
  await Promise.all(players.map((p) => p.changed.until(() => p.events.filter((e) => e === 'resumed').length >= 1 && p.state === 'open', `player ${p.playerId} resumed`, 10_000)));
  // A little more chat on the new workers, then every chat must have reached every player.
  const sentAtReload = players.map((p) => p.sent);
  await Promise.all(players.map((p) => p.changed.until(() => players.every((s, i) => p.seqsFrom(s.playerId).length > (sentAtReload[i] as number)), 'chats after the reload')));
  chatting = false;
  await Promise.all(players.map((p) => p.changed.until(() => players.every((s) => p.seqsFrom(s.playerId).length === s.sent), `player ${p.playerId} to get every chat`, 10_000)));
  for (const receiver of players) {
    for (const sender of players) {
      assert.deepEqual(receiver.seqsFrom(sender.playerId), Array.from({ length: sender.sent }, (_, i) => i), `${receiver.playerId} from ${sender.playerId}`);
    }
    assert.deepEqual(receiver.despawned, [], 'nobody was seen leaving');
    assert.ok(!receiver.events.some((e) => e.startsWith('disconnected')), receiver.events.join(' '));
    assert.ok(receiver.events.includes('lost:SESSION_MOVED'), `player ${receiver.playerId} was moved: ${receiver.events.join(' ')}`);
  }
  const done = records(cli, /reload done/)[0] as { workers: string[] };
  assert.equal(done.workers.length, 2);
  assert.ok(reloadMs < DRAIN_MS, `the reload took ${reloadMs.toFixed(0)} ms: the old workers did not wait for their drain deadline`);
  const { body } = await httpGet(metricsPort, '/metrics');
  const moved = Number(/^gamewire_cluster_session_moves_total\{result="ok"\} (\d+)$/m.exec(body)?.[1] ?? -1);
  const retryLater = Number(/^gamewire_resumes_total\{result="refused",reason="RETRY_LATER"\} (\d+)$/m.exec(body)?.[1] ?? 0);
  t.diagnostic(`${players.length} players moved (${moved} moves counted); reload ${reloadMs.toFixed(0)} ms; ${retryLater} RESUMEs came before their session and were told RETRY_LATER`);
  assert.equal(moved, players.length, 'each player moved exactly once: to a new worker, never to the other old one');
  // The players leave (BYE), so that the drain SIGTERM begins has nothing to wait for.
  for (const client of clients) await client.close();
  cli.child.kill('SIGTERM');
  assert.equal(await cli.waitForExit(20_000), 0, cli.output());
});

it('in the same reload, players that are not resumable are not moved: they drain at the deadline, while resumable ones move at once', { timeout: 120_000 }, async (t) => {
  const cleanup = cleanupAfter(t);
  const drainMs = 1500;
  const cli = runCli(cleanup, ['chat-server', '--port', '0', '--resume', '--workers', '2', '--drain-timeout-ms', String(drainMs), '--log-format', 'json']);
  const ready = JSON.parse(await cli.waitForLine(/listening on/, 20_000)) as { port: number };
  const client = makeClient(cleanup, () => new ResumableChatPlayer(), { port: ready.port, maxSessionCount: 4, resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 200 } });
  const movers: ResumableChatPlayer[] = [];
  for (let i = 0; i < 4; i++) {
    const player = await client.service.connect();
    player.send(packet(C_LOGIN.id, C_LOGIN.encodeBody({ account: `mover${i}`, token: '' })));
    player.send(packet(C_ENTER_GAME.id, C_ENTER_GAME.encodeBody({ playerIndex: 0 })));
    await player.changed.until(() => player.playerId > 0 && player.resumable, `mover${i} in the room`, 10_000);
    movers.push(player);
  }
  const plain: ChatPlayer[] = [];
  for (let i = 0; i < 4; i++) plain.push(await ChatPlayer.join(cleanup, ready.port, `plain${i}`));
  const closedAt = new Map<ChatPlayer, number>();
  for (const player of plain) player.client.socket.once('close', () => closedAt.set(player, performance.now()));
  const reloadAt = performance.now();
  cli.child.kill('SIGHUP');
  await Promise.all(movers.map((p) => p.changed.until(() => p.events.includes('resumed'), `mover ${p.playerId} resumed`, 20_000)));
  const movedMs = performance.now() - reloadAt;
  await cli.waitForLine(/reload done/, 60_000);
  await Promise.all(plain.map((p) => p.client.waitForClose(10_000)));
  for (const player of plain) {
    const afterMs = (closedAt.get(player) as number) - reloadAt;
    assert.ok(afterMs >= drainMs, `plain player ${player.playerId} closed ${afterMs.toFixed(0)} ms after SIGHUP: drained, not before the deadline`);
  }
  for (const mover of movers) {
    assert.ok(!mover.events.some((e) => e.startsWith('disconnected')), mover.events.join(' '));
    assert.equal(mover.state, 'open');
    // The movers saw the plain players leave (drained), and no mover leave.
    assert.ok(mover.despawned.every((id) => plain.some((p) => p.playerId === id)), `despawned ${mover.despawned.join(',')}`);
  }
  t.diagnostic(`movers all resumed ${movedMs.toFixed(0)} ms after SIGHUP; plain players drained ${Math.min(...plain.map((p) => (closedAt.get(p) as number) - reloadAt)).toFixed(0)}..${Math.max(...plain.map((p) => (closedAt.get(p) as number) - reloadAt)).toFixed(0)} ms after`);
  await client.service.close();
  cli.child.kill('SIGTERM');
  assert.equal(await cli.waitForExit(20_000), 0, cli.output());
});
