/**
 * Keepalive with `idleTimeoutMs` (T): a PacketSession pings a peer it has heard nothing from for T/4
 * to T/2, so a peer that only listens but answers pings (as docs/protocol.md asks) stays connected,
 * and one that answers nothing is cut 1 to 1.25 T after its last byte. The peers here are written
 * from the doc (test/helpers/heartbeat-peer.ts) or are gamewire's own ClientService.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCause, elapse, WatchedSession } from '../helpers/limits.js';
import { HeartbeatPeer } from '../helpers/heartbeat-peer.js';
import { RawClient } from '../helpers/raw-client.js';
import { RecordingSession } from '../helpers/recording-session.js';
import { makeClient, startServer } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';

/** Slack for timer lateness on a busy machine, ms. */
const LATE_MS = 150;

describe('keepalive pings of a server with idleTimeoutMs', () => {
  it('pings a quiet peer after a quarter to half of the timeout; a peer that answers stays connected for 5 timeouts', async (t) => {
    const T = 400;
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { idleTimeoutMs: T });
    const peer = await HeartbeatPeer.connect(service.port, true, cleanup);
    await peer.send(1, Buffer.from('hello'));
    const session = await collector.nth(0);
    const start = performance.now();
    await peer.until(() => performance.now() - start >= 5 * T && peer.pings.length >= 5, 'five timeouts of pings', 20 * T);
    assert.equal(session.cause, undefined, `ended: ${session.cause?.code}`);
    assert.equal(session.connected, true);
    for (const ping of peer.pings) {
      assert.equal(ping.body.length, 8, 'a ping carries 8 bytes');
      assert.ok(ping.silentForMs >= T / 4 - 1, `pinged after ${ping.silentForMs.toFixed(0)} ms of silence, before T/4`);
      assert.ok(ping.silentForMs <= T / 2 + LATE_MS, `pinged only after ${ping.silentForMs.toFixed(0)} ms of silence (T/2 = ${T / 2})`);
    }
    // The pongs carry the server's clock back: the keepalive measures the round trip too.
    assert.equal(typeof session.heartbeatRttMs, 'number');
    assert.equal(session.packetCount, 1, 'heartbeats never reach onRecvPacket');
  });

  it('cuts a peer that answers nothing with IDLE_TIMEOUT 1 to 1.25 timeouts after its last byte, having pinged it once', async (t) => {
    const T = 1200;
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { idleTimeoutMs: T });
    const peer = await HeartbeatPeer.connect(service.port, false, cleanup);
    await peer.send(1, Buffer.from('hello'));
    const session = await collector.nth(0);
    const endedAt = await peer.untilEnded(3 * T);
    const silentMs = endedAt - peer.lastWriteAt;
    assertCause(await session.untilDisconnected(), 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
    assert.ok(silentMs >= T, `cut after ${silentMs.toFixed(0)} ms of silence, before the timeout ${T}`);
    assert.ok(silentMs <= 1.25 * T + LATE_MS, `cut after ${silentMs.toFixed(0)} ms of silence, later than 1.25 x ${T}`);
    assert.equal(peer.pings.length, 1, 'one ping per silence');
  });

  it('never pings a peer that keeps talking', async (t) => {
    const T = 400;
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { idleTimeoutMs: T });
    const peer = await HeartbeatPeer.connect(service.port, true, cleanup);
    const talk = setInterval(() => void peer.send(1, Buffer.from('tick')), T / 8);
    cleanup.add(() => clearInterval(talk));
    const session = await collector.nth(0);
    await elapse(3 * T);
    clearInterval(talk);
    assert.equal(peer.pings.length, 0);
    assert.equal(session.connected, true);
  });

  it('a Session reading raw bytes sends nothing of its own to a quiet peer: it has no ping to send', async (t) => {
    const T = 300;
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new RecordingSession(), { idleTimeoutMs: T });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.waitForEnd(4 * T);
    assert.equal(client.byteCount, 0);
    assert.equal((await session.untilDisconnected()).code, 'IDLE_TIMEOUT');
  });
});

describe('keepalive of a ClientService', () => {
  it('a PacketSession client without idleTimeoutMs stays connected to a server with one: it answers the pings by itself', async (t) => {
    const T = 300;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedSession(), { idleTimeoutMs: T });
    const client = makeClient(cleanup, () => new WatchedSession(), { port: server.service.port });
    await client.service.start();
    const serverSession = await server.collector.nth(0);
    const clientSession = await client.collector.nth(0);
    await elapse(5 * T);
    assert.equal(serverSession.cause, undefined, `server side ended: ${serverSession.cause?.code}`);
    assert.equal(clientSession.cause, undefined, `client side ended: ${clientSession.cause?.code}`);
    assert.equal(typeof serverSession.heartbeatRttMs, 'number', 'the server pinged and the client answered');
    assert.equal(clientSession.heartbeatRttMs, undefined, 'the client, without an idle timeout, pinged nothing');
  });

  it('a PacketSession client with idleTimeoutMs keeps itself alive against a quiet server: it pings, the server answers', async (t) => {
    const T = 300;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedSession());
    const client = makeClient(cleanup, () => new WatchedSession(), { port: server.service.port, idleTimeoutMs: T });
    await client.service.start();
    const serverSession = await server.collector.nth(0);
    const clientSession = await client.collector.nth(0);
    await elapse(5 * T);
    assert.equal(clientSession.cause, undefined, `client side ended: ${clientSession.cause?.code}`);
    assert.equal(typeof clientSession.heartbeatRttMs, 'number');
    assert.equal(serverSession.connected, true);
  });

  it('the same client against a server that answers nothing (raw bytes) ends with IDLE_TIMEOUT 1 to 1.25 timeouts after connecting', async (t) => {
    const T = 1200;
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new RecordingSession());
    const client = makeClient(cleanup, () => new WatchedSession(), { port: server.service.port, idleTimeoutMs: T });
    const started = client.service.start();
    const clientSession = await client.collector.nth(0);
    await started;
    const connectedAt = performance.now();
    assertCause(await clientSession.untilDisconnected(3 * T), 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
    const took = performance.now() - connectedAt;
    assert.ok(took >= T * 0.99, `ended after ${took.toFixed(0)} ms`);
    assert.ok(took <= 1.25 * T + LATE_MS, `ended after ${took.toFixed(0)} ms, later than 1.25 x ${T}`);
    const serverSession = await server.collector.nth(0);
    assert.equal(serverSession.bytesSeen, 12, `the server got one 12-byte ping, ${serverSession.bytesSeen} bytes`);
  });
});
