/**
 * Peers that do not read: writability (sendHighWaterMark / sendLowWaterMark, onWritableChanged), the
 * maxSendQueueBytes cap (SEND_QUEUE_OVERFLOW) and pausing reads while unwritable (TCP backpressure).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { SendQueueOverflowError } from '../../src/core/errors.js';
import { Room } from '../../src/room/room.js';
import { BroadcastSession } from '../../src/samples/broadcast-session.js';
import { assertCause, pollUntil, WatchedEcho, WatchedSession } from '../helpers/limits.js';
import { packet, PacketReader } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { cleanupAfter, withTimeout, type Cleanup } from '../helpers/wait.js';

const HIGH = 64 * 1024;
const LOW = 32 * 1024;
const BODY = Buffer.alloc(4096 - 4, 0x42);

/** Resolves after one event-loop turn (lets the flush of this turn happen). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A raw client that records packets' sequence numbers (u32 LE at body offset 0) per packet id. */
class SeqReader {
  readonly seqs: number[] = [];
  problems = 0;
  private readonly reader = new PacketReader();
  constructor(readonly client: RawClient) {
    client.socket.on('data', (chunk: Buffer) => {
      try {
        for (const p of this.reader.push(chunk)) this.seqs.push(p.bytes.readUInt32LE(4));
      } catch {
        this.problems++;
      }
    });
  }
}

/** A packet of `size` bytes (header included) carrying `seq` (u32 LE) first in its body. */
function seqPacketOf(seq: number, size: number): Buffer {
  const body = Buffer.alloc(size - 4, seq & 0xff);
  body.writeUInt32LE(seq, 0);
  return packet(7, body);
}

/**
 * Writes `chunk` over and over to a socket that never reads, honouring its own 'drain' (so this
 * process's memory stays small), until the peer stops taking bytes for `stallMs` or `maxBytes` went
 * out. Resolves with what was written and whether it stalled; stops early if the socket closes.
 */
async function writeUntilStalled(
  socket: Socket,
  chunk: Buffer,
  stallMs: number,
  maxBytes: number,
  onTick: () => void,
): Promise<{ written: number; stalled: boolean }> {
  let written = 0;
  while (written < maxBytes && !socket.destroyed) {
    if (socket.write(chunk)) {
      written += chunk.length;
      if (written % (16 * chunk.length) === 0) await nextTurn();
      onTick();
      continue;
    }
    written += chunk.length;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), stallMs);
      const sampler = setInterval(onTick, 2);
      const done = (value: boolean): void => {
        clearTimeout(timer);
        clearInterval(sampler);
        socket.off('drain', onDrain);
        socket.off('close', onClose);
        resolve(value);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(true);
      socket.once('drain', onDrain);
      socket.once('close', onClose);
    });
    onTick();
    if (!drained) return { written, stalled: true };
  }
  return { written, stalled: false };
}

/** A raw socket that never reads; its errors are recorded, not thrown. */
async function neverReadingSocket(cleanup: Cleanup, port: number): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  socket.pause();
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  cleanup.add(async () => {
    socket.destroy();
    await closed;
  });
  await withTimeout(new Promise((resolve) => socket.once('connect', resolve)), 'connect');
  return { socket, closed };
}

describe('Slow consumer: writable and the water marks', () => {
  it('goes unwritable once above sendHighWaterMark (once), and writable again at/below the low mark when the peer reads', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), {
      sendHighWaterMark: HIGH,
      sendLowWaterMark: LOW,
    });
    const client = await RawClient.connect(service.port, { cleanup });
    client.socket.pause(); // does not read for now
    const session = await collector.nth(0);
    assert.equal(session.writable, true);

    // Send 64 KiB per turn while writable: kernel buffers fill first, then the socket's backlog grows.
    let sent = 0;
    for (let turn = 0; session.writable && turn < 2_000; turn++) {
      for (let i = 0; i < 16; i++) {
        assert.equal(session.sendPacket(1, BODY), true);
        sent += BODY.length + 4;
      }
      await nextTurn();
    }
    assert.equal(session.writable, false, `still writable after ${sent} bytes`);
    assert.equal(session.changes.length, 1);
    const [fell] = session.changes;
    assert.equal(fell?.writable, false);
    assert.ok((fell?.pending ?? 0) > HIGH, `pending ${fell?.pending} when it fell, above ${HIGH}`);

    // More sends while unwritable (game code may still send) do not fire the hook again.
    for (let turn = 0; turn < 10; turn++) {
      session.sendPacket(1, BODY);
      sent += BODY.length + 4;
      await nextTurn();
    }
    assert.equal(session.changes.length, 1, 'onWritableChanged(false) exactly once');
    assert.equal(session.connected, true);

    client.socket.resume();
    await session.until(() => session.writable, 'writable again', 10_000);
    assert.equal(session.changes.length, 2);
    const [, rose] = session.changes;
    assert.equal(rose?.writable, true);
    assert.ok((rose?.pending ?? Infinity) <= LOW, `pending ${rose?.pending} when it rose, at most ${LOW}`);
    await client.waitForBytes(sent, `all ${sent} bytes`, 10_000);
    assert.equal(client.byteCount, sent);
    assert.equal(session.connected, true);
  });
});

describe('Slow consumer: graceful close while unwritable', () => {
  it('close() of an unwritable session ends as soon as the peer has read everything and closed', async (t) => {
    const cleanup = cleanupAfter(t);
    const lingerMs = 4_000;
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), {
      disconnectTimeoutMs: lingerMs,
      closeGraceMs: lingerMs,
    });
    const client = await RawClient.connect(service.port, { cleanup });
    client.socket.pause();
    const session = await collector.nth(0);
    let sent = 0;
    for (let turn = 0; session.writable && turn < 2_000; turn++) {
      for (let i = 0; i < 16; i++) sent += session.sendPacket(1, BODY) ? BODY.length + 4 : 0;
      await nextTurn();
    }
    assert.equal(session.writable, false, 'reading is paused now');
    const closing = service.close();
    client.socket.resume(); // the peer reads everything, sees the FIN and closes its side
    await client.waitForEnd(10_000);
    assert.equal(client.byteCount, sent, 'every byte before the FIN');
    const peerDone = performance.now();
    await withTimeout(closing, 'close()', lingerMs * 2);
    const waited = performance.now() - peerDone;
    assertCause(session.cause, 'SERVICE_CLOSING');
    assert.ok(
      waited < lingerMs / 2,
      `close() resolved ${waited.toFixed(0)} ms after the peer closed: the FIN was not read (disconnectTimeoutMs ${lingerMs})`,
    );
  });
});

describe('Slow consumer: maxSendQueueBytes', () => {
  it('destroys a never-reading broadcast member with SEND_QUEUE_OVERFLOW; the others keep getting every packet', async (t) => {
    const cleanup = cleanupAfter(t);
    const limit = 256 * 1024;
    const room = new Room<WatchedSession>();
    cleanup.add(() => room.close());
    const { service, collector } = await startServer(cleanup, () => new WatchedSession(), { maxSendQueueBytes: limit });

    const readers: SeqReader[] = [];
    for (let i = 0; i < 2; i++) readers.push(new SeqReader(await RawClient.connect(service.port, { cleanup })));
    const slow = await neverReadingSocket(cleanup, service.port);
    for (let i = 0; i < 3; i++) assert.equal(room.enter(await collector.nth(i)), true);
    const slowSession = collector.sessions[2] as WatchedSession;

    // 4 KiB packets, 8 per ms (~32 MB/s offered) until the slow member is gone, then 200 more.
    let seq = 0;
    let after = -1;
    const timer = setInterval(() => {
      for (let i = 0; i < 8; i++) room.broadcast(seqPacketOf(seq++, 4096));
      if (slowSession.cause !== undefined && after < 0) after = seq + 200;
    }, 1);
    cleanup.add(() => clearInterval(timer));
    const cause = await slowSession.untilDisconnected(15_000);
    assertCause(cause, 'SEND_QUEUE_OVERFLOW', 'GW_ERR_SEND_QUEUE_OVERFLOW');
    assert.ok(cause.error instanceof SendQueueOverflowError);
    slow.socket.resume(); // reads what the kernel still holds, then sees the end
    await withTimeout(slow.closed, 'the slow peer to see its connection end');
    await pollUntil(() => after >= 0 && seq >= after, 'more broadcasts after the overflow');
    clearInterval(timer);

    assert.equal(room.memberCount, 2, 'the overflowed member left the room');
    for (const reader of readers) {
      await pollUntil(() => reader.seqs.length >= seq, `a reader to get ${seq} packets (has ${reader.seqs.length})`, 10_000);
      assert.equal(reader.problems, 0);
      assert.deepEqual(reader.seqs, Array.from({ length: seq }, (_, i) => i), 'every packet, in order');
    }
    for (let i = 0; i < 2; i++) {
      const session = collector.sessions[i] as WatchedSession;
      assert.equal(session.connected, true, `reader ${i} still connected`);
      assert.equal(session.cause, undefined);
    }
  });
});

describe('Slow consumer: pauseReadingWhenUnwritable', () => {
  // Reading pauses once more than 16 KiB are pending, so what is pending stays below 16 KiB plus the
  // echo of one read (64 KiB): the 256 KiB cap leaves a wide margin, and only a session that went on
  // reading after it became unwritable could reach it.
  const limits = { sendHighWaterMark: 16 * 1024, sendLowWaterMark: 8 * 1024, maxSendQueueBytes: 256 * 1024 };
  const maxSendQueueBytes = limits.maxSendQueueBytes;
  /** 16 packets of 4 KiB. */
  const chunk = Buffer.concat(Array.from({ length: 16 }, (_, i) => seqPacketOf(i, 4096)));

  it('an echo peer that writes a lot and never reads meets TCP backpressure, not SEND_QUEUE_OVERFLOW', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedEcho(), limits);
    const { socket } = await neverReadingSocket(cleanup, service.port);
    const session = await collector.nth(0);
    const causeText = (): string => `${session.cause?.code} (${session.cause?.reason})`;

    let maxPending = 0;
    const sample = (): void => {
      maxPending = Math.max(maxPending, session.queuedSendBytes + session.socketBufferedBytes);
    };
    let got: Buffer[] = [];
    let gotBytes = 0;
    socket.on('data', (data: Buffer) => {
      got.push(data);
      gotBytes += data.length;
    });
    let written = 0;
    // Rounds of: write until the writer stalls (the peer never reads), then read every echo back.
    for (let round = 1; round <= 4; round++) {
      socket.pause();
      const result = await writeUntilStalled(socket, chunk, 300, 64 * 1024 * 1024, sample);
      sample();
      written += result.written;
      if (!result.stalled) await session.untilDisconnected(2_000).catch(() => undefined); // to name the cause
      assert.equal(session.cause, undefined, `round ${round}, ${written} bytes written: the session ended: ${causeText()}`);
      assert.equal(result.stalled, true, `round ${round}: the writer never stalled in ${result.written} bytes`);
      assert.equal(session.writable, false, 'stalled because the session is unwritable and not reading');
      assert.ok(maxPending < maxSendQueueBytes, `pending bytes peaked at ${maxPending}`);

      // Once the peer reads, everything it wrote comes back, intact and in order.
      const before = gotBytes;
      socket.resume();
      await pollUntil(() => gotBytes >= written || session.cause !== undefined, `${written} bytes echoed`, 20_000, 10);
      assert.equal(session.cause, undefined, `round ${round}: ended while the peer read its echoes: ${causeText()}`);
      assert.equal(gotBytes, written);
      const all = Buffer.concat(got);
      got = [];
      for (let at = 0; at < all.length; at += chunk.length) {
        if (!all.subarray(at, at + chunk.length).equals(chunk)) assert.fail(`round ${round}: echo differs at ${before + at}`);
      }
    }
    assert.equal(session.connected, true);
    assert.ok(maxPending < maxSendQueueBytes, `pending bytes peaked at ${maxPending}`);
  });

  it('a member of a 10-member broadcast room that floods and never reads meets backpressure; no member overflows', async (t) => {
    const cleanup = cleanupAfter(t);
    const room = new Room<BroadcastSession>();
    cleanup.add(() => room.close());
    const causes: string[] = [];
    class Member extends BroadcastSession {
      protected override onDisconnected(cause: { code: string }): void {
        causes.push(cause.code);
      }
    }
    const { service, collector } = await startServer(cleanup, () => new Member(room), limits);
    const readers: Array<{ bytes: number }> = [];
    for (let i = 0; i < 9; i++) {
      const reader = { bytes: 0 };
      const { socket: readerSocket } = await neverReadingSocket(cleanup, service.port);
      readerSocket.on('data', (data: Buffer) => (reader.bytes += data.length)); // counts, keeps nothing
      readerSocket.resume();
      readers.push(reader);
    }
    const { socket } = await neverReadingSocket(cleanup, service.port);
    await pollUntil(() => room.memberCount === 10, '10 members');
    const flooder = collector.sessions[9] as Member;

    // Rounds of: flood until the flooder stalls, then let it read, and every member gets every byte.
    socket.on('data', () => {});
    let written = 0;
    for (let round = 1; round <= 4; round++) {
      socket.pause();
      const result = await writeUntilStalled(socket, chunk, 300, 64 * 1024 * 1024, () => {});
      written += result.written;
      if (!result.stalled) await pollUntil(() => causes.length > 0, 'a cause', 2_000).catch(() => undefined);
      assert.deepEqual(causes, [], `round ${round}: after ${written} bytes from the flooder, sessions ended`);
      assert.equal(result.stalled, true, `round ${round}: the flooder never stalled in ${result.written} bytes`);
      assert.equal(flooder.writable, false);
      socket.resume();
      await pollUntil(() => readers.every((r) => r.bytes >= written) || causes.length > 0, 'every reader to get the flood', 20_000, 10);
      assert.deepEqual(causes, [], `round ${round}: sessions ended while the flood was delivered`);
      assert.deepEqual(readers.map((r) => r.bytes), readers.map(() => written));
    }
  });

  it('with pauseReadingWhenUnwritable: false the same peer ends with SEND_QUEUE_OVERFLOW', async (t) => {
    const cleanup = cleanupAfter(t);
    const { service, collector } = await startServer(cleanup, () => new WatchedEcho(), {
      ...limits,
      pauseReadingWhenUnwritable: false,
    });
    const { socket, closed } = await neverReadingSocket(cleanup, service.port);
    const session = await collector.nth(0);
    await writeUntilStalled(socket, chunk, 2_000, 256 * 1024 * 1024, () => {});
    assertCause(await session.untilDisconnected(), 'SEND_QUEUE_OVERFLOW', 'GW_ERR_SEND_QUEUE_OVERFLOW');
    socket.resume();
    await withTimeout(closed, 'the peer to see its connection end');
  });
});
