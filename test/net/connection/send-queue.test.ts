/** SendQueue without sockets: adjacent runs, and the cap on separate pieces (maxPieces). */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Socket } from 'node:net';
import { SendQueue } from '../../../src/net/connection/send-queue.js';
import { TcpTransport } from '../../../src/net/transport/tcp-transport.js';

/** A TcpTransport over a stand-in socket that keeps every buffer written to it. */
function sink(): { transport: TcpTransport; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      writes.push(Buffer.from(chunk));
      done();
    },
  });
  return { transport: new TcpTransport(stream as unknown as Socket), writes };
}

function push(queue: SendQueue, bytes: Uint8Array): void {
  queue.push(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, bytes);
}

/** As `Session.send` queues: the view only, its place in memory not given. */
function pushView(queue: SendQueue, bytes: Uint8Array): void {
  queue.push(undefined, -1, bytes.length, bytes);
}

describe('SendQueue', () => {
  it('ranges adjacent in one buffer stay one piece', () => {
    const queue = new SendQueue();
    const chunk = new Uint8Array(4096);
    for (let at = 0; at < 4096; at += 16) queue.push(chunk.buffer, at, 16, undefined);
    assert.equal(queue.pieceCount, 1);
    assert.equal(queue.bytes, 4096);
  });

  it('views given without their place join the run when they lie right after it in the same memory, and only then', () => {
    const queue = new SendQueue();
    const chunk = new ArrayBuffer(64);
    const other = new ArrayBuffer(64);
    new Uint8Array(chunk).fill(1);
    new Uint8Array(other).fill(2);
    pushView(queue, new Uint8Array(chunk, 0, 8));
    pushView(queue, new Uint8Array(chunk, 8, 8)); // adjacent: one run
    queue.push(chunk, 16, 8, undefined); // a range right after it: still one run
    assert.equal(queue.pieceCount, 1);
    pushView(queue, new Uint8Array(other, 24, 8)); // where the run ends, but in other memory
    pushView(queue, new Uint8Array(chunk, 40, 8)); // the first memory, not adjacent
    assert.equal(queue.pieceCount, 3);
    assert.equal(queue.bytes, 40);
    const { transport, writes } = sink();
    queue.writeTo(transport);
    assert.deepEqual([...Buffer.concat(writes)], [...Array(24).fill(1), ...Array(8).fill(2), ...Array(8).fill(1)]);
  });

  it('one view queued alone is written as it is: no copy, no new view', () => {
    const queue = new SendQueue();
    const view = Buffer.from('hello');
    pushView(queue, view);
    const written: Uint8Array[] = [];
    const transport = { write: (pieces: readonly Uint8Array[], count: number) => written.push(...pieces.slice(0, count)), bufferedBytes: 0 };
    queue.writeTo(transport as unknown as TcpTransport);
    assert.equal(written.length, 1);
    assert.equal(written[0], view);
  });

  it('awaits every write in order: completions give back the byte count of each write, oldest first', () => {
    const queue = new SendQueue();
    const { transport, writes } = sink();
    const sizes = [3, 5, 7, 11];
    for (const size of sizes) {
      pushView(queue, Buffer.alloc(size, size));
      queue.writeTo(transport);
    }
    pushView(queue, Buffer.alloc(2));
    pushView(queue, Buffer.alloc(4)); // two pieces in one write
    queue.writeTo(transport);
    assert.deepEqual(writes.map((w) => w.length), [3, 5, 7, 11, 6]);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => queue.writeCompleted()), [3, 5, 7, 11, 6]);
    assert.equal(queue.writeCompleted(), undefined);
    queue.writeTo(transport); // nothing queued: nothing written, nothing awaited
    assert.equal(writes.length, 5);
    assert.equal(queue.writeCompleted(), undefined);
  });

  it('holds at most maxPieces scattered buffers, joining the newest ones; the bytes and their order are kept', () => {
    const queue = new SendQueue();
    queue.maxPieces = 64;
    const expected: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const piece = Buffer.alloc(4);
      piece.writeUInt32LE(i, 0);
      push(queue, piece);
      expected.push(i);
      assert.ok(queue.pieceCount <= 64, `${queue.pieceCount} pieces after ${i + 1}`);
    }
    assert.equal(queue.bytes, 40_000);
    const { transport, writes } = sink();
    assert.equal(queue.writeTo(transport), 0, 'the stand-in socket holds nothing back');
    assert.equal(queue.writeCompleted(), 40_000, 'the write is awaited with its byte count');
    assert.equal(queue.writeCompleted(), undefined);
    const all = Buffer.concat(writes);
    assert.equal(all.length, 40_000);
    for (let i = 0; i < expected.length; i++) assert.equal(all.readUInt32LE(i * 4), i);
    assert.equal(queue.pieceCount, 0);
  });

  it('a joined piece is a copy: changing the original pieces afterwards does not change what is sent', () => {
    const queue = new SendQueue();
    queue.maxPieces = 2;
    const a = Buffer.from([1, 2]);
    const b = Buffer.from([3, 4]);
    const c = Buffer.from([5, 6]);
    push(queue, a);
    push(queue, b);
    push(queue, c); // a and b are joined now
    a[0] = 9;
    const { transport, writes } = sink();
    queue.writeTo(transport);
    assert.deepEqual([...Buffer.concat(writes)], [1, 2, 3, 4, 5, 6]);
  });
});
