import { DEFAULTS } from '../../src/core/defaults.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidOptionError } from '../../src/core/errors.js';
import { MIN_RECV_BUFFER_SIZE, RecvBuffer } from '../../src/core/recv-buffer.js';

/** `n` bytes 0, 1, 2 … (mod 256) starting at `from`. */
function bytes(n: number, from = 0): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (from + i) & 0xff;
  return out;
}

describe('RecvBuffer', () => {
  it('appends, reads and resets cursors for free when emptied', () => {
    const rb = new RecvBuffer(16);
    assert.equal(rb.append(Buffer.from('abcdef')), 6);
    assert.equal(rb.data().toString(), 'abcdef');
    rb.onRead(6);
    rb.clean();
    assert.equal(rb.isEmpty, true);
    assert.equal(rb.freeSize, 16);
  });

  it('presents unread bytes in order across appends, onRead and clean', () => {
    const rb = new RecvBuffer(32);
    assert.equal(rb.isEmpty, true);
    assert.equal(rb.dataSize, 0);
    assert.equal(rb.data().length, 0);
    rb.append(Buffer.from('hello '));
    rb.append(Buffer.from('world'));
    assert.equal(rb.dataSize, 11);
    assert.equal(rb.data().toString(), 'hello world');
    rb.onRead(6);
    rb.clean();
    assert.equal(rb.data().toString(), 'world');
    assert.equal(rb.isEmpty, false);
    rb.append(Buffer.from('!'));
    assert.equal(rb.data().toString(), 'world!');
  });

  it('appends from an offset of the source', () => {
    const rb = new RecvBuffer(16);
    assert.equal(rb.append(Buffer.from('0123456789'), 7), 3);
    assert.equal(rb.data().toString(), '789');
    assert.equal(rb.append(Buffer.from('abc'), 3), 0, 'offset at the end copies nothing');
    assert.equal(rb.append(Buffer.from('abc'), 5), 0, 'offset past the end copies nothing');
    assert.equal(rb.data().toString(), '789');
  });

  it('clean() does not compact while at least a quarter of the capacity is free at the end', () => {
    const rb = new RecvBuffer(64);
    rb.append(bytes(40));
    rb.onRead(10);
    rb.clean();
    // 24 free at the end >= 64/4: nothing moves, so the free space at the end stays 24.
    assert.equal(rb.freeSize, 24);
    assert.deepEqual(rb.data(), bytes(30, 10));
    rb.append(bytes(8, 40)); // write cursor 48: exactly 16 (a quarter) free
    rb.onRead(2);
    rb.clean();
    assert.equal(rb.freeSize, 16, 'exactly a quarter free is enough: no compaction');
    assert.deepEqual(rb.data(), bytes(36, 12));
  });

  it('clean() compacts once less than a quarter is free at the end, keeping the bytes', () => {
    const rb = new RecvBuffer(64);
    rb.append(bytes(49)); // 15 free at the end: below 16
    rb.onRead(9);
    rb.clean();
    assert.equal(rb.dataSize, 40);
    assert.equal(rb.freeSize, 24, 'the tail moved to the front');
    assert.deepEqual(rb.data(), bytes(40, 9));
  });

  it('append() compacts on its own when the free space at the end is too small', () => {
    const rb = new RecvBuffer(16);
    rb.append(bytes(12));
    rb.onRead(8); // no clean(): 4 unread at offset 8, 4 free at the end
    assert.equal(rb.append(bytes(8, 12)), 8);
    assert.deepEqual(rb.data(), bytes(12, 8));
    assert.equal(rb.freeSize, 4);
  });

  it('append() returns a partial count when full and 0 when there is no room', () => {
    const rb = new RecvBuffer(16);
    assert.equal(rb.append(bytes(20)), 16);
    assert.equal(rb.freeSize, 0);
    assert.deepEqual(rb.data(), bytes(16));
    assert.equal(rb.append(bytes(5)), 0);
    rb.onRead(3);
    assert.equal(rb.append(bytes(5, 100)), 3, 'room made by reading is reclaimed by compaction');
    assert.deepEqual(rb.data(), Buffer.concat([bytes(13, 3), bytes(3, 100)]));
  });

  it('reset() drops the unread bytes and the buffer is usable afterwards', () => {
    const rb = new RecvBuffer(16);
    rb.append(bytes(10));
    rb.onRead(4);
    rb.reset();
    assert.equal(rb.isEmpty, true);
    assert.equal(rb.dataSize, 0);
    assert.equal(rb.freeSize, 16);
    assert.equal(rb.data().length, 0);
    assert.equal(rb.append(Buffer.from('again')), 5);
    assert.equal(rb.data().toString(), 'again');
  });

  it('allocates its memory on first append, not in the constructor', () => {
    const capacity = 1024 * 1024;
    const count = 64;
    const before = process.memoryUsage().arrayBuffers;
    const buffers = Array.from({ length: count }, () => new RecvBuffer(capacity));
    const afterConstruct = process.memoryUsage().arrayBuffers;
    assert.ok(
      afterConstruct - before < 8 * capacity,
      `constructing ${count} buffers of 1 MiB grew arrayBuffers by ${afterConstruct - before} bytes`,
    );
    for (const rb of buffers) assert.equal(rb.data().length, 0);
    for (const rb of buffers) rb.append(Buffer.from('x'));
    const afterAppend = process.memoryUsage().arrayBuffers;
    assert.ok(
      afterAppend - afterConstruct >= (count / 2) * capacity,
      `appending to ${count} buffers grew arrayBuffers by only ${afterAppend - afterConstruct} bytes`,
    );
  });

  it('has the documented default and minimum capacity', () => {
    assert.equal(new RecvBuffer().capacity, DEFAULTS.recvBufferSize);
    assert.equal(DEFAULTS.recvBufferSize, 65536);
    assert.equal(new RecvBuffer(MIN_RECV_BUFFER_SIZE).capacity, 16);
  });

  for (const bad of [15, 0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`throws InvalidOptionError for capacity ${bad}`, () => {
      assert.throws(
        () => new RecvBuffer(bad),
        (error: unknown) => {
          assert.ok(error instanceof InvalidOptionError);
          assert.equal(error.code, 'GW_ERR_INVALID_OPTION');
          assert.match(error.message, /recvBufferSize/);
          return true;
        },
      );
    });
  }
});
