/**
 * The browser GameClient with `resume`, against a real resume-enabled server through a proxy that
 * cuts its WebSocket: it reconnects by itself, resumes, and hands every packet to game code once and
 * in order; what it sent while away reaches the server once too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { GameClient, type ClientDisconnectCause, type WebSocketConstructor } from '../../src/client/index.js';
import { CutProxy } from '../helpers/cut-proxy.js';
import { PING_ID } from '../helpers/heartbeat-peer.js';
import { elapse, pollUntil } from '../helpers/limits.js';
import { packet } from '../helpers/packets.js';
import { startServer } from '../helpers/services.js';
import { Condition, cleanupAfter } from '../helpers/wait.js';
import { kMoveIn, kMoveOut, kReserveMove } from '../../src/net/symbols.js';
import { BURST, CLIENT_SEQ, MovableSession, NUMBERED, ResumeTestSession, u32, upTo } from '../net/resume/resume-fixtures.js';

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

class Game extends GameClient {
  readonly seqs: number[] = [];
  readonly events: string[] = [];
  cause: ClientDisconnectCause | undefined;
  readonly changed = new Condition();
  #next = 1;

  /** A heartbeat ping now, as the keepalive sends one: the client's clock, float64 LE. */
  ping(): void {
    const body = Buffer.alloc(8);
    body.writeDoubleLE(performance.now());
    this.send(packet(PING_ID, body));
  }

  /** Sends `count` numbered packets; what each `send` returned. */
  sendSeqs(count: number): boolean[] {
    const results: boolean[] = [];
    for (let i = 0; i < count; i++) results.push(this.send(packet(CLIENT_SEQ, u32(this.#next++))));
    return results;
  }

  protected override onRecvPacket(id: number, body: Uint8Array): void {
    if (id === NUMBERED) this.seqs.push(Buffer.from(body).readUInt32LE(0));
    this.changed.notify();
  }

  protected override onConnectionLost(cause: ClientDisconnectCause): void {
    this.events.push(`lost:${cause.code}`);
    this.changed.notify();
  }

  protected override onReconnecting(attempt: number, delayMs: number): void {
    this.events.push(delayMs === 0 ? `reconnecting:${attempt}:now` : `reconnecting:${attempt}`);
  }

  protected override onResumed(): void {
    this.events.push('resumed');
    this.changed.notify();
  }

  protected override onDisconnected(cause: ClientDisconnectCause): void {
    this.events.push(`disconnected:${cause.code}`);
    this.cause = cause;
    this.changed.notify();
  }
}

describe('GameClient with resume', () => {
  it('a WebSocket cut by an RST mid-burst: it reconnects by itself and every packet arrives once and in order, both ways', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {}, ws: { port: 0 } });
    const proxy = await CutProxy.start(service.wsPort as number, cleanup);
    const game = new Game(`ws://127.0.0.1:${proxy.port}/ws`, { WebSocket: NodeWebSocket, resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 100 } });
    cleanup.add(() => game.disconnect());
    const server = await collector.nth(0);
    await pollUntil(() => game.resumable, 'WELCOME');
    server.burst(200);
    game.sendSeqs(5);
    await game.changed.until(() => game.seqs.length >= 40, '40 packets');
    proxy.reset();
    await game.changed.until(() => game.suspended, 'suspended');
    server.burst(100);
    assert.deepEqual(game.sendSeqs(5), [true, true, true, true, true], 'kept while away, sent on resume: send says true');
    await game.changed.until(() => game.events.includes('resumed'), 'resumed', 5000);
    server.burst(10);
    await game.changed.until(() => game.seqs.length === 310, '310 packets');
    assert.deepEqual(game.seqs, upTo(310));
    await server.until(() => server.clientSeqs.length === 10, "the client's 10 packets");
    assert.deepEqual(server.clientSeqs, upTo(10));
    assert.deepEqual(game.events.slice(0, 2), ['lost:CONNECTION_RESET', 'reconnecting:0']);
    assert.equal(collector.sessions.length, 1);
    game.disconnect('bye');
    assert.equal(game.send(packet(CLIENT_SEQ, u32(99))), false, 'nothing is sent after disconnect()');
    await server.until(() => server.cause !== undefined, 'the server session ends');
    assert.equal(server.cause?.code, 'PEER_CLOSED', 'BYE ends it at once, not after the grace period');
  });

  it('MOVE: it drops the connection, reconnects at once with the new token, and resumes on the new server; every packet once and in order', async (t) => {
    const cleanup = cleanupAfter(t);
    const old = await startServer(cleanup, () => new MovableSession(), { resume: {}, ws: { port: 0 } });
    const next = await startServer(cleanup, () => new MovableSession(), { resume: {}, ws: { port: 0 } });
    const proxy = await CutProxy.start(old.service.wsPort as number, cleanup);
    const game = new Game(`ws://127.0.0.1:${proxy.port}/ws`, { WebSocket: NodeWebSocket, resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 100 } });
    cleanup.add(() => game.disconnect());
    const before = await old.collector.nth(0);
    await pollUntil(() => game.resumable, 'WELCOME');
    before.burst(100);
    game.sendSeqs(5);
    await before.until(() => before.clientSeqs.length === 5, "the client's first 5");
    const reserved = next.service[kReserveMove]();
    assert.ok(reserved !== undefined);
    proxy.targetPort = next.service.wsPort as number;
    const moved = old.service[kMoveOut](before.id, reserved.token);
    assert.ok(typeof moved !== 'string', String(moved));
    game.sendSeqs(3);
    await pollUntil(() => (next.service.resumeCounters?.refused.RETRY_LATER ?? 0) >= 1, 'RETRY_LATER before the session arrived', 5000);
    const after = next.service[kMoveIn](reserved.key, moved);
    assert.ok(typeof after !== 'string', String(after));
    await game.changed.until(() => game.events.includes('resumed'), 'resumed', 5000);
    after.burst(20);
    await game.changed.until(() => game.seqs.length === 120, '120 packets');
    assert.deepEqual(game.seqs, upTo(120));
    await after.until(() => after.clientSeqs.length === 8, "the client's 8 packets");
    assert.deepEqual(after.clientSeqs, upTo(8));
    assert.deepEqual(game.events.slice(0, 2), ['lost:SESSION_MOVED', 'reconnecting:0:now']);
    assert.ok(!game.events.some((e) => e.startsWith('disconnected')), game.events.join(' '));
  });

  it('a server that ended the session refuses the resume: onDisconnected RESUME_REFUSED', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {}, ws: { port: 0 } });
    const proxy = await CutProxy.start(service.wsPort as number, cleanup);
    const game = new Game(`ws://127.0.0.1:${proxy.port}/ws`, { WebSocket: NodeWebSocket, resume: { reconnectDelayMs: 300, maxReconnectDelayMs: 300 } });
    cleanup.add(() => game.disconnect());
    const server = await collector.nth(0);
    await pollUntil(() => game.resumable, 'WELCOME');
    proxy.reset();
    await server.until(() => server.state === 'suspended', 'suspended');
    server.disconnect('gone');
    await game.changed.until(() => game.cause !== undefined, 'onDisconnected');
    assert.equal(game.cause?.code, 'RESUME_REFUSED');
    assert.match(game.cause?.reason ?? '', /UNKNOWN_SESSION/);
  });

  it('a pong to a ping of the connection that was cut, replayed after the resume, does not skew heartbeatRttMs', async (t) => {
    const AWAY_MS = 600;
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {}, ws: { port: 0 } });
    const proxy = await CutProxy.start(service.wsPort as number, cleanup);
    // No timed pings: the test sends each ping itself.
    const game = new Game(`ws://127.0.0.1:${proxy.port}/ws`, { WebSocket: NodeWebSocket, keepaliveIntervalMs: 0, resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 100 } });
    cleanup.add(() => game.disconnect());
    await collector.nth(0);
    await pollUntil(() => game.resumable, 'WELCOME');
    // The server answers in order: when the numbered packet arrives, the pong before it was read.
    const pingThenMark = (): void => {
      game.ping();
      game.send(packet(BURST, u32(1)));
    };
    pingThenMark();
    await game.changed.until(() => game.seqs.length === 1, 'the pong, then packet 1');
    const before = game.heartbeatRttMs;
    assert.ok(before !== undefined && before < AWAY_MS / 2, `round trip ${before} ms`);

    proxy.blackhole();
    game.ping(); // into the void: kept for the server, which answers it only after the resume
    await elapse(AWAY_MS);
    proxy.reset();
    await game.changed.until(() => game.events.includes('resumed'), 'resumed', 5000);
    game.send(packet(BURST, u32(1)));
    await game.changed.until(() => game.seqs.length === 2, "the old ping's pong, then packet 2");
    assert.equal(game.heartbeatRttMs, before, `the pong to the ping sent ${AWAY_MS} ms before the resume is not a round trip`);

    pingThenMark();
    await game.changed.until(() => game.seqs.length === 3, 'a new pong, then packet 3');
    const after = game.heartbeatRttMs;
    assert.ok(after !== undefined && after !== before && after < AWAY_MS / 2, `a ping of the new connection counts: ${after} ms`);
  });
});
