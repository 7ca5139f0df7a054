import type { Transport } from '../transport/transport.js';
import { viewOf } from '../../core/buffer-view.js';
import { DEFAULTS } from '../../core/defaults.js';

const EMPTY = new Uint8Array(0);
/** The list a single-piece write is handed over in; transports use it only during `write`. */
const single: Uint8Array[] = [EMPTY];

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
  /** Bytes of the writes completed so far. */
  completedBytes = 0;
  // Byte counts of the writes whose completion is awaited, oldest first: the oldest in a field (-1 when
  // none), the rest in an array made when a second write is awaited. Nearly always one write is in
  // flight, and an array's push and shift at every write of every session were a measurable part of
  // the flush.
  #firstInFlight = -1;
  #moreInFlight: number[] | undefined;
  readonly #pieces: Uint8Array[] = [];
  /** Pieces before this index are joined ones; a join takes the pieces after it. */
  #joined = 0;
  #bytes = 0;
  // The open run: the last piece, kept out of `#pieces` so that an adjacent piece can extend it
  // without allocating. It is a view as given to `send` (where it lies is asked only when a second
  // piece comes, since a typed array's `byteOffset` and `buffer` getters are slow calls), or a range
  // of an ArrayBuffer once located or extended. Empty when both `#runView` and `#runBuffer` are unset.
  #runView: Uint8Array | undefined;
  #runBuffer: ArrayBuffer | undefined;
  #runStart = 0;
  /** Where the run ends in its ArrayBuffer; -1 while the view has not been located. */
  #runEnd = -1;

  /** @param maxPieces - most separate buffers held before joining; default 1024. */
  constructor(maxPieces = DEFAULTS.maxSendQueuePieces) {
    this.maxPieces = maxPieces;
  }

  /** Bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Queues `length` bytes: `view`, or the range of `buffer` at `offset` (the caller gives the range when
   * it has no view; `buffer` undefined and `offset` -1 when it has only the view).
   */
  push(buffer: ArrayBuffer | undefined, offset: number, length: number, view: Uint8Array | undefined): void {
    if (this.#hasRun()) {
      if (this.#extendRun(buffer, offset, length, view)) {
        this.#bytes += length;
        return;
      }
      this.#closeRun();
    }
    this.#runView = view;
    this.#runBuffer = buffer;
    this.#runStart = offset;
    this.#runEnd = offset < 0 ? -1 : offset + length;
    this.#bytes += length;
  }

  /**
   * Hands everything queued to `transport` as one write (`transport.write`, which joins small pieces or
   * writes them with one writev), empties the queue and awaits the write's completion. Returns the
   * transport's backlog after it.
   */
  writeTo(transport: Transport): number {
    const bytes = this.#bytes;
    if (this.#pieces.length === 0) {
      // One piece, the common case: it goes out through a shared one-element list, so this queue's
      // own list is not touched at all.
      if (!this.#hasRun()) return (this.backlog = transport.bufferedBytes);
      single[0] = this.#runPiece();
      transport.write(single, 1, bytes);
      single[0] = EMPTY; // hold no memory of this session's
    } else {
      if (this.#hasRun()) this.#closeRun();
      transport.write(this.#pieces, this.#pieces.length, bytes);
    }
    this.#awaitWrite(bytes);
    this.clear();
    return (this.backlog = transport.bufferedBytes);
  }

  /** The oldest awaited write completed: its byte count (undefined when none was awaited). */
  writeCompleted(): number | undefined {
    const first = this.#firstInFlight;
    if (first < 0) return undefined;
    const more = this.#moreInFlight;
    this.#firstInFlight = more !== undefined && more.length > 0 ? (more.shift() as number) : -1;
    this.completedBytes += first;
    return first;
  }

  /** Writes handed to the transport whose completion is awaited. */
  get inFlight(): number {
    return this.#firstInFlight < 0 ? 0 : 1 + (this.#moreInFlight?.length ?? 0);
  }

  #awaitWrite(bytes: number): void {
    if (this.#firstInFlight < 0) this.#firstInFlight = bytes;
    else (this.#moreInFlight ??= []).push(bytes);
  }

  /** Separate buffers queued (the open run included). */
  get pieceCount(): number {
    return this.#pieces.length + (this.#hasRun() ? 1 : 0);
  }

  /** Drops everything queued. */
  clear(): void {
    if (this.#pieces.length !== 0) this.#pieces.length = 0; // setting an array's length is a call into C++
    this.#joined = 0;
    this.#runView = undefined;
    this.#runBuffer = undefined;
    this.#bytes = 0;
  }

  /** True when the piece extends the open run: it starts where the run ends, in the same ArrayBuffer. */
  #extendRun(buffer: ArrayBuffer | undefined, offset: number, length: number, view: Uint8Array | undefined): boolean {
    const runView = this.#runView;
    if (this.#runEnd < 0) {
      const start = (runView as Uint8Array).byteOffset;
      this.#runStart = start;
      this.#runEnd = start + (runView as Uint8Array).length;
    }
    if ((offset < 0 ? (view as Uint8Array).byteOffset : offset) !== this.#runEnd) return false;
    const runBuffer = (this.#runBuffer ??= (runView as Uint8Array).buffer as ArrayBuffer);
    if ((buffer ?? ((view as Uint8Array).buffer as ArrayBuffer)) !== runBuffer) return false;
    this.#runEnd += length;
    this.#runView = undefined; // the view no longer covers the run
    return true;
  }

  /** True while a run is open (a view as given, or a located range). */
  #hasRun(): boolean {
    return this.#runView !== undefined || this.#runBuffer !== undefined;
  }

  /** The open run as one view: the view given, or a view of the range it became. */
  #runPiece(): Uint8Array {
    return this.#runView ?? viewOf(this.#runBuffer as ArrayBuffer, this.#runStart, this.#runEnd - this.#runStart);
  }

  #closeRun(): void {
    this.#pieces.push(this.#runPiece());
    this.#runView = undefined;
    this.#runBuffer = undefined;
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
