import { TokenBucket } from '../../core/token-bucket.js';

/**
 * The read throttle: the byte limit on reads, `maxBytesPerSecond` (1 s burst). Over it, `rateLimitAction: 'disconnect'`
 * ends the connection (`RATE_LIMITED`); `'drop'` cannot drop bytes from a stream without breaking its
 * framing, so it throttles instead: the chunk is charged (the bucket goes into debt) and held, reading
 * pauses, and the held chunks are delivered once the debt is paid. Made only for connections that
 * have the limit; knows nothing of sockets (the connection pauses and resumes its transport).
 */
export class ReadThrottle {
  readonly #bucket: TokenBucket;
  readonly #throttle: boolean;
  /** Chunks held back while throttled; undefined when not throttled. */
  #held: Buffer[] | undefined;

  /** @param throttle - true for `'drop'` (hold and delay), false for `'disconnect'`. */
  constructor(bytesPerSecond: number, throttle: boolean, nowMs: number) {
    this.#bucket = new TokenBucket(bytesPerSecond, bytesPerSecond, nowMs);
    this.#throttle = throttle;
  }

  /** True while chunks are held back (the connection's reading is paused). */
  get throttled(): boolean {
    return this.#held !== undefined;
  }

  /**
   * Charges `chunk`, read at `nowMs`. Returns `'pass'` to deliver it now; `'over'` when the limit is
   * crossed and the connection must end (`'disconnect'`); or the ms to wait when the chunk is held
   * (`'drop'`: pause reading and call {@link release} after that long). A chunk read while throttled
   * (before the pause took effect) is held too; 0 is returned then (nothing more to schedule).
   */
  admit(chunk: Buffer, nowMs: number): 'pass' | 'over' | number {
    if (this.#held !== undefined) {
      this.#held.push(chunk);
      return 0;
    }
    if (this.#bucket.take(chunk.length, nowMs)) return 'pass';
    if (!this.#throttle) return 'over';
    this.#bucket.charge(chunk.length, nowMs);
    this.#held = [chunk];
    return Math.max(1, Math.ceil(this.#bucket.msUntil(0)));
  }

  /** Ends the throttle: returns the held chunks, oldest first, to deliver (empty when none). */
  release(): readonly Buffer[] {
    const held = this.#held;
    this.#held = undefined;
    return held ?? [];
  }
}
