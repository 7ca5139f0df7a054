import { HEADER_BYTES } from './resume-wire.js';

/** What a free slot of the ring holds: never a piece (pieces are never empty). */
const FREE = new Uint8Array(0);
/** The ring of a buffer that holds nothing: shared, never written (a full ring grows first). */
const NO_RING: Uint8Array[] = [];
/** Slots of a new ring; a full ring doubles. */
const MIN_RING = 8;
/** A ring of more slots than this is let go when it empties (after a burst), not kept for the session. */
const KEEP_RING = 64;

/**
 * What one side of a resumable session has sent and the other has not yet acknowledged: the bytes of
 * whole packets, kept **by reference** (the pieces handed to the transport, no copy) in the order
 * sent. Packets are not numbered on the wire: the peer acknowledges a count, and the buffer finds
 * where that many packets end by walking their headers (2 bytes read per packet, once). Pure: no I/O,
 * no timers; browser-safe.
 */
export class ReplayBuffer {
  // The pieces held, oldest first, in a ring of slots reused as they are acknowledged: piece `k` (0 is
  // the oldest) is at `#ring[(#start + k) & (#ring.length - 1)]`. A slot is cleared (FREE) as the
  // acknowledgement passes it: a view kept would keep its whole SendBuffer chunk alive, long enough for
  // the chunks to reach the old generation and make the collector run full collections many times a
  // second (echo with resume on). Reusing slots also means no list is cut or grown while it keeps up.
  #ring: Uint8Array[] = NO_RING;
  #start = 0;
  #count = 0;
  /** Bytes of the oldest piece already acknowledged: the first unacknowledged packet starts here. */
  #headOffset = 0;
  #bytes = 0;
  #acked = 0;
  /** Bytes appended since the buffer was made. */
  #appendedBytes = 0;
  // A walk's cursor: piece (0 = the oldest held), offset in it, bytes passed (fields, so a walk
  // allocates nothing).
  #cursorPiece = 0;
  #cursorOffset = 0;
  #cursorBytes = 0;

  /** Bytes held: sent and not acknowledged. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Packets the peer has acknowledged (its `received` count). */
  get acked(): number {
    return this.#acked;
  }

  /** Bytes appended since the buffer was made. */
  get appendedBytes(): number {
    return this.#appendedBytes;
  }

  /** Keeps `piece` (whole packets, or the start or rest of one), by reference; it must not change. */
  append(piece: Uint8Array): void {
    const length = piece.length;
    if (length === 0) return;
    if (this.#count === this.#ring.length) this.#grow();
    const ring = this.#ring;
    ring[(this.#start + this.#count) & (ring.length - 1)] = piece;
    this.#count++;
    this.#bytes += length;
    this.#appendedBytes += length;
  }

  /**
   * The peer has received `count` packets: drops them. True when done (or `count` is not more than
   * already acknowledged, a stale acknowledgement); false, and nothing changes, when `count` is more
   * than the packets held.
   */
  ack(count: number): boolean {
    if (count <= this.#acked) return true;
    this.#cursorAtHead();
    if (this.#walkCursor(count - this.#acked) !== count - this.#acked) return false;
    this.#bytes -= this.#cursorBytes;
    this.#acked = count;
    let passed = this.#cursorPiece;
    let headOffset = this.#cursorOffset;
    if (passed < this.#count && headOffset === this.#pieceAt(passed).length) {
      passed++;
      headOffset = 0;
    }
    this.#headOffset = headOffset;
    if (passed === this.#count && this.#ring.length > KEEP_RING) {
      this.#ring = NO_RING; // emptied after a burst: a large ring is let go
      this.#start = 0;
      this.#count = 0;
      return true;
    }
    // Let go of the acknowledged pieces now (the slots are reused).
    const ring = this.#ring;
    const mask = ring.length - 1;
    for (let i = 0; i < passed; i++) ring[(this.#start + i) & mask] = FREE;
    this.#start = (this.#start + passed) & mask;
    this.#count -= passed;
    return true;
  }

  /** True when a peer that has received `count` packets can be resumed: `acked <= count <= sent`. */
  canResumeAt(count: number): boolean {
    if (count < this.#acked) return false;
    this.#cursorAtHead();
    return this.#walkCursor(count - this.#acked) === count - this.#acked;
  }

  /**
   * After `ack(count)`: what the peer has not received, oldest first, as views of the pieces held (the
   * first one cut where the acknowledged packets end), and how many packets that is.
   */
  unacknowledged(): { pieces: Uint8Array[]; bytes: number; packets: number } {
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < this.#count; i++) {
      const piece = this.#pieceAt(i);
      if (i === 0 && this.#headOffset > 0) {
        if (this.#headOffset < piece.length) pieces.push(piece.subarray(this.#headOffset));
      } else pieces.push(piece);
    }
    this.#cursorAtHead();
    const packets = this.#walkCursor(Number.MAX_SAFE_INTEGER);
    return { pieces, bytes: this.#bytes, packets };
  }

  /**
   * A copy of the bytes held (sent and not acknowledged), whole packets in order: what a session that
   * moves to another process takes with it (`restore` there).
   */
  copyHeld(): Uint8Array {
    const copy = new Uint8Array(this.#bytes);
    let at = 0;
    for (const piece of this.unacknowledged().pieces) {
      copy.set(piece, at);
      at += piece.length;
    }
    return copy;
  }

  /**
   * Makes an empty buffer hold what another one held (`copyHeld`): `acked` packets already
   * acknowledged, then the packets of `held`. False, and nothing changes, when `held` is not whole
   * packets or the buffer is not new.
   */
  restore(acked: number, held: Uint8Array): boolean {
    if (this.#appendedBytes !== 0 || !Number.isSafeInteger(acked) || acked < 0) return false;
    for (let at = 0; at < held.length; ) {
      if (at + 1 >= held.length) return false;
      const size = (held[at] as number) | ((held[at + 1] as number) << 8);
      if (size < HEADER_BYTES || at + size > held.length) return false;
      at += size;
    }
    this.#acked = acked;
    this.append(held);
    return true;
  }

  /** Drops everything (the session ended). */
  clear(): void {
    this.#ring = NO_RING;
    this.#start = 0;
    this.#count = 0;
    this.#headOffset = 0;
    this.#bytes = 0;
  }

  /**
   * Moves the cursor (`#cursorPiece`, `#cursorOffset`) over up to `packets` whole packets; returns how
   * many it passed and adds their bytes to `#cursorBytes`. No allocation: a cursor is two numbers.
   */
  #walkCursor(packets: number): number {
    const ring = this.#ring;
    const mask = ring.length - 1;
    const start = this.#start;
    const count = this.#count;
    let piece = this.#cursorPiece;
    let offset = this.#cursorOffset;
    let passed = 0;
    while (passed < packets) {
      // Pieces are never empty (append skips those): offset is inside piece, or piece is past the end.
      if (piece < count && offset === (ring[(start + piece) & mask] as Uint8Array).length) {
        piece++;
        offset = 0;
      }
      if (piece >= count) break;
      const bytes = ring[(start + piece) & mask] as Uint8Array;
      let size: number;
      if (offset + 1 < bytes.length) size = (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
      else if (piece + 1 < count) size = (bytes[offset] as number) | (((ring[(start + piece + 1) & mask] as Uint8Array)[0] as number) << 8);
      else break;
      if (size < HEADER_BYTES) break;
      // Step over the packet's `size` bytes, across pieces when it straddles them.
      let at = piece;
      let rest = offset + size;
      while (at < count && rest > (ring[(start + at) & mask] as Uint8Array).length) {
        rest -= (ring[(start + at) & mask] as Uint8Array).length;
        at++;
      }
      if (at >= count) break; // the packet is not all here
      piece = at;
      offset = rest;
      passed++;
      this.#cursorBytes += size;
    }
    this.#cursorPiece = piece;
    this.#cursorOffset = offset;
    return passed;
  }

  /** Piece `k` held (0 is the oldest); `k` is below `#count`. */
  #pieceAt(k: number): Uint8Array {
    const ring = this.#ring;
    return ring[(this.#start + k) & (ring.length - 1)] as Uint8Array;
  }

  /** A full ring doubles (the first is MIN_RING slots), the pieces held moved to its start in order. */
  #grow(): void {
    const old = this.#ring;
    const size = Math.max(MIN_RING, old.length * 2);
    const ring: Uint8Array[] = [];
    for (let i = 0; i < this.#count; i++) ring.push(old[(this.#start + i) & (old.length - 1)] as Uint8Array);
    while (ring.length < size) ring.push(FREE);
    this.#ring = ring;
    this.#start = 0;
  }

  /** Puts the cursor at the first unacknowledged packet. */
  #cursorAtHead(): void {
    this.#cursorPiece = 0;
    this.#cursorOffset = this.#headOffset;
    this.#cursorBytes = 0;
  }
}
