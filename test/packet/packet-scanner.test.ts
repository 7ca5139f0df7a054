import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError, MalformedHeaderError, PacketTooLargeError } from '../../src/core/errors.js';
import { MAX_PACKET_SIZE } from '../../src/packet/packet-header.js';
import { PacketScanner, type PacketSink } from '../../src/packet/packet-scanner.js';
import { header, mulberry32, packet, randomInt } from '../helpers/packets.js';

interface Seen {
  readonly id: number;
  readonly size: number;
  readonly bytes: Buffer;
}

/** A sink that copies every packet; stops after `limit` packets when given. */
class Collect implements PacketSink {
  readonly packets: Seen[] = [];
  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}
  onPacketBytes(buffer: Buffer, offset: number, size: number, id: number): boolean {
    this.packets.push({ id, size, bytes: Buffer.from(buffer.subarray(offset, offset + size)) });
    return this.packets.length < this.limit;
  }
}

/**
 * Feeds `chunks` one after the other the way a session does: the unconsumed tail of the last scan is
 * kept and the next chunk is appended to it. Fails on any scanner error.
 */
function scanChunks(scanner: PacketScanner, chunks: readonly Buffer[]): { packets: Seen[]; leftover: number } {
  const sink = new Collect();
  let pending = Buffer.alloc(0);
  for (const chunk of chunks) {
    pending = Buffer.concat([pending, chunk]);
    const consumed = scanner.scan(pending, sink);
    assert.equal(scanner.error, undefined, `unexpected scanner error: ${scanner.error?.message}`);
    assert.ok(consumed >= 0 && consumed <= pending.length);
    pending = pending.subarray(consumed);
  }
  return { packets: sink.packets, leftover: pending.length };
}

function expectPackets(actual: readonly Seen[], expected: readonly Buffer[]): void {
  assert.equal(actual.length, expected.length, 'packet count');
  expected.forEach((bytes, i) => {
    const got = actual[i] as Seen;
    assert.deepEqual(got.bytes, bytes, `packet #${i} bytes`);
    assert.equal(got.size, bytes.length, `packet #${i} size`);
    assert.equal(got.id, bytes.readUInt16LE(2), `packet #${i} id`);
  });
}

const SAMPLE: readonly Buffer[] = [
  packet(1, 'hello'),
  packet(0),
  packet(65535, 'max id'),
  packet(7, Buffer.alloc(300, 0xab)),
  packet(2, 'x'),
];
const STREAM = Buffer.concat(SAMPLE);

describe('PacketScanner', () => {
  it('finds every packet of a whole buffer, in order, and consumes all of it', () => {
    const scanner = new PacketScanner();
    const sink = new Collect();
    assert.equal(scanner.scan(STREAM, sink), STREAM.length);
    assert.equal(scanner.error, undefined);
    expectPackets(sink.packets, SAMPLE);
  });

  it('consumes nothing from an empty buffer, a lone byte or an incomplete header', () => {
    const scanner = new PacketScanner();
    const sink = new Collect();
    for (const partial of [Buffer.alloc(0), STREAM.subarray(0, 1), STREAM.subarray(0, 2), STREAM.subarray(0, 3)]) {
      assert.equal(scanner.scan(partial, sink), 0);
      assert.equal(scanner.error, undefined);
    }
    assert.equal(sink.packets.length, 0);
  });

  it('leaves an incomplete packet at the end unconsumed (partial header or partial body)', () => {
    const scanner = new PacketScanner();
    const firstTwo = SAMPLE.slice(0, 2);
    const whole = (SAMPLE[0] as Buffer).length + (SAMPLE[1] as Buffer).length;
    for (const extra of [1, 3, 4, 6]) {
      const sink = new Collect();
      assert.equal(scanner.scan(STREAM.subarray(0, whole + extra), sink), whole, `${extra} bytes of the 3rd packet`);
      assert.equal(scanner.error, undefined);
      expectPackets(sink.packets, firstTwo);
    }
  });

  it('works fed byte by byte, keeping the unconsumed tail like a session', () => {
    const chunks = Array.from({ length: STREAM.length }, (_, i) => STREAM.subarray(i, i + 1));
    const { packets, leftover } = scanChunks(new PacketScanner(), chunks);
    expectPackets(packets, SAMPLE);
    assert.equal(leftover, 0);
  });

  it('works fed growing prefixes of the stream', () => {
    const scanner = new PacketScanner();
    for (let end = 0; end <= STREAM.length; end++) {
      const sink = new Collect();
      const consumed = scanner.scan(STREAM.subarray(0, end), sink);
      assert.equal(scanner.error, undefined);
      // Consumed is exactly the whole packets that fit in the prefix.
      let whole = 0;
      let count = 0;
      for (const p of SAMPLE) {
        if (whole + p.length > end) break;
        whole += p.length;
        count++;
      }
      assert.equal(consumed, whole, `prefix of ${end} bytes`);
      expectPackets(sink.packets, SAMPLE.slice(0, count));
    }
  });

  it('gives the same packets for a split at every position', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const { packets, leftover } = scanChunks(new PacketScanner(), [STREAM.subarray(0, cut), STREAM.subarray(cut)]);
      expectPackets(packets, SAMPLE);
      assert.equal(leftover, 0, `split at ${cut}`);
    }
  });

  it('gives the same packets for every split into three pieces of a small stream', () => {
    const small = Buffer.concat([packet(1, 'ab'), packet(2), packet(3, 'cdefg'), packet(4, 'h')]);
    const expected = [packet(1, 'ab'), packet(2), packet(3, 'cdefg'), packet(4, 'h')];
    for (let a = 0; a <= small.length; a++) {
      for (let b = a; b <= small.length; b++) {
        const chunks = [small.subarray(0, a), small.subarray(a, b), small.subarray(b)];
        const { packets, leftover } = scanChunks(new PacketScanner(), chunks);
        expectPackets(packets, expected);
        assert.equal(leftover, 0, `splits at ${a} and ${b}`);
      }
    }
  });

  it('gives the same packets for 200 random streams cut at random places (seeded)', () => {
    const random = mulberry32(0x5eed);
    for (let iteration = 0; iteration < 200; iteration++) {
      const expected: Buffer[] = [];
      const count = randomInt(random, 1, 30);
      for (let i = 0; i < count; i++) {
        const body = Buffer.alloc(randomInt(random, 0, random() < 0.1 ? 2000 : 40));
        for (let j = 0; j < body.length; j++) body[j] = randomInt(random, 0, 255);
        expected.push(packet(randomInt(random, 0, 65535), body));
      }
      const stream = Buffer.concat(expected);
      const chunks: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = randomInt(random, 1, random() < 0.5 ? 8 : 600);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      const { packets, leftover } = scanChunks(new PacketScanner(), chunks);
      expectPackets(packets, expected);
      assert.equal(leftover, 0, `iteration ${iteration}`);
    }
  });

  for (const size of [0, 1, 2, 3]) {
    it(`sets MalformedHeaderError for size ${size} and consumes only the packets before it`, () => {
      const scanner = new PacketScanner();
      const sink = new Collect();
      const good = packet(9, 'ok');
      const consumed = scanner.scan(Buffer.concat([good, header(size, 5), packet(1, 'never')]), sink);
      assert.equal(consumed, good.length);
      expectPackets(sink.packets, [good]);
      assert.ok(scanner.error instanceof MalformedHeaderError);
      assert.equal(scanner.error.code, 'GW_ERR_MALFORMED_HEADER');
      assert.equal(scanner.error.size, size);
    });
  }

  it('decides a malformed header from the two size bytes alone', () => {
    const scanner = new PacketScanner();
    assert.equal(scanner.scan(header(3).subarray(0, 2), new Collect()), 0);
    assert.ok(scanner.error instanceof MalformedHeaderError);
  });

  it('accepts a packet of exactly maxPacketSize', () => {
    const scanner = new PacketScanner(100);
    const sink = new Collect();
    const p = packet(3, Buffer.alloc(96, 1));
    assert.equal(p.length, 100);
    assert.equal(scanner.scan(p, sink), 100);
    assert.equal(scanner.error, undefined);
    expectPackets(sink.packets, [p]);
  });

  it('accepts a packet of 65535 bytes with the default limit', () => {
    const scanner = new PacketScanner();
    assert.equal(scanner.maxPacketSize, MAX_PACKET_SIZE);
    const sink = new Collect();
    const p = packet(65535, Buffer.alloc(65531, 7));
    assert.equal(scanner.scan(p, sink), 65535);
    assert.equal(scanner.error, undefined);
    expectPackets(sink.packets, [p]);
  });

  it('sets PacketTooLargeError for maxPacketSize + 1 as soon as the 2 size bytes are there', () => {
    const scanner = new PacketScanner(100);
    const sink = new Collect();
    const good = packet(1, 'a');
    const consumed = scanner.scan(Buffer.concat([good, header(101).subarray(0, 2)]), sink);
    assert.equal(consumed, good.length);
    expectPackets(sink.packets, [good]);
    const error = scanner.error;
    assert.ok(error instanceof PacketTooLargeError);
    assert.equal(error.code, 'GW_ERR_PACKET_TOO_LARGE');
    assert.equal(error.size, 101);
    assert.equal(error.maxPacketSize, 100);
  });

  it('clears the error on the next scan', () => {
    const scanner = new PacketScanner();
    scanner.scan(header(1), new Collect());
    assert.ok(scanner.error !== undefined);
    assert.equal(scanner.scan(packet(1), new Collect()), 4);
    assert.equal(scanner.error, undefined);
  });

  it('handles ids 0 and 65535 and an empty body (size 4)', () => {
    const scanner = new PacketScanner();
    const sink = new Collect();
    const both = Buffer.concat([packet(0), packet(65535)]);
    assert.equal(scanner.scan(both, sink), 8);
    assert.deepEqual(
      sink.packets.map((p) => [p.id, p.size]),
      [
        [0, 4],
        [65535, 4],
      ],
    );
  });

  it('stops after the packet for which the sink returns false', () => {
    const scanner = new PacketScanner();
    const sink = new Collect(2);
    const consumed = scanner.scan(STREAM, sink);
    const firstTwo = SAMPLE.slice(0, 2);
    assert.equal(consumed, (SAMPLE[0] as Buffer).length + (SAMPLE[1] as Buffer).length);
    expectPackets(sink.packets, firstTwo);
    assert.equal(scanner.error, undefined);
    // Scanning the rest later finds the remaining packets.
    const rest = new Collect();
    assert.equal(scanner.scan(STREAM.subarray(consumed), rest), STREAM.length - consumed);
    expectPackets(rest.packets, SAMPLE.slice(2));
  });

  for (const bad of [3, 0, 65536, 1.5, Number.NaN]) {
    it(`throws InvalidOptionError for maxPacketSize ${bad}`, () => {
      assert.throws(
        () => new PacketScanner(bad),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'GW_ERR_INVALID_OPTION',
      );
    });
  }
});
