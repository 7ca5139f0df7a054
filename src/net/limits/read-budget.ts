import { kBudgetResume } from '../symbols.js';

/**
 * The read budget: a session that has read `readBudgetBytes` in one event-loop turn stops reading
 * until the next turn, so that no peer can feed megabytes into one turn (libuv reads up to 32 chunks
 * of 64 KiB from one socket per readiness event) and every session that wants to send gets its turn.
 *
 * Node delivers a chunk per 'data' callback; `socket.pause()` inside it lets at most one more chunk be
 * read into the stream's buffer, which then stops the socket reading. The paused sessions are resumed
 * together, in the order they used up their budget, from one `setImmediate` (after this turn's I/O
 * callbacks and flushes); each counts from zero again in the new turn.
 */

/** A session paused by its budget: told to read again in the next turn. */
export interface BudgetReader {
  /** Reading may resume: a new turn has begun. */
  [kBudgetResume](): void;
}

let turn = 1;
let waiting: BudgetReader[] = [];
let spare: BudgetReader[] = [];
let scheduled = false;

function endTurn(): void {
  scheduled = false;
  turn++;
  const batch = waiting;
  waiting = spare;
  spare = batch;
  for (let i = 0; i < batch.length; i++) (batch[i] as BudgetReader)[kBudgetResume]();
  batch.length = 0;
}

/** Resumes `reader` at the start of the next turn. The caller ensures once per turn. */
export function resumeNextTurn(reader: BudgetReader): void {
  waiting.push(reader);
  endTurnSoon();
}

function endTurnSoon(): void {
  if (!scheduled) {
    scheduled = true;
    setImmediate(endTurn);
  }
}

/**
 * One session's count of bytes read this turn. The count starts over lazily: a turn ends when some
 * session used up its budget, so a session that reads little may add up several turns and yield once
 * in a while for nothing, which costs a pause and a resume within the same turn and no read.
 */
export class ReadBudget {
  /** Bytes per turn; 0 = unlimited. */
  readonly limit: number;
  #turn = 0;
  #bytes = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  /** Charges `bytes` just read; true when this turn's budget is now used up (the reader should pause). */
  charge(bytes: number): boolean {
    if (this.#turn !== turn) {
      this.#turn = turn;
      this.#bytes = 0;
      // The turn must end even when nobody is paused, or bytes of earlier turns would add up and every
      // session would stop after each readBudgetBytes it ever read. One setImmediate per turn that reads.
      endTurnSoon();
    }
    this.#bytes += bytes;
    return this.limit > 0 && this.#bytes >= this.limit;
  }
}
