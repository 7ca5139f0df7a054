/**
 * A third-party client that resumes, in Python with the standard library only, written from
 * docs/protocol.md alone (examples/interop/resume_client.py): a real chat-server --resume process,
 * another player chatting at 10 chats/s, and the Python client's connection reset mid-burst by a
 * proxy. It reconnects, resumes, and receives every chat once and in order. Needs python3: without it
 * the test says so in one line and skips, unless GAMEWIRE_REQUIRE_PYTHON=1 (CI).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ChatPlayer } from '../helpers/chat-player.js';
import { CliProcess, runCli } from '../helpers/cli.js';
import { CutProxy } from '../helpers/cut-proxy.js';
import { joinResumable, ResumableChatPlayer } from '../helpers/resumable-chat-player.js';
import { makeClient } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';

const PYTHON = process.env['GAMEWIRE_PYTHON'] ?? '/usr/bin/python3';
const CLIENT = fileURLToPath(new URL('../../../examples/interop/resume_client.py', import.meta.url));
const REQUIRED = process.env['GAMEWIRE_REQUIRE_PYTHON'] === '1' || process.env['GAMEWIRE_REQUIRE_PYTHON_WS'] === '1';
const available = spawnSync(PYTHON, ['-c', 'import asyncio'], { stdio: 'ignore' }).status === 0;
if (!available && !REQUIRED) console.log(`# SKIP Python resume interop: no ${PYTHON}`);

const CHATS = 60;

it('a Python client written from docs/protocol.md resumes after an RST and misses no chat', { skip: !available && !REQUIRED, timeout: 60_000 }, async (t) => {
  assert.ok(available, `${PYTHON} is needed`);
  const cleanup = cleanupAfter(t);
  const server = runCli(cleanup, ['chat-server', '--port', '0', '--resume']);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(await server.waitForLine(/listening on/, 15_000))?.[1]);
  const proxy = await CutProxy.start(port, cleanup);
  const python = new CliProcess(
    spawn(PYTHON, [CLIENT, '--port', String(proxy.port), '--chats', String(CHATS), '--delay', '0.2', '--max-delay', '1'], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  cleanup.add(async () => {
    if (!python.exited) python.child.kill('SIGKILL');
    await python.waitForExit();
  });
  await python.waitForLine(/"entered"/, 15_000);
  const chatter = await ChatPlayer.join(cleanup, port, 'chatter');
  const timer = setInterval(() => {
    if (chatter.sent < CHATS) void chatter.chat().catch(() => undefined);
  }, 100);
  cleanup.add(() => clearInterval(timer));
  await python.waitForLine(/"chats", "count": 20/, 15_000);
  proxy.reset();
  await python.waitForLine(/"resumed"/, 15_000);
  assert.equal(chatter.packetIds.get(1010) ?? 0, 0, 'the other player did not see it leave (no S_DESPAWN)');
  assert.equal(await python.waitForExit(30_000), 0, python.output());
  const events = python.stdoutLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const done = events.find((e) => e['event'] === 'done');
  assert.deepEqual(
    { chats: done?.['chats'], inOrder: done?.['inOrder'], resumes: done?.['resumes'] },
    { chats: CHATS, inOrder: true, resumes: 1 },
    python.output(),
  );
  assert.ok(events.some((e) => e['event'] === 'lost'), 'the connection was really cut');
  await chatter.changed.until(() => (chatter.packetIds.get(1010) ?? 0) === 1, 'S_DESPAWN once, when it said BYE');
  server.child.kill('SIGTERM');
  assert.equal(await server.waitForExit(15_000), 0, server.output());
});

it('the Python client follows MOVE: a rolling reload moves it to a new worker and it misses no chat', { skip: !available && !REQUIRED, timeout: 90_000 }, async (t) => {
  assert.ok(available, `${PYTHON} is needed`);
  const cleanup = cleanupAfter(t);
  const server = runCli(cleanup, ['chat-server', '--port', '0', '--resume', '--workers', '2', '--drain-timeout-ms', '20000']);
  const port = Number(/listening on 127\.0\.0\.1:(\d+)/.exec(await server.waitForLine(/listening on/, 20_000))?.[1]);
  const python = new CliProcess(spawn(PYTHON, [CLIENT, '--port', String(port), '--chats', String(CHATS), '--delay', '0.2', '--max-delay', '1'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  cleanup.add(async () => {
    if (!python.exited) python.child.kill('SIGKILL');
    await python.waitForExit();
  });
  await python.waitForLine(/"entered"/, 15_000);
  // The other player moves too: a resumable one.
  const client = makeClient(cleanup, () => new ResumableChatPlayer(), { port, resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 200 } });
  const chatter = await joinResumable(client.service, 'chatter');
  const timer = setInterval(() => {
    if (chatter.sent < CHATS && chatter.state === 'open') chatter.chat();
  }, 100);
  cleanup.add(() => clearInterval(timer));
  await python.waitForLine(/"chats", "count": 20/, 15_000);
  server.child.kill('SIGHUP');
  await python.waitForLine(/"move"/, 30_000);
  assert.equal(await python.waitForExit(30_000), 0, python.output());
  const events = python.stdoutLines.map((line) => JSON.parse(line) as Record<string, unknown>);
  const done = events.find((e) => e['event'] === 'done');
  assert.deepEqual({ chats: done?.['chats'], inOrder: done?.['inOrder'] }, { chats: CHATS, inOrder: true }, python.output());
  assert.ok((done?.['resumes'] as number) >= 1, python.output());
  const move = events.findIndex((e) => e['event'] === 'move');
  assert.deepEqual(events[move + 2], { event: 'reconnecting', attempt: 0, delayMs: 0 }, 'the first reconnect after MOVE goes at once');
  assert.ok(!chatter.events.some((e) => e.startsWith('disconnected')), chatter.events.join(' '));
  await client.service.close();
  server.child.kill('SIGTERM');
  assert.equal(await server.waitForExit(20_000), 0, server.output());
});
