/**
 * The chat sample with --resume on two workers, as real processes: a resumable player whose
 * connection is cut (an RST, or silently) while 20 others chat comes back on the OTHER worker (the
 * one that does not hold its session), over TCP, over WebSocket and across them, and receives every
 * chat it missed exactly once and in order, keeps its player id, and nobody saw it leave. The
 * connection is steered: node:cluster hands a port's connections to its workers in turn, so after a
 * probe lands on the session's own worker the next connection lands on the other one; the
 * `routed` resume count proves it did. Then: forged tokens, a WebSocket reconnect without the route
 * hint, descriptors after many hand-overs (no leak in the primary or the workers) with the time a
 * routed resume takes against a local one, a worker killed while it holds suspended sessions, and a
 * TLS reconnect on the other worker (refused: a TLS session cannot move between processes).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { C_CHAT, S_DESPAWN } from '../../src/samples/protocol/packets.js';
import { makeCertificate } from '../helpers/certificate.js';
import { ChatPlayer } from '../helpers/chat-player.js';
import { packet, PacketReader, type ParsedPacket } from '../helpers/packets.js';
import { CutProxy } from '../helpers/cut-proxy.js';
import { elapse, pollUntil } from '../helpers/limits.js';
import { HELLO, REFUSED, RESUME, RESUMED, WELCOME, BYE, ResumePeer, type Endpoint } from '../helpers/resume-peer.js';
import { routedCount, startWorkers as startServer, steerAwayFrom, type WorkersServer as Server } from '../helpers/resume-workers.js';
import { ResumableChatter } from '../helpers/resumable-chatter.js';
import { Cleanup, Condition } from '../helpers/wait.js';

const CHATTERS = 20;
const CHAT_INTERVAL_MS = 100;
const AWAY_MS = 3000;

/** Where to reconnect: TCP, or WebSocket with the route hint of `peer`'s token (as gamewire's clients do). */
function backTo(server: Server, to: 'tcp' | 'ws', peer: ResumePeer, hint = true): Endpoint {
  return to === 'tcp' ? { tcp: server.tcp } : { ws: server.ws, ...(hint ? { path: `/ws?route=${peer.route}` } : {}) };
}

function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

describe('chat-server --workers 2 --resume: a player comes back on the other worker and misses nothing', () => {
  const shared = new Cleanup();
  let server: Server;

  before(async () => {
    server = await startServer(shared);
  });
  after(() => shared.run());

  for (const [from, cut, to] of [
    ['tcp', 'reset', 'tcp'],
    ['tcp', 'blackhole', 'tcp'],
    ['ws', 'reset', 'ws'],
    ['tcp', 'reset', 'ws'],
    ['ws', 'blackhole', 'tcp'],
  ] as const) {
    it(`cut over ${from} (${cut === 'reset' ? 'RST' : 'silent drop'}), back over ${to} on the other worker`, async () => {
      const cleanup = new Cleanup();
      try {
        const chatters: ChatPlayer[] = [];
        for (let i = 0; i < CHATTERS; i++) chatters.push(await ChatPlayer.join(cleanup, server.tcp, `w${i}-${from}-${cut}-${to}`));
        const proxy = await CutProxy.start(from === 'tcp' ? server.tcp : server.ws, cleanup);
        const player = new ResumableChatter(cleanup);
        await player.join(from === 'tcp' ? { tcp: proxy.port } : { ws: proxy.port }, `wresumer-${from}-${cut}-${to}`);
        const playerId = player.playerId;
        const route = player.peer.route as number;
        assert.ok(route >= 1, `a worker's route is 1 or more, got ${route}`);
        const timers = chatters.map((chatter) => setInterval(() => void chatter.chat().catch(() => undefined), CHAT_INTERVAL_MS));
        cleanup.add(() => timers.forEach((timer) => clearInterval(timer)));
        await player.peer.until(() => player.chatCount >= 100, '100 chats before the cut', 10_000);
        proxy[cut]();
        player.peer.drop();
        const chatsBefore = player.chatCount;
        await elapse(AWAY_MS);
        const endpoint = backTo(server, to, player.peer);
        // Probes without the hint (one with it would itself be moved to the session's worker).
        await steerAwayFrom(route, to === 'tcp' ? { tcp: server.tcp } : { ws: server.ws });
        const routedBefore = await routedCount(server);
        assert.equal(await player.peer.resume(endpoint), 'RESUMED', JSON.stringify(player.peer.refusal));
        assert.equal(await routedCount(server), routedBefore + 1, 'the resume landed on the other worker and was handed over');
        assert.equal(player.peer.route, route, 'the session stays on its worker');
        await elapse(300);
        timers.forEach((timer) => clearInterval(timer));
        player.peer.send(C_CHAT.id, Buffer.from(C_CHAT.encodeBody({ msg: `${playerId}:0`, sentAtMs: Date.now() })));
        for (const chatter of chatters) {
          await chatter.changed.until(() => chatter.seqsFrom(playerId).length === 1, `chatter ${chatter.playerId} sees the resumed player's chat`, 10_000);
        }
        const expected = chatters.reduce((sum, chatter) => sum + chatter.sent, 0) + 1;
        await player.peer.until(() => player.chatCount === expected, `all ${expected} chats at the resumed player`, 10_000);
        for (const chatter of chatters) {
          assert.deepEqual(player.seqsFrom(chatter.playerId), Array.from({ length: chatter.sent }, (_, i) => i), `chats of ${chatter.playerId}: each once, in order`);
        }
        assert.ok(chatsBefore < expected - CHATTERS * 20, `the player missed ${expected - chatsBefore} chats while away`);
        assert.equal(player.playerId, playerId);
        for (const chatter of chatters) assert.ok(!chatter.despawned.includes(playerId), `chatter ${chatter.playerId} saw the player leave`);
        assert.equal(player.peer.receivedOf(S_DESPAWN.id).length, 0);
        player.peer.bye_();
      } finally {
        await cleanup.run();
      }
    });
  }

  it('forged tokens are refused: a route no worker has, another server, a wrong secret; nothing is handed over', async () => {
    const cleanup = new Cleanup();
    try {
      const peer = new ResumePeer(cleanup);
      await peer.open({ tcp: server.tcp });
      await peer.welcomed();
      const token = peer.token as Buffer;
      const routedBefore = await routedCount(server);
      const forged = (edit: (copy: Buffer) => void): Buffer => {
        const copy = Buffer.from(token);
        edit(copy);
        return copy;
      };
      const attacker = new ResumePeer(cleanup);
      // A route no live worker has (routes are given from 1 up; this server started two).
      for (let i = 0; i < 2; i++) {
        assert.equal(await attacker.resume({ tcp: server.tcp }, forged((t) => t.writeUInt16LE(60_000, 0))), 'REFUSED');
        assert.equal(attacker.refusal?.reason, 'NOT_HERE');
        assert.match(attacker.refusal?.text ?? '', /route 60000/);
      }
      // Another server's number: refused before any route is looked at.
      for (let i = 0; i < 2; i++) {
        assert.equal(await attacker.resume({ tcp: server.tcp }, forged((t) => t.writeUInt16LE((t.readUInt16LE(2) % 0xfffe) + 1, 2))), 'REFUSED');
        assert.equal(attacker.refusal?.reason, 'NOT_HERE');
        assert.match(attacker.refusal?.text ?? '', /another server/);
      }
      assert.equal(await routedCount(server), routedBefore, 'nothing was handed over');
      // The right server and route, a wrong secret: whichever worker reads it, the owner refuses it.
      for (let i = 0; i < 2; i++) {
        assert.equal(await attacker.resume({ tcp: server.tcp }, forged((t) => (t[23] = (t[23] as number) ^ 1))), 'REFUSED');
        assert.equal(attacker.refusal?.reason, 'UNKNOWN_SESSION');
      }
      // The session itself was never disturbed: it resumes with its real token.
      peer.drop();
      assert.equal(await peer.resume({ tcp: server.tcp }), 'RESUMED', JSON.stringify(peer.refusal));
      peer.bye_();
    } finally {
      await cleanup.run();
    }
  });

  it('a WebSocket reconnect without ?route= that lands on the other worker is refused NOT_HERE; with it, resumed', async () => {
    const cleanup = new Cleanup();
    try {
      const peer = new ResumePeer(cleanup);
      await peer.open({ ws: server.ws });
      await peer.welcomed();
      const route = peer.route as number;
      peer.drop();
      await steerAwayFrom(route, { ws: server.ws });
      assert.equal(await peer.resume({ ws: server.ws }), 'REFUSED');
      assert.equal(peer.refusal?.reason, 'NOT_HERE');
      assert.match(peer.refusal?.text ?? '', /without \?route=/);
      // The refusal left the session suspended: the hint brings it back from either worker.
      await steerAwayFrom(route, { ws: server.ws });
      assert.equal(await peer.resume(backTo(server, 'ws', peer)), 'RESUMED', JSON.stringify(peer.refusal));
      peer.bye_();
    } finally {
      await cleanup.run();
    }
  });

  it('many hand-overs leave no descriptor behind in the primary or the workers, nor keep the server from closing; a routed resume costs little more', async (t) => {
    const cleanup = new Cleanup();
    try {
      const peer = new ResumePeer(cleanup);
      await peer.open({ tcp: server.tcp });
      await peer.welcomed();
      const pids = [server.cli.child.pid as number, ...server.workerPids];
      const resumeOnce = async (to: 'tcp' | 'ws'): Promise<{ ms: number; routed: boolean }> => {
        peer.drop();
        const before = await routedCount(server);
        const started = performance.now();
        assert.equal(await peer.resume(backTo(server, to, peer)), 'RESUMED', JSON.stringify(peer.refusal));
        const ms = performance.now() - started;
        return { ms, routed: (await routedCount(server)) > before };
      };
      for (let i = 0; i < 4; i++) await resumeOnce(i % 2 === 0 ? 'tcp' : 'ws');
      await elapse(200);
      const baseline = pids.map(openFds);
      const times: Record<'tcp' | 'ws', { routed: number[]; local: number[] }> = { tcp: { routed: [], local: [] }, ws: { routed: [], local: [] } };
      for (let i = 0; i < 120; i++) {
        const to = i % 2 === 0 ? 'tcp' : 'ws';
        const { ms, routed } = await resumeOnce(to);
        times[to][routed ? 'routed' : 'local'].push(ms);
      }
      const routedTotal = times.tcp.routed.length + times.ws.routed.length;
      assert.ok(routedTotal >= 30, `at least a quarter of the resumes were handed over (${routedTotal})`);
      peer.bye_();
      await peer.untilClosed();
      // Every descriptor a hand-over used (the socket in the worker that read it, in the primary, the old connections) is closed.
      await pollUntil(() => pids.every((pid, i) => openFds(pid) <= (baseline[i] as number) + 2), `descriptors back to ${baseline.join(', ')}`, 10_000, 50);
      // Node tracks sockets a server's process sent away and asks their receiver before its server closes: the server still closes at once.
      server.cli.child.kill('SIGTERM');
      assert.equal(await server.cli.waitForExit(8000), 0, server.cli.output());
      assert.doesNotMatch(server.cli.output(), /did not close within/);
      for (const to of ['tcp', 'ws'] as const) {
        const { routed, local } = times[to];
        t.diagnostic(
          `${to}: RESUME to RESUMED (connect included), median routed ${median(routed).toFixed(2)} ms (${routed.length}), local ${median(local).toFixed(2)} ms (${local.length})`,
        );
      }
    } finally {
      await cleanup.run();
    }
  });
});

describe('chat-server --workers 2 --resume: a worker killed while it holds suspended sessions', () => {
  it("its sessions' resumes are refused NOT_HERE and their clients log in again; the other worker's resume", async () => {
    const cleanup = new Cleanup();
    try {
      const server = await startServer(cleanup);
      const peers: ResumePeer[] = [];
      // One suspended session on each worker.
      while (new Set(peers.map((p) => p.route)).size < 2) {
        const peer = new ResumePeer(cleanup);
        await peer.open({ tcp: server.tcp });
        await peer.welcomed();
        if (peers.some((p) => p.route === peer.route)) peer.bye_();
        else peers.push(peer);
      }
      for (const peer of peers) peer.drop();
      const victim = server.workerPids[0] as number;
      process.kill(victim, 'SIGKILL');
      await server.cli.waitForLine(/worker \d+ died/, 10_000);
      const answers: string[] = [];
      for (const peer of peers) {
        const answer = await peer.resume({ tcp: server.tcp });
        answers.push(answer === 'RESUMED' ? 'RESUMED' : `REFUSED ${peer.refusal?.reason}`);
      }
      assert.deepEqual([...answers].sort(), ['REFUSED NOT_HERE', 'RESUMED'], answers.join(', '));
      // The refused client falls back to a fresh login: a new session, on a live worker.
      const refused = peers[answers.indexOf('REFUSED NOT_HERE')] as ResumePeer;
      const fresh = new ResumableChatter(cleanup);
      await fresh.join({ tcp: server.tcp }, 'fresh-after-kill');
      assert.notEqual(fresh.peer.route, refused.route, 'the new session is on a live worker');
      for (const peer of peers) if (peer.connected) peer.bye_();
      fresh.peer.bye_();
    } finally {
      await cleanup.run();
    }
  });
});

/** One TLS connection that sends `first` (then BYE with `bye`) and resolves with the first resume packet the server answers (WELCOME, RESUMED or REFUSED). */
async function tlsAnswer(port: number, ca: Buffer, first: Buffer, bye = false): Promise<ParsedPacket> {
  const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  const reader = new PacketReader();
  const changed = new Condition();
  let answer: ParsedPacket | undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const p of reader.push(chunk)) if (answer === undefined && [WELCOME, RESUMED, REFUSED].includes(p.id)) answer = p;
    changed.notify();
  });
  socket.on('error', () => changed.notify());
  socket.on('close', () => changed.notify());
  try {
    socket.write(first);
    await changed.until(() => answer !== undefined || socket.destroyed, 'an answer over TLS');
    if (answer === undefined) throw new Error('closed without an answer');
    if (bye) socket.write(packet(BYE));
    return answer;
  } finally {
    socket.end();
    socket.destroy();
  }
}

describe('chat-server --workers 2 --resume over TLS', () => {
  it('a TLS reconnect that lands on the other worker is refused NOT_HERE (a TLS session cannot move); on its own worker it resumes', async (t) => {
    const cleanup = new Cleanup();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'gamewire-route-'));
      cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
      const pem = makeCertificate(dir);
      if (typeof pem === 'string') return t.skip(pem);
      const server = await startServer(cleanup, ['--tls-cert', pem.certFile, '--tls-key', pem.keyFile]);
      const hello = packet(HELLO, Buffer.from([1]));
      const welcome = await tlsAnswer(server.tcp, pem.cert, hello);
      assert.equal(welcome.id, WELCOME);
      const token = welcome.bytes.subarray(4, 28);
      const route = token.readUInt16LE(0);
      const resume = (): Buffer => packet(RESUME, Buffer.concat([token, Buffer.alloc(8)]));
      // Steer: after a probe lands on the session's worker, the next connection lands on the other.
      for (let i = 0; i < 10; i++) if ((await tlsAnswer(server.tcp, pem.cert, hello, true)).bytes.readUInt16LE(4) === route) break;
      const refused = await tlsAnswer(server.tcp, pem.cert, resume());
      assert.equal(refused.id, REFUSED);
      assert.equal(refused.bytes[4], 4, 'NOT_HERE');
      assert.match(refused.bytes.subarray(9).toString(), /cannot move to it \(TLS/);
      // The session was not touched: a reconnect that lands on its own worker resumes it.
      let resumed = false;
      for (let i = 0; i < 4 && !resumed; i++) {
        const answer = await tlsAnswer(server.tcp, pem.cert, resume());
        resumed = answer.id === RESUMED;
      }
      assert.ok(resumed, 'resumed on its own worker');
    } finally {
      await cleanup.run();
    }
  });
});
