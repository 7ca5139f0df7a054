/** The replay buffer: acknowledgement by packet count over pieces cut anywhere, checked against a plain model. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ReplayBuffer } from '../../../src/core/resume/replay-buffer.js';
import { mulberry32, randomInt, seqPacket } from '../../helpers/packets.js';

/** `packets` cut into pieces at random places (a piece may hold a header's first byte only). */
function cutAnywhere(packets: Buffer[], random: () => number): Buffer[] {
  const all = Buffer.concat(packets);
  const pieces: Buffer[] = [];
  for (let at = 0; at < all.length; ) {
    const size = Math.min(all.length - at, randomInt(random, 1, 40));
    pieces.push(all.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

it('acknowledges by packet count over pieces cut anywhere, and gives back exactly the rest, by reference', () => {
  for (let seed = 1; seed <= 50; seed++) {
    const random = mulberry32(seed);
    const packets = Array.from({ length: 60 }, (_, i) => seqPacket(i + 1));
    const buffer = new ReplayBuffer();
    const pieces = cutAnywhere(packets, random);
    for (const piece of pieces) buffer.append(piece);
    let acked = 0;
    while (acked < packets.length) {
      const next = Math.min(packets.length, acked + randomInt(random, 0, 9));
      assert.equal(buffer.canResumeAt(next), true);
      assert.equal(buffer.ack(next), true);
      acked = next;
      const rest = buffer.unacknowledged();
      const expected = Buffer.concat(packets.slice(acked));
      assert.deepEqual(Buffer.concat(rest.pieces), expected, `seed ${seed}, acked ${acked}`);
      assert.equal(rest.bytes, expected.length);
      assert.equal(rest.packets, packets.length - acked);
      assert.equal(buffer.bytes, expected.length);
    }
    assert.equal(buffer.acked, packets.length);
  }
});

it('sending and acknowledging interleaved, as a live session does: the same as the model through every wrap of its ring', () => {
  // Pieces are appended while older ones are acknowledged, so the slots are reused around the ring,
  // the ring grows while it wraps, and a ring emptied after a burst is let go and made again.
  for (let seed = 1; seed <= 20; seed++) {
    const random = mulberry32(seed);
    const buffer = new ReplayBuffer();
    const sent: Buffer[] = [];
    let pending = Buffer.alloc(0); // bytes of the stream not appended yet (pieces end anywhere)
    let acked = 0;
    for (let step = 0; step < 400; step++) {
      const burst = random() < 0.05 ? 120 : randomInt(random, 0, 4); // now and then a burst
      for (let i = 0; i < burst; i++) {
        const next = seqPacket(sent.length + 1);
        sent.push(next);
        pending = Buffer.concat([pending, next]);
      }
      while (pending.length > 0 && random() < 0.8) {
        const size = Math.min(pending.length, randomInt(random, 1, 60));
        buffer.append(pending.subarray(0, size));
        pending = pending.subarray(size);
      }
      const whole = buffer.unacknowledged().packets + acked; // packets all there
      if (random() < 0.6) {
        const next = Math.min(whole, acked + randomInt(random, 0, 12));
        assert.equal(buffer.ack(next), true, `seed ${seed}, step ${step}`);
        acked = next;
      }
      const rest = buffer.unacknowledged();
      const held = Buffer.concat(rest.pieces);
      const expected = Buffer.concat(sent.slice(acked));
      assert.deepEqual(held, expected.subarray(0, held.length), `seed ${seed}, step ${step}: the bytes held, in order`);
      assert.equal(held.length + pending.length, expected.length, `seed ${seed}, step ${step}: nothing lost`);
      assert.equal(buffer.bytes, held.length);
      assert.equal(buffer.ack(whole + 1), false, 'never more than it holds');
    }
    buffer.append(pending);
    assert.equal(buffer.ack(sent.length), true);
    assert.equal(buffer.bytes, 0);
  }
});

it('passes pieces it acknowledges whole by the counts made at append, without reading them again', () => {
  // With a thousand sessions an old piece is out of the CPU's cache: an acknowledgement that ends where a
  // piece ends must not read it. Shown by spoiling the pieces' bytes after append: a walk over their
  // headers would find sizes of 0 and refuse the count.
  const random = mulberry32(3);
  const buffer = new ReplayBuffer();
  const pieces: Buffer[] = [];
  let sent = 0;
  for (let i = 0; i < 40; i++) {
    const n = randomInt(random, 1, 5);
    const piece = Buffer.concat(Array.from({ length: n }, () => seqPacket(++sent)));
    buffer.append(piece);
    pieces.push(piece);
  }
  const boundaries: number[] = [];
  let total = 0;
  for (const piece of pieces) {
    let packets = 0;
    for (let at = 0; at < piece.length; at += piece.readUInt16LE(at)) packets++;
    boundaries.push((total += packets));
  }
  const bytesBefore = buffer.bytes;
  for (const piece of pieces) piece.fill(0);
  let freed = 0;
  for (let i = 0; i < boundaries.length; i += randomInt(random, 1, 4)) {
    const at = boundaries[i] as number;
    assert.equal(buffer.ack(at), true, `ack ${at} at a piece's end`);
    freed = pieces.slice(0, i + 1).reduce((sum, piece) => sum + piece.length, 0);
    assert.equal(buffer.bytes, bytesBefore - freed);
  }
  // A count inside a piece needs its headers, which are spoiled: refused.
  const next = boundaries.findIndex((end, i) => end > buffer.acked && end - (boundaries[i - 1] ?? 0) >= 2);
  assert.ok(next >= 0);
  assert.equal(buffer.ack((boundaries[next - 1] ?? 0) + 1), false);
});

it('refuses a count beyond what it holds, or below what was acknowledged, and changes nothing', () => {
  const buffer = new ReplayBuffer();
  const packets = [seqPacket(1), seqPacket(2), seqPacket(3)];
  const whole = Buffer.concat(packets);
  buffer.append(whole.subarray(0, whole.length - 1)); // the third packet is not all there
  assert.equal(buffer.canResumeAt(3), false);
  assert.equal(buffer.ack(3), false);
  assert.equal(buffer.acked, 0);
  assert.equal(buffer.ack(2), true);
  assert.equal(buffer.canResumeAt(1), false, 'below what was acknowledged');
  assert.equal(buffer.ack(1), true, 'a stale acknowledgement is harmless');
  assert.equal(buffer.acked, 2);
  buffer.append(whole.subarray(whole.length - 1));
  assert.equal(buffer.ack(3), true);
  assert.equal(buffer.bytes, 0);
});

it('keeps the pieces it was given, not copies', () => {
  const buffer = new ReplayBuffer();
  const piece = Buffer.concat([seqPacket(1), seqPacket(2)]);
  buffer.append(piece);
  const [first] = buffer.unacknowledged().pieces;
  assert.equal(first, piece);
  buffer.ack(1);
  const [rest] = buffer.unacknowledged().pieces;
  assert.equal(rest?.buffer, piece.buffer, 'a view of the same memory');
});

it('what it holds crosses to another buffer (a session that moves): same acknowledged count, same packets, cut anywhere', () => {
  const random = mulberry32(7);
  const packets = Array.from({ length: 30 }, (_, i) => seqPacket(i + 1));
  const from = new ReplayBuffer();
  for (const piece of cutAnywhere(packets, random)) from.append(piece);
  assert.equal(from.ack(11), true);
  const held = from.copyHeld();
  assert.deepEqual(Buffer.from(held), Buffer.concat(packets.slice(11)));
  const to = new ReplayBuffer();
  assert.equal(to.restore(from.acked, held), true);
  assert.equal(to.acked, 11);
  assert.equal(to.canResumeAt(10), false);
  assert.equal(to.canResumeAt(30), true);
  assert.equal(to.canResumeAt(31), false);
  assert.equal(to.ack(20), true);
  assert.deepEqual(Buffer.concat(to.unacknowledged().pieces), Buffer.concat(packets.slice(20)));
  assert.equal(new ReplayBuffer().restore(0, held.subarray(0, held.length - 1)), false, 'a cut packet is refused');
  assert.equal(to.restore(0, held), false, 'only into a new buffer');
});

it('lets go of acknowledged pieces at once: their memory is free as soon as the acknowledgement passes them', async () => {
  // A kept view keeps its whole SendBuffer chunk alive; held past a few collections, the chunks reach
  // the old generation and the collector runs full collections many times a second (bench: echo with
  // resume on). Each piece here has an ArrayBuffer of its own, watched through a WeakRef.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const buffer = new ReplayBuffer();
  const refs: WeakRef<ArrayBuffer>[] = [];
  for (let i = 1; i <= 10; i++) {
    const piece = new Uint8Array(seqPacket(i)); // a copy: an ArrayBuffer of its own
    refs.push(new WeakRef(piece.buffer));
    buffer.append(piece);
  }
  assert.equal(buffer.ack(9), true); // 9 of 10 pieces acknowledged
  await new Promise((resolve) => setImmediate(resolve)); // WeakRefs made this turn hold until it ends
  gc();
  assert.deepEqual(
    refs.map((ref) => ref.deref() === undefined),
    [true, true, true, true, true, true, true, true, true, false],
    'the acknowledged pieces are collected, the one held is not',
  );
  assert.equal(buffer.unacknowledged().packets, 1);
});
