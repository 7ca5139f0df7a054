import { InvalidOptionError } from '../core/errors.js';
import { DEFAULTS } from '../core/defaults.js';
import { MAX_TIMER_MS } from '../core/timer-range.js';
import { catchRejection } from '../core/describe.js';
import { currentReadSource, swapReadSource, type ReadSource } from '../core/read-source.js';
import { logSafely, silentLogger, type Logger } from '../core/logger.js';
import { scheduleDrain, type Drainable } from './global-queue.js';

/**
 * A unit of work for a {@link JobQueue}: the C++ `Job`, here just a function. It may be `async`: the
 * queue does not await it (the next job runs when this one returns), and a rejection is reported like
 * a throw.
 */
export type Job = () => void;

/** A job scheduled with `doTimer`; `cancel()` stops it if it has not run yet. */
export interface JobTimer {
  /** Cancels the timer; a job already moved into the queue still runs. Returns false if it was too late. */
  cancel(): boolean;
}

/** Options of a {@link JobQueue}. */
export interface JobQueueOptions {
  /** Longest a drain may run before yielding to the event loop, ms. Default 64. */
  readonly budgetMs?: number;
  /** Where a throwing job is reported. Default: silent. */
  readonly logger?: Logger;
  /** Called with whatever a job threw (after logging); the queue goes on either way. */
  readonly onJobError?: (error: unknown) => void;
}

/**
 * The C++ `JobQueue` on one event loop: jobs of one queue run in the order they were pushed, one at a
 * time and never re-entrantly (a job that pushes a job to its own queue runs it after itself). Queues
 * are drained soon after work arrives (see the GlobalQueue); one that runs past `budgetMs` yields so
 * other queues and I/O go on, then resumes where it stopped. A job that throws is reported and the
 * queue goes on. Timers are `unref`'d: they never keep the process alive.
 */
export class JobQueue implements Drainable {
  /** Time budget per drain, ms. */
  readonly budgetMs: number;
  #jobs: Job[] = [];
  /** The read source current when each job was queued (parallel to #jobs): its sends are charged to it. */
  #sources: Array<ReadSource | undefined> = [];
  #head = 0;
  #inLine = false;
  #running = false;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #queueLogger: Logger;
  readonly #onJobError: ((error: unknown) => void) | undefined;

  /** @throws InvalidOptionError when `budgetMs` is not a positive number. */
  constructor(options: JobQueueOptions = {}) {
    const budget = options.budgetMs ?? DEFAULTS.jobBudgetMs;
    if (typeof budget !== 'number' || !(budget > 0)) throw new InvalidOptionError('budgetMs', budget, 'a number > 0');
    this.budgetMs = budget;
    this.#queueLogger = options.logger ?? silentLogger;
    this.#onJobError = options.onJobError;
  }

  /** Jobs waiting to run. */
  get pendingCount(): number {
    return this.#jobs.length - this.#head;
  }

  /** Timers scheduled with `doTimer` that have not fired or been cancelled. */
  get timerCount(): number {
    return this.#timers.size;
  }

  /** Queues `job` to run after every job already queued (C++ `DoAsync`). */
  doAsync(job: Job): void {
    this.#jobs.push(job);
    this.#sources.push(currentReadSource());
    if (!this.#inLine && !this.#running) {
      this.#inLine = true;
      scheduleDrain(this);
    }
  }

  /**
   * Queues `job` after `delayMs` (C++ `DoTimer`). Timers with the same delay fire in the order made.
   * @returns a handle whose `cancel()` stops the job if it has not been queued yet.
   * @throws InvalidOptionError when `delayMs` is not a number or is above 2^31 - 1 (Node's timer range;
   *   a negative delay runs the job as soon as possible).
   */
  doTimer(delayMs: number, job: Job): JobTimer {
    if (typeof delayMs !== 'number' || Number.isNaN(delayMs) || delayMs > MAX_TIMER_MS) {
      throw new InvalidOptionError('delayMs', delayMs, `a number of ms up to ${MAX_TIMER_MS} (Node's timer range)`);
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.doAsync(job);
    }, Math.max(0, delayMs));
    timer.unref();
    this.#timers.add(timer);
    return {
      cancel: () => {
        if (!this.#timers.delete(timer)) return false;
        clearTimeout(timer);
        return true;
      },
    };
  }

  /** Drops every queued job and cancels every timer (C++ `ClearJobs`). The running job finishes. */
  clearJobs(): void {
    this.#jobs = [];
    this.#sources = [];
    this.#head = 0;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /** Internal (called by the GlobalQueue): runs jobs until empty or past `deadline`; true when empty. */
  drain(deadline: number): boolean {
    this.#inLine = false;
    this.#running = true;
    const outerSource = currentReadSource();
    try {
      while (this.#head < this.#jobs.length) {
        const job = this.#jobs[this.#head] as Job;
        this.#jobs[this.#head] = noop; // let the job's closure be collected
        swapReadSource(this.#sources[this.#head]);
        this.#sources[this.#head] = undefined;
        this.#head++;
        try {
          const result: unknown = job();
          if (result !== undefined) catchRejection(result, this.#reportJobError);
        } catch (error) {
          this.#reportJobError(error);
        }
        if (performance.now() > deadline && this.#head < this.#jobs.length) {
          this.#compact();
          this.#inLine = true;
          return false;
        }
      }
      this.#jobs.length = 0;
      this.#sources.length = 0;
      this.#head = 0;
      return true;
    } finally {
      this.#running = false;
      swapReadSource(outerSource);
    }
  }

  #compact(): void {
    if (this.#head > 1024 && this.#head * 2 > this.#jobs.length) {
      this.#jobs = this.#jobs.slice(this.#head);
      this.#sources = this.#sources.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Reports what a job threw, or why the promise of an async job rejected. */
  readonly #reportJobError = (error: unknown): void => {
    // Neither a failing logger nor a failing error callback may stop the queue.
    logSafely(this.#queueLogger, 'error', { err: error }, 'job failed; queue goes on');
    try {
      this.#onJobError?.(error);
    } catch {
      // ignored: see above
    }
  };
}

function noop(): void {}
