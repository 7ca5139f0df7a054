import { TokenBucket } from '../core/token-bucket.js';
import type { RateLimitAction } from '../net/session-owner.js';

/**
 * The packet rate limit, `maxPacketsPerSecond` (1 s burst), owned by the packet layer: every packet a
 * PacketSession reads is admitted here first. Over the limit it is dropped and counted
 * (`rateLimitAction: 'drop'`), or the session must end with `RATE_LIMITED` (`'disconnect'`). Made only
 * for sessions that have the limit; pure (the caller passes the clock).
 */
export class PacketAdmission {
  readonly #bucket: TokenBucket;
  readonly #drop: boolean;
  /** Packets dropped so far. */
  dropped = 0;

  constructor(packetsPerSecond: number, action: RateLimitAction, nowMs: number) {
    this.#bucket = new TokenBucket(packetsPerSecond, packetsPerSecond, nowMs);
    this.#drop = action === 'drop';
  }

  /** `'pass'` to handle the packet, `'drop'` to skip it (counted), `'over'` to end the session. */
  admit(nowMs: number): 'pass' | 'drop' | 'over' {
    if (this.#bucket.take(1, nowMs)) return 'pass';
    if (!this.#drop) return 'over';
    this.dropped++;
    return 'drop';
  }
}
