/**
 * The demo game in a real browser: Debian's Chromium driven by playwright-core. Two pages and one TCP
 * client share the chat-server's room. Where no Chromium is installed the suite says so in one line and
 * skips, unless GAMEWIRE_REQUIRE_BROWSER=1 (CI sets it), which makes a missing browser a failure.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { MessageInit, MessageType } from '../../src/packet/message-type.js';
import { C_CHAT, C_ENTER_GAME, C_LOGIN, S_CHAT, S_DESPAWN, S_ENTER_GAME } from '../../src/samples/protocol/packets.js';
import { runCli } from '../helpers/cli.js';
import { CutProxy } from '../helpers/cut-proxy.js';
import { HeartbeatPeer, PING_ID, PONG_ID } from '../helpers/heartbeat-peer.js';
import { elapse } from '../helpers/limits.js';
import { packet, PacketReader, type ParsedPacket } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { Condition, cleanupAfter, type Cleanup } from '../helpers/wait.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const REQUIRED = process.env['GAMEWIRE_REQUIRE_BROWSER'] === '1';
const ARTIFACTS = process.env['GAMEWIRE_TEST_ARTIFACTS'] ?? fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));
// The flags a root, offline, headless machine needs (no sandbox as root; no calls home).
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
const READY = /listening on 127\.0\.0\.1:(\d+).*websocket listening on 127\.0\.0\.1:(\d+)/;
const PACKAGE = fileURLToPath(new URL('../../../package.json', import.meta.url));

/** The arguments of `npm start`'s server (package.json), on free ports. */
function npmStartArgs(): string[] {
  const start = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { scripts: Record<string, string> }).scripts['start'] ?? '';
  const args = (/node dist\/src\/cli\/main\.js (.*)$/.exec(start)?.[1] ?? '').split(' ');
  return args.map((arg, i) => (args[i - 1] === '--port' || args[i - 1] === '--ws-port' ? '0' : arg));
}

/** The page's connection state, as its status line shows it (`data-state`). */
function stateIs(state: string): string {
  return `document.getElementById('status')?.dataset.state === '${state}'`;
}

const browserMissing = !existsSync(CHROMIUM);
if (browserMissing && !REQUIRED) console.log(`# SKIP browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);

/**
 * A TCP player speaking the packets directly, in the same room as the pages. It answers the server's
 * heartbeat pings as docs/protocol.md asks (and does nothing else for them).
 */
class TcpPlayer {
  readonly packets: ParsedPacket[] = [];
  pingsAnswered = 0;
  readonly #reader = new PacketReader();
  readonly #changed = new Condition();

  constructor(readonly client: RawClient) {
    client.socket.on('data', (chunk: Buffer) => {
      for (const p of this.#reader.push(chunk)) {
        if (p.id === PING_ID) {
          client.socket.write(packet(PONG_ID, p.bytes.subarray(4)));
          this.pingsAnswered++;
        } else {
          this.packets.push(p);
        }
      }
      this.#changed.notify();
    });
  }

  send<T>(type: MessageType<T>, message: MessageInit<T>): Promise<void> {
    return this.client.write(packet(type.id, type.encodeBody(message)));
  }

  async waitFor<T>(type: MessageType<T>, match: (message: T) => boolean, label: string): Promise<T> {
    let found: T | undefined;
    await this.#changed.until(() => {
      for (const p of this.packets) {
        if (p.id !== type.id) continue;
        const message = type.decode(p.bytes.subarray(4));
        if (match(message)) {
          found = message;
          return true;
        }
      }
      return false;
    }, label, 15_000);
    return found as T;
  }
}

async function openPage(cleanup: Cleanup, browser: Browser, url: string, name: string): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.log(`# page ${name} error: ${error.message}`));
  cleanup.add(async () => {
    if (!page.isClosed()) await page.close();
  });
  await page.goto(url);
  // Expressions run in the page (strings: this file is compiled without the DOM's types).
  await page.waitForFunction("document.getElementById('status')?.textContent?.startsWith('connected as') === true", undefined, { timeout: 15_000 });
  return page;
}

/** The player id a page shows for itself (the ★ entry of its player list). */
async function ownId(page: Page): Promise<number> {
  const id = await page.locator('#players li', { hasText: '★' }).getAttribute('data-player-id');
  return Number(id);
}

describe('the chat demo page in Chromium', { skip: browserMissing && !REQUIRED, timeout: 90_000 }, () => {
  it('two pages and a TCP client share a room: chat, moves and leaving are seen by all', async (t) => {
    assert.ok(!browserMissing, `GAMEWIRE_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}`);
    const cleanup = cleanupAfter(t);
    const server = runCli(cleanup, ['chat-server', '--port', '0', '--ws-port', '0']);
    const ready = READY.exec(await server.waitForLine(READY, 15_000)) as RegExpExecArray;
    const tcpPort = Number(ready[1]);
    const url = `http://127.0.0.1:${ready[2]}/`;

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    cleanup.add(() => browser.close());
    const pages: Array<[string, Page]> = [];
    try {
      const a = await openPage(cleanup, browser, url, 'A');
      pages.push(['A', a]);
      const b = await openPage(cleanup, browser, url, 'B');
      pages.push(['B', b]);
      const aId = await ownId(a);
      const bId = await ownId(b);

      const bot = new TcpPlayer(await RawClient.connect(tcpPort, { cleanup }));
      await bot.send(C_LOGIN, { account: 'tcp-bot' });
      await bot.send(C_ENTER_GAME, { playerIndex: 0 });
      await bot.waitFor(S_ENTER_GAME, (m) => m.success, 'the TCP bot to enter');

      // A chat typed in page A shows in page B and reaches the TCP bot.
      await a.fill('#chat-input', 'hello from page A');
      await a.click('#chat-form button');
      await b.locator('#chat-log li', { hasText: 'hello from page A' }).waitFor({ timeout: 15_000 });
      const heard = await bot.waitFor(S_CHAT, (m) => m.msg === 'hello from page A', 'the chat at the TCP bot');
      assert.equal(heard.playerId, aId);

      // A chat from the TCP bot reaches both pages.
      await bot.send(C_CHAT, { msg: 'hello from TCP', sentAtMs: 1 });
      await a.locator('#chat-log li', { hasText: 'hello from TCP' }).waitFor({ timeout: 15_000 });
      await b.locator('#chat-log li', { hasText: 'hello from TCP' }).waitFor({ timeout: 15_000 });

      // A move in page B moves B's dot in page A.
      const bInA = a.locator(`#players li[data-player-id="${bId}"]`);
      await bInA.waitFor({ timeout: 15_000 });
      const before = Number(await bInA.getAttribute('data-x'));
      await b.focus('#field');
      for (let i = 0; i < 3; i++) await b.keyboard.press(before > 300 ? 'ArrowLeft' : 'ArrowRight');
      const expected = before > 300 ? before - 30 : before + 30;
      await a.waitForFunction(
        `document.querySelector('#players li[data-player-id="${bId}"]')?.getAttribute('data-x') === '${expected}'`,
        undefined,
        { timeout: 15_000 },
      );

      // Closing page A makes its dot vanish from page B.
      await b.locator(`#players li[data-player-id="${aId}"]`).waitFor({ timeout: 15_000 });
      await a.close();
      await b.locator(`#players li[data-player-id="${aId}"]`).waitFor({ state: 'detached', timeout: 15_000 });
    } catch (error) {
      mkdirSync(ARTIFACTS, { recursive: true });
      for (const [name, page] of pages) {
        if (!page.isClosed()) await page.screenshot({ path: join(ARTIFACTS, `chat-demo-${name}.png`) }).catch(() => undefined);
      }
      throw error;
    }
    server.child.kill('SIGTERM');
    assert.equal(await server.waitForExit(15_000), 0, server.output());
  });

  it('a page that logs in and only watches stays connected past 4 idle timeouts and still gets chats; a silent socket is cut', async (t) => {
    assert.ok(!browserMissing, `GAMEWIRE_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}`);
    const IDLE_MS = 1500;
    const cleanup = cleanupAfter(t);
    const server = runCli(cleanup, ['chat-server', '--port', '0', '--ws-port', '0', '--idle-timeout-ms', String(IDLE_MS)]);
    const ready = READY.exec(await server.waitForLine(READY, 15_000)) as RegExpExecArray;
    const tcpPort = Number(ready[1]);
    const url = `http://127.0.0.1:${ready[2]}/`;

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    cleanup.add(() => browser.close());
    let page: Page | undefined;
    try {
      page = await openPage(cleanup, browser, url, 'watcher');
      const loggedInAt = performance.now();
      // A TCP player that answers the pings (and talks only at the end), and a socket that logs in
      // and then answers nothing, beside the page.
      const bot = new TcpPlayer(await RawClient.connect(tcpPort, { cleanup }));
      await bot.send(C_LOGIN, { account: 'tcp-talker' });
      await bot.send(C_ENTER_GAME, { playerIndex: 0 });
      await bot.waitFor(S_ENTER_GAME, (m) => m.success, 'the TCP player to enter');
      const silent = await HeartbeatPeer.connect(tcpPort, false, cleanup);
      await silent.send(C_LOGIN.id, C_LOGIN.encodeBody({ account: 'silent' }));
      const cutAfter = (await silent.untilEnded(3 * IDLE_MS)) - silent.lastWriteAt;
      assert.ok(cutAfter >= IDLE_MS && cutAfter <= 1.25 * IDLE_MS + 250, `the silent socket was cut ${cutAfter.toFixed(0)} ms after its last byte`);
      assert.equal(silent.pings.length, 1);

      await elapse(loggedInAt + 4 * IDLE_MS - performance.now());
      assert.equal(await page.locator('#status').textContent().then((text) => text?.startsWith('connected as')), true, 'the page is still connected');
      await bot.send(C_CHAT, { msg: 'still watching?', sentAtMs: 1 });
      await page.locator('#chat-log li', { hasText: 'still watching?' }).waitFor({ timeout: 15_000 });
      assert.ok(bot.pingsAnswered >= 3, `the TCP player answered ${bot.pingsAnswered} pings`);
      console.log(`# idle ${IDLE_MS} ms: page connected ${((performance.now() - loggedInAt) / 1000).toFixed(1)} s; a silent socket cut after ${cutAfter.toFixed(0)} ms`);
    } catch (error) {
      mkdirSync(ARTIFACTS, { recursive: true });
      if (page !== undefined && !page.isClosed()) await page.screenshot({ path: join(ARTIFACTS, 'chat-demo-watcher.png') }).catch(() => undefined);
      throw error;
    }
    server.child.kill('SIGTERM');
    assert.equal(await server.waitForExit(15_000), 0, server.output());
  });

  it("npm start's server resumes: a page whose connection is reset shows it, comes back as the same player and gets every chat once, in order", async (t) => {
    assert.ok(!browserMissing, `GAMEWIRE_REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM}`);
    const cleanup = cleanupAfter(t);
    const args = npmStartArgs();
    assert.ok(args.includes('--resume'), `npm start runs ${args.join(' ')}`);
    const server = runCli(cleanup, args);
    const ready = READY.exec(await server.waitForLine(READY, 15_000)) as RegExpExecArray;
    const tcpPort = Number(ready[1]);
    // The page and its WebSocket come through a proxy that can cut them as a network does.
    const proxy = await CutProxy.start(Number(ready[2]), cleanup);
    const url = `http://127.0.0.1:${proxy.port}/`;

    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    cleanup.add(() => browser.close());
    let page: Page | undefined;
    try {
      page = await openPage(cleanup, browser, url, 'resumer');
      const pageId = await ownId(page);
      const bot = new TcpPlayer(await RawClient.connect(tcpPort, { cleanup }));
      await bot.send(C_LOGIN, { account: 'tcp-chatter' });
      await bot.send(C_ENTER_GAME, { playerIndex: 0 });
      await bot.waitFor(S_ENTER_GAME, (m) => m.success, 'the TCP player to enter');

      // The TCP player chats 50 times a second, numbered, before, during and after the cut.
      let sent = 0;
      let sentWhileAway = 0;
      let away = false;
      const timer = setInterval(() => {
        void bot.send(C_CHAT, { msg: `c-${sent}`, sentAtMs: 1 }).catch(() => undefined);
        sent++;
        if (away) sentWhileAway++;
      }, 20);
      cleanup.add(() => clearInterval(timer));
      await page.locator('#chat-log li', { hasText: ': c-20' }).first().waitFor({ timeout: 15_000 });

      // An RST both ways, and the network stays down for two reconnect attempts.
      away = true;
      proxy.refusing = true;
      proxy.reset();
      await page.waitForFunction(stateIs('reconnecting'), undefined, { timeout: 15_000 });
      await proxy.changed.until(() => proxy.refused >= 2, 'two reconnect attempts refused', 15_000);
      proxy.refusing = false;
      await page.waitForFunction(stateIs('resumed'), undefined, { timeout: 15_000 });
      away = false;
      const resumedAt = sent;
      await page.locator('#chat-log li', { hasText: `: c-${resumedAt + 20}` }).first().waitFor({ timeout: 15_000 });
      clearInterval(timer);
      await bot.send(C_CHAT, { msg: 'last', sentAtMs: 1 });
      await page.locator('#chat-log li', { hasText: ': last' }).waitFor({ timeout: 15_000 });

      const seqs = (await page.locator('#chat-log li:not(.notice)').allTextContents())
        .map((line) => /: c-(\d+)$/.exec(line)?.[1])
        .filter((seq) => seq !== undefined)
        .map(Number);
      assert.deepEqual(seqs, Array.from({ length: sent }, (_, i) => i), 'every chat once, in order');
      assert.ok(sentWhileAway >= 10, `${sentWhileAway} chats were sent while the page was away`);
      const notices = await page.locator('#chat-log li.notice').allTextContents();
      assert.equal(notices.length, 2, notices.join(' | '));
      assert.match(notices[0] ?? '', /connection lost \(CONNECTION_RESET\)/);
      assert.match((await page.locator('#status').textContent()) ?? '', new RegExp(`^resumed as .* \\(player ${pageId}\\)$`));
      assert.equal(await ownId(page), pageId, 'the same player');
      const despawned = bot.packets.filter((p) => p.id === S_DESPAWN.id).flatMap((p) => S_DESPAWN.decode(p.bytes.subarray(4)).playerIds);
      assert.ok(!despawned.includes(pageId), 'nobody saw the page leave');
      console.log(`# page resumed after ${proxy.refused} refused attempts; ${sentWhileAway} of ${sent} chats sent while it was away, all shown once, in order`);

      // Leaving the page says BYE: the player leaves at once, not after the 30 s grace period.
      const closedAt = performance.now();
      await page.close();
      await bot.waitFor(S_DESPAWN, (m) => m.playerIds.includes(pageId), 'the page to leave the room');
      const left = performance.now() - closedAt;
      assert.ok(left < 5000, `the page's player left ${left.toFixed(0)} ms after it closed`);
    } catch (error) {
      mkdirSync(ARTIFACTS, { recursive: true });
      if (page !== undefined && !page.isClosed()) await page.screenshot({ path: join(ARTIFACTS, 'chat-demo-resumer.png') }).catch(() => undefined);
      throw error;
    }
    server.child.kill('SIGTERM');
    assert.equal(await server.waitForExit(15_000), 0, server.output());
  });
});
