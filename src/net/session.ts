import { DisconnectCode, disconnectCause, type DisconnectCause } from '../core/disconnect-cause.js';
import { BadConsumedCountError, HandlerError, ServiceStateError, type GamewireError } from '../core/errors.js';
import { catchRejection, isInstance, isThenable } from '../core/describe.js';
import { logSafely, type Logger } from '../core/logger.js';
import { Connection } from './connection/connection.js';
import type { SessionTraffic } from './connection/session-traffic.js';
import type { SessionOwner } from './session-owner.js';
import { kClose, kContextLogger, kEndWith, kEnqueue, kHost, kSendRange, kTraffic } from './symbols.js';
import { kClosed, kDeliver, kOnOpen, kOpened, kWatchHook, kWritableChanged, kWritten } from './symbols.js';
import { kConnectionLost, kReconnecting, kResumed } from './symbols.js';
export type { SessionState } from './connection/connection-state.js';

// Symbol-keyed private methods: a `#method` would cost every session a brand slot (connection.ts).
const kFailHook: unique symbol = Symbol('gamewire.failHook');
const kReportHandlerError: unique symbol = Symbol('gamewire.reportHandlerError');

/**
 * One connection, as the C++ `Session`: game code subclasses it, overrides the protected hooks and
 * calls `send` and `disconnect`. It runs over any transport (TCP, TLS, WebSocket); the connection core
 * underneath (connection.ts) owns the bytes, the limits and the lifecycle.
 *
 * Guarantees:
 * - Hooks run on the event loop, one at a time: `onConnected` first, then `onRecv`/`onSend` in any
 *   order, then `onDisconnected` exactly once and last. A resumable session (docs/resume.md) may also
 *   see `onConnectionLost` and `onResumed`, in pairs, in between.
 * - Everything passed to `send()` during one event-loop turn leaves in one write, in order.
 * - A hook that throws disconnects this session only, with cause `HANDLER_ERROR`; nothing else is
 *   affected. A hook may be `async`: it is not awaited, and a rejection ends the session the same way.
 * - Flow control: it reads at most `readBudgetBytes` per turn; past its share of what members above
 *   their high water mark take, its reading pauses until they drain (fanout-flow.ts); it is cut off only
 *   when its own peer stops reading or is too slow (`SEND_STALLED`, `SEND_QUEUE_OVERFLOW`).
 *
 * A session is created by the service's session factory and attached by the service once its
 * transport is connected; it is never reused or reopened.
 */
export class Session extends Connection {
  /**
   * The service that owns this session.
   * @throws ServiceStateError if read before the session is attached (for example in a constructor).
   */
  get service(): SessionOwner {
    const host = this[kHost];
    if (host === undefined) throw new ServiceStateError('session.service is set when the session connects');
    return host;
  }

  /** Bytes and packets this session received and sent so far; see {@link SessionTraffic}. */
  get traffic(): SessionTraffic {
    return this[kTraffic];
  }

  /**
   * The service's logger with this session's context on every line: `sessionId`, `remote`
   * (`address:port`) and `transport`. At debug level when `GAMEWIRE_DEBUG_SESSION` names the session.
   */
  get logger(): Logger {
    return this[kContextLogger]; // silent until attached: no context to bind yet
  }

  /**
   * Queues `bytes` for the peer. Everything sent in one event-loop turn leaves in one write, in order.
   * The bytes are not copied: the same buffer can be sent to many sessions, and it must not be changed
   * afterwards. Do not pass the buffer given to `onRecv` without copying it: that memory is reused.
   * `packetCount` is how many packets `bytes` holds, for `traffic.packetsSent` and the metrics (default 1).
   * @returns true if queued: while `open`, and while `suspended` (resume: kept in the replay buffer and
   *   sent when the client is back), also when this send is the one that crosses `maxSendQueueBytes`
   *   and so suspends a resumable session (what it queued is kept). False (and nothing happens) once
   *   `disconnect` was called or the session is closing or closed, and when this send cuts off a plain
   *   session (`SEND_QUEUE_OVERFLOW`: its queue is dropped).
   */
  send(bytes: Uint8Array, packetCount = 1): boolean {
    if (!this[kEnqueue](undefined, -1, bytes.length, bytes)) return false; // the view only (SendQueue.push)
    this[kTraffic].packetsSent += packetCount;
    return true;
  }

  /**
   * Closes the session gracefully: what was already passed to `send()` is written, then the transport
   * ends (TCP FIN, a WebSocket close frame) and, once the peer closes too, `onDisconnected` runs with
   * cause `LOCAL_DISCONNECT` and `reason`. If the peer does not close within `disconnectTimeoutMs` the
   * connection is destroyed. Calling it again, or after the session closed, does nothing.
   */
  disconnect(reason = 'disconnect'): void {
    this[kClose](disconnectCause(DisconnectCode.LocalDisconnect, reason));
  }

  /** Hook: the session is open. Runs once, before any other hook. */
  protected onConnected(): void {}

  /**
   * Hook: bytes arrived. `buffer` holds the bytes not yet consumed followed by the new ones; it is a view
   * valid only during this call. Return how many bytes from the front were consumed (0 to
   * `buffer.length`); the rest is presented again, in front of the next bytes. The default consumes all.
   */
  protected onRecv(buffer: Buffer): number {
    return buffer.length;
  }

  /** Hook: `byteCount` bytes of earlier sends were written to the kernel. Never runs after onDisconnected. */
  protected onSend(byteCount: number): void {
    void byteCount;
  }

  /** Hook: `writable` changed (the peer fell behind, or caught up). */
  protected onWritableChanged(writable: boolean): void {
    void writable;
  }

  /**
   * Hook (resume, docs/resume.md): the connection of a resumable session dropped; it is `suspended`
   * for the grace period, still in its rooms, and what `send` queues is kept for its client. `cause`
   * says how the connection was lost (`CONNECTION_RESET`, `IDLE_TIMEOUT`, ...). `onResumed` follows
   * when the client is back; `onDisconnected` if it does not come back.
   */
  protected onConnectionLost(cause: DisconnectCause): void {
    void cause;
  }

  /**
   * Hook (resume): the client of a suspended session is back on a new connection (possibly over another
   * transport) and has been sent everything it missed. On a client session: the server took it back.
   */
  protected onResumed(): void {}

  /**
   * Hook (resume, client sessions of a ClientService with `resume`): the connection dropped and reconnect
   * attempt `attempt` (from 0) starts in `delayMs` (exponential backoff with jitter, docs/resume.md).
   */
  protected onReconnecting(attempt: number, delayMs: number): void {
    void attempt;
    void delayMs;
  }

  /** Hook: the session ended, with the cause. Runs exactly once, last. */
  protected onDisconnected(cause: DisconnectCause): void {
    void cause;
  }

  /**
   * Ends this session for a protocol error or a limit crossed: logs it (debug) and closes gracefully
   * with the error's own cause (`error.disconnectCode`; `HANDLER_ERROR` when it has none).
   */
  protected closeWithError(error: GamewireError): void {
    this[kEndWith](error);
  }

  /** Internal: a subclass layer's start-up, run once before onConnected. */
  [kOnOpen](): void {}

  /** Internal (connection core): the session opened. */
  [kOpened](): void {
    try {
      this[kOnOpen]();
      this[kWatchHook]('onConnected', this.onConnected());
    } catch (error) {
      this[kFailHook]('onConnected', error);
    }
  }

  /** Internal (connection core): runs onRecv and checks its answer; -1 when the session stopped. */
  [kDeliver](view: Buffer): number {
    let consumed: unknown;
    try {
      consumed = this.onRecv(view);
    } catch (error) {
      this[kFailHook]('onRecv', error);
      return -1;
    }
    if (typeof consumed === 'number' && Number.isInteger(consumed) && consumed >= 0 && consumed <= view.length) return consumed;
    this[kWatchHook]('onRecv', consumed);
    if (!this.connected) return -1;
    const error = new BadConsumedCountError(consumed, view.length);
    this[kReportHandlerError](error);
    this[kClose](disconnectCause(DisconnectCode.HandlerError, error.message, error));
    return -1;
  }

  /** Internal (connection core): a write completed (onSend runs for every write; the default does nothing). */
  [kWritten](bytes: number): void {
    try {
      this[kWatchHook]('onSend', this.onSend(bytes));
    } catch (thrown) {
      this[kFailHook]('onSend', thrown);
    }
  }

  /** Internal (connection core): writability changed. */
  [kWritableChanged](writable: boolean): void {
    try {
      this[kWatchHook]('onWritableChanged', this.onWritableChanged(writable));
    } catch (error) {
      this[kFailHook]('onWritableChanged', error);
    }
  }

  /** Internal (connection core, resume): the connection dropped and the session is suspended. */
    [kConnectionLost](cause: DisconnectCause): void {
    try {
      this[kWatchHook]('onConnectionLost', this.onConnectionLost(cause));
    } catch (error) {
      this[kFailHook]('onConnectionLost', error);
    }
  }

  /** Internal (client resume): reconnect attempt `attempt` starts in `delayMs`. */
  [kReconnecting](attempt: number, delayMs: number): void {
    try {
      this[kWatchHook]('onReconnecting', this.onReconnecting(attempt, delayMs));
    } catch (error) {
      this[kFailHook]('onReconnecting', error);
    }
  }

  /** Internal (connection core, resume): the session's client is back. */
  [kResumed](): void {
    try {
      this[kWatchHook]('onResumed', this.onResumed());
    } catch (error) {
      this[kFailHook]('onResumed', error);
    }
  }

  /** Internal (connection core): the session closed; a throw from onDisconnected is only logged. */
  [kClosed](cause: DisconnectCause): void {
    try {
      this[kWatchHook]('onDisconnected', this.onDisconnected(cause));
    } catch (error) {
      this[kReportHandlerError](new HandlerError('onDisconnected', error));
    }
  }

  /** Internal: an `async` hook's rejection ends the session as a throw would (only logged for onDisconnected). */
  [kWatchHook](hook: string, result: unknown): void {
    if (!isThenable(result)) return;
    catchRejection(result, (reason) => {
      const error = isInstance(reason, HandlerError) ? reason : new HandlerError(hook, reason, true);
      if (hook === 'onDisconnected') this[kReportHandlerError](error);
      else this[kFailHook](hook, error);
    });
  }

  /** Internal: `send` for a range of a SendBuffer chunk that has no view yet (adjacent ranges extend one run). */
  [kSendRange](buffer: ArrayBuffer, offset: number, length: number): boolean {
    if (!this[kEnqueue](buffer, offset, length, undefined)) return false;
    this[kTraffic].packetsSent++;
    return true;
  }

  [kFailHook](hook: string, thrown: unknown): void {
    // A subclass (PacketSession) may already have named the hook that really threw.
    const error = isInstance(thrown, HandlerError) ? thrown : new HandlerError(hook, thrown);
    this[kReportHandlerError](error);
    this[kClose](disconnectCause(DisconnectCode.HandlerError, error.message, error));
  }

  [kReportHandlerError](error: GamewireError): void {
    logSafely(this[kContextLogger], 'error', { err: error }, 'session hook failed');
  }
}
