import type { DisconnectCause } from '../../core/disconnect-cause.js';
import type { Session } from '../../net/session.js';
import { kConnectionLost, kReconnecting, kResumed } from '../../net/symbols.js';

/** What the harness hears of a resumable bot session's connection, whatever the bot's own hooks do. */
export interface SessionWatcher {
  /** The connection dropped and the session is suspended (before its `onConnectionLost`). */
  connectionLost(session: Session): void;
  /** The session waits before reconnect attempt `attempt` (before its `onReconnecting`). */
  reconnecting(session: Session): void;
  /** The session is back on a new connection (before its `onResumed`). */
  resumed(session: Session): void;
}

const kWatcher: unique symbol = Symbol('gamewire.loadtest.watcher');

interface Watched {
  [kWatcher]?: SessionWatcher;
  [kConnectionLost](cause: DisconnectCause): void;
  [kReconnecting](attempt: number, delayMs: number): void;
  [kResumed](): void;
}

/**
 * Makes `session` tell `watcher` when its connection drops, when it reconnects and when it resumes.
 * A bot is any Session and need not report these itself: the harness puts its own functions on the
 * session in front of the connection core's upcalls to the hooks (the same three calls that run
 * `onConnectionLost`, `onReconnecting` and `onResumed`), and each then calls the session's own.
 * Three shared functions, no closure per session.
 */
export function watchSession(session: Session, watcher: SessionWatcher): void {
  const watched = session as unknown as Watched;
  watched[kWatcher] = watcher;
  watched[kConnectionLost] = watchedConnectionLost;
  watched[kReconnecting] = watchedReconnecting;
  watched[kResumed] = watchedResumed;
}

/** The session's own upcall: the one on its prototype chain. */
function own(session: Watched): Watched {
  return Object.getPrototypeOf(session) as Watched;
}

function watchedConnectionLost(this: Watched, cause: DisconnectCause): void {
  this[kWatcher]?.connectionLost(this as unknown as Session);
  own(this)[kConnectionLost].call(this, cause);
}

function watchedReconnecting(this: Watched, attempt: number, delayMs: number): void {
  this[kWatcher]?.reconnecting(this as unknown as Session);
  own(this)[kReconnecting].call(this, attempt, delayMs);
}

function watchedResumed(this: Watched): void {
  this[kWatcher]?.resumed(this as unknown as Session);
  own(this)[kResumed].call(this);
}
