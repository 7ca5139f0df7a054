/**
 * Floods: packet and byte rate limits ('disconnect' and 'drop'), maxSessionsPerAddress, and a connect
 * storm against maxSessionCount.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { RateLimitedError } from '../../src/core/errors.js';
import { assertCause, openFileLimit, pollUntil, WatchedEcho, WatchedSession } from '../helpers/limits.js';
import { packet } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, withTimeout } from '../helpers/wait.js';

/** `count` packets of `size` bytes each (header included), id 5. */
function packets(count: number, size: number): Buffer {
  const one = packet(5, Buffer.alloc(size - 4, 0x61));
  return Buffer.concat(Array.from({ length: count }, () => one));
}

/** Sends `bytes` in one write to a new echo server with `options`, and times until all came back. */
async function timeEcho(
  t: { after(fn: () => unknown): void },
  bytes: Buffer,
  options: Parameters<typeof startServer<WatchedEcho>>[2],
): Promise<{ ms: number; session: WatchedEcho }> {
  const cleanup = cleanupAfter(t);
  const { service, collector } = await startServer(cleanup, () => new WatchedEcho(), options);
  const client = await RawClient.connect(service.port, { cleanup });
  const session = await collector.nth(0);
  const start = performance.now();
  await client.write(bytes);
  await client.waitForBytes(bytes.length, `${bytes.length} bytes echoed`, 20_000);
  const ms = performance.now() - start;
  assert.ok(client.received.equals(bytes), 'echo intact');
  return { ms, session };
}

describe('packet.maxPacketsPerSecond', () => {
  it("'disconnect': 1000 packets at once against 100/s ends the session with RATE_LIMITED", async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { packet: { maxPacketsPerSecond: 100 } });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(packets(1000, 8));
    const cause = await session.untilDisconnected();
    assertCause(cause, 'RATE_LIMITED', 'GW_ERR_RATE_LIMITED');
    assert.ok(cause.error instanceof RateLimitedError);
    assert.ok(session.packetCount <= 100, `${session.packetCount} packets were handled, at most the burst of 100`);
    assert.ok(session.packetCount >= 90, `${session.packetCount} packets were handled: the burst is allowed`);
    await client.waitForEnd();
  });

  it("'drop': 1000 packets at once against 100/s are handled up to the burst, the rest dropped and counted", async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), {
      packet: { maxPacketsPerSecond: 100 },
      rateLimitAction: 'drop',
    });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(packets(1000, 8));
    // Dropped packets call no hook, so poll the counters.
    await pollUntil(() => session.packetCount + session.droppedPacketCount === 1000, 'all 1000 packets handled or dropped');
    assert.ok(session.packetCount <= 100 + 5, `${session.packetCount} handled`);
    assert.ok(session.packetCount >= 90, `${session.packetCount} handled`);
    assert.ok(session.droppedPacketCount > 0);
    assert.equal(session.connected, true);
    assert.equal(session.cause, undefined);
    // The bucket refills: a packet a while later is handled.
    const before = session.packetCount;
    await new Promise((resolve) => setTimeout(resolve, 50));
    await client.write(packet(5, 'later'));
    await session.until(() => session.packetCount === before + 1, 'a later packet');
  });
});

describe('maxBytesPerSecond', () => {
  it("'disconnect': 100 KB at once against 10,000 B/s ends the session with RATE_LIMITED", async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { maxBytesPerSecond: 10_000 });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    await client.write(packets(100, 1000));
    const cause = await session.untilDisconnected();
    assertCause(cause, 'RATE_LIMITED', 'GW_ERR_RATE_LIMITED');
    assert.ok(cause.error instanceof RateLimitedError);
    assert.ok(session.packetBytes <= 10_000, `${session.packetBytes} bytes were handled, at most the 1 s burst`);
  });

  it("'drop' throttles: 50 KB against 10,000 B/s all arrive, but take about 4 s instead of at once", async (t) => {
    const bytes = packets(50, 1000);
    const free = await timeEcho(t, bytes, {});
    const throttled = await timeEcho(t, bytes, { maxBytesPerSecond: 10_000, rateLimitAction: 'drop' });
    assert.equal(throttled.session.connected, true);
    assert.equal(throttled.session.cause, undefined);
    // 10,000 bytes of burst, then 40,000 bytes at 10,000 B/s = 4 s; allow half of that.
    const floor = ((bytes.length - 10_000) / 10_000) * 0.5 * 1000;
    assert.ok(
      throttled.ms >= floor,
      `throttled echo took ${throttled.ms.toFixed(0)} ms (unthrottled ${free.ms.toFixed(0)} ms); expected >= ${floor} ms`,
    );
  });
});

describe('maxBytesPerSecond on a sustained stream', () => {
  it("'drop' holds a steady 100 KB/s sender to about 10,000 B/s (burst + rate × time + one read)", async (t) => {
    const cleanup = cleanupAfter(t);
    const rate = 10_000;
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), {
      maxBytesPerSecond: rate,
      rateLimitAction: 'drop',
      disconnectTimeoutMs: 500, // the paused session cannot see our FIN at cleanup
    });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    const one = packet(5, Buffer.alloc(1000 - 4, 0x62));
    const start = performance.now();
    const timer = setInterval(() => client.socket.write(one), 10); // 100 KB/s offered
    cleanup.add(() => clearInterval(timer));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    clearInterval(timer);
    const seconds = (performance.now() - start) / 1000;
    // The 1 s burst, then the rate; a chunk read before the pause is handled whole, so allow one read.
    const allowed = rate + rate * seconds + 64 * 1024;
    assert.equal(session.connected, true);
    assert.ok(
      session.packetBytes <= allowed,
      `handled ${session.packetBytes} bytes in ${seconds.toFixed(1)} s; the limit allows about ${allowed.toFixed(0)}`,
    );
    assert.ok(session.packetBytes >= rate, `handled only ${session.packetBytes} bytes`);
  });
});

describe('maxBytesPerSecond and a graceful close', () => {
  it("a throttled session closes as soon as the peer answers the FIN (reads resume to drain and drop)", async (t) => {
    const cleanup = cleanupAfter(t);
    const lingerMs = 3_000;
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), {
      maxBytesPerSecond: 1_000,
      rateLimitAction: 'drop',
      disconnectTimeoutMs: lingerMs,
    });
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(0);
    // 1,000 bytes every 5 ms against 1,000 B/s: reading pauses, and bytes wait unread behind it.
    const timer = setInterval(() => client.socket.writable && client.socket.write(packets(1, 1000)), 5);
    cleanup.add(() => clearInterval(timer));
    await pollUntil(() => session.packetCount >= 2, 'the first packets');
    await new Promise((resolve) => setTimeout(resolve, 50));
    session.disconnect('bye');
    await client.waitForEnd(); // our FIN arrived; the client closes its side at once
    clearInterval(timer);
    const peerDone = performance.now();
    const cause = await session.untilDisconnected(lingerMs * 2);
    const waited = performance.now() - peerDone;
    assert.equal(cause.code, 'LOCAL_DISCONNECT');
    assert.ok(
      waited < lingerMs / 2,
      `onDisconnected ${waited.toFixed(0)} ms after the peer closed: its FIN stayed unread behind the throttle (disconnectTimeoutMs ${lingerMs})`,
    );
  });
});

describe('maxSessionsPerAddress', () => {
  it('refuses the 4th connection from 127.0.0.1 at 3, and accepts one again after one leaves', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedEcho(), { maxSessionsPerAddress: 3 });
    const clients: RawClient[] = [];
    for (let i = 0; i < 3; i++) {
      clients.push(await RawClient.connect(service.port, { cleanup }));
      await collector.nth(i);
    }
    assert.equal(service.sessionCountFrom('127.0.0.1'), 3);

    const fourth = await RawClient.connect(service.port, { cleanup });
    await fourth.waitForClose();
    assert.equal(fourth.byteCount, 0, 'refused before any data');
    assert.equal(service.refusedCount, 1);
    assert.equal(collector.sessions.length, 3, 'no session for the refused connection');
    for (const client of clients) {
      const p = packet(9, 'still served');
      assert.deepEqual(await client.roundTrip(p), p);
    }

    (clients[0] as RawClient).end();
    await (collector.sessions[0] as WatchedEcho).untilDisconnected();
    assert.equal(service.sessionCountFrom('127.0.0.1'), 2);
    const fifth = await RawClient.connect(service.port, { cleanup });
    await collector.nth(3);
    const p = packet(9, 'fifth is in');
    assert.deepEqual(await fifth.roundTrip(p), p);
    assert.equal(service.refusedCount, 1);
    assert.equal(service.sessionCountFrom('127.0.0.1'), 3);
  });

  it('counts per address: a 4th connection from 127.0.0.2 is accepted', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedEcho(), { maxSessionsPerAddress: 3 });
    for (let i = 0; i < 3; i++) {
      await RawClient.connect(service.port, { cleanup });
      await collector.nth(i);
    }
    const other = connect({ host: '127.0.0.1', port: service.port, localAddress: '127.0.0.2' });
    other.on('error', () => {});
    cleanup.add(() => other.destroy());
    const connected = await withTimeout(
      new Promise<boolean>((resolve) => {
        other.once('connect', () => resolve(true));
        other.once('error', () => resolve(false));
      }),
      'a connection from 127.0.0.2',
    );
    if (!connected) return t.skip('cannot bind 127.0.0.2 on this host');
    const session = await collector.nth(3);
    assert.equal(session.remoteAddress, '127.0.0.2');
    assert.equal(service.sessionCountFrom('127.0.0.2'), 1);
    assert.equal(service.refusedCount, 0);
  });
});

describe('Connect storm', () => {
  const CLIENTS = 5_000;
  const MAX_SESSIONS = 1_000;

  it(`${CLIENTS} connects at once against maxSessionCount ${MAX_SESSIONS}: each is served or refused cleanly, no count drift`, async (t) => {
    const limit = openFileLimit();
    if (limit < CLIENTS + MAX_SESSIONS + 1_000) return t.skip(`ulimit -n is ${limit}; needs about ${CLIENTS + MAX_SESSIONS + 1_000}`);
    const cleanup = cleanupAfter(t);
    let maxLive = 0;
    let disconnected = 0;
    class CountedEcho extends WatchedEcho {
      protected override onConnected(): void {
        maxLive = Math.max(maxLive, this.service.sessionCount);
      }
      protected override onDisconnected(): void {
        disconnected++;
      }
    }
    const { service } = await startServer(cleanup, () => new CountedEcho(), {
      maxSessionCount: MAX_SESSIONS,
      backlog: 8192,
    });

    const probe = packet(3, 'storm');
    type Outcome = 'served' | 'refused' | string;
    const sockets: Socket[] = [];
    const outcomes = Array.from({ length: CLIENTS }, (_, i) =>
      new Promise<Outcome>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: service.port, noDelay: true });
        sockets.push(socket);
        let got = 0;
        let connected = false;
        let error: string | undefined;
        socket.on('connect', () => {
          connected = true;
          socket.write(probe);
        });
        socket.on('data', (chunk: Buffer) => {
          got += chunk.length;
          if (got === probe.length) resolve('served'); // stays open until every client has an outcome
          else if (got > probe.length) resolve(`client ${i}: ${got} bytes`);
        });
        socket.on('error', (e: NodeJS.ErrnoException) => {
          error = e.code ?? e.message;
        });
        socket.on('close', () => {
          if (!connected) resolve(`client ${i}: never connected (${error ?? 'no error'})`);
          else if (got === 0) resolve('refused');
          else if (got < probe.length) resolve(`client ${i}: closed after ${got} bytes`);
        });
      }),
    );
    cleanup.add(() => {
      for (const socket of sockets) socket.destroy();
    });

    const results = await withTimeout(Promise.all(outcomes), `${CLIENTS} outcomes`, 30_000);
    const served = results.filter((r) => r === 'served').length;
    const refused = results.filter((r) => r === 'refused').length;
    const other = results.filter((r) => r !== 'served' && r !== 'refused');
    assert.deepEqual(other.slice(0, 5), [], `${other.length} clients neither served nor refused`);
    assert.equal(served + refused, CLIENTS);
    assert.equal(served, MAX_SESSIONS, 'served clients hold their slot, so exactly the limit is served');
    assert.equal(service.acceptedCount, served);
    assert.equal(service.refusedCount, refused);
    assert.ok(maxLive <= MAX_SESSIONS, `sessionCount reached ${maxLive}`);
    assert.equal(service.sessionCount, MAX_SESSIONS);

    for (const socket of sockets) socket.destroy();
    await pollUntil(() => service.sessionCount === 0, 'every session to end', 15_000, 20);
    assert.equal(disconnected, served, 'onDisconnected once per served client');
    assert.equal(service.sessionCount, 0);
    assert.equal(service.sessions.size, 0);

    // The service is whole afterwards: a new client is served.
    const after = await RawClient.connect(service.port, { cleanup });
    assert.deepEqual(await after.roundTrip(probe), probe);
    assert.equal(service.sessionCount, 1);
  });
});
