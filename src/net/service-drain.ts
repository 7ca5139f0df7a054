import { DisconnectCode, disconnectCause, type DisconnectCause } from '../core/disconnect-cause.js';
import { ServiceDrainedError } from '../core/errors.js';
import { logSafely, type Logger } from '../core/logger.js';
import type { Session } from './session.js';

/** Options of `ServerService.drain()`. */
export interface DrainOptions {
  /**
   * How long the sessions may run before those left are closed with `SERVICE_DRAINED`, ms,
   * 0..2^31-1 (0 closes them at once). Default: the service's `drainTimeoutMs` (20000).
   */
  readonly timeoutMs?: number;
}

/** What a drain needs from its service. */
export interface DrainHost {
  readonly sessions: ReadonlySet<Session>;
  readonly logger: Logger;
  /** Stop accepting: close the listeners, end the connections not yet sessions. */
  stopAccepting(): void;
  /** Close the service (its end cause is now the drain's). */
  close(): Promise<void>;
}

/**
 * What one session of a draining server does until the deadline. Every session of the service
 * passes here once, when the drain begins; today each one waits (it runs until its client leaves or
 * the deadline). This is where a resumable session could instead be handed to a new worker.
 */
function drainSession(session: Session): 'wait' {
  void session;
  return 'wait';
}

/**
 * One drain of a server: stops accepting at once, lets the sessions run until the last one ends or
 * `timeoutMs` passes, then closes the service; the sessions left end with `SERVICE_DRAINED` (a
 * `close()` meanwhile cuts the wait short, with the same cause).
 */
export class ServiceDrain {
  readonly timeoutMs: number;
  readonly #host: DrainHost;
  #timer: NodeJS.Timeout | undefined;
  #over = false;
  #deadlinePassed = false;
  #cause: DisconnectCause | undefined;

  constructor(host: DrainHost, timeoutMs: number) {
    this.#host = host;
    this.timeoutMs = timeoutMs;
  }

  /** Starts it: called once, by the service. */
  begin(): void {
    const host = this.#host;
    host.stopAccepting();
    let waiting = 0;
    for (const session of host.sessions) if (drainSession(session) === 'wait') waiting++;
    logSafely(host.logger, 'info', { sessions: waiting, drainTimeoutMs: this.timeoutMs }, `draining: not accepting; ${waiting} sessions may run ${this.timeoutMs} ms more`);
    if (waiting === 0) this.#finish();
    else {
      this.#timer = setTimeout(() => {
        this.#deadlinePassed = true;
        this.#finish();
      }, this.timeoutMs);
    }
  }

  /** A session left; the drain ends once none is left. */
  sessionLeft(): void {
    if (this.#host.sessions.size === 0) this.#finish();
  }

  /** The wait is over (the deadline passed or the last session left): close the service. */
  #finish(): void {
    if (this.#over) return;
    void this.#host.close(); // its end cause comes from closing(), below
  }

  /**
   * The service's close begins (from {@link #finish} or a `close()` that cuts the drain short): the
   * cause the sessions left end with. Idempotent.
   */
  closing(): DisconnectCause {
    if (this.#cause !== undefined) return this.#cause;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#over = true;
    const left = this.#host.sessions.size;
    const deadlinePassed = this.#deadlinePassed;
    const error = new ServiceDrainedError(this.timeoutMs, !deadlinePassed);
    if (left > 0) {
      logSafely(
        this.#host.logger,
        'info',
        { sessions: left, drainTimeoutMs: this.timeoutMs, cutShort: !deadlinePassed },
        deadlinePassed ? `drain deadline passed: closing ${left} sessions (SERVICE_DRAINED)` : `drain cut short: closing ${left} sessions (SERVICE_DRAINED)`,
      );
    }
    this.#cause = disconnectCause(DisconnectCode.ServiceDrained, error.message, error);
    return this.#cause;
  }
}
