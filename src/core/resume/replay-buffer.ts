import { HEADER_BYTES } from './resume-wire.js';

/** What a free slot of the ring holds: never a piece (pieces are never empty). */
const FREE = new Uint8Array(0);
/** The ring of a buffer that holds nothing: shared, never written (a full ring grows first). */
const NO_RING: (Uint8Array | number)[] = [];
/** Pieces a new ring holds; a full ring doubles. */
const MIN_RING = 8;
/** A ring of more pieces than this is let go when it empties (after a burst), not kept for the session. */
const KEEP_RING = 64;

/**
 * What one side of a resumable session has sent and the other has not yet acknowledged: the bytes of
 * whole packets, kept **by reference** (the pieces handed to the transport, no copy) in the order
 * sent. Packets are not numbered on the wire: the peer acknowledges a count. Each piece's headers are
 * read once, as it is appended (while its bytes are still in the CPU's cache), to note how many packets
 * end in it; an acknowledgement then passes whole pieces by those counts without reading them again,
 * and walks headers only inside a piece it ends in the middle of. Pure: no I/O, no timers; browser-safe.
 */
export class ReplayBuffer {
  // The pieces held, oldest first, in a ring of slots reused as they are acknowledged: piece `k` (0 is
  // the oldest) is at `#ring[2 * ((#start + k) & (pieces - 1))]`, where `pieces` is half the ring's
  // length, and the slot after it holds its packet ends: `ends * 2 + 1` when the piece ends where a
  // packet ends, `ends * 2` when the last packet goes on in the next piece. One array for both, so that
  // an acknowledgement reads the counts in the lines that hold the pieces. A slot is cleared (FREE) as
  // the acknowledgement passes it: a view kept would keep its whole SendBuffer chunk alive, long enough
  // for the chunks to reach the old generation and make the collector run full collections many times
  // a second (echo with resume on). Reusing slots also means no list is cut or grown while it keeps up.
  // Why so careful about memory touched: with a thousand sessions each one's state is out of the CPU's
  // cache by its next turn, and every object or old piece read on the way costs a miss (bench/README.md).
  #ring: (Uint8Array | number)[] = NO_RING;
  #start = 0;
  #count = 0;
  /** Bytes of the oldest piece already acknowledged: the first unacknowledged packet starts here. */
  #headOffset = 0;
  /** Packets that end in the oldest piece after `#headOffset`. */
  #headEnds = 0;
  #bytes = 0;
  #acked = 0;
  /** Bytes appended since the buffer was made. */
  #appendedBytes = 0;
  // Reading headers at append: bytes of the packet being appended still to come (0 where one ends),
  // the first byte of a size whose second byte comes in the next piece (-1 when none), and false once
  // a size below the header's was met (no packet is counted past it: an ACK that far is refused).
  #need = 0;
  #halfSize = -1;
  #sound = true;
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
    if (this.#count === this.#ring.length >> 1) this.#grow();
    const ends = this.#endsIn(piece);
    const ring = this.#ring;
    const slot = ((this.#start + this.#count) & ((ring.length >> 1) - 1)) << 1;
    ring[slot] = piece;
    ring[slot + 1] = ends;
    if (this.#count === 0) this.#headEnds = ends >> 1; // empty: every packet held was whole and acknowledged
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
    let need = count - this.#acked;
    const ring = this.#ring;
    const mask = (ring.length >> 1) - 1;
    const start = this.#start;
    const held = this.#count;
    // Whole pieces that end where a packet ends and whose packets are all acknowledged: passed by their
    // counts, their bytes not read.
    let passed = 0;
    let freed = 0;
    let ends = this.#headEnds;
    while (passed < held && need > 0) {
      const slot = ((start + passed) & mask) << 1;
      const info = ring[slot + 1] as number;
      if (passed > 0) ends = info >> 1;
      if ((info & 1) === 0 || ends > need) break;
      need -= ends;
      freed += (ring[slot] as Uint8Array).length - (passed === 0 ? this.#headOffset : 0);
      passed++;
    }
    let headOffset = 0;
    let headEnds = 0;
    if (need > 0) {
      // The acknowledgement ends inside a piece (or its last packet goes on in the next one): walk the
      // headers from the first packet not passed.
      this.#cursorPiece = passed;
      this.#cursorOffset = passed === 0 ? this.#headOffset : 0;
      this.#cursorBytes = 0;
      if (this.#walkCursor(need) !== need) return false;
      freed += this.#cursorBytes;
      // Packets the walk passed that end in the pieces before the cursor's: the rest end in its piece.
      let inHead = need;
      for (let k = passed; k < this.#cursorPiece; k++) inHead -= k === 0 ? this.#headEnds : this.#endsAt(k) >> 1;
      passed = this.#cursorPiece;
      headOffset = this.#cursorOffset;
      headEnds = (passed === 0 ? this.#headEnds : this.#endsAt(passed) >> 1) - inHead;
      if (headOffset === this.#pieceAt(passed).length) {
        passed++; // the piece's last packet was the last acknowledged
        headOffset = 0;
      }
    }
    if (passed < held && headOffset === 0) headEnds = this.#endsAt(passed) >> 1;
    this.#bytes -= freed;
    this.#acked = count;
    this.#headOffset = headOffset;
    this.#headEnds = headEnds;
    if (passed === held && ring.length > KEEP_RING * 2) {
      this.#ring = NO_RING; // emptied after a burst: a large ring is let go
      this.#start = 0;
      this.#count = 0;
      return true;
    }
    // Let go of the acknowledged pieces now (the slots are reused).
    for (let i = 0; i < passed; i++) {
      const slot = ((start + i) & mask) << 1;
      ring[slot] = FREE;
      ring[slot + 1] = 0;
    }
    this.#start = (start + passed) & mask;
    this.#count = held - passed;
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
    this.#headEnds = 0;
    this.#bytes = 0;
    this.#need = 0;
    this.#halfSize = -1;
    this.#sound = true;
  }

  /**
   * Reads the headers of `piece`, the next bytes of the stream, and returns its packet ends (`ends * 2`,
   * plus 1 when it ends where a packet ends), carrying a packet or a size that goes on to the next piece.
   */
  #endsIn(piece: Uint8Array): number {
    if (!this.#sound) return 0;
    const length = piece.length;
    let need = this.#need;
    let at = 0;
    let ends = 0;
    while (at < length) {
      if (need > 0) {
        const take = need < length - at ? need : length - at;
        at += take;
        need -= take;
        if (need === 0) ends++;
        continue;
      }
      let size: number;
      if (this.#halfSize >= 0) {
        size = this.#halfSize | ((piece[at] as number) << 8);
        this.#halfSize = -1;
        at++; // the size's second byte; its first was the last of the piece before
        need = size - 2;
      } else if (at + 1 < length) {
        size = (piece[at] as number) | ((piece[at + 1] as number) << 8);
        if (size >= HEADER_BYTES && at + size <= length) {
          at += size; // a whole packet in this piece (the common case): one step
          ends++;
          continue;
        }
        need = size;
      } else {
        this.#halfSize = piece[at] as number;
        at++;
        continue;
      }
      if (size < HEADER_BYTES) {
        this.#sound = false;
        return ends * 2;
      }
    }
    this.#need = need;
    return ends * 2 + (need === 0 && this.#halfSize < 0 ? 1 : 0);
  }

  /**
   * Moves the cursor (`#cursorPiece`, `#cursorOffset`) over up to `packets` whole packets; returns how
   * many it passed and adds their bytes to `#cursorBytes`. No allocation: a cursor is two numbers.
   */
  #walkCursor(packets: number): number {
    const count = this.#count;
    let piece = this.#cursorPiece;
    let offset = this.#cursorOffset;
    let passed = 0;
    while (passed < packets) {
      // Pieces are never empty (append skips those): offset is inside piece, or piece is past the end.
      if (piece < count && offset === this.#pieceAt(piece).length) {
        piece++;
        offset = 0;
      }
      if (piece >= count) break;
      const bytes = this.#pieceAt(piece);
      let size: number;
      if (offset + 1 < bytes.length) size = (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
      else if (piece + 1 < count) size = (bytes[offset] as number) | ((this.#pieceAt(piece + 1)[0] as number) << 8);
      else break;
      if (size < HEADER_BYTES) break;
      // Step over the packet's `size` bytes, across pieces when it straddles them.
      let at = piece;
      let rest = offset + size;
      while (at < count && rest > this.#pieceAt(at).length) {
        rest -= this.#pieceAt(at).length;
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
    return ring[((this.#start + k) & ((ring.length >> 1) - 1)) << 1] as Uint8Array;
  }

  /** Piece `k`'s packet ends, as noted at append (`ends * 2`, plus 1 when it ends where a packet ends). */
  #endsAt(k: number): number {
    const ring = this.#ring;
    return ring[(((this.#start + k) & ((ring.length >> 1) - 1)) << 1) + 1] as number;
  }

  /** A full ring doubles (the first holds MIN_RING pieces), the pieces held moved to its start in order. */
  #grow(): void {
    const old = this.#ring;
    const mask = (old.length >> 1) - 1;
    const pieces = Math.max(MIN_RING, old.length);
    const ring: (Uint8Array | number)[] = [];
    for (let i = 0; i < this.#count; i++) {
      const slot = ((this.#start + i) & mask) << 1;
      ring.push(old[slot] as Uint8Array, old[slot + 1] as number);
    }
    while (ring.length < pieces * 2) ring.push(FREE, 0);
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
