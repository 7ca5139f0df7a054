/**
 * ServerService.drain(): the listeners close at once (a new connection is refused by the OS), the
 * sessions go on serving until they end or the deadline, and those left end with SERVICE_DRAINED
 * (GW_ERR_SERVICE_DRAINED; WebSocket close 1012), distinct from SERVICE_CLOSING.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { DisconnectCode } from '../../src/core/disconnect-cause.js';
import { ServiceDrainedError } from '../../src/core/errors.js';
import { connectOutcome, RawClient } from '../helpers/raw-client.js';
import { echoBehavior, RecordingSession } from '../helpers/recording-session.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, withTimeout } from '../helpers/wait.js';

describe('ServerService.drain()', () => {
  it('stops accepting at once; the sessions go on until they end, then it resolves with the service closed', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(echoBehavior));
    const port = service.port;
    const client = await RawClient.connect(port);
    cleanup.add(() => client.close());
    const session = await collector.nth(0);
    assert.deepEqual([...(await client.roundTrip(Buffer.from('before')))], [...Buffer.from('before')]);

    let drained = false;
    const drain = service.drain({ timeoutMs: 60_000 }).then(() => (drained = true));
    assert.equal(service.draining, true);
    assert.equal(service.closing, false, 'a draining service still serves: it is not closing');
    assert.equal(await connectOutcome(port), 'ECONNREFUSED', 'a new connection is refused by the OS');
    // The session that was there goes on serving.
    assert.deepEqual([...(await client.roundTrip(Buffer.from('during')))], [...Buffer.from('during')]);
    assert.equal(drained, false);
    assert.equal(service.drain(), service.drain(), 'drain() again returns the same promise');

    client.end();
    await withTimeout(drain, 'the drain to end once the last session left');
    assert.equal(service.state, 'closed');
    assert.equal(service.draining, false);
    assert.equal((await session.untilDisconnected()).code, DisconnectCode.PeerClosed, 'it ended as its client chose, not by the drain');
  });

  it('at the deadline the sessions left end with SERVICE_DRAINED (TCP: FIN; WebSocket: close 1012)', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(echoBehavior), { ws: { port: 0 } });
    const tcp = await RawClient.connect(service.port);
    cleanup.add(() => tcp.close());
    const ws = new WebSocket(`ws://127.0.0.1:${service.wsPort}/ws`);
    cleanup.add(() => ws.terminate());
    const wsClosed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const sessions = [await collector.nth(0), await collector.nth(1)];

    const startedAt = performance.now();
    await withTimeout(service.drain({ timeoutMs: 150 }), 'the drain deadline');
    const tookMs = performance.now() - startedAt;
    assert.ok(tookMs >= 140, `the sessions were given the whole deadline (took ${tookMs.toFixed(0)} ms)`);
    for (const session of sessions) {
      const cause = await session.untilDisconnected();
      assert.equal(cause.code, DisconnectCode.ServiceDrained);
      assert.ok(cause.error instanceof ServiceDrainedError);
      assert.equal(cause.error.code, 'GW_ERR_SERVICE_DRAINED');
      assert.equal((cause.error as ServiceDrainedError).drainTimeoutMs, 150);
    }
    await tcp.waitForEnd();
    const close = await withTimeout(wsClosed, 'the WebSocket close');
    assert.equal(close.code, 1012, 'close code 1012: service restart');
    assert.match(close.reason, /^SERVICE_DRAINED/);
    assert.equal(service.counters.disconnects.get(DisconnectCode.ServiceDrained), 2);
  });

  it('close() while draining cuts the wait short; the sessions still end with SERVICE_DRAINED', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(echoBehavior));
    const client = await RawClient.connect(service.port);
    cleanup.add(() => client.close());
    const session = await collector.nth(0);
    const drain = service.drain({ timeoutMs: 60_000 });
    await withTimeout(service.close(), 'close() during the drain', 2_000);
    await withTimeout(drain, 'the drain promise');
    const cause = await session.untilDisconnected();
    assert.equal(cause.code, DisconnectCode.ServiceDrained);
    assert.match(cause.reason, /before its drain deadline/);
  });

  it('a service with no sessions closes at once; one never started closes; a bad timeout is refused', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service } = await startServer(cleanup, () => new RecordingSession());
    await withTimeout(service.drain(), 'an empty drain', 1_000);
    assert.equal(service.state, 'closed');
    const { service: other } = await startServer(cleanup, () => new RecordingSession());
    assert.throws(() => other.drain({ timeoutMs: -1 }), { code: 'GW_ERR_INVALID_OPTION' });
    assert.equal(other.draining, false);
  });
});
