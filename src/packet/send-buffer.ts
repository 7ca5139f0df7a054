import { viewOf } from '../core/buffer-view.js';
import { InvalidOptionError, ServiceStateError } from '../core/errors.js';

/**
 * A chunk of `size` bytes, not zero-filled, at offset 0 of an ArrayBuffer of its own. In Node a
 * Buffer, because protobufjs's Node writer encodes strings with Buffer methods; a browser has no
 * Buffer and gets a plain Uint8Array.
 */
const NodeBuffer = (globalThis as { Buffer?: { allocUnsafeSlow(size: number): Uint8Array } }).Buffer;
const allocChunk: (size: number) => Uint8Array =
  NodeBuffer !== undefined ? (size) => NodeBuffer.allocUnsafeSlow(size) : (size) => new Uint8Array(size);

/** Default chunk size of a {@link SendBufferManager}, bytes: 64 KiB. */
export const DEFAULT_SEND_BUFFER_CHUNK_SIZE = 64 * 1024;

/**
 * Where to write an open SendBuffer: `size` bytes of `bytes` starting at `offset`. It is one object
 * owned by the manager and reused by every `open()`, so opening allocates nothing; it is valid until
 * `close()`.
 */
export interface SendBufferCursor {
  /** The chunk to write into: a Buffer in Node, a Uint8Array in a browser. */
  readonly bytes: Uint8Array;
  /** The ArrayBuffer under `bytes`; `bytes` starts at its offset 0 (so `offset` is in both). */
  readonly arrayBuffer: ArrayBuffer;
  /** Where the open SendBuffer starts in `bytes`. */
  readonly offset: number;
  /** Bytes reserved by `open()`. */
  readonly size: number;
}

/**
 * The C++ SendBufferManager in Node terms: packets are written into large chunks with `open(size)`
 * then `close(written)`. Opening allocates nothing (the cursor is reused); closing returns the packet
 * as a `Uint8Array` view of the chunk, which is the only allocation per packet and is cheaper than
 * `Buffer.allocUnsafe` (see bench/README.md).
 *
 * A chunk's bytes are never written twice: once closed, a SendBuffer is immutable and may be sent to
 * any number of sessions; a chunk is freed by the garbage collector when its last SendBuffer is gone
 * (the C++ version's reference count). A request larger than a chunk gets memory of its own.
 *
 * ```ts
 * const at = sendBufferManager.open(4 + body.length);
 * writePacketHeader(at.bytes, at.offset, 4 + body.length, id);
 * at.bytes.set(body, at.offset + 4);
 * const packet = sendBufferManager.close(4 + body.length); // immutable from here on
 * for (const s of sessions) s.send(packet);
 * ```
 */
export class SendBufferManager {
  /** Bytes per chunk. */
  readonly chunkSize: number;
  #chunk: Uint8Array;
  /** The chunk's ArrayBuffer, kept: asking a typed array for its `buffer` is a call into C++. */
  #chunkBuffer: ArrayBuffer;
  #used = 0;
  #open = false;
  readonly #cursor: { bytes: Uint8Array; arrayBuffer: ArrayBuffer; offset: number; size: number };

  /**
   * @param chunkSize - bytes per chunk; default {@link DEFAULT_SEND_BUFFER_CHUNK_SIZE}.
   * @throws InvalidOptionError when `chunkSize` is not an integer of at least 256.
   */
  constructor(chunkSize: number = DEFAULT_SEND_BUFFER_CHUNK_SIZE) {
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 256) {
      throw new InvalidOptionError('chunkSize', chunkSize, 'an integer >= 256');
    }
    this.chunkSize = chunkSize;
    this.#chunk = allocChunk(chunkSize);
    this.#chunkBuffer = this.#chunk.buffer as ArrayBuffer;
    this.#cursor = { bytes: this.#chunk, arrayBuffer: this.#chunkBuffer, offset: 0, size: 0 };
  }

  /**
   * Reserves `size` bytes and says where to write them. Exactly one SendBuffer may be open at a time.
   * @throws ServiceStateError if one is already open.
   */
  open(size: number): SendBufferCursor {
    if (this.#open) throw new ServiceStateError('SendBufferManager.open() while a buffer is open');
    if (size >>> 0 !== size) throw new InvalidOptionError('size', size, 'an integer >= 0');
    this.#open = true;
    const cursor = this.#cursor;
    cursor.size = size;
    if (size > this.chunkSize) {
      cursor.bytes = allocChunk(size);
      cursor.arrayBuffer = cursor.bytes.buffer as ArrayBuffer;
      cursor.offset = 0;
      return cursor;
    }
    if (this.chunkSize - this.#used < size) {
      this.#chunk = allocChunk(this.chunkSize);
      this.#chunkBuffer = this.#chunk.buffer as ArrayBuffer;
      this.#used = 0;
    }
    cursor.bytes = this.#chunk;
    cursor.arrayBuffer = this.#chunkBuffer;
    cursor.offset = this.#used;
    return cursor;
  }

  /**
   * Opens the rest of the current chunk, at least `minSize` bytes (a new chunk if less is left), for a
   * writer that learns the size only as it writes (an encoder). `close(written)` keeps what was used.
   * @throws ServiceStateError if a SendBuffer is already open.
   * @throws InvalidOptionError if `minSize` is larger than a chunk.
   */
  openRest(minSize: number): SendBufferCursor {
    if (minSize > this.chunkSize) throw new InvalidOptionError('minSize', minSize, `at most chunkSize (${this.chunkSize})`);
    this.open(minSize);
    const cursor = this.#cursor;
    cursor.size = this.chunkSize - cursor.offset;
    return cursor;
  }

  /**
   * Ends the open SendBuffer after `written` bytes (at most the size opened) and returns them: the
   * finished, immutable packet (a Buffer in Node, which a socket writes without converting it).
   * @throws ServiceStateError if nothing is open or `written` is outside 0..size.
   */
  close(written: number): Uint8Array {
    const cursor = this.#cursor;
    if (!this.#open) throw new ServiceStateError('SendBufferManager.close() without open()');
    if (written >>> 0 !== written || written > cursor.size) {
      throw new ServiceStateError(`SendBufferManager.close(${written}) outside 0..${cursor.size}`);
    }
    this.#open = false;
    const bytes = cursor.bytes;
    if (bytes === this.#chunk) this.#used += written;
    return viewOf(cursor.arrayBuffer, cursor.offset, written);
  }

  /**
   * Like `close(written)` but makes no view: for code that hands the range (the cursor's `bytes` and
   * `offset`, read before this call) on by itself, such as `PacketSession.sendPacket`.
   * @throws ServiceStateError as `close`.
   */
  commit(written: number): void {
    const cursor = this.#cursor;
    if (!this.#open) throw new ServiceStateError('SendBufferManager.commit() without open()');
    if (written >>> 0 !== written || written > cursor.size) {
      throw new ServiceStateError(`SendBufferManager.commit(${written}) outside 0..${cursor.size}`);
    }
    this.#open = false;
    if (cursor.bytes === this.#chunk) this.#used += written;
  }

  /** Copies `source` into a new SendBuffer (open, copy, close). */
  copy(source: Uint8Array): Uint8Array {
    const at = this.open(source.length);
    at.bytes.set(source, at.offset);
    return this.close(source.length);
  }
}

/** The process-wide SendBufferManager the packet layer writes into (the C++ `GSendBufferManager`). */
export const sendBufferManager = new SendBufferManager();
