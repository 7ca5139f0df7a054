/**
 * The chat sample with --resume, as a real process: 20 players chat at 10 chats/s each while one
 * resumable player's connection is cut (an RST, or silently) mid-burst. It comes back 3 s later, over
 * TCP or WebSocket, and receives every chat it missed exactly once and in order, keeps its player id,
 * and nobody saw it leave (no S_DESPAWN reached anyone).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { C_CHAT, S_DESPAWN } from '../../src/samples/protocol/packets.js';
import { ChatPlayer } from '../helpers/chat-player.js';
import { runCli } from '../helpers/cli.js';
import { CutProxy } from '../helpers/cut-proxy.js';
import { elapse } from '../helpers/limits.js';
import { ResumableChatter } from '../helpers/resumable-chatter.js';
import { Cleanup } from '../helpers/wait.js';

const CHATTERS = 20;
const CHAT_INTERVAL_MS = 100;
const AWAY_MS = 3000;

describe('chat-server --resume: a player cut mid-burst comes back 3 s later and misses nothing', () => {
  const shared = new Cleanup();
  let ports: { tcp: number; ws: number };

  before(async () => {
    const server = runCli(shared, ['chat-server', '--port', '0', '--ws-port', '0', '--resume', '--max-sessions', '200']);
    const line = await server.waitForLine(/listening on/, 15_000);
    ports = {
      tcp: Number(/listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]),
      ws: Number(/websocket listening on 127\.0\.0\.1:(\d+)/.exec(line)?.[1]),
    };
  });
  after(() => shared.run());

  for (const [from, cut, to] of [
    ['tcp', 'reset', 'tcp'],
    ['tcp', 'blackhole', 'tcp'],
    ['ws', 'reset', 'ws'],
    ['tcp', 'reset', 'ws'],
    ['ws', 'blackhole', 'tcp'],
  ] as const) {
    it(`cut over ${from} (${cut === 'reset' ? 'RST' : 'silent drop'}), back over ${to}`, async () => {
      const cleanup = new Cleanup();
      try {
        const chatters: ChatPlayer[] = [];
        for (let i = 0; i < CHATTERS; i++) chatters.push(await ChatPlayer.join(cleanup, ports.tcp, `c${i}-${from}-${cut}-${to}`));
        const proxy = await CutProxy.start(ports[from], cleanup);
        const player = new ResumableChatter(cleanup);
        await player.join(from === 'tcp' ? { tcp: proxy.port } : { ws: proxy.port }, `resumer-${from}-${cut}-${to}`);
        const playerId = player.playerId;
        // Everyone chats 10 times a second from now on.
        const timers = chatters.map((chatter) => setInterval(() => void chatter.chat().catch(() => undefined), CHAT_INTERVAL_MS));
        cleanup.add(() => timers.forEach((timer) => clearInterval(timer)));
        await player.peer.until(() => player.chatCount >= 100, '100 chats before the cut', 10_000);
        proxy[cut]();
        player.peer.drop();
        const chatsBefore = player.chatCount;
        await elapse(AWAY_MS);
        assert.equal(await player.peer.resume(to === 'tcp' ? { tcp: ports.tcp } : { ws: ports.ws }), 'RESUMED', JSON.stringify(player.peer.refusal));
        await elapse(300);
        timers.forEach((timer) => clearInterval(timer));
        // The resumed player chats too: everyone sees the same player id.
        player.peer.send(C_CHAT.id, Buffer.from(C_CHAT.encodeBody({ msg: `${playerId}:0`, sentAtMs: Date.now() })));
        for (const chatter of chatters) {
          await chatter.changed.until(() => chatter.seqsFrom(playerId).length === 1, `chatter ${chatter.playerId} sees the resumed player's chat`, 10_000);
        }
        const expected = chatters.reduce((sum, chatter) => sum + chatter.sent, 0) + 1;
        await player.peer.until(() => player.chatCount === expected, `all ${expected} chats at the resumed player`, 10_000);
        for (const chatter of chatters) {
          const seqs = player.seqsFrom(chatter.playerId);
          assert.deepEqual(seqs, Array.from({ length: chatter.sent }, (_, i) => i), `chats of ${chatter.playerId}: each once, in order`);
        }
        assert.ok(chatsBefore < expected - CHATTERS * 20, `the player missed ${expected - chatsBefore} chats while away`);
        assert.equal(player.playerId, playerId);
        // Players of the variants before may still be leaving; this player must not be seen leaving.
        for (const chatter of chatters) assert.ok(!chatter.despawned.includes(playerId), `chatter ${chatter.playerId} saw the player leave`);
        assert.equal(player.peer.receivedOf(S_DESPAWN.id).length, 0);
        player.peer.bye_();
      } finally {
        await cleanup.run();
      }
    });
  }
});
