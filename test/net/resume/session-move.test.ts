/**
 * A resumable session moved from one server to another in the same process (what a cluster worker
 * does in a rolling reload, without the IPC): the client is told MOVE, reconnects at once through the
 * "load balancer" (a proxy now pointing at the new server), is refused RETRY_LATER while the session
 * has not arrived, then resumes there: every packet once and in order both ways, same session id,
 * the game's state restored, no onConnected and no onDisconnected on the client.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kMoveIn, kMoveOut, kReserveMove } from '../../../src/net/symbols.js';
import { CutProxy } from '../../helpers/cut-proxy.js';
import { pollUntil } from '../../helpers/limits.js';
import { makeClient, startServer } from '../../helpers/services.js';
import { cleanupAfter } from '../../helpers/wait.js';
import { MovableSession, ResumePlayer, ResumeTestSession, upTo } from './resume-fixtures.js';

describe('a resumable session that moves to another server process', () => {
  for (const transport of ['tcp', 'ws'] as const) {
    it(`over ${transport}: MOVE, RETRY_LATER until it arrives, then resumed there with every packet once and in order`, async (t) => {
      const cleanup = cleanupAfter(t);
      const options = { resume: {}, ws: { port: 0 } };
      const old = await startServer(cleanup, () => new MovableSession(), options);
      const next = await startServer(cleanup, () => new MovableSession(), options);
      const portOf = (service: typeof old.service): number => (transport === 'tcp' ? service.port : (service.wsPort as number));
      const proxy = await CutProxy.start(portOf(old.service), cleanup);
      const client = makeClient(cleanup, () => new ResumePlayer(), {
        port: proxy.port,
        resume: { reconnectDelayMs: 20, maxReconnectDelayMs: 100 },
        ...(transport === 'ws' ? { ws: {} } : {}),
      });
      const player = await client.service.connect();
      const before = await old.collector.nth(0);
      await pollUntil(() => player.resumable, 'WELCOME');
      before.score = 42;
      before.burst(100);
      player.sendSeqs(5);
      await before.until(() => before.clientSeqs.length === 5, "the client's first 5 packets");

      const reserved = next.service[kReserveMove]();
      assert.ok(reserved !== undefined);
      proxy.targetPort = portOf(next.service); // new connections now reach the new process
      before.burst(20); // queued this turn: it must move too
      const moved = old.service[kMoveOut](before.id, reserved.token);
      assert.ok(typeof moved !== 'string', String(moved));
      assert.equal(before.send(Buffer.alloc(4)), false, 'the session left behind sends nothing');
      player.sendSeqs(3); // may reach the old process after the cut: sent again to the new one
      // The client comes at once, before the session: told to retry.
      await pollUntil(() => (next.service.resumeCounters?.refused.RETRY_LATER ?? 0) >= 1, 'a RESUME refused RETRY_LATER', 5000);
      assert.equal(player.events[0], 'lost:SESSION_MOVED');
      assert.equal(player.events[1], 'reconnecting:0');
      assert.equal(player.reconnectDelays[0], 0, 'at once: MOVE means the session is waiting elsewhere');

      const after = next.service[kMoveIn](reserved.key, moved);
      assert.ok(typeof after !== 'string', String(after));
      assert.equal(after.id, before.id, 'the session keeps its id');
      assert.equal(after.restored, true);
      assert.equal(after.score, 42);
      assert.equal(after.state, 'suspended');
      await player.until(() => player.events.includes('resumed'), 'resumed', 5000);
      after.burst(30);
      player.sendSeqs(2);
      await player.until(() => player.seqs.length === 150, '150 packets');
      assert.deepEqual(player.seqs, upTo(150));
      await after.until(() => after.clientSeqs.length === 10, "the client's 10 packets");
      assert.deepEqual(after.clientSeqs, upTo(10), 'every client packet once and in order across the move');
      await before.until(() => before.cause !== undefined, 'the old object closed');
      assert.equal(before.cause?.code, 'SESSION_MOVED');
      assert.ok(!after.events.includes('connected'), 'no onConnected on the new process: restoreState instead');
      assert.deepEqual(after.events, [`resumed:${transport}`]);
      assert.ok(!player.events.some((e) => e.startsWith('disconnected')), player.events.join(' '));
      assert.equal(next.collector.sessions.length, 1);
      assert.equal(next.service.resumeCounters?.resumed, 1);
    });
  }

  it('a session whose class has no hooks does not move: it stays, and nothing is sent', async (t) => {
    const cleanup = cleanupAfter(t);
    const old = await startServer(cleanup, () => new ResumeTestSession(), { resume: {} });
    const next = await startServer(cleanup, () => new ResumeTestSession(), { resume: {} });
    const client = makeClient(cleanup, () => new ResumePlayer(), { port: old.service.port, resume: {} });
    const player = await client.service.connect();
    await pollUntil(() => player.resumable, 'WELCOME');
    const session = await old.collector.nth(0);
    const reserved = next.service[kReserveMove]();
    assert.ok(reserved !== undefined);
    const why = old.service[kMoveOut](session.id, reserved.token);
    assert.equal(why, 'its class has no serializeState and restoreState');
    assert.equal(session.state, 'open');
    session.burst(3);
    await player.until(() => player.seqs.length === 3, 'the session goes on');
    assert.deepEqual(player.events, []);
  });

  it('a restoreState that throws fails the move in: the reservation is released and the client is refused', async (t) => {
    const cleanup = cleanupAfter(t);
    class Broken extends MovableSession {
      override restoreState(): void {
        throw new Error('bad state');
      }
    }
    const old = await startServer(cleanup, () => new MovableSession(), { resume: {} });
    const next = await startServer(cleanup, (): MovableSession => new Broken(), { resume: {} });
    const proxy = await CutProxy.start(old.service.port, cleanup);
    const client = makeClient(cleanup, () => new ResumePlayer(), { port: proxy.port, resume: { reconnectDelayMs: 20 } });
    const player = await client.service.connect();
    await pollUntil(() => player.resumable, 'WELCOME');
    const before = await old.collector.nth(0);
    const reserved = next.service[kReserveMove]();
    assert.ok(reserved !== undefined);
    proxy.targetPort = next.service.port;
    const moved = old.service[kMoveOut](before.id, reserved.token);
    assert.ok(typeof moved !== 'string');
    const after = next.service[kMoveIn](reserved.key, moved);
    assert.match(String(after), /restoreState threw/);
    await player.until(() => player.events.some((e) => e.startsWith('disconnected')), 'the client gives up', 5000);
    assert.deepEqual(player.events.slice(-1), ['disconnected:RESUME_REFUSED']);
    assert.equal(next.service.sessionCount, 0);
  });
});
