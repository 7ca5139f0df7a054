/**
 * The C++ client (clients/cpp) against gamewire's real chat-server: its unit tests (ctest), the
 * DummyClient in one room with TypeScript bots and a browser page (every chat reaches every member
 * exactly once, in order, with the right player id), its framing against the server's limits and the
 * server's bytes against its framing, heartbeats both ways, and the DummyClient's summary. Needs the
 * C++ toolchain (test/helpers/cpp-client.ts) and, for the page, Chromium; each missing one skips with
 * a line, or fails under GAMEWIRE_REQUIRE_CPP=1 / GAMEWIRE_REQUIRE_BROWSER=1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { ClientService } from '../../src/net/client-service.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import { C_CHAT, C_ENTER_GAME, C_LOGIN, createClientHandlers } from '../../src/samples/protocol/packets.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { buildCpp, CPP_DIR, cppSkip, runCpp } from '../helpers/cpp-client.js';
import { packet } from '../helpers/packets.js';
import { sampleKey, scrape, waitForSample } from '../helpers/scrape.js';
import { cleanupAfter, Condition, type Cleanup } from '../helpers/wait.js';

const skip = cppSkip();
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const BROWSER_REQUIRED = process.env['GAMEWIRE_REQUIRE_BROWSER'] === '1';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
const READY = /listening on 127\.0\.0\.1:(\d+)/;
const READY_WS = /listening on 127\.0\.0\.1:(\d+).*websocket listening on 127\.0\.0\.1:(\d+)/;
const READY_METRICS = /listening on 127\.0\.0\.1:(\d+), metrics on 127\.0\.0\.1:(\d+)/;

let buildDir: Promise<string> | undefined;
/** The release build, made (or found up to date) once per process. */
function release(): Promise<string> {
  return (buildDir ??= buildCpp('release'));
}

/** Starts `gamewire chat-server` with `args`; resolves with the process and the numbers its ready line matched. */
async function chatServer(cleanup: Cleanup, args: readonly string[], ready: RegExp): Promise<{ server: CliProcess; ports: number[] }> {
  const server = runCli(cleanup, ['chat-server', '--port', '0', ...args]);
  const line = await server.waitForLine(ready, 15_000);
  const match = ready.exec(line) as RegExpExecArray;
  return { server, ports: match.slice(1).map(Number) };
}

/** One member's record of the room: its player id and every S_CHAT it got, as [player_id field, msg]. */
interface RoomRecord {
  readonly who: string;
  readonly player: number;
  readonly chats: ReadonlyArray<readonly [number, string]>;
}

/** A TypeScript bot on ClientService: enters, waits for a full room, sends `chats` numbered chats. */
class RoomBot extends PacketSession {
  player = 0;
  readonly others = new Set<number>();
  readonly chats: Array<readonly [number, string]> = [];
  readonly changed = new Condition();
  #sent = false;

  constructor(readonly account: string, readonly roomSize: number, readonly chatCount: number) {
    super({ handlers: roomBotHandlers });
  }

  protected override onConnected(): void {
    this.send(C_LOGIN, { account: this.account, token: '' });
  }

  protected override onDisconnected(_cause: DisconnectCause): void {
    this.changed.notify();
  }

  checkRoom(): void {
    if (this.#sent || this.player === 0 || this.others.size + 1 < this.roomSize) return;
    this.#sent = true;
    for (let seq = 0; seq < this.chatCount; seq++) this.send(C_CHAT, { msg: `${this.player}:${seq}`, sentAtMs: 0 });
  }
}

const roomBotHandlers = createClientHandlers<RoomBot>({
  S_LOGIN(bot) {
    bot.send(C_ENTER_GAME, { playerIndex: 0 });
  },
  S_ENTER_GAME(bot, message) {
    bot.player = message.player?.id ?? 0;
    bot.checkRoom();
  },
  S_SPAWN(bot, message) {
    for (const p of message.players) if (p.id !== bot.player) bot.others.add(p.id);
    bot.checkRoom();
  },
  S_DESPAWN(bot, message) {
    for (const id of message.playerIds) bot.others.delete(id);
  },
  S_CHAT(bot, message) {
    bot.chats.push([message.playerId, message.msg]);
    bot.changed.notify();
  },
  S_CHAT_REJECTED() {},
  S_MOVE() {},
});

/** Every member got every chat exactly once, in order per sender, from the player id that sent it. */
function checkRoom(records: readonly RoomRecord[], chatCount: number): void {
  const players = new Set(records.map((r) => r.player));
  assert.equal(players.size, records.length, `player ids are distinct: ${records.map((r) => `${r.who}=${r.player}`).join(' ')}`);
  const expected = Array.from({ length: chatCount }, (_, i) => i);
  for (const record of records) {
    assert.equal(record.chats.length, records.length * chatCount, `${record.who} got ${record.chats.length} chats`);
    const bySender = new Map<number, number[]>();
    for (const [playerId, msg] of record.chats) {
      const [from, seq] = msg.split(':').map(Number) as [number, number];
      assert.equal(playerId, from, `${record.who}: S_CHAT.player_id ${playerId} carries ${msg}`);
      assert.ok(players.has(from), `${record.who}: a chat from ${from}, who is not in the room`);
      bySender.set(from, [...(bySender.get(from) ?? []), seq]);
    }
    for (const player of players) {
      assert.deepEqual(bySender.get(player), expected, `${record.who}: the chats of player ${player}, in arrival order`);
    }
  }
}

/** The player list of a page: name → id, and its own id (the ★ entry). */
async function pagePlayers(page: Page): Promise<{ idByName: Map<string, number>; self: number }> {
  const players = await page.locator('#players li').evaluateAll(
    (items) => items.map((item) => [item.getAttribute('data-player-id'), item.textContent]),
  ) as Array<[string, string]>;
  const idByName = new Map<string, number>();
  let self = 0;
  for (const [id, text] of players) {
    idByName.set(text.replace(/^★ /, '').replace(/ \(-?\d+, -?\d+\)$/, ''), Number(id));
    if (text.startsWith('★ ')) self = Number(id);
  }
  return { idByName, self };
}

/** The chat log of a page as a room record: each line's sender name mapped to its id. */
async function pageRecord(page: Page, who: string, idByName: ReadonlyMap<string, number>, self: number): Promise<RoomRecord> {
  const lines = await page.locator('#chat-log li').allTextContents();
  const chats = lines.map((line): readonly [number, string] => {
    const at = line.indexOf(': ');
    const name = line.slice(0, at);
    const id = idByName.get(name);
    assert.ok(id !== undefined, `${who}: a chat from '${name}', who was not in its player list`);
    return [id, line.slice(at + 2)];
  });
  return { who, player: self, chats };
}

describe('the C++ client against gamewire', { skip, timeout: 600_000 }, () => {
  it('builds with warnings as errors; its unit tests pass (ctest)', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const ctest = runCpp(cleanup, 'ctest', ['--test-dir', dir, '--output-on-failure']);
    assert.equal(await ctest.waitForExit(120_000), 0, ctest.output());
    assert.match(ctest.stdoutLines.join('\n'), /100% tests passed/);
  });

  it('one room of C++ DummyClient bots, TypeScript bots and a browser page: every chat to every member once, in order, right player ids', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const browser = existsSync(CHROMIUM);
    assert.ok(browser || !BROWSER_REQUIRED, `GAMEWIRE_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}`);
    if (!browser) console.log(`# SKIP the browser member of the mixed room: no Chromium at ${CHROMIUM}`);
    const cppBots = 4;
    const tsBots = 2;
    const pages = browser ? 1 : 0;
    const roomSize = cppBots + tsBots + pages;
    const chatCount = 10;
    const { ports } = await chatServer(cleanup, ['--ws-port', '0'], READY_WS);
    const [tcpPort, wsPort] = ports as [number, number];

    const cpp = runCpp(cleanup, join(dir, 'gamewire-dummy-client'), [
      '--port', String(tcpPort), '--sessions', String(cppBots), '--threads', '2', '--room-size', String(roomSize),
      '--chats', String(chatCount), '--interval-ms', '5', '--duration-s', '60', '--json',
    ]);
    const bots: RoomBot[] = [];
    const service = new ClientService<RoomBot>({
      port: tcpPort,
      maxSessionCount: tsBots,
      sessionFactory: () => {
        const bot = new RoomBot(`ts-${bots.length}`, roomSize, chatCount);
        bots.push(bot);
        return bot;
      },
    });
    cleanup.add(() => service.close());
    await service.start();

    const records: RoomRecord[] = [];
    if (browser) {
      const chrome = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      cleanup.add(() => chrome.close());
      const page = await chrome.newPage();
      page.on('pageerror', (error) => console.log(`# page error: ${error.message}`));
      await page.goto(`http://127.0.0.1:${wsPort}/`);
      await page.waitForFunction(`document.querySelectorAll('#players li').length === ${roomSize}`, undefined, { timeout: 30_000 });
      // Read while everyone is here: bots that are done leave, and the page forgets their names.
      const { idByName, self } = await pagePlayers(page);
      for (let seq = 0; seq < chatCount; seq++) {
        await page.fill('#chat-input', `${self}:${seq}`);
        await page.click('#chat-form button');
      }
      await page.waitForFunction(`document.querySelectorAll('#chat-log li').length >= ${roomSize * chatCount}`, undefined, { timeout: 30_000 });
      records.push(await pageRecord(page, 'browser', idByName, self));
    }
    assert.equal(await cpp.waitForExit(60_000), 0, cpp.output());
    for (const bot of bots) {
      await bot.changed.until(() => bot.chats.length >= roomSize * chatCount, `${bot.account}'s chats`, 30_000);
      records.push({ who: bot.account, player: bot.player, chats: bot.chats });
    }
    const cppRooms = cpp.stdoutLines.filter((l) => l.startsWith('room ')).map((l) => JSON.parse(l.slice(5)) as { player: number; chats: Array<[number, string]> });
    assert.equal(cppRooms.length, cppBots, cpp.output());
    cppRooms.forEach((room, i) => records.push({ who: `cpp-${i}`, player: room.player, chats: room.chats }));
    checkRoom(records, chatCount);
    const summary = JSON.parse((cpp.stdoutLines.find((l) => l.startsWith('summary ')) as string).slice(8)) as Record<string, unknown>;
    assert.equal(summary['roomDone'], cppBots);
    assert.equal(summary['errors'], 0);
    console.log(`# mixed room: ${roomSize} members (${cppBots} C++, ${tsBots} TypeScript, ${pages} browser), ${chatCount} chats each: ` +
      `${records.length * roomSize * chatCount} deliveries checked, every one once and in order`);
  });

  it('C++ framing against the server\'s limits: malformed and oversize headers end the session with the documented causes; a message too large is never sent', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const probe = join(dir, 'gamewire-probe');
    const { ports } = await chatServer(cleanup, ['--max-packet', '2048', '--metrics-port', '0'], READY_METRICS);
    const [port, metricsPort] = ports as [number, number];
    const causes = (cause: string): string => sampleKey('gamewire_disconnects_total', { transport: 'tcp', cause });
    const read = (): Promise<Map<string, number>> => scrape(metricsPort);

    // size 3 < 4: MALFORMED_HEADER; size 3000 > --max-packet 2048: PACKET_TOO_LARGE, as the 2 size bytes arrive.
    for (const [hex, cause] of [['03000000', 'MALFORMED_HEADER'], ['b80b', 'PACKET_TOO_LARGE']] as const) {
      const run = runCpp(cleanup, probe, ['--port', String(port), '--send-hex', hex]);
      assert.equal(await run.waitForExit(10_000), 0, run.output());
      assert.match(run.stdoutLines.join('\n'), /^disconnected PEER_CLOSED /m, run.output());
      await waitForSample(read, causes(cause), (n) => n === 1);
    }
    // A chat the server refuses (over 1024 bytes) leaves the connection open; one over 65535 bytes is
    // refused by the C++ side before anything is sent.
    const rejected = runCpp(cleanup, probe, ['--port', String(port), '--login', '--chat-bytes', '1500', '--hold-ms', '500']);
    assert.equal(await rejected.waitForExit(10_000), 0, rejected.output());
    assert.match(rejected.stdoutLines.join('\n'), /^recv 1008 \d+ chat is 1500 bytes, at most 1024$/m, rejected.output());
    assert.match(rejected.stdoutLines.join('\n'), /^disconnected LOCAL_DISCONNECT - probe done$/m, rejected.output());
    const before = (await read()).get(sampleKey('gamewire_bytes_received_total', { transport: 'tcp' })) ?? 0;
    const tooLarge = runCpp(cleanup, probe, ['--port', String(port), '--login', '--chat-bytes', '70000', '--hold-ms', '500']);
    assert.equal(await tooLarge.waitForExit(10_000), 0, tooLarge.output());
    assert.match(tooLarge.stdoutLines.join('\n'), /^send-refused GW_ERR_MESSAGE_TOO_LARGE$/m, tooLarge.output());
    assert.match(tooLarge.stdoutLines.join('\n'), /^disconnected LOCAL_DISCONNECT - probe done$/m, tooLarge.output());
    const after = await waitForSample(read, causes('PEER_CLOSED'), (n) => n === 2);
    assert.ok(after >= 2);
    const received = ((await read()).get(sampleKey('gamewire_bytes_received_total', { transport: 'tcp' })) ?? 0) - before;
    assert.ok(received < 100, `the server received ${received} bytes from the probe that tried to send 70000 (login and enter only)`);
  });

  it('the server\'s bytes against the C++ framing: malformed, oversize (decided on 2 bytes), and a ping answered byte for byte', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const probe = join(dir, 'gamewire-probe');
    const cases: Array<[string, Buffer, readonly string[], RegExp]> = [
      ['malformed', Buffer.concat([packet(5, 'ok'), Buffer.from([2, 0])]), [],
        /^disconnected MALFORMED_HEADER GW_ERR_MALFORMED_HEADER packet header size 2 is below the 4-byte header$/m],
      ['oversize', Buffer.from([0x00, 0x10]), ['--max-packet', '1024'],
        /^disconnected PACKET_TOO_LARGE GW_ERR_PACKET_TOO_LARGE packet of 4096 bytes exceeds maxPacketSize 1024; raise option maxPacketSize/m],
    ];
    for (const [what, bytes, args, expected] of cases) {
      const ended = new Condition();
      let gotEnd = false;
      const server = createServer((socket: Socket) => {
        socket.on('error', () => undefined);
        socket.on('end', () => {
          gotEnd = true; // the client's FIN: a graceful close, not a reset
          ended.notify();
          socket.end();
        });
        socket.write(bytes); // and nothing more: the oversize packet's body never comes
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())));
      const port = (server.address() as { port: number }).port;
      const run = runCpp(cleanup, probe, ['--port', String(port), ...args]);
      assert.equal(await run.waitForExit(10_000), 0, run.output());
      assert.match(run.stdoutLines.join('\n'), expected, `${what}: ${run.output()}`);
      await ended.until(() => gotEnd, `${what}: the client's FIN`);
    }

    // A ping from the server comes back as a pong with the same 8 bytes.
    const pong = new Condition();
    let answer = Buffer.alloc(0);
    const server = createServer((socket: Socket) => {
      socket.on('error', () => undefined);
      socket.on('data', (chunk: Buffer) => {
        answer = Buffer.concat([answer, chunk]);
        pong.notify();
        if (answer.length >= 12) socket.end();
      });
      socket.write(packet(0xfffe, 'abcdefgh'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.add(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const run = runCpp(cleanup, probe, ['--port', String((server.address() as { port: number }).port)]);
    await pong.until(() => answer.length >= 12, 'the pong');
    assert.deepEqual(answer, packet(0xffff, 'abcdefgh'));
    assert.equal(await run.waitForExit(10_000), 0, run.output());
    assert.match(run.stdoutLines.join('\n'), /^disconnected PEER_CLOSED /m);
  });

  it('keepalive: a quiet C++ session outlives the server\'s idle timeout, with its own pings and by answering the server\'s', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const probe = join(dir, 'gamewire-probe');
    const { ports } = await chatServer(cleanup, ['--idle-timeout-ms', '400', '--metrics-port', '0'], READY_METRICS);
    const [port, metricsPort] = ports as [number, number];
    // Each holds 1,500 ms, almost four idle timeouts: one keeps itself alive with pings every 100 ms,
    // the other sends none and stays only because it answers the server's pings (docs/protocol.md).
    const pinging = runCpp(cleanup, probe, ['--port', String(port), '--keepalive-ms', '100', '--hold-ms', '1500']);
    const answering = runCpp(cleanup, probe, ['--port', String(port), '--keepalive-ms', '0', '--hold-ms', '1500']);
    assert.equal(await pinging.waitForExit(10_000), 0, pinging.output());
    assert.equal(await answering.waitForExit(10_000), 0, answering.output());
    assert.match(pinging.stdoutLines.join('\n'), /^rtt \d+(\.\d+)?$/m, 'the server answered the pings');
    for (const run of [pinging, answering]) {
      assert.match(run.stdoutLines.join('\n'), /^disconnected LOCAL_DISCONNECT - probe done$/m, run.output());
    }
    const samples = await scrape(metricsPort);
    assert.equal(samples.get(sampleKey('gamewire_disconnects_total', { transport: 'tcp', cause: 'IDLE_TIMEOUT' })) ?? 0, 0);
  });

  it('the DummyClient: 20 sessions on 3 threads chat and move, then print a loadtest-like summary and exit 0', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const { ports } = await chatServer(cleanup, [], READY);
    const run = runCpp(cleanup, join(dir, 'gamewire-dummy-client'), [
      '--port', String(ports[0]), '--sessions', '20', '--threads', '3', '--interval-ms', '100', '--duration-s', '2', '--move', '--json',
    ]);
    assert.equal(await run.waitForExit(30_000), 0, run.output());
    const text = run.stdoutLines.join('\n');
    assert.match(text, /^gamewire-dummy-client \(C\+\+\): scenario chat \+ move, 20 sessions on 127\.0\.0\.1:\d+, 3 dispatch threads/m);
    for (const row of ['connects', 'packets sent', 'packets received', 'round trips', 'latency p50 / p90', 'latency p99 / p99.9']) {
      assert.match(text, new RegExp(`^  ${row} +\\S`, 'm'), `row ${row}`);
    }
    assert.match(text, /^ {2}result +PASS \(0 errors\)$/m);
    const summary = JSON.parse((run.stdoutLines.find((l) => l.startsWith('summary ')) as string).slice(8)) as {
      connects: number; peakSessions: number; roundTrips: number; deliveries: number; movesReceived: number;
      unanswered: number; disconnectsByCause: Record<string, number>; latencyUs: { p50: number; p99: number };
    };
    assert.equal(summary.connects, 20);
    assert.equal(summary.peakSessions, 20);
    assert.equal(summary.unanswered, 0);
    assert.deepEqual(summary.disconnectsByCause, { SERVICE_CLOSING: 20 });
    assert.ok(summary.roundTrips >= 20 * 10, `${summary.roundTrips} round trips in 2 s at 10 chats/s per bot`);
    // Every chat reaches every member in the room: at most 20 deliveries per chat, at least its own.
    assert.ok(summary.deliveries <= summary.roundTrips * 20 && summary.deliveries >= summary.roundTrips * 10, `${summary.deliveries} deliveries`);
    assert.ok(summary.movesReceived > 0);
    assert.ok(summary.latencyUs.p50 > 0 && summary.latencyUs.p50 <= summary.latencyUs.p99);
  });

  it('the README\'s client compiles with warnings as errors and talks to chat-server', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const readme = readFileSync(join(CPP_DIR, 'README.md'), 'utf8');
    const code = /<!-- test\/clients\/cpp\.test\.ts compiles and runs this block -->\n```cpp\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(code !== undefined, 'the README has the marked client');
    const work = mkdtempSync(join(tmpdir(), 'gamewire-readme-'));
    cleanup.add(() => rmSync(work, { recursive: true, force: true }));
    writeFileSync(join(work, 'chat_client.cpp'), code);
    const program = join(work, 'chat_client');
    const compile = runCpp(cleanup, 'g++', [
      '-std=c++17', '-Wall', '-Wextra', '-Werror', join(work, 'chat_client.cpp'),
      '-I', join(CPP_DIR, 'include'), '-I', join(CPP_DIR, 'dummy-client', 'generated'), '-isystem', join(dir, 'protocol'),
      join(dir, 'libgamewire_sample_protocol.a'), join(dir, 'libgamewire.a'), '-lprotobuf', '-pthread', '-o', program,
    ]);
    assert.equal(await compile.waitForExit(180_000), 0, compile.output());
    const { ports } = await chatServer(cleanup, [], READY);
    const run = runCpp(cleanup, program, [String(ports[0])]);
    assert.equal(await run.waitForExit(15_000), 0, run.output());
    assert.match(run.stdoutLines.join('\n'), /^\d+: hello\ndisconnected: LOCAL_DISCONNECT said hello$/, run.output());
  });

  it('the DummyClient reports a server that is not there and exits 1', async (t) => {
    const cleanup = cleanupAfter(t);
    const dir = await release();
    const port = await new Promise<number>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as { port: number };
        server.close(() => resolve(free));
      });
    });
    const run = runCpp(cleanup, join(dir, 'gamewire-dummy-client'), ['--port', String(port), '--sessions', '3', '--duration-s', '5']);
    assert.equal(await run.waitForExit(15_000), 1, run.output());
    assert.match(run.stderrLines.join('\n'), /cannot connect to 127\.0\.0\.1:\d+: Connection refused/);
    assert.match(run.stdoutLines.join('\n'), /^ {2}connect failures +3 +\(GW_ERR_CONNECT: cannot connect/m);
    assert.match(run.stdoutLines.join('\n'), /^ {2}result +FAIL \(3 errors\)$/m);
  });
});

