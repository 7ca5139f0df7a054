import { sessionIds } from '../core/id-sequence.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { debugEnabled, isDebugSession, sessionContextLogger } from './session-log.js';
import { kTraffic, TrafficCounters } from './session-traffic.js';

/** Internal: the logger with the connection's `remote` and `transport` bound, made on first use. */
export const kContextLogger: unique symbol = Symbol('gamewire.contextLogger');
/** Internal: logs a debug trace only when it can be seen. */
export const kDebug: unique symbol = Symbol('gamewire.debug');
/** Internal: the connection was attached; its logging context is known. */
export const kIdentify: unique symbol = Symbol('gamewire.identify');

/**
 * Internal: who a connection is, at the bottom of the session class chain: its id, its traffic
 * counters, and its logging context (bound lazily: a connection that logs nothing makes no child
 * logger, and a debug trace nobody sees builds nothing).
 */
export abstract class ConnectionIdentity {
  /** Unique, increasing id: unique across the workers of a server and the servers of a Redis too (see IdSequence). */
  readonly id: number = sessionIds.next();
  #traffic: TrafficCounters | undefined;
  #baseLogger: Logger | undefined;
  #contextLogger: Logger | undefined;
  #debugSession = false;

  /** Internal: what this session moved, in plain numbers; made on first use (an idle session has none). */
  get [kTraffic](): TrafficCounters {
    return (this.#traffic ??= new TrafficCounters());
  }

  /** The peer's IP address; empty before the session is attached. */
  abstract get remoteAddress(): string;
  /** The peer's port; 0 before the session is attached. */
  abstract get remotePort(): number;
  /** How the peer is connected. */
  abstract get transport(): string;

  /** Internal: attached with `logger` as the service's logger. */
  [kIdentify](logger: Logger): void {
    this.#baseLogger = logger;
    this.#debugSession = isDebugSession(this.id, this.remoteAddress, this.remotePort);
  }

  /** Internal: the service's logger with `remote` and `transport` bound (silent before attach). */
  get [kContextLogger](): Logger {
    const base = this.#baseLogger;
    if (base === undefined) return silentLogger;
    if (this.#contextLogger === undefined) {
      const bindings = { remote: `${this.remoteAddress}:${this.remotePort}`, transport: this.transport };
      this.#contextLogger = sessionContextLogger(base, bindings, this.#debugSession);
    }
    return this.#contextLogger;
  }

  /** Internal: a debug trace, built only when it can be seen. */
  [kDebug](fields: object, message: string): void {
    const base = this.#baseLogger;
    if (base === undefined || (!this.#debugSession && !debugEnabled(base))) return;
    this[kContextLogger].debug(fields, message);
  }
}
