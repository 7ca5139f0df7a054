/**
 * ClientService sessions with `resume`: cut by a proxy (RST or silently), they reconnect by themselves
 * with backoff, resume, and deliver every packet once and in order to game code, both ways.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CutProxy } from '../../helpers/cut-proxy.js';
import { pollUntil } from '../../helpers/limits.js';
import { makeClient, startServer } from '../../helpers/services.js';
import { cleanupAfter } from '../../helpers/wait.js';
import { ResumePlayer, ResumeTestSession, upTo } from './resume-fixtures.js';

/** Every reconnect of these tests waits a backoff delay within the defaults' bounds. */
class Player extends ResumePlayer {
  protected override onReconnecting(attempt: number, delayMs: number): void {
    assert.ok(delayMs >= 1 && delayMs <= 5000);
    super.onReconnecting(attempt, delayMs);
  }
}

describe('ClientService with resume', () => {
  for (const [transport, cut] of [
    ['tcp', 'reset'],
    ['tcp', 'blackhole'],
    ['ws', 'reset'],
  ] as const) {
    it(`a ${transport} session cut (${cut}) mid-burst reconnects by itself and resumes: every packet once and in order, both ways`, async (t) => {
      const cleanup = cleanupAfter(t);
      const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {}, ws: { port: 0 } });
      const proxy = await CutProxy.start(transport === 'tcp' ? service.port : (service.wsPort as number), cleanup);
      const client = makeClient(cleanup, () => new Player(), {
        port: proxy.port,
        // A silent loss is seen from silence: the idle watch (with its keepalive pings) finds it.
        idleTimeoutMs: 300,
        resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 100 },
        ...(transport === 'ws' ? { ws: {} } : {}),
      });
      const player = await client.service.connect();
      const server = await collector.nth(0);
      await pollUntil(() => player.resumable, 'WELCOME');
      server.burst(100);
      player.sendSeqs(5);
      await player.until(() => player.seqs.length >= 30, '30 packets');
      proxy[cut]();
      server.burst(100);
      player.sendSeqs(5);
      await player.until(() => player.events.includes('resumed'), 'resumed', 5000);
      server.burst(50);
      player.sendSeqs(2);
      await player.until(() => player.seqs.length === 250, '250 packets');
      assert.deepEqual(player.seqs, upTo(250));
      await server.until(() => server.clientSeqs.length === 12, "the client's 12 packets");
      assert.deepEqual(server.clientSeqs, upTo(12));
      assert.equal(collector.sessions.length, 1, 'the server made no second session');
      assert.equal(client.service.sessionCount, 1);
      assert.equal(player.events[0], cut === 'reset' ? 'lost:CONNECTION_RESET' : 'lost:IDLE_TIMEOUT');
      assert.equal(player.events[1], 'reconnecting:0');
      assert.equal(player.events.at(-1), 'resumed');
    });
  }

  it('a server that is gone: the client gives up after the grace period with RESUME_EXPIRED', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new ResumeTestSession(), { resume: { graceMs: 1000 } });
    const proxy = await CutProxy.start(service.port, cleanup);
    const client = makeClient(cleanup, () => new Player(), { port: proxy.port, resume: { reconnectDelayMs: 50, maxReconnectDelayMs: 200 } });
    const player = await client.service.connect();
    await pollUntil(() => player.resumable, 'WELCOME');
    await proxy.close(); // nothing listens there any more: every reconnect fails
    await player.until(() => player.cause !== undefined, 'onDisconnected', 5000);
    assert.equal(player.cause?.code, 'RESUME_EXPIRED');
    assert.ok(player.events.filter((e) => e.startsWith('reconnecting')).length >= 3, player.events.join(' '));
    assert.equal(client.service.sessionCount, 0);
  });

  it('a session the server ends says BYE: the client does not try to resume it', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {} });
    const client = makeClient(cleanup, () => new Player(), { port: service.port, resume: { reconnectDelayMs: 20 } });
    const player = await client.service.connect();
    await pollUntil(() => player.resumable, 'WELCOME');
    const server = await collector.nth(0);
    server.disconnect('restart'); // a BYE arrives: the client does not try to resume
    await player.until(() => player.cause !== undefined, 'onDisconnected');
    assert.equal(player.cause?.code, 'LOCAL_DISCONNECT');
    assert.deepEqual(player.events, ['disconnected:LOCAL_DISCONNECT']);
  });

  it('a session the server no longer has: RESUME_REFUSED at the first answer', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), { resume: {} });
    const proxy = await CutProxy.start(service.port, cleanup);
    const client = makeClient(cleanup, () => new Player(), { port: proxy.port, resume: { reconnectDelayMs: 200, maxReconnectDelayMs: 200 } });
    const player = await client.service.connect();
    await pollUntil(() => player.resumable, 'WELCOME');
    const server = await collector.nth(0);
    proxy.reset();
    await server.until(() => server.state === 'suspended', 'suspended');
    server.disconnect('gone'); // the suspended session ends at once; its token is forgotten
    await player.until(() => player.cause !== undefined, 'onDisconnected');
    assert.equal(player.cause?.code, 'RESUME_REFUSED');
    assert.equal((player.cause?.error as { reason?: string } | undefined)?.reason, 'UNKNOWN_SESSION');
    assert.deepEqual(player.events, ['lost:CONNECTION_RESET', 'reconnecting:0', 'disconnected:RESUME_REFUSED']);
  });

  it('against a server without resume the session is a plain one, and a drop ends it', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new ResumeTestSession());
    const client = makeClient(cleanup, () => new Player(), { port: service.port, resume: {} });
    const player = await client.service.connect();
    const server = await collector.nth(0);
    server.burst(3);
    await player.until(() => player.seqs.length === 3, '3 packets');
    player.sendSeqs(1);
    assert.equal(player.resumable, false);
    server.disconnect();
    await player.until(() => player.cause !== undefined, 'onDisconnected');
    assert.deepEqual(player.events, [`disconnected:${player.cause?.code}`]);
  });
});

describe('a reconnect storm', () => {
  it('resumes over maxResumesPerSecond are told to retry later; every client still comes back', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new ResumeTestSession(), { resume: { maxResumesPerSecond: 2 } });
    const proxy = await CutProxy.start(service.port, cleanup);
    const client = makeClient(cleanup, () => new Player(), { port: proxy.port, maxSessionCount: 6, resume: { reconnectDelayMs: 10, maxReconnectDelayMs: 20 } });
    await client.service.start();
    const players = [...client.service.sessions];
    await pollUntil(() => players.every((p) => p.resumable), 'WELCOME x6');
    proxy.reset();
    for (const player of players) await player.until(() => player.events.includes('resumed'), 'resumed', 8000);
    const counters = service.resumeCounters;
    assert.equal(counters?.resumed, 6);
    assert.ok((counters?.refused.RETRY_LATER ?? 0) >= 1, `told to retry later ${counters?.refused.RETRY_LATER} times`);
    assert.equal(service.sessionCount, 6);
  });
});
