/**
 * Several faulty peers at once against one server while a well-behaved peer keeps round-tripping, and
 * a bounded-time fuzz of live sessions with random bytes in random chunks (seeded; the seed is
 * printed, and FUZZ_SEED=n replays it).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { HandlerError } from '../../src/core/errors.js';
import { Room } from '../../src/room/room.js';
import { assertCause, pollUntil, WatchedEcho, WatchedSession } from '../helpers/limits.js';
import { header, mulberry32, packet, PacketReader, randomInt } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, withTimeout, type Cleanup } from '../helpers/wait.js';

const THROW_ID = 666;
const BROADCAST_ID = 2000;
const MAX_PACKET_SIZE = 8192;

/** Echoes every packet, except that id 666 throws. */
function faultyEcho(session: WatchedSession, id: number, body: Buffer): void {
  if (id === THROW_ID) throw new Error('handler bug for this peer');
  session.sendPacket(id, body);
}

/** The well-behaved peer: sends numbered echo requests and checks echoes and broadcasts, in order. */
class GoodPeer {
  echoed = 0;
  broadcasts = 0;
  readonly problems: string[] = [];
  private sent = 0;
  private readonly reader = new PacketReader();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly client: RawClient) {
    client.socket.on('data', (chunk: Buffer) => {
      for (const p of this.reader.push(chunk)) {
        const seq = p.bytes.readUInt32LE(4);
        if (p.id === BROADCAST_ID) {
          if (seq !== this.broadcasts) this.problems.push(`broadcast ${seq}, expected ${this.broadcasts}`);
          this.broadcasts = seq + 1;
        } else if (p.id === 10 && seq === this.echoed && p.size === 4 + 4 + (seq % 50)) {
          this.echoed++;
        } else {
          this.problems.push(`unexpected packet id ${p.id} seq ${seq} size ${p.size} (next echo ${this.echoed})`);
        }
      }
    });
  }

  /** Sends one echo request every `everyMs`, at most 4 outstanding. */
  start(everyMs: number): void {
    this.timer = setInterval(() => {
      if (this.sent - this.echoed >= 4) return;
      const body = Buffer.alloc(4 + (this.sent % 50), 0x11);
      body.writeUInt32LE(this.sent++, 0);
      this.client.socket.write(packet(10, body));
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** A raw socket that never reads. */
async function neverReader(cleanup: Cleanup, port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  socket.pause();
  socket.on('error', () => {});
  cleanup.add(() => socket.destroy());
  await withTimeout(new Promise((resolve) => socket.once('connect', resolve)), 'connect');
  return socket;
}

describe('Faulty peers beside a well-behaved one', () => {
  it('each fault ends only its own session, with the right cause; the good peer is served throughout', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<WatchedSession>();
    cleanup.add(() => room.close());
    const { service, collector } = await startServer(
      cleanup,
      () => new WatchedSession(faultyEcho),
      { maxSendQueueBytes: 256 * 1024, packet: { maxPacketSize: MAX_PACKET_SIZE } },
    );
    let made = 0;
    const sessionOf = async (): Promise<WatchedSession> => {
      const session = await collector.nth(made++);
      room.enter(session);
      return session;
    };

    const good = new GoodPeer(await RawClient.connect(service.port, { cleanup }));
    const goodSession = await sessionOf();
    good.start(2);
    cleanup.add(() => good.stop());

    // Broadcast to everyone: two 4 KiB packets per ms.
    let bseq = 0;
    const bbody = Buffer.alloc(4092, 0x5a);
    const broadcaster = setInterval(() => {
      for (let i = 0; i < 2; i++) {
        bbody.writeUInt32LE(bseq++, 0);
        room.broadcast(packet(BROADCAST_ID, bbody));
      }
    }, 1);
    cleanup.add(() => clearInterval(broadcaster));

    const resetter = await RawClient.connect(service.port, { cleanup });
    const resetSession = await sessionOf();
    const malformed = await RawClient.connect(service.port, { cleanup });
    const malformedSession = await sessionOf();
    const oversized = await RawClient.connect(service.port, { cleanup });
    const oversizedSession = await sessionOf();
    const thrower = await RawClient.connect(service.port, { cleanup });
    const throwerSession = await sessionOf();
    await neverReader(cleanup, service.port);
    const slowSession = await sessionOf();
    const echoesAtStart = good.echoed;

    // Reset mid-packet: one whole packet (so the server has read), then half of one, then RST.
    await resetter.write(Buffer.concat([packet(1, 'whole'), packet(1, Buffer.alloc(300, 1)).subarray(0, 150)]));
    await resetSession.until(() => resetSession.packetCount === 1, 'the whole packet');
    await resetter.reset();
    await malformed.write(Buffer.concat([packet(1, 'fine'), header(2, 1), Buffer.alloc(20, 0xee)]));
    await oversized.write(Buffer.concat([packet(1, 'fine'), header(MAX_PACKET_SIZE + 1, 1)]));
    await thrower.write(Buffer.concat([packet(1, 'fine'), packet(THROW_ID, 'boom')]));

    assertCause(await resetSession.untilDisconnected(), 'CONNECTION_RESET');
    assertCause(await malformedSession.untilDisconnected(), 'MALFORMED_HEADER', 'GW_ERR_MALFORMED_HEADER');
    assertCause(await oversizedSession.untilDisconnected(), 'PACKET_TOO_LARGE', 'GW_ERR_PACKET_TOO_LARGE');
    const thrown = await throwerSession.untilDisconnected();
    assertCause(thrown, 'HANDLER_ERROR', 'GW_ERR_HANDLER');
    assert.equal((thrown.error as HandlerError).hook, 'onRecvPacket');
    assertCause(await slowSession.untilDisconnected(15_000), 'SEND_QUEUE_OVERFLOW', 'GW_ERR_SEND_QUEUE_OVERFLOW');
    for (const peer of [malformed, oversized, thrower]) await peer.waitForClose(10_000);
    assert.equal(malformedSession.packetCount, 1, 'the packet before the bad header was delivered');
    const throwerGot = new PacketReader().push(thrower.received).filter((p) => p.id !== BROADCAST_ID);
    assert.deepEqual(throwerGot.map((p) => p.bytes), [packet(1, 'fine')], 'the thrower got its first echo, no more');

    // The good peer was served all along and still is.
    const echoesNow = good.echoed;
    await pollUntil(() => good.echoed >= echoesNow + 20, '20 more echoes for the good peer', 10_000);
    clearInterval(broadcaster);
    good.stop();
    assert.ok(good.echoed - echoesAtStart >= 20, `${good.echoed - echoesAtStart} echoes during the faults`);
    await pollUntil(() => good.broadcasts === bseq, `the good peer to get all ${bseq} broadcasts`, 10_000);
    assert.deepEqual(good.problems, []);
    assert.equal(goodSession.connected, true);
    assert.equal(goodSession.cause, undefined);
    assert.equal(service.sessionCount, 1);
    assert.equal(room.memberCount, 1);
  });
});

describe('Fuzzing live sessions', () => {
  it('random bytes in random chunks from several clients for ~2 s: no crash, only framing or close causes', async (t) => {
    const seed = Number(process.env['FUZZ_SEED'] ?? (Date.now() >>> 0));
    t.diagnostic(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
    console.log(`# faults.test fuzz seed ${seed}`);
    const random = mulberry32(seed);
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedEcho(), { maxSessionCount: 100, packet: { maxPacketSize: 1024 } });
    const sockets = new Set<Socket>();
    cleanup.add(() => {
      for (const socket of sockets) socket.destroy();
    });
    const deadline = performance.now() + 2_000;

    /** Mostly valid packets (any id, up to 1 KiB), sometimes raw random bytes. */
    const nextSegment = (): Buffer => {
      if (random() < 0.97) {
        const body = Buffer.alloc(randomInt(random, 0, 1020));
        for (let i = 0; i < body.length; i += 97) body[i] = randomInt(random, 0, 255);
        return packet(randomInt(random, 0, 0xffff), body);
      }
      const junk = Buffer.alloc(randomInt(random, 1, 64));
      for (let i = 0; i < junk.length; i++) junk[i] = randomInt(random, 0, 255);
      return junk;
    };

    /** One fuzzing client: connects, writes random chunks until the server closes it, reconnects. */
    const fuzzer = async (): Promise<number> => {
      let connections = 0;
      while (performance.now() < deadline) {
        connections++;
        const socket = connect({ host: '127.0.0.1', port: service.port, noDelay: true });
        sockets.add(socket);
        socket.on('data', () => {}); // read and drop the echoes
        socket.on('error', () => {});
        const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        let pending = Buffer.alloc(0);
        while (!socket.destroyed && socket.writable && performance.now() < deadline) {
          while (pending.length < 4096) pending = Buffer.concat([pending, nextSegment()]);
          const size = randomInt(random, 1, 2048);
          socket.write(pending.subarray(0, size));
          pending = pending.subarray(size);
          await new Promise((resolve) => (random() < 0.5 ? setImmediate(resolve) : setTimeout(resolve, randomInt(random, 0, 3))));
        }
        if (random() < 0.5) socket.destroy();
        else socket.resetAndDestroy();
        await withTimeout(closed, 'a fuzz socket to close');
        sockets.delete(socket);
      }
      return connections;
    };
    const connections = await withTimeout(Promise.all([1, 2, 3, 4, 5].map(() => fuzzer())), 'the fuzzers', 15_000);
    t.diagnostic(`fuzz connections per client: ${connections.join(', ')}; sessions ${collector.sessions.length}`);

    await pollUntil(() => service.sessionCount === 0, 'every fuzzed session to end', 10_000, 10);
    const allowed = new Set(['MALFORMED_HEADER', 'PACKET_TOO_LARGE', 'PEER_CLOSED', 'CONNECTION_RESET']);
    const tally = new Map<string, number>();
    for (const session of collector.sessions) {
      const cause = session.cause as DisconnectCause | undefined;
      const code = cause?.code ?? 'still open';
      tally.set(code, (tally.get(code) ?? 0) + 1);
      assert.ok(allowed.has(code), `seed ${seed}: session ${session.id} ended with ${code} (${cause?.reason})`);
    }
    t.diagnostic(`causes: ${[...tally].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    assert.ok(collector.sessions.length >= 5);

    // A well-behaved client still round trips.
    const client = await RawClient.connect(service.port, { cleanup });
    const p = packet(77, 'still alive after the fuzz');
    assert.deepEqual(await client.roundTrip(p), p);
  });
});
