import { sessionIds } from '../../core/id-sequence.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { debugEnabled, isDebugSession, sessionContextLogger } from './session-log.js';
import { kTraffic, TrafficCounters } from './session-traffic.js';

/** Internal: the logger with the connection's `remote` and `transport` bound, made on first use. */
export const kContextLogger: unique symbol = Symbol('gamewire.contextLogger');
/** Internal: logs a debug trace only when it can be seen. */
export const kDebug: unique symbol = Symbol('gamewire.debug');
/** Internal: the service's logger, once the connection is attached. */
export const kBaseLogger: unique symbol = Symbol('gamewire.baseLogger');

/**
 * Internal: who a connection is, at the bottom of the session class chain: its id, its traffic
 * counters, and its logging context (bound lazily: a connection that logs nothing makes no child
 * logger, and a debug trace nobody sees builds nothing). Three fields: ten thousand idle sessions
 * are mostly their own objects, so nothing is kept here that can be asked of the owner.
 */
export abstract class ConnectionIdentity {
  /** Unique, increasing id: unique across the workers of a server and the servers of a Redis too (see IdSequence). */
  readonly id: number = sessionIds.next();
  #traffic: TrafficCounters | undefined;
  #contextLogger: Logger | undefined;

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

  /** Internal: the service's logger; undefined before the connection is attached. */
  abstract get [kBaseLogger](): Logger | undefined;

  /** Internal: the service's logger with `sessionId`, `remote` and `transport` bound (silent before attach). */
  get [kContextLogger](): Logger {
    const base = this[kBaseLogger];
    if (base === undefined) return silentLogger;
    if (this.#contextLogger === undefined) {
      const bindings = { sessionId: this.id, remote: `${this.remoteAddress}:${this.remotePort}`, transport: this.transport };
      this.#contextLogger = sessionContextLogger(base, bindings, isDebugSession(this.id, this.remoteAddress, this.remotePort));
    }
    return this.#contextLogger;
  }

  /** Internal: a debug trace, built only when it can be seen (whether GAMEWIRE_DEBUG_SESSION names it is asked, not stored). */
  [kDebug](fields: object, message: string): void {
    const base = this[kBaseLogger];
    if (base === undefined || (!isDebugSession(this.id, this.remoteAddress, this.remotePort) && !debugEnabled(base))) return;
    this[kContextLogger].debug(fields, message);
  }
}
