/**
 * A third-party WebSocket client, in Python with the `websockets` package, plays the sample game from
 * docs/protocol.md alone, in one room with a TCP client. Debian's python3 with python3-websockets is
 * needed: without it the test says so in one line and skips, unless GAMEWIRE_REQUIRE_PYTHON_WS=1 (CI).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { C_CHAT, C_ENTER_GAME, C_LOGIN, S_CHAT, S_ENTER_GAME } from '../../src/samples/protocol/packets.js';
import { CliProcess, runCli } from '../helpers/cli.js';
import { packet, PacketReader, type ParsedPacket } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { Condition, cleanupAfter } from '../helpers/wait.js';

const PYTHON = process.env['GAMEWIRE_PYTHON'] ?? '/usr/bin/python3';
const WS_CLIENT = fileURLToPath(new URL('../../../examples/interop/ws_client.py', import.meta.url));
const REQUIRED = process.env['GAMEWIRE_REQUIRE_PYTHON_WS'] === '1';
const available = spawnSync(PYTHON, ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0;
if (!available && !REQUIRED) console.log(`# SKIP Python WebSocket interop: ${PYTHON} has no websockets module (apt-get install python3-websockets)`);

it('a Python websockets client and a TCP client chat in one room', { skip: !available && !REQUIRED, timeout: 40_000 }, async (t) => {
  assert.ok(available, `GAMEWIRE_REQUIRE_PYTHON_WS=1 but ${PYTHON} cannot import websockets`);
  const cleanup = cleanupAfter(t);
  const server = runCli(cleanup, ['chat-server', '--port', '0', '--ws-port', '0']);
  const ready = /listening on 127\.0\.0\.1:(\d+).*websocket listening on 127\.0\.0\.1:(\d+)/.exec(
    await server.waitForLine(/websocket listening on/, 15_000),
  ) as RegExpExecArray;

  // The TCP player enters first, then waits for the Python player's chat and answers it.
  const tcp = await RawClient.connect(Number(ready[1]), { cleanup });
  const reader = new PacketReader();
  const received: ParsedPacket[] = [];
  const changed = new Condition();
  tcp.socket.on('data', (chunk: Buffer) => {
    received.push(...reader.push(chunk));
    changed.notify();
  });
  await tcp.write(packet(C_LOGIN.id, C_LOGIN.encodeBody({ account: 'tcp' })));
  await tcp.write(packet(C_ENTER_GAME.id, C_ENTER_GAME.encodeBody({ playerIndex: 0 })));
  await changed.until(() => received.some((p) => p.id === S_ENTER_GAME.id), 'the TCP player to enter');

  const python = new CliProcess(
    spawn(PYTHON, [WS_CLIENT, '--port', ready[2] as string, '--message', 'hello from python', '--expect', 'hello from tcp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  cleanup.add(async () => {
    if (!python.exited) python.child.kill('SIGKILL');
    await python.waitForExit();
  });
  const chats = (): string[] => received.filter((p) => p.id === S_CHAT.id).map((p) => S_CHAT.decode(p.bytes.subarray(4)).msg);
  await changed.until(() => chats().includes('hello from python'), "the Python player's chat at the TCP player", 20_000);
  await tcp.write(packet(C_CHAT.id, C_CHAT.encodeBody({ msg: 'hello from tcp', sentAtMs: 2 })));
  assert.equal(await python.waitForExit(20_000), 0, python.output());
  const events = python.stdoutLines.map((line) => JSON.parse(line) as { event: string; msg?: string });
  assert.deepEqual(events.map((e) => e.event).filter((e) => e !== 'chat'), ['logged-in', 'entered', 'done']);
  assert.ok(events.some((e) => e.event === 'chat' && e.msg === 'hello from tcp'), python.output());

  server.child.kill('SIGTERM');
  assert.equal(await server.waitForExit(15_000), 0, server.output());
});

it('the Python client only listening past 4 idle timeouts stays connected by answering pings', { skip: !available && !REQUIRED, timeout: 40_000 }, async (t) => {
  assert.ok(available, `GAMEWIRE_REQUIRE_PYTHON_WS=1 but ${PYTHON} cannot import websockets`);
  const IDLE_MS = 1000;
  const cleanup = cleanupAfter(t);
  const server = runCli(cleanup, ['chat-server', '--port', '0', '--ws-port', '0', '--idle-timeout-ms', String(IDLE_MS)]);
  const wsPort = /websocket listening on 127\.0\.0\.1:(\d+)/.exec(await server.waitForLine(/websocket listening on/, 15_000))?.[1] as string;
  const python = new CliProcess(
    spawn(PYTHON, [WS_CLIENT, '--port', wsPort, '--message', 'quiet python', '--idle', String((4 * IDLE_MS) / 1000)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  cleanup.add(async () => {
    if (!python.exited) python.child.kill('SIGKILL');
    await python.waitForExit();
  });
  assert.equal(await python.waitForExit(30_000), 0, python.output());
  const events = python.stdoutLines.map((line) => JSON.parse(line) as { event: string; msg?: string; pingsAnswered?: number });
  assert.deepEqual(events.map((e) => e.event).filter((e) => e !== 'chat'), ['logged-in', 'entered', 'idle', 'idle-over', 'done']);
  const idleOver = events.find((e) => e.event === 'idle-over');
  assert.ok((idleOver?.pingsAnswered ?? 0) >= 4, python.output());
  assert.equal(events.filter((e) => e.event === 'chat' && e.msg === 'quiet python').length, 2, python.output());

  server.child.kill('SIGTERM');
  assert.equal(await server.waitForExit(15_000), 0, server.output());
});
