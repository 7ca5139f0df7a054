/**
 * idleTimeoutMs (silent, slowloris and vanished peers) and PacketSession heartbeats (ping 65534 /
 * pong 65535, heartbeatRttMs, pings counting as traffic for the peer's idle timer).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleTimeoutError } from '../../src/core/errors.js';
import { ServerService } from '../../src/net/server-service.js';
import { assertCause, elapse, pollUntil, spawnNode, WatchedSession } from '../helpers/limits.js';
import { header, packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { makeClient, startServer } from '../helpers/services.js';
import { cleanupAfter } from '../helpers/wait.js';

const IDLE_MS = 200;

/** A child process that connects to the port given as its argument, prints 'connected', then idles. */
const VANISHING_PEER = `
import { connect } from 'node:net';
const socket = connect({ host: '127.0.0.1', port: Number(process.argv[1]) }, () => console.log('connected'));
socket.on('error', () => {});
setInterval(() => {}, 60_000);
`;

describe('idleTimeoutMs', () => {
  it('disconnects a silent peer with IDLE_TIMEOUT, not before the timeout', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { idleTimeoutMs: IDLE_MS });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const start = performance.now();
    const cause = await session.untilDisconnected();
    const took = performance.now() - start;
    assertCause(cause, 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
    assert.ok(cause.error instanceof IdleTimeoutError);
    assert.ok(took >= IDLE_MS * 0.9, `ended after ${took.toFixed(0)} ms, before idleTimeoutMs ${IDLE_MS}`);
    await client.waitForEnd(); // a graceful close: the peer gets a FIN
  });

  it('keeps a peer that sends a small packet every 50 ms (5 timeouts long)', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { idleTimeoutMs: IDLE_MS });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const timer = setInterval(() => client.socket.write(packet(1, 'tick')), 50);
    cleanup.add(() => clearInterval(timer));
    await elapse(IDLE_MS * 5);
    clearInterval(timer);
    assert.equal(session.cause, undefined, `ended: ${session.cause?.code}`);
    assert.equal(session.connected, true);
    assert.ok(session.packetCount >= 10, `${session.packetCount} packets arrived`);
    // ... and once it falls silent, it goes.
    assertCause(await session.untilDisconnected(), 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
  });

  it('disconnects a slowloris peer (half a packet, then nothing) with IDLE_TIMEOUT', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { idleTimeoutMs: IDLE_MS });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(packet(2, 'the first packet is whole'));
    await session.until(() => session.packetCount === 1, 'the whole packet');
    await client.write(Buffer.concat([header(1000, 3), Buffer.alloc(100, 7)])); // 104 of 1000 bytes
    assertCause(await session.untilDisconnected(), 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
    assert.equal(session.packetCount, 1);
  });

  for (const heartbeatIntervalMs of [0, 50]) {
    it(`ends a half-open peer (its process SIGSTOPped, no FIN) with IDLE_TIMEOUT (heartbeat ${heartbeatIntervalMs} ms)`, async (t) => {
      const cleanup = cleanupAfter(t);
      // The stopped peer never answers our FIN either, so let the graceful close give up quickly.
      const { service, collector } = await startServer(cleanup, () => new WatchedSession(), {
        packet: { heartbeatIntervalMs },
        idleTimeoutMs: IDLE_MS,
        disconnectTimeoutMs: 200,
      });
      const child = await spawnNode(cleanup, VANISHING_PEER, [String(service.port)], 'connected');
      const session = await collector.nth(0);
      assert.equal(child.kill('SIGSTOP'), true);
      const cause = await session.untilDisconnected();
      assertCause(cause, 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
      assert.equal(service.sessionCount, 0);
      if (heartbeatIntervalMs > 0) assert.equal(session.heartbeatRttMs, undefined, 'a stopped peer answers no ping');
    });
  }
});

describe('idleTimeoutMs with a peer that also stopped reading', () => {
  it('ends a vanished peer with IDLE_TIMEOUT even after game code filled its socket up to unwritable', async (t) => {
    // Game code that follows the docs stops optional traffic while !writable, so maxSendQueueBytes is
    // never reached; reading pauses while unwritable. The peer (SIGSTOPped) sends nothing and reads
    // nothing: only the idle timeout can end it.
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), {
      idleTimeoutMs: IDLE_MS,
      disconnectTimeoutMs: 200,
    });
    const child = await spawnNode(cleanup, VANISHING_PEER, [String(service.port)], 'connected');
    const session = await collector.nth(0);
    assert.equal(child.kill('SIGSTOP'), true);
    const update = Buffer.alloc(16 * 1024, 0x33);
    const sender = setInterval(() => {
      for (let i = 0; i < 8 && session.writable && session.connected; i++) session.sendPacket(1, update);
    }, 5);
    cleanup.add(() => clearInterval(sender));
    await session.until(() => !session.writable || session.cause !== undefined, 'the peer to fall behind', 10_000);
    const cause = await session.untilDisconnected(IDLE_MS * 10);
    clearInterval(sender);
    assertCause(cause, 'IDLE_TIMEOUT', 'GW_ERR_IDLE_TIMEOUT');
  });
});

describe('PacketSession heartbeat', () => {
  it('the server measures heartbeatRttMs; the client answers pings without code of its own', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedSession(), { packet: { heartbeatIntervalMs: 50 } });
    const client = makeClient(cleanup, () => new WatchedSession(), { port: server.service.port });
    await client.service.start();
    const serverSession = await server.collector.nth(0);
    const clientSession = await client.collector.nth(0);
    const rtt = (): number | undefined => serverSession.heartbeatRttMs;
    assert.equal(rtt(), undefined, 'no pong yet');
    await pollUntil(() => rtt() !== undefined, 'a pong', 2_000);
    const first = rtt();
    assert.ok(typeof first === 'number');
    assert.ok(first >= 0 && first < 1_000, `rtt ${first} ms`);
    assert.equal(clientSession.heartbeatRttMs, undefined, 'the client sends no pings of its own');
    // Heartbeats never reach onRecvPacket on either side.
    await elapse(200);
    assert.equal(clientSession.packetCount, 0);
    assert.equal(serverSession.packetCount, 0);
    assert.ok(clientSession.connected && serverSession.connected);
  });

  it('pings count as traffic: a silent client with idleTimeoutMs stays up while the server pings', async (t) => {
    const cleanup = cleanupAfter(t);
    const server = await startServer(cleanup, () => new WatchedSession(), {
      packet: { heartbeatIntervalMs: 50 },
      idleTimeoutMs: IDLE_MS, // the pongs keep the server side up too
    });
    const client = makeClient(cleanup, () => new WatchedSession(), { port: server.service.port, idleTimeoutMs: IDLE_MS });
    await client.service.start();
    const serverSession = await server.collector.nth(0);
    const clientSession = await client.collector.nth(0);
    await elapse(IDLE_MS * 5);
    assert.equal(clientSession.cause, undefined, `client ended: ${clientSession.cause?.code}`);
    assert.equal(serverSession.cause, undefined, `server ended: ${serverSession.cause?.code}`);
    assert.equal(clientSession.connected, true);
    assert.equal(typeof serverSession.heartbeatRttMs, 'number');
  });

  it('rejects a negative or fractional packet.heartbeatIntervalMs', () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      assert.throws(() => new ServerService({ port: 0, sessionFactory: () => new WatchedSession(), packet: { heartbeatIntervalMs: bad } }), {
        code: 'GW_ERR_INVALID_OPTION',
        message: /option packet\.heartbeatIntervalMs must be/,
      });
    }
  });
});
