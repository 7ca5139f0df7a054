/** Default interval between two warnings of one {@link WarningThrottle}, ms. */
export const DEFAULT_WARNING_INTERVAL_MS = 10_000;

/**
 * Rate-limits a repeated warning (connections refused, file descriptors exhausted): the first event
 * is reported at once, later ones at most once per interval, with how many happened since the last
 * report. Nothing is reported for a quiet interval.
 */
export class WarningThrottle {
  readonly #intervalMs: number;
  #lastAt = Number.NEGATIVE_INFINITY;
  #since = 0;

  constructor(intervalMs = DEFAULT_WARNING_INTERVAL_MS) {
    this.#intervalMs = intervalMs;
  }

  /**
   * Counts one event at `nowMs` (performance.now()). Returns how many events to report now (this one
   * and those held back since the last report), or 0 when it is not yet time to report.
   */
  count(nowMs: number): number {
    this.#since++;
    if (nowMs - this.#lastAt < this.#intervalMs) return 0;
    this.#lastAt = nowMs;
    const count = this.#since;
    this.#since = 0;
    return count;
  }
}
