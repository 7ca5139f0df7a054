/**
 * A token bucket: `ratePerSecond` tokens flow in per second, up to `burst`; `take(n)` succeeds when
 * `n` tokens are there. Time is passed in (ms), so it is pure and testable.
 */
export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #lastMs: number;

  /**
   * @param ratePerSecond - tokens added per second (> 0).
   * @param burst - most tokens held; defaults to one second's worth.
   * @param nowMs - the current time in ms (the bucket starts full).
   */
  constructor(ratePerSecond: number, burst: number = ratePerSecond, nowMs = 0) {
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#tokens = burst;
    this.#lastMs = nowMs;
  }

  /** Takes `n` tokens at time `nowMs`; false (and nothing taken) when fewer are there. */
  take(n: number, nowMs: number): boolean {
    const elapsed = nowMs - this.#lastMs;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / 1000);
      this.#lastMs = nowMs;
    }
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens at time `nowMs` even when fewer are there: the bucket goes into debt, and
   * `msUntil(0)` says when the debt is paid back.
   */
  charge(n: number, nowMs: number): void {
    this.take(0, nowMs);
    this.#tokens -= n;
  }

  /** Milliseconds until `n` tokens are there (0 when they are now). */
  msUntil(n: number): number {
    return this.#tokens >= n ? 0 : ((n - this.#tokens) * 1000) / this.ratePerSecond;
  }
}
