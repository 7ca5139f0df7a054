/**
 * Waiting without sleeping: everything here resolves on an event or a state change, and every wait has
 * a bounded safety timeout that REJECTS (so the test fails and its cleanup runs) instead of hanging.
 */
import type { EventEmitter } from 'node:events';

/** Safety timeout of a single wait, ms. Generous: it only bounds a wait that would otherwise hang. */
export const DEFAULT_TIMEOUT_MS = 5_000;

/** Races `promise` against a timer that rejects with a message naming `label`; the timer is always cleared. */
export function withTimeout<T>(promise: Promise<T>, label: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Resolves with the arguments of the next `event` of `emitter`. Rejects on timeout, and on an 'error'
 * event unless `event` is 'error' itself or `ignoreErrors` is set. Listeners are removed either way.
 */
export function waitForEvent<A extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  label = `'${event}' event`,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  ignoreErrors = false,
): Promise<A> {
  return new Promise<A>((resolve, reject) => {
    const listenErrors = event !== 'error' && !ignoreErrors;
    const done = (): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (listenErrors) emitter.off('error', onError);
    };
    const onEvent = (...args: unknown[]): void => {
      done();
      resolve(args as A);
    };
    const onError = (error: Error): void => {
      done();
      reject(error);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
    emitter.on(event, onEvent);
    if (listenErrors) emitter.on('error', onError);
  });
}

/** A promise with its resolve and reject exposed. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

interface Waiter {
  readonly check: () => boolean;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * A condition variable: `until(check)` resolves as soon as `check()` is true, re-evaluated at every
 * `notify()` (called by whoever changes the state). `check` may throw to fail the wait early, for
 * example when a socket closed before the awaited bytes came.
 */
export class Condition {
  private readonly waiters = new Set<Waiter>();

  until(check: () => boolean, label: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    try {
      if (check()) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          reject(error);
        },
      };
      const timer = setTimeout(
        () => waiter.reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`)),
        timeoutMs,
      );
      this.waiters.add(waiter);
    });
  }

  notify(): void {
    for (const waiter of [...this.waiters]) {
      try {
        if (waiter.check()) waiter.resolve();
      } catch (error) {
        waiter.reject(error);
      }
    }
  }
}

/** LIFO list of async cleanups; register `run` once with `t.after` so it runs even when the test fails. */
export class Cleanup {
  private readonly steps: Array<() => unknown> = [];

  add(step: () => unknown): void {
    this.steps.push(step);
  }

  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop() as () => unknown;
      try {
        await withTimeout(Promise.resolve().then(step), 'a cleanup step', 15_000);
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

/** Makes a Cleanup that runs after the current test (via `t.after`), pass or fail. */
export function cleanupAfter(t: { after(fn: () => unknown): void }): Cleanup {
  const cleanup = new Cleanup();
  t.after(() => cleanup.run());
  return cleanup;
}
