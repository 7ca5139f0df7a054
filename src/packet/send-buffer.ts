import { InvalidOptionError, ServiceStateError } from '../core/errors.js';

/** Default chunk size of a {@link SendBufferManager}, bytes: 64 KiB. */
export const DEFAULT_SEND_BUFFER_CHUNK_SIZE = 64 * 1024;

/**
 * The C++ SendBufferManager in Node terms: packets are written into large pooled chunks with
 * `open(size)` then `close(written)`, so making a packet allocates no memory of its own, only a view.
 *
 * A chunk is never written twice: once closed, the bytes of a SendBuffer are immutable and may be
 * sent to any number of sessions; the chunk is freed by the garbage collector when the last view of
 * it is gone (the C++ version's reference count). A request larger than a chunk gets a buffer of its
 * own instead of failing.
 *
 * ```ts
 * const scratch = sendBuffers.open(4 + body.length);   // writable, at least the size asked for
 * writePacketHeader(scratch, 0, 4 + body.length, id);
 * scratch.set(body, 4);
 * const packet = sendBuffers.close(4 + body.length);   // immutable from here on
 * for (const s of sessions) s.send(packet);
 * ```
 */
export class SendBufferManager {
  /** Bytes per chunk. */
  readonly chunkSize: number;
  #chunk: Buffer;
  #used = 0;
  #openSize = -1;
  #openBuffer: Buffer | undefined;

  /**
   * @param chunkSize - bytes per pooled chunk; default {@link DEFAULT_SEND_BUFFER_CHUNK_SIZE}.
   * @throws InvalidOptionError when `chunkSize` is not an integer of at least 256.
   */
  constructor(chunkSize: number = DEFAULT_SEND_BUFFER_CHUNK_SIZE) {
    if (!Number.isSafeInteger(chunkSize) || chunkSize < 256) {
      throw new InvalidOptionError('chunkSize', chunkSize, 'an integer >= 256');
    }
    this.chunkSize = chunkSize;
    this.#chunk = Buffer.allocUnsafeSlow(chunkSize);
  }

  /**
   * Reserves `size` bytes and returns them, writable, until `close()`. Exactly one buffer may be open.
   * @throws ServiceStateError if a buffer is already open.
   */
  open(size: number): Buffer {
    if (this.#openSize >= 0) throw new ServiceStateError('SendBufferManager.open() while a buffer is open');
    this.#openSize = size;
    if (size > this.chunkSize) {
      this.#openBuffer = Buffer.allocUnsafe(size);
      return this.#openBuffer;
    }
    if (this.chunkSize - this.#used < size) {
      this.#chunk = Buffer.allocUnsafeSlow(this.chunkSize);
      this.#used = 0;
    }
    this.#openBuffer = undefined;
    return this.#chunk.subarray(this.#used, this.#used + size);
  }

  /**
   * Ends the open buffer after `written` bytes (at most the size opened) and returns them as the
   * finished, immutable SendBuffer.
   * @throws ServiceStateError if nothing is open or `written` is out of range.
   */
  close(written: number): Buffer {
    const size = this.#openSize;
    if (size < 0) throw new ServiceStateError('SendBufferManager.close() without open()');
    if (!Number.isInteger(written) || written < 0 || written > size) {
      throw new ServiceStateError(`SendBufferManager.close(${written}) outside 0..${size}`);
    }
    this.#openSize = -1;
    const own = this.#openBuffer;
    if (own !== undefined) {
      this.#openBuffer = undefined;
      return written === own.length ? own : own.subarray(0, written);
    }
    const start = this.#used;
    this.#used += written;
    return this.#chunk.subarray(start, start + written);
  }

  /** Copies `bytes` into a fresh SendBuffer (open, copy, close). */
  copy(bytes: Uint8Array): Buffer {
    this.open(bytes.length).set(bytes);
    return this.close(bytes.length);
  }
}

/** The process-wide SendBufferManager the packet layer writes into (the C++ `GSendBufferManager`). */
export const sendBufferManager = new SendBufferManager();
