/**
 * Fan-out flow control over real loopback sockets, from the attacker's side: a client flooding a room
 * with moves while the others read slowly; many clients all sending to a broadcast room; peers that
 * never read among readers. Nobody who reads is cut off, everyone gets everything in order, floods are
 * slowed to what the readers take, stuck peers are cut off after stallTimeoutMs, and memory stays bounded.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { Session } from '../../src/net/session.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import { Room } from '../../src/room/room.js';
import { BroadcastSession } from '../../src/samples/broadcast-session.js';
import { pollUntil } from '../helpers/limits.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, withTimeout, type Cleanup } from '../helpers/wait.js';

/** Every packet of these tests: 64 bytes, [size][id = sender index][seq u32][filler]. */
const PACKET_SIZE = 64;
const PACKETS_PER_CHUNK = 1024;

/** `count` packets from sender `sender`, numbered from `firstSeq`. */
function packetsOf(sender: number, firstSeq: number, count = PACKETS_PER_CHUNK): Buffer {
  const out = Buffer.alloc(count * PACKET_SIZE, 0x61);
  for (let i = 0; i < count; i++) {
    const at = i * PACKET_SIZE;
    out.writeUInt16LE(PACKET_SIZE, at);
    out.writeUInt16LE(sender, at + 2);
    out.writeUInt32LE(firstSeq + i, at + 4);
  }
  return out;
}

/** A raw peer that parses the 64-byte packets it reads and checks each sender's sequence. */
class Reader {
  bytes = 0;
  /** Next sequence number expected from each sender. */
  readonly next = new Map<number, number>();
  problems: string[] = [];
  #tail = Buffer.alloc(0);
  /** While set, reading pauses this long after each chunk (a reader slower than a flood). */
  slowMs = 0;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.bytes += chunk.length;
      const data = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
      let at = 0;
      for (; at + PACKET_SIZE <= data.length; at += PACKET_SIZE) {
        const size = data.readUInt16LE(at);
        const sender = data.readUInt16LE(at + 2);
        const seq = data.readUInt32LE(at + 4);
        const expected = this.next.get(sender) ?? 0;
        if (size !== PACKET_SIZE || seq !== expected) {
          if (this.problems.length < 5) this.problems.push(`sender ${sender}: got seq ${seq} (size ${size}), expected ${expected}`);
        }
        this.next.set(sender, seq + 1);
      }
      this.#tail = Buffer.from(data.subarray(at));
      if (this.slowMs > 0) {
        socket.pause();
        setTimeout(() => socket.resume(), this.slowMs);
      }
    });
  }

  received(sender: number): number {
    return this.next.get(sender) ?? 0;
  }
}

/** Opens a raw socket to `port`; `cleanup` destroys it. Starts paused when `paused`. */
async function open(cleanup: Cleanup, port: number, paused = false): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  if (paused) socket.pause();
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  cleanup.add(async () => {
    socket.destroy();
    await closed;
  });
  await withTimeout(new Promise((resolve) => socket.once('connect', resolve)), 'connect');
  return socket;
}

/**
 * Writes numbered packets from `sender` as fast as the socket takes them (honouring 'drain', so this
 * process stays small) until `untilMs` (performance.now()) or `maxPackets`; resolves with the count.
 */
async function flood(socket: Socket, sender: number, untilMs: number, maxPackets = Number.MAX_SAFE_INTEGER): Promise<number> {
  let seq = 0;
  while (performance.now() < untilMs && seq < maxPackets && !socket.destroyed) {
    const count = Math.min(PACKETS_PER_CHUNK, maxPackets - seq);
    const more = socket.write(packetsOf(sender, seq, count));
    seq += count;
    if (!more) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, untilMs - performance.now()));
        function done(): void {
          clearTimeout(timer);
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        }
        socket.once('drain', done);
        socket.once('close', done);
      });
    } else if (seq % (16 * PACKETS_PER_CHUNK) === 0) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return seq;
}

/** Samples the largest `queuedSendBytes + socketBufferedBytes` of each session every millisecond. */
function samplePending(sessions: () => Iterable<Session>): { peak: Map<Session, number>; stop(): void } {
  const peak = new Map<Session, number>();
  const timer = setInterval(() => {
    for (const session of sessions()) {
      const pending = session.queuedSendBytes + session.socketBufferedBytes;
      if (pending > (peak.get(session) ?? 0)) peak.set(session, pending);
    }
  }, 1);
  return { peak, stop: () => clearInterval(timer) };
}

/** The chat server's C_MOVE shape: each packet becomes a room job that broadcasts it to everyone else. */
class Mover extends PacketSession {
  handledBytes = 0;
  cause: DisconnectCause | undefined;
  constructor(
    private readonly room: Room<Mover>,
    private readonly causes: string[],
  ) {
    super();
  }
  protected override onConnected(): void {
    this.room.enter(this);
  }
  protected override onRecvPacket(id: number, body: Buffer): void {
    this.handledBytes += 4 + body.length;
    const move = Buffer.allocUnsafe(4 + body.length);
    move.writeUInt16LE(4 + body.length, 0);
    move.writeUInt16LE(id, 2);
    move.set(body, 4);
    this.room.doAsync(() => this.room.broadcast(move, { except: this }));
  }
  protected override onDisconnected(cause: DisconnectCause): void {
    this.cause = cause;
    this.causes.push(`${this.id}: ${cause.code} (${cause.reason})`);
  }
}

describe('Fan-out flow control: a flooder among readers in a room', () => {
  it('no reader is cut off, each gets every move in order, and the flooder is held to what the readers take', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<Mover>();
    cleanup.add(() => room.close());
    const causes: string[] = [];
    const { service } = await startServer(cleanup, () => new Mover(room, causes), {});
    const readers: Reader[] = [];
    for (let i = 0; i < 6; i++) readers.push(new Reader(await open(cleanup, service.port)));
    const flooderSocket = await open(cleanup, service.port, true);
    await pollUntil(() => room.memberCount === 7, '7 members');
    const flooder = [...room.members].at(-1) as Mover;
    const sampler = samplePending(() => [...room.members].filter((m) => m !== flooder));
    cleanup.add(() => sampler.stop());

    // The readers take at most one read per 5 ms while the flood lasts: far less than it offers.
    for (const reader of readers) reader.slowMs = 5;
    const seconds = 1.5;
    const start = performance.now();
    const sent = await flood(flooderSocket, 1, start + seconds * 1000);
    const elapsed = (performance.now() - start) / 1000;
    const handledInFlood = flooder.handledBytes;
    const slowest = Math.min(...readers.map((r) => r.bytes));
    for (const reader of readers) reader.slowMs = 0;

    await pollUntil(
      () => causes.length > 0 || readers.every((r) => r.received(1) >= sent),
      `every reader to get all ${sent} moves`,
      30_000,
      10,
    );
    sampler.stop();
    const peak = Math.max(...sampler.peak.values());
    t.diagnostic(
      `flood ${elapsed.toFixed(1)} s: offered ${((sent * PACKET_SIZE) / 2 ** 20).toFixed(1)} MiB, server took ` +
        `${(handledInFlood / 2 ** 20).toFixed(1)} MiB (${(handledInFlood / elapsed / 1e6).toFixed(1)} MB/s), slowest reader ` +
        `${(slowest / 2 ** 20).toFixed(1)} MiB; peak pending per reader ${(peak / 1024).toFixed(0)} KiB`,
    );
    assert.deepEqual(causes, [], 'no session ended');
    for (const reader of readers) {
      assert.deepEqual(reader.problems, []);
      assert.equal(reader.received(1), sent, 'every move, in order');
    }
    assert.ok(peak < 1024 * 1024, `a reader had ${peak} bytes pending: past the 1 MiB default cap`);
    // Held to the readers: what the server took from the flooder is what the slowest reader read plus
    // what the buffers between them hold (kernel send and receive buffers, the queues).
    assert.ok(
      handledInFlood - slowest < 16 * 2 ** 20,
      `the server took ${handledInFlood} bytes from the flooder while the slowest reader read ${slowest}`,
    );
  });
});

/** The broadcast server's session, counting what it took from its peer and recording how it ended. */
class Broadcaster extends BroadcastSession {
  handledBytes = 0;
  cause: DisconnectCause | undefined;
  endedAt = 0;
  constructor(
    room: Room<BroadcastSession>,
    private readonly causes: string[],
  ) {
    super(room);
  }
  protected override onRecv(buffer: Buffer): number {
    const consumed = super.onRecv(buffer);
    this.handledBytes += consumed;
    return consumed;
  }
  protected override onDisconnected(cause: DisconnectCause): void {
    this.cause = cause;
    this.endedAt = performance.now();
    this.causes.push(`${this.id}: ${cause.code} (${cause.reason})`);
  }
}

describe('Fan-out flow control: many senders in a broadcast room', () => {
  it('six peers that all flood and all read each get a fair share of the room, and nobody is cut off', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<BroadcastSession>();
    cleanup.add(() => room.close());
    const causes: string[] = [];
    const { service, collector } = await startServer(cleanup, () => new Broadcaster(room, causes), {});
    const count = 6;
    const readers: Reader[] = [];
    for (let i = 0; i < count; i++) readers.push(new Reader(await open(cleanup, service.port)));
    await pollUntil(() => room.memberCount === count, `${count} members`);
    const sessions = collector.sessions.slice(0, count);

    const seconds = 2;
    const end = performance.now() + seconds * 1000;
    const sent = await Promise.all(readers.map((reader, i) => flood(reader.socket, i, end)));
    const shares = sessions.map((s) => s.handledBytes);
    await pollUntil(
      () => causes.length > 0 || readers.every((r) => sent.every((n, sender) => r.received(sender) >= n)),
      'every reader to get every packet of every sender',
      30_000,
      10,
    );
    const mib = shares.map((b) => (b / 2 ** 20).toFixed(1));
    t.diagnostic(`${seconds} s: the server took ${mib.join(' / ')} MiB from the ${count} senders`);
    assert.deepEqual(causes, [], 'no session ended');
    for (const reader of readers) {
      assert.deepEqual(reader.problems, []);
      for (let sender = 0; sender < count; sender++) assert.equal(reader.received(sender), sent[sender], `all of sender ${sender}, in order`);
    }
    const min = Math.min(...shares);
    const max = Math.max(...shares);
    assert.ok(min >= max * 0.3, `shares ${mib.join(' / ')} MiB: the smallest is under 30 % of the largest`);
  });
});

describe('Fan-out flow control: input from many senders past maxSendQueueBytes', () => {
  it('does not cut off members that read: their feeders are held; the overshoot is about one read budget per sender', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<BroadcastSession>();
    cleanup.add(() => room.close());
    const causes: string[] = [];
    // Room for the high mark, two reads and the share each of the eight senders may feed a member
    // before it is held (a 16 KiB burst): the bytes nothing holds back stay under it, while eight
    // senders reading 64 KiB each in one turn go far past it.
    const cap = 64 * 1024 + 128 * 1024 + 8 * 16 * 1024;
    const { service, collector } = await startServer(cleanup, () => new Broadcaster(room, causes), { maxSendQueueBytes: cap });
    const count = 8;
    const readers: Reader[] = [];
    for (let i = 0; i < count; i++) readers.push(new Reader(await open(cleanup, service.port)));
    await pollUntil(() => room.memberCount === count, `${count} members`);
    const sampler = samplePending(() => collector.sessions);
    cleanup.add(() => sampler.stop());
    const end = performance.now() + 1_000;
    const sent = await Promise.all(readers.map((reader, i) => flood(reader.socket, i, end)));
    await pollUntil(
      () => causes.length > 0 || readers.every((r) => sent.every((n, sender) => r.received(sender) >= n)),
      'every reader to get every packet of every sender',
      30_000,
      10,
    );
    sampler.stop();
    const peak = Math.max(...sampler.peak.values());
    t.diagnostic(`peak pending ${(peak / 1024).toFixed(0)} KiB against a cap of ${cap / 1024} KiB`);
    assert.deepEqual(causes, [], 'no session ended');
    for (const reader of readers) {
      assert.deepEqual(reader.problems, []);
      for (let sender = 0; sender < count; sender++) assert.equal(reader.received(sender), sent[sender]);
    }
    // The high mark, then what every sender read in the turn it was held (a read budget and the one
    // read Node buffers after a pause), plus the socket's own backlog of one write.
    assert.ok(peak <= cap + count * 2 * 64 * 1024 + 256 * 1024, `peak pending ${peak}`);
  });
});

describe('Fan-out flow control: peers that never read among readers', () => {
  it('the stuck peers are cut off after stallTimeoutMs; the readers get everything in order; memory stays bounded', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<BroadcastSession>();
    cleanup.add(() => room.close());
    const causes: string[] = [];
    const stallTimeoutMs = 300;
    const { service, collector } = await startServer(cleanup, () => new Broadcaster(room, causes), { stallTimeoutMs });
    const readers: Reader[] = [];
    for (let i = 0; i < 4; i++) readers.push(new Reader(await open(cleanup, service.port)));
    for (let i = 0; i < 4; i++) await open(cleanup, service.port, true); // never read
    await pollUntil(() => room.memberCount === 8, '8 members');
    const stuck = collector.sessions.slice(4, 8);
    const sampler = samplePending(() => collector.sessions);
    cleanup.add(() => sampler.stop());

    // Two of the readers send 8 MiB each: more than the kernel buffers of a stuck peer hold.
    const perSender = (8 * 2 ** 20) / PACKET_SIZE;
    const start = performance.now();
    const sent = await Promise.all([0, 1].map((i) => flood((readers[i] as Reader).socket, i, start + 60_000, perSender)));
    await pollUntil(
      () => readers.every((r) => r.received(0) >= perSender && r.received(1) >= perSender) || causes.length > 4,
      'every reader to get both floods',
      30_000,
      10,
    );
    const took = performance.now() - start;
    sampler.stop();
    const stuckPeak = Math.max(...stuck.map((s) => sampler.peak.get(s) ?? 0));
    const readerPeak = Math.max(...collector.sessions.slice(0, 4).map((s) => sampler.peak.get(s) ?? 0));
    t.diagnostic(
      `${(took / 1000).toFixed(1)} s for 2 × 8 MiB; causes: ${causes.join('; ')}; peak pending: stuck ` +
        `${(stuckPeak / 1024).toFixed(0)} KiB, readers ${(readerPeak / 1024).toFixed(0)} KiB`,
    );
    assert.deepEqual(sent, [perSender, perSender]);
    for (const session of stuck) {
      assert.equal(session.cause?.code, 'SEND_STALLED', `stuck session ${session.id}: ${session.cause?.reason}`);
      // Kernel buffers fill within a fraction of a second on loopback; then stallTimeoutMs runs.
      const after = session.endedAt - start;
      assert.ok(after < stallTimeoutMs + 2_000, `stuck session ${session.id} cut off ${after.toFixed(0)} ms into the flood`);
    }
    assert.equal(causes.length, 4, 'only the stuck peers ended');
    for (const reader of readers) {
      assert.deepEqual(reader.problems, []);
      assert.equal(reader.received(0), perSender);
      assert.equal(reader.received(1), perSender);
    }
    assert.ok(stuckPeak <= 1024 * 1024, `a stuck peer had ${stuckPeak} bytes pending`);
    assert.ok(readerPeak <= 1024 * 1024, `a reader had ${readerPeak} bytes pending`);
    // The stuck peers held the senders back for about stallTimeoutMs once, not for the whole run.
    assert.ok(took < 10_000, `${took.toFixed(0)} ms`);
  });
});

describe('Read budget over a socket', () => {
  it('a peer that sends 8 MiB at once is read at most about readBudgetBytes (plus the read Node buffers) per event-loop turn', async (t) => {
    const cleanup = cleanupAfter(t);
    const budget = 64 * 1024;
    let total = 0;
    let turn = 0;
    let turnBytes = 0;
    let maxTurnBytes = 0;
    let lastTurn = -1;
    class Counting extends Session {
      protected override onRecv(buffer: Buffer): number {
        if (turn !== lastTurn) {
          lastTurn = turn;
          turnBytes = 0;
        }
        turnBytes += buffer.length;
        maxTurnBytes = Math.max(maxTurnBytes, turnBytes);
        total += buffer.length;
        return buffer.length;
      }
    }
    const { service } = await startServer(cleanup, () => new Counting(), { readBudgetBytes: budget });
    let counting = true;
    const tick = (): void => {
      turn++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    cleanup.add(() => {
      counting = false;
    });
    const socket = await open(cleanup, service.port);
    const size = 8 * 1024 * 1024;
    socket.write(Buffer.alloc(size, 0x41));
    await pollUntil(() => total >= size, `${size} bytes read`, 20_000, 5);
    counting = false;
    t.diagnostic(`most bytes read in one turn: ${maxTurnBytes} (budget ${budget})`);
    assert.ok(maxTurnBytes <= 2 * budget + 64 * 1024, `${maxTurnBytes} bytes read in one turn`);
  });
});
