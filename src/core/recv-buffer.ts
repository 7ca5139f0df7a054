import { checkInteger } from './options.js';
import { DEFAULTS } from './defaults.js';

/** Smallest RecvBuffer capacity accepted, in bytes. */
export const MIN_RECV_BUFFER_SIZE = 16;

/**
 * The C++ RecvBuffer: one byte array with a read cursor and a write cursor. Bytes are appended at the
 * write cursor and consumed at the read cursor; `clean()` moves the unread tail to the front only when
 * it must (the buffer is empty, so both cursors go back to 0 for free, or the free space at the end has
 * run short). The backing memory is allocated on first use, so idle sessions cost nothing.
 */
export class RecvBuffer {
  /** Capacity in bytes; the most unread data the buffer can hold. */
  readonly capacity: number;
  #bytes: Buffer | undefined;
  #readPos = 0;
  #writePos = 0;

  /**
   * @param capacity - bytes; default `DEFAULTS.recvBufferSize` (65536).
   * @throws InvalidOptionError if `capacity` is not an integer of at least {@link MIN_RECV_BUFFER_SIZE}.
   */
  constructor(capacity: number = DEFAULTS.recvBufferSize) {
    this.capacity = checkInteger('recvBufferSize', capacity, MIN_RECV_BUFFER_SIZE);
  }

  /** Unread bytes held. */
  get dataSize(): number {
    return this.#writePos - this.#readPos;
  }

  /** Bytes that can be appended before `clean()` must compact. */
  get freeSize(): number {
    return this.capacity - this.#writePos;
  }

  /** True when no unread bytes are held. */
  get isEmpty(): boolean {
    return this.#writePos === this.#readPos;
  }

  /** A view of the unread bytes. Valid until the next `append`, `clean` or `reset`. */
  data(): Buffer {
    return this.#bytes === undefined ? Buffer.alloc(0) : this.#bytes.subarray(this.#readPos, this.#writePos);
  }

  /**
   * Copies as much of `source[offset..]` as fits in the free space, compacting first if that makes room.
   * @returns bytes copied (0 when the buffer is full).
   */
  append(source: Uint8Array, offset = 0): number {
    const wanted = source.length - offset;
    if (wanted <= 0) return 0;
    if (this.freeSize < wanted) this.#compact();
    const bytes = (this.#bytes ??= Buffer.allocUnsafe(this.capacity));
    const n = Math.min(wanted, this.capacity - this.#writePos);
    if (n === 0) return 0;
    bytes.set(offset === 0 && n === source.length ? source : source.subarray(offset, offset + n), this.#writePos);
    this.#writePos += n;
    return n;
  }

  /** Marks `count` unread bytes as consumed (C++ `OnRead`). */
  onRead(count: number): void {
    this.#readPos += count;
  }

  /**
   * Resets the cursors when empty, which costs nothing; otherwise moves the tail to the front only when
   * less than a quarter of the capacity is left free at the end (C++ `Clean`).
   */
  clean(): void {
    if (this.#readPos === this.#writePos) {
      this.#readPos = 0;
      this.#writePos = 0;
    } else if (this.capacity - this.#writePos < this.capacity >>> 2) {
      this.#compact();
    }
  }

  /** Drops all unread bytes and releases the backing memory. */
  reset(): void {
    this.#bytes = undefined;
    this.#readPos = 0;
    this.#writePos = 0;
  }

  #compact(): void {
    if (this.#readPos === 0 || this.#bytes === undefined) return;
    this.#bytes.copyWithin(0, this.#readPos, this.#writePos);
    this.#writePos -= this.#readPos;
    this.#readPos = 0;
  }
}
