import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { InvalidOptionError, ServiceStateError } from '../../src/core/errors.js';
import {
  DEFAULT_SEND_BUFFER_CHUNK_SIZE,
  SendBufferManager,
  sendBufferManager,
} from '../../src/packet/send-buffer.js';

const isServiceStateError = (error: unknown): boolean =>
  error instanceof ServiceStateError && error.code === 'GW_ERR_SERVICE_STATE';

/** Do two views share any byte of memory? */
function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) return false;
  return a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

/** The bytes of a SendBuffer as a Buffer copy, for comparisons. */
const bytesOf = (view: Uint8Array): Buffer => Buffer.from(view);

/**
 * open(size), scribble over all `size` reserved bytes (as a careless writer might), fill the first
 * `written` with `fill`, close(written).
 */
function make(manager: SendBufferManager, size: number, written: number, fill: number): Uint8Array {
  const at = manager.open(size);
  assert.equal(at.size, size);
  assert.ok(at.offset >= 0 && at.offset + size <= at.bytes.length, 'the cursor fits its bytes');
  at.bytes.fill(0xee, at.offset, at.offset + size);
  at.bytes.fill(fill, at.offset, at.offset + written);
  return manager.close(written);
}

describe('SendBufferManager', () => {
  it('defaults to 64 KiB chunks, also for the process-wide manager', () => {
    assert.equal(DEFAULT_SEND_BUFFER_CHUNK_SIZE, 65536);
    assert.equal(new SendBufferManager().chunkSize, 65536);
    assert.equal(sendBufferManager.chunkSize, DEFAULT_SEND_BUFFER_CHUNK_SIZE);
  });

  for (const bad of [255, 0, -1, 1000.5, Number.NaN]) {
    it(`rejects chunkSize ${bad} with InvalidOptionError`, () => {
      assert.throws(
        () => new SendBufferManager(bad),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'GW_ERR_INVALID_OPTION',
      );
    });
  }

  it('open(size) says where `size` bytes may be written; close(written) returns exactly those bytes, same memory', () => {
    const manager = new SendBufferManager(1024);
    const at = manager.open(10);
    assert.equal(at.size, 10);
    at.bytes.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], at.offset);
    const { bytes, offset } = at;
    const done = manager.close(10);
    assert.ok(done instanceof Uint8Array);
    assert.deepEqual(bytesOf(done), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    assert.equal(done.buffer, bytes.buffer);
    assert.equal(done.byteOffset, bytes.byteOffset + offset);
    assert.equal(at.arrayBuffer, bytes.buffer, 'the cursor names the ArrayBuffer under its bytes');
  });

  it('in Node a closed SendBuffer is a Buffer (a socket writes it without converting it), with every Buffer method', () => {
    const manager = new SendBufferManager(1024);
    const at = manager.open(5);
    at.bytes.set(Buffer.from('hello'), at.offset);
    const done = manager.close(5);
    assert.ok(Buffer.isBuffer(done));
    assert.equal((done as Buffer).toString('utf8'), 'hello');
    assert.equal((done as Buffer).subarray(1, 3).toString(), 'el');
    assert.deepEqual([...done.map((b) => b + 1)], [...Buffer.from('ifmmp')]);
    assert.equal(Buffer.concat([done, done]).toString(), 'hellohello');
  });

  it('open() hands out one cursor object, reused by every open (opening allocates nothing)', () => {
    const manager = new SendBufferManager(256);
    const first = manager.open(4);
    manager.close(4);
    assert.equal(manager.open(1000), first, 'also for an oversized request');
    manager.close(0);
    assert.equal(manager.open(8), first);
    manager.close(8);
  });

  for (const bad of [-1, 1.5, Number.NaN, 2 ** 32]) {
    it(`open(${bad}) throws InvalidOptionError and leaves nothing open`, () => {
      const manager = new SendBufferManager(256);
      assert.throws(
        () => manager.open(bad),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'GW_ERR_INVALID_OPTION',
      );
      assert.throws(() => manager.close(0), isServiceStateError, 'nothing is open');
      assert.equal(make(manager, 4, 4, 1).length, 4);
    });
  }

  it('close(written) below the size opened keeps only `written` bytes; the next buffer starts right after them', () => {
    const manager = new SendBufferManager(1024);
    const first = make(manager, 100, 7, 0xaa);
    assert.equal(first.length, 7);
    const second = make(manager, 50, 50, 0xbb);
    assert.equal(second.buffer, first.buffer, 'same chunk');
    assert.equal(second.byteOffset, first.byteOffset + 7, 'the 93 unused bytes were given back');
    assert.deepEqual(bytesOf(first), Buffer.alloc(7, 0xaa));
    assert.deepEqual(bytesOf(second), Buffer.alloc(50, 0xbb));
  });

  it('open(0)/close(0) gives an empty buffer and takes no space', () => {
    const manager = new SendBufferManager(256);
    const a = make(manager, 8, 8, 1);
    assert.equal(make(manager, 0, 0, 2).length, 0);
    const b = make(manager, 8, 8, 3);
    assert.equal(b.byteOffset, a.byteOffset + 8);
  });

  it('views from one chunk never overlap, and a closed buffer is never changed by later packets', () => {
    const manager = new SendBufferManager(256);
    const made: Array<{ buffer: Uint8Array; fill: number }> = [];
    // 300 packets of 1..100 bytes through 256-byte chunks: many chunk changes, many exact and near fits.
    for (let i = 0; i < 300; i++) {
      const size = 1 + ((i * 37) % 100);
      const written = i % 3 === 0 ? size : Math.max(0, size - (i % 11));
      made.push({ buffer: make(manager, size, written, i & 0xff), fill: i & 0xff });
    }
    for (const [i, m] of made.entries()) {
      assert.deepEqual(bytesOf(m.buffer), Buffer.alloc(m.buffer.length, m.fill), `buffer #${i} changed`);
      for (let j = i + 1; j < made.length; j++) {
        assert.ok(!overlaps(m.buffer, (made[j] as { buffer: Uint8Array }).buffer), `#${i} and #${j} overlap`);
      }
    }
  });

  it('starts a new chunk when the request does not fit the rest, leaving the old views intact', () => {
    const manager = new SendBufferManager(256);
    const a = make(manager, 200, 200, 1);
    const b = make(manager, 56, 56, 2); // exactly fills the chunk
    assert.equal(b.buffer, a.buffer);
    const c = make(manager, 1, 1, 3);
    assert.notEqual(c.buffer, a.buffer, 'a full chunk is not reused');
    assert.equal(c.byteOffset, 0);
    const d = make(manager, 255, 255, 4); // exactly the 255 bytes left after c
    assert.equal(d.buffer, c.buffer);
    const e = make(manager, 10, 10, 5);
    assert.notEqual(e.buffer, c.buffer);
    assert.deepEqual(
      [a, b, c, d, e].map((x) => x.every((byte) => byte === x[0])),
      [true, true, true, true, true],
    );
    assert.deepEqual([a[0], b[0], c[0], d[0], e[0]], [1, 2, 3, 4, 5]);
  });

  it('gives a request larger than the chunk a buffer of its own, without using chunk space', () => {
    const manager = new SendBufferManager(256);
    const before = make(manager, 10, 10, 1);
    const at = manager.open(1000);
    assert.notEqual(at.bytes.buffer, before.buffer, 'not the chunk');
    assert.ok(at.bytes.length - at.offset >= 1000);
    at.bytes.fill(9, at.offset, at.offset + 1000);
    const big = manager.close(1000);
    assert.equal(big.length, 1000);
    assert.ok(!overlaps(big, before));
    assert.notEqual(big.buffer, before.buffer);
    const after = make(manager, 10, 10, 2);
    assert.equal(after.buffer, before.buffer, 'the chunk is still in use');
    assert.equal(after.byteOffset, before.byteOffset + 10, 'the big buffer took no chunk space');
    assert.deepEqual(bytesOf(big), Buffer.alloc(1000, 9));
    assert.deepEqual(bytesOf(before), Buffer.alloc(10, 1));
    // Closing an own buffer short keeps only what was written.
    const short = make(manager, 300, 257, 7);
    assert.equal(short.length, 257);
    assert.deepEqual(bytesOf(short), Buffer.alloc(257, 7));
  });

  it('open() while a buffer is open throws ServiceStateError and leaves the open buffer usable', () => {
    const manager = new SendBufferManager(256);
    const at = manager.open(4);
    at.bytes.set([1, 2, 3, 4], at.offset);
    assert.throws(() => manager.open(4), isServiceStateError);
    assert.throws(() => manager.open(1000), isServiceStateError);
    assert.throws(() => manager.copy(Buffer.from('x')), isServiceStateError);
    assert.deepEqual(bytesOf(manager.close(4)), Buffer.from([1, 2, 3, 4]));
  });

  it('close() without open() throws ServiceStateError, also a second close', () => {
    const manager = new SendBufferManager(256);
    assert.throws(() => manager.close(0), isServiceStateError);
    manager.open(4);
    manager.close(4);
    assert.throws(() => manager.close(4), isServiceStateError);
  });

  for (const bad of [-1, 5, 1.5, Number.NaN]) {
    it(`close(${bad}) after open(4) throws ServiceStateError and leaves the buffer open`, () => {
      const manager = new SendBufferManager(256);
      const at = manager.open(4);
      at.bytes.set([4, 3, 2, 1], at.offset);
      assert.throws(() => manager.close(bad), isServiceStateError);
      assert.throws(() => manager.open(1), isServiceStateError, 'still open');
      assert.deepEqual(bytesOf(manager.close(4)), Buffer.from([4, 3, 2, 1]));
    });
  }

  it('close() out of range of an own (oversized) buffer throws too', () => {
    const manager = new SendBufferManager(256);
    manager.open(300);
    assert.throws(() => manager.close(301), isServiceStateError);
    assert.equal(manager.close(300).length, 300);
  });

  it('copy() makes a SendBuffer equal to its source that does not share its memory', () => {
    const manager = new SendBufferManager(256);
    for (const length of [0, 1, 100, 256, 257, 5000]) {
      const source = Buffer.alloc(length);
      for (let i = 0; i < length; i++) source[i] = (i * 7 + length) & 0xff;
      const expected = Buffer.from(source);
      const copy = manager.copy(source);
      assert.deepEqual(bytesOf(copy), expected, `length ${length}`);
      assert.ok(!overlaps(copy, source));
      source.fill(0xff);
      assert.deepEqual(bytesOf(copy), expected, `length ${length}: changing the source changed the copy`);
    }
    // The manager is left closed: a normal open works.
    assert.equal(make(manager, 3, 3, 1).length, 3);
  });

  it('any sequence of open/close keeps every closed buffer intact and disjoint (property)', () => {
    const op = fc.record({ size: fc.integer({ min: 0, max: 600 }), shortBy: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 80, size: 'max' }), (ops) => {
        const manager = new SendBufferManager(512);
        const made: Uint8Array[] = [];
        ops.forEach(({ size, shortBy }, i) => {
          const written = Math.max(0, size - shortBy);
          const buffer = make(manager, size, written, i & 0xff);
          assert.equal(buffer.length, written);
          made.push(buffer);
        });
        made.forEach((buffer, i) => {
          assert.ok(buffer.every((byte) => byte === (i & 0xff)), `buffer #${i} changed`);
          for (let j = 0; j < i; j++) assert.ok(!overlaps(buffer, made[j] as Uint8Array), `#${j} and #${i} overlap`);
        });
      }),
      { numRuns: 200 },
    );
  });
});
