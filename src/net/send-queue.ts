import type { Transport } from './transport.js';
import { DEFAULTS } from '../core/defaults.js';

/** Default `maxSendQueuePieces`: separate buffers one session's queue holds before it joins them. */
export const DEFAULT_MAX_SEND_QUEUE_PIECES = DEFAULTS.maxSendQueuePieces;

/**
 * What one session has been asked to send during the current event-loop turn, handed to its transport
 * as one write at the end of the turn (the C++ `_sendQueue` of a gather-send). Pieces that sit next to
 * each other in memory (packets written one after another into a SendBuffer chunk) are kept as one
 * run, so they cost no allocation here and leave without being joined.
 *
 * The queue holds at most `maxPieces` separate buffers (1 MiB of scattered 4-byte packets would
 * otherwise be 262,144 views and a writev as long): when it would hold more, the pieces queued since
 * the last join are copied into one buffer, so each byte is copied at most once more.
 *
 * It also keeps what the connection knows of its writes: whether a flush is scheduled, the bytes the
 * transport still holds, and the writes whose completion (`onSend`) is awaited. A connection makes its
 * queue on its first send, so an idle connection holds none of this.
 */
export class SendQueue {
  /** Most separate buffers held; more are joined. At least 2. */
  maxPieces: number;
  /** True while a flush of this queue is scheduled for the end of the turn. */
  flushScheduled = false;
  /** Bytes the transport held after the last write or write completion (Node's `writableLength`). */
  backlog = 0;
  /** Byte counts of writes whose completion is awaited, oldest first. */
  readonly #inFlight: number[] = [];
  readonly #pieces: Uint8Array[] = [];
  /** Pieces before this index are joined ones; a join takes the pieces after it. */
  #joined = 0;
  #bytes = 0;
  /** The last piece, kept out of `#pieces` so an adjacent piece can extend it without allocating. */
  #run: Uint8Array | undefined;
  /** Where the run ends in its ArrayBuffer (past `#run` when adjacent pieces extended it). */
  #runEnd = 0;

  /** @param maxPieces - most separate buffers held before joining; default 1024. */
  constructor(maxPieces = DEFAULT_MAX_SEND_QUEUE_PIECES) {
    this.maxPieces = maxPieces;
  }

  /** Bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Queues `length` bytes of `buffer` at `offset`; `view` is a ready view of them, if the caller has one. */
  push(buffer: ArrayBuffer, offset: number, length: number, view: Uint8Array | undefined): void {
    const run = this.#run;
    if (run !== undefined && offset === this.#runEnd && buffer === run.buffer) {
      this.#runEnd += length;
    } else {
      if (run !== undefined) this.#closeRun(run);
      this.#run = view ?? new Uint8Array(buffer, offset, length);
      this.#runEnd = offset + length;
    }
    this.#bytes += length;
  }

  /**
   * Hands everything queued to `transport` as one write (`transport.write`, which joins small pieces or
   * writes them with one writev), empties the queue and awaits the write's completion. Returns the
   * transport's backlog after it.
   */
  writeTo(transport: Transport): number {
    if (this.#run !== undefined) this.#closeRun(this.#run);
    const pieces = this.#pieces;
    const count = pieces.length;
    const bytes = this.#bytes;
    if (count > 0) {
      transport.write(pieces, count, bytes);
      this.#inFlight.push(bytes);
      this.clear();
    }
    return (this.backlog = transport.bufferedBytes);
  }

  /** The oldest awaited write completed: its byte count (undefined when none was awaited). */
  writeCompleted(): number | undefined {
    return this.#inFlight.shift();
  }

  /** Separate buffers queued (the open run included). */
  get pieceCount(): number {
    return this.#pieces.length + (this.#run === undefined ? 0 : 1);
  }

  /** Drops everything queued. */
  clear(): void {
    this.#pieces.length = 0;
    this.#joined = 0;
    this.#run = undefined;
    this.#bytes = 0;
  }

  #closeRun(run: Uint8Array): void {
    const end = this.#runEnd;
    this.#pieces.push(
      end === run.byteOffset + run.byteLength ? run : new Uint8Array(run.buffer, run.byteOffset, end - run.byteOffset),
    );
    this.#run = undefined;
    if (this.#pieces.length >= this.maxPieces) this.#join();
  }

  /** Copies the pieces queued since the last join (all of them if there are none) into one buffer. */
  #join(): void {
    const pieces = this.#pieces;
    const from = this.#joined < pieces.length - 1 ? this.#joined : 0;
    let bytes = 0;
    for (let i = from; i < pieces.length; i++) bytes += (pieces[i] as Uint8Array).byteLength;
    const joined = Buffer.allocUnsafeSlow(bytes);
    let at = 0;
    for (let i = from; i < pieces.length; i++) {
      const piece = pieces[i] as Uint8Array;
      joined.set(piece, at);
      at += piece.byteLength;
    }
    pieces.length = from;
    pieces.push(joined);
    this.#joined = pieces.length;
  }
}
