/**
 * Property-based tests of PacketScanner (fast-check): any packets, cut anywhere, come out whole and in
 * order; any bytes at all never make scan() throw; the maxPacketSize limit is exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MalformedHeaderError, PacketTooLargeError } from '../../src/core/errors.js';
import { PacketScanner, type PacketSink } from '../../src/packet/packet-scanner.js';
import { header, packet } from '../helpers/packets.js';

interface Seen {
  readonly id: number;
  readonly size: number;
  /** Where the packet started in the whole stream (not in the scanned buffer). */
  readonly streamOffset: number;
  /** The whole packet, header included (a copy). */
  readonly bytes: Buffer;
}

/** Copies every packet and notes where it began in the stream (`base` = stream offset of buffer[0]). */
class Collect implements PacketSink {
  readonly packets: Seen[] = [];
  base = 0;
  onPacketBytes(buffer: Buffer, offset: number, size: number, id: number): boolean {
    this.packets.push({ id, size, streamOffset: this.base + offset, bytes: Buffer.from(buffer.subarray(offset, offset + size)) });
    return true;
  }
}

/** Splits `stream` at the given cut points (any order, duplicates allowed, each 0..length). */
function cutAt(stream: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts)].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const at of points) {
    chunks.push(stream.subarray(from, at));
    from = at;
  }
  chunks.push(stream.subarray(from));
  return chunks;
}

interface FeedResult {
  readonly packets: Seen[];
  /** Bytes held back at the end. */
  readonly leftover: number;
  /** The error of the scan that stopped the stream, with the stream offset of the bad header. */
  readonly error: { readonly error: MalformedHeaderError | PacketTooLargeError; readonly at: number } | undefined;
}

/**
 * What a session does with its receive buffer: keep the unconsumed tail, append the next chunk, scan
 * again; stop at the first error (the session closes then). Checks consumed is in range on every scan.
 */
function feed(scanner: PacketScanner, chunks: readonly Buffer[]): FeedResult {
  const sink = new Collect();
  let pending = Buffer.alloc(0);
  for (const chunk of chunks) {
    pending = Buffer.concat([pending, chunk]);
    const consumed = scanner.scan(pending, sink);
    assert.ok(Number.isInteger(consumed) && consumed >= 0 && consumed <= pending.length, `consumed ${consumed} of ${pending.length}`);
    sink.base += consumed;
    pending = pending.subarray(consumed);
    if (scanner.error !== undefined) return { packets: sink.packets, leftover: pending.length, error: { error: scanner.error, at: sink.base } };
  }
  return { packets: sink.packets, leftover: pending.length, error: undefined };
}

const bodyArb = fc.oneof(
  { weight: 9, arbitrary: fc.uint8Array({ maxLength: 300, size: 'max' }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 301, maxLength: 4000, size: 'max' }) },
);
// size 'max': lengths spread over the whole range (the default 'small' keeps arrays to about 10).
const packetsArb = fc.array(fc.record({ id: fc.integer({ min: 0, max: 0xffff }), body: bodyArb }), {
  maxLength: 40,
  size: 'max',
});

/** Packets, their serialized stream, and cut points into it (up to 200, from 0 to the stream length). */
const cutStreamArb = packetsArb.chain((list) => {
  const packets = list.map((p) => packet(p.id, p.body));
  const stream = Buffer.concat(packets);
  return fc.record({
    packets: fc.constant(packets),
    stream: fc.constant(stream),
    cuts: fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 200, size: 'max' }),
  });
});

describe('PacketScanner properties', () => {
  it('any packets, cut into any chunks, come out identical and in order', () => {
    fc.assert(
      fc.property(cutStreamArb, ({ packets, stream, cuts }) => {
        const { packets: seen, leftover, error } = feed(new PacketScanner(), cutAt(stream, cuts));
        assert.equal(error, undefined);
        assert.equal(leftover, 0);
        assert.equal(seen.length, packets.length, 'packet count');
        let offset = 0;
        packets.forEach((expected, i) => {
          const got = seen[i] as Seen;
          assert.deepEqual(got.bytes, expected, `packet #${i}`);
          assert.equal(got.size, expected.length);
          assert.equal(got.id, expected.readUInt16LE(2));
          assert.equal(got.streamOffset, offset, `packet #${i} offset`);
          offset += expected.length;
        });
      }),
      { numRuns: 150 },
    );
  });

  it('a packet is handed over by the scan of the chunk that completes it, not earlier or later', () => {
    fc.assert(
      fc.property(cutStreamArb, ({ packets, stream, cuts }) => {
        const scanner = new PacketScanner();
        const sink = new Collect();
        let pending = Buffer.alloc(0);
        let received = 0;
        const ends: number[] = [];
        for (const p of packets) ends.push((ends.at(-1) ?? 0) + p.length);
        for (const chunk of cutAt(stream, cuts)) {
          pending = Buffer.concat([pending, chunk]);
          received += chunk.length;
          pending = pending.subarray(scanner.scan(pending, sink));
          // Exactly the packets that end within the bytes received so far.
          assert.equal(sink.packets.length, ends.filter((end) => end <= received).length, `after ${received} bytes`);
          assert.equal(pending.length, received - (ends.filter((end) => end <= received).at(-1) ?? 0));
        }
      }),
      { numRuns: 100 },
    );
  });

  const garbageArb = fc.record({
    bytes: fc.uint8Array({ maxLength: 3000, size: 'medium' }),
    maxPacketSize: fc.oneof(fc.constant(0xffff), fc.integer({ min: 4, max: 0xffff }), fc.integer({ min: 4, max: 64 })),
  });

  it('garbage never throws: it yields well-formed packets, then waits or stops with an error', () => {
    fc.assert(
      fc.property(garbageArb, ({ bytes, maxPacketSize }) => {
        const buffer = Buffer.from(bytes);
        const scanner = new PacketScanner(maxPacketSize);
        const sink = new Collect();
        const consumed = scanner.scan(buffer, sink);
        assert.ok(Number.isInteger(consumed) && consumed >= 0 && consumed <= buffer.length);
        // The packets handed over tile [0, consumed) exactly, each with a legal size.
        let offset = 0;
        for (const p of sink.packets) {
          assert.equal(p.streamOffset, offset);
          assert.ok(p.size >= 4 && p.size <= maxPacketSize, `size ${p.size}`);
          assert.equal(p.size, buffer.readUInt16LE(offset));
          assert.equal(p.id, buffer.readUInt16LE(offset + 2));
          offset += p.size;
        }
        assert.equal(offset, consumed);
        const error = scanner.error;
        const rest = buffer.length - consumed;
        if (error === undefined) {
          // Stopped only because the next packet is incomplete (or nothing is left).
          if (rest >= 2) assert.ok(buffer.readUInt16LE(consumed) > rest, 'a complete valid packet was left behind');
          return;
        }
        assert.ok(rest >= 2, 'an error needs the two size bytes');
        const size = buffer.readUInt16LE(consumed);
        assert.equal(error.size, size);
        if (error instanceof MalformedHeaderError) {
          assert.ok(size < 4);
          assert.equal(error.code, 'GW_ERR_MALFORMED_HEADER');
        } else {
          assert.ok(error instanceof PacketTooLargeError, `unexpected error ${String(error)}`);
          assert.ok(size > maxPacketSize);
          assert.equal(error.maxPacketSize, maxPacketSize);
          assert.equal(error.code, 'GW_ERR_PACKET_TOO_LARGE');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('garbage gives the same packets and the same error at the same offset however it is cut', () => {
    fc.assert(
      fc.property(
        garbageArb.chain((g) => fc.record({ g: fc.constant(g), cuts: fc.array(fc.integer({ min: 0, max: g.bytes.length }), { maxLength: 30, size: 'max' }) })),
        ({ g, cuts }) => {
          const stream = Buffer.from(g.bytes);
          const whole = feed(new PacketScanner(g.maxPacketSize), [stream]);
          const split = feed(new PacketScanner(g.maxPacketSize), cutAt(stream, cuts));
          assert.deepEqual(
            split.packets.map((p) => [p.streamOffset, p.size, p.id]),
            whole.packets.map((p) => [p.streamOffset, p.size, p.id]),
          );
          if (whole.error === undefined) {
            // No error whichever way it is cut, and the same incomplete tail held back.
            assert.equal(split.error, undefined);
            assert.equal(split.leftover, whole.leftover);
          } else {
            assert.ok(split.error !== undefined, `split feed missed ${whole.error.error.message}`);
            assert.equal(split.error.at, whole.error.at);
            assert.equal(split.error.error.constructor, whole.error.error.constructor);
            assert.equal(split.error.error.size, whole.error.error.size);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with maxPacketSize M, a packet of exactly M is accepted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (max, id) => {
        const whole = packet(id, Buffer.alloc(max - 4, id & 0xff));
        assert.equal(whole.length, max);
        const scanner = new PacketScanner(max);
        // Every strict prefix waits without error; the whole packet is handed over.
        for (const cut of new Set([0, 1, 2, 3, 4, max - 1])) {
          if (cut >= max) continue;
          assert.equal(scanner.scan(whole.subarray(0, cut), new Collect()), 0, `prefix of ${cut}`);
          assert.equal(scanner.error, undefined, `prefix of ${cut}`);
        }
        const sink = new Collect();
        assert.equal(scanner.scan(whole, sink), max);
        assert.equal(scanner.error, undefined);
        assert.equal(sink.packets.length, 1);
        assert.equal(sink.packets[0]?.size, max);
        assert.equal(sink.packets[0]?.id, id);
      }),
      { numRuns: 100 },
    );
  });

  it('with maxPacketSize M, a header of M + 1 is rejected as soon as its first 2 bytes are present', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 0xfffe }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.uint8Array({ maxLength: 40 }),
        (max, id, before) => {
          const good = before.length + 4 <= max ? packet(id, before) : Buffer.alloc(0);
          const bad = header(max + 1, id);
          const scanner = new PacketScanner(max);
          const sink = new Collect();
          // One byte of the bad header: cannot be decided yet.
          assert.equal(scanner.scan(Buffer.concat([good, bad.subarray(0, 1)]), sink), good.length);
          assert.equal(scanner.error, undefined);
          for (const present of [2, 3, 4]) {
            assert.equal(scanner.scan(Buffer.concat([good, bad.subarray(0, present)]), new Collect()), good.length);
            // (read through a cast: the assertion above narrowed scanner.error to undefined)
            const error: unknown = (scanner as { error: unknown }).error;
            assert.ok(error instanceof PacketTooLargeError, `${present} bytes of the header`);
            assert.equal(error.size, max + 1);
            assert.equal(error.maxPacketSize, max);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
