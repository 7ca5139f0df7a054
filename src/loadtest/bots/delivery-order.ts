/**
 * What a numbered message was, against the ones before it on its stream: the next one, one past a gap
 * (some numbers before it are missing), a missing one arriving late (out of order), or a duplicate.
 */
export type Delivery = 'next' | 'gap' | 'late' | 'duplicate';

/** Missing numbers kept per stream to tell a late message from a duplicate; past it, a gap is only counted. */
const MAX_TRACKED_MISSING = 65_536;

/**
 * Checks numbered streams (one per sender) for exactly-once, in-order delivery: each stream's numbers
 * must come as n, n+1, n+2, ... A stream starts at its first number seen (a bot that joins a room
 * mid-stream) or at a given one. Costs one map entry per stream; the set of missing numbers is made
 * only when a gap appears, which a correct run never shows.
 */
export class DeliveryOrder {
  /** Next expected number of each stream. */
  readonly #next = new Map<number, number>();
  /** Numbers skipped by a gap and not arrived yet, per stream (only streams that had a gap). */
  #missing: Map<number, Set<number>> | undefined;
  /** Missing numbers beyond what is tracked. */
  #untracked = 0;

  /** Starts `stream` at `first` (otherwise it starts at its first number seen). */
  start(stream: number, first: number): void {
    this.#next.set(stream, first);
  }

  /** Classifies number `seq` of `stream` and remembers it. */
  check(stream: number, seq: number): Delivery {
    const next = this.#next.get(stream);
    if (next === undefined || seq === next) {
      this.#next.set(stream, seq + 1);
      return 'next';
    }
    if (seq > next) {
      let missing = this.#missing?.get(stream);
      if (missing === undefined) (this.#missing ??= new Map()).set(stream, (missing = new Set()));
      for (let skipped = next; skipped < seq; skipped++) {
        if (missing.size < MAX_TRACKED_MISSING) missing.add(skipped);
        else this.#untracked++;
      }
      this.#next.set(stream, seq + 1);
      return 'gap';
    }
    const missing = this.#missing?.get(stream);
    if (missing?.delete(seq) === true) return 'late';
    return 'duplicate';
  }

  /** Numbers skipped by a gap that never came, over every stream but `except`. */
  missingCount(except?: number): number {
    let count = this.#untracked;
    if (this.#missing !== undefined) {
      for (const [stream, missing] of this.#missing) if (stream !== except) count += missing.size;
    }
    return count;
  }
}
