import { DisconnectCode, disconnectCause, type DisconnectCause } from '../core/disconnect-cause.js';
import { IdleTimeoutError, RateLimitedError, RecvBufferOverflowError, ServiceStateError, type GamewireError } from '../core/errors.js';
import { causeOfTransportError } from './transport-errors.js';
import { swapInputSource } from '../core/input-source.js';
import { logSafely, silentLogger, type Logger } from '../core/logger.js';
import { RecvBuffer } from '../core/recv-buffer.js';
import { transition } from '../core/state-machine.js';
import { SESSION_MOVES, type SessionState } from './connection-state.js';
import { kFanoutPaused, kFlowState, type FanoutFlow, type FlowParty } from './fanout-flow.js';
import { scheduleFlush, type Flushable } from './flush-scheduler.js';
import { IngressThrottle } from './ingress-throttle.js';
import { kIdleTick, unwatchIdle, watchIdle, type IdleWatched } from './idle-watch.js';
import { kBudgetResume, ReadBudget, resumeNextTurn, type BudgetReader } from './read-budget.js';
import { kDeliverView, kRecvOverflow, receiveChunk, type Receiver } from './receive-loop.js';
import { SendQueue } from './send-queue.js';
import { debugEnabled, isDebugSession, sessionContextLogger } from './session-log.js';
import { kTraffic, TrafficCounters } from './session-traffic.js';
import { kAddCloseListener, kAttach, kClose, kClosed, kDeliver, kDestroy, kOpened, kRemoveCloseListener, kSessionClosed, kWritableChanged, kWritten } from './session-owner.js';
import type { CloseListener, SessionHost, SessionSettings } from './session-owner.js';
import type { Transport, TransportKind, TransportSink } from './transport.js';
import { kCutOff, kPauseOwnInput, kPendingBytes, kWritabilityChanged, SendPressure, type PressuredConnection } from './send-pressure.js';
import { IDLE_CHECKS } from './idle-watch.js';

/** Why reading is paused, as bits: the peer is behind on its own replies (`pauseReadingWhenUnwritable`). */
export const PAUSE_UNWRITABLE = 1;
/** Throttled by `maxBytesPerSecond` ('drop'). */
export const PAUSE_THROTTLED = 2;
/** Read its `readBudgetBytes` this turn; resumes next turn. */
export const PAUSE_BUDGET = 4;
/** Its input pushed other sessions above their high mark; resumes when they drain (fanout-flow.ts). */
export const PAUSE_FANOUT = 8;

let nextSessionId = 1;

/** Internal members the Session layer uses, symbol-keyed so that no name is taken from game code. */
export const kHost: unique symbol = Symbol('gamewire.host');
export const kSettings: unique symbol = Symbol('gamewire.settings');
export const kContextLogger: unique symbol = Symbol('gamewire.contextLogger');
export const kDebug: unique symbol = Symbol('gamewire.debug');
export const kEndWith: unique symbol = Symbol('gamewire.endWith');
export const kEnqueue: unique symbol = Symbol('gamewire.enqueue');
const kEndThrottle: unique symbol = Symbol('gamewire.endThrottle');
const kLingerTimedOut: unique symbol = Symbol('gamewire.lingerTimedOut');

/**
 * Internal: the connection core under {@link Session}. It drives one {@link Transport} and is its sink:
 * the state machine, the receive loop over a RecvBuffer, the send queue flushed once per turn, the
 * graceful-close timer and close listeners. Limits are small policies it calls (write water marks and
 * the send cap in send-pressure.ts, ingress-throttle.ts, idle-watch.ts, read-budget.ts,
 * fanout-flow.ts); each acts on it through pause/resume and close. Listeners are methods and
 * module-level functions: a connection holds no closure of its own until its first write.
 */
export abstract class Connection
  implements TransportSink, Flushable, FlowParty, BudgetReader, IdleWatched, PressuredConnection, Receiver
{
  /** Process-wide unique, increasing id. */
  readonly id: number = nextSessionId++;
  /** Internal: what this session moved, in plain numbers. */
  readonly [kTraffic] = new TrafficCounters();

  #state: SessionState = 'connecting';
  #transport: Transport | undefined;
  #host: SessionHost | undefined;
  #settings: SessionSettings | undefined;
  #baseLogger: Logger | undefined;
  #contextLogger: Logger | undefined;
  #debugSession = false;
  #recvBuffer: RecvBuffer | undefined;
  #sendQueue: SendQueue | undefined;
  #sendRegistered = false;
  /** Bytes the transport held after the last write or write completion (Node's writableLength). */
  #backlog = 0;
  /** Byte counts of writes whose completion is awaited, oldest first (for onSend). */
  #writesInFlight: number[] | undefined;
  #cause: DisconnectCause | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closeListeners: CloseListener[] | undefined;
  #pauseReasons = 0;
  /** Reads, and write completions while the peer is behind: what shows the peer is alive. */
  #activity = 0;
  #activitySeen = 0;
  #silentTicks = 0;
  #throttle: IngressThrottle | undefined;
  #readBudget: ReadBudget | undefined;
  /** Water marks, send cap and stall check; made once this connection is first above its high mark. */
  #pressure: SendPressure | undefined;

  /** Lifecycle state; see {@link SessionState}. */
  get state(): SessionState {
    return this.#state;
  }

  /** True while the session is open: `send` queues bytes and `onRecv` receives them. */
  get connected(): boolean {
    return this.#state === 'open';
  }

  /** The peer's IP address (kept after the connection closes); empty before the session is attached. */
  get remoteAddress(): string {
    return this.#transport?.remoteAddress ?? '';
  }

  /** The peer's port (kept after the connection closes); 0 before the session is attached. */
  get remotePort(): number {
    return this.#transport?.remotePort ?? 0;
  }

  /** `tcp`, `tls`, `ws` or `wss`: how the peer is connected (the `transport` of logs and metrics). */
  get transport(): TransportKind {
    return this.#transport?.kind ?? 'tcp';
  }

  /** Bytes passed to `send()` this turn and not yet handed to the transport. */
  get queuedSendBytes(): number {
    return this.#sendQueue?.bytes ?? 0;
  }

  /** Bytes handed to the transport and not yet written to the kernel (Node's `writableLength`). */
  get socketBufferedBytes(): number {
    return this.#transport?.bufferedBytes ?? 0;
  }

  /**
   * False while more than `sendHighWaterMark` bytes are queued for the peer, until the queue drains to
   * `sendLowWaterMark`. Game code can skip optional traffic (position updates) while it is false;
   * `onWritableChanged` tells when it changes. Sends caused by another session's input are slowed by
   * gamewire itself (that session stops reading meanwhile); sends from timers and ticks are not.
   */
  get writable(): boolean {
    return this.#pressure?.writable ?? true;
  }

  /** Why the session ended (or is ending); undefined while open. */
  get disconnectCause(): DisconnectCause | undefined {
    return this.#cause;
  }

  /** Internal: the owner, once attached. */
  get [kHost](): SessionHost | undefined {
    return this.#host;
  }

  /** Internal: the settings the owner gave, once attached. */
  get [kSettings](): SessionSettings | undefined {
    return this.#settings;
  }

  /** The logger with this connection's `remote` and `transport` bound, made on first use. */
  get [kContextLogger](): Logger {
    const base = this.#baseLogger;
    if (base === undefined) return silentLogger;
    if (this.#contextLogger === undefined) {
      const bindings = { remote: `${this.remoteAddress}:${this.remotePort}`, transport: this.transport };
      this.#contextLogger = sessionContextLogger(base, bindings, this.#debugSession);
    }
    return this.#contextLogger;
  }

  /** Logs a debug trace only when it can be seen: no child logger or fields for nothing. */
  [kDebug](fields: object, message: string): void {
    const base = this.#baseLogger;
    if (base === undefined || (!this.#debugSession && !debugEnabled(base))) return;
    this[kContextLogger].debug(fields, message);
  }

  /** Internal upcalls to the hooks, implemented by Session. */
  abstract [kDeliver](view: Buffer): number;
  abstract [kOpened](): void;
  abstract [kWritten](bytes: number): void;
  abstract [kWritableChanged](writable: boolean): void;
  abstract [kClosed](cause: DisconnectCause): void;

  /** Internal: called once by the owning service with the connected transport. */
  [kAttach](transport: Transport, host: SessionHost, settings: SessionSettings): void {
    if (this.#host !== undefined) throw new ServiceStateError(`session ${this.id} is already attached`);
    this.#transport = transport;
    this.#host = host;
    this.#settings = settings;
    this.#baseLogger = settings.logger;
    this.#debugSession = isDebugSession(this.id, transport.remoteAddress, transport.remotePort);
    if (settings.maxBytesPerSecond > 0) {
      this.#throttle = new IngressThrottle(settings.maxBytesPerSecond, settings.rateLimitAction === 'drop', performance.now());
    }
    if (settings.readBudgetBytes > 0) this.#readBudget = new ReadBudget(settings.readBudgetBytes);
    if (settings.idleTimeoutMs > 0) watchIdle(this, settings.idleTimeoutMs);
    this.#recvBuffer = new RecvBuffer(settings.recvBufferSize);
    this.#moveTo('connecting', 'open');
    transport.open(this);
    this[kOpened]();
  }

  /** Internal: begins a graceful close with `cause` (ignored if already closing or closed). */
  [kClose](cause: DisconnectCause): void {
    if (!this.#moveTo('open', 'closing')) return;
    this.#cause = cause;
    this.flushSendQueue();
    this.#pressure?.release(); // sends now return false: nothing more will come to drain
    this.#transport?.end(cause);
    this.#startLingerTimer();
    this.#stopPausing();
  }

  /** Internal: destroys the transport now; `onDisconnected` follows with the recorded cause or `cause`. */
  [kDestroy](cause: DisconnectCause): void {
    if (this.#state === 'closed') return;
    this.#cause ??= cause;
    this.#transport?.destroy();
  }

  /** Internal: `listener` runs once, after onDisconnected; ignored once the session has closed. */
  [kAddCloseListener](listener: CloseListener): void {
    if (this.#state === 'closed') return;
    (this.#closeListeners ??= []).push(listener);
  }

  /** Internal: removes a listener added with kAddCloseListener. */
  [kRemoveCloseListener](listener: CloseListener): void {
    const list = this.#closeListeners;
    const index = list === undefined ? -1 : list.indexOf(listener);
    if (index >= 0) list?.splice(index, 1);
  }

  /** Ends this connection because of `error`, a limit crossed or a protocol error, with `code`. */
  [kEndWith](code: DisconnectCode, error: GamewireError): void {
    this[kDebug]({ sessionId: this.id, code, err: error }, 'session protocol error');
    this[kClose](disconnectCause(code, error.message, error));
  }

  /** Queues `length` bytes of `buffer` at `offset`; false once closing or cut off. */
  [kEnqueue](buffer: ArrayBuffer, offset: number, length: number, view: Uint8Array | undefined): boolean {
    if (this.#state !== 'open') return false;
    if (length === 0) return true;
    const queue = (this.#sendQueue ??= new SendQueue((this.#settings as SessionSettings).maxSendQueuePieces));
    queue.push(buffer, offset, length, view);
    const queued = queue.bytes + this.#backlog;
    // Decided here, not only at the flush: one turn can read a lot from a flooding peer.
    if (queued > (this.#settings as SessionSettings).sendHighWaterMark && !this.#sendPressure().aboveHigh(queued)) return false;
    this[kTraffic].bytesSent += length;
    if (!this.#sendRegistered) {
      this.#sendRegistered = true;
      scheduleFlush(this);
    }
    return true;
  }

  #sendPressure(): SendPressure {
    return (this.#pressure ??= new SendPressure(this, this.#settings as SessionSettings));
  }

  /** Internal: this session's fan-out flow state, made on first use. */
  [kFlowState](): FanoutFlow {
    return this.#sendPressure().flow;
  }

  /** Internal: members this session's input fed are above their high mark (true), or drained (false). */
  [kFanoutPaused](paused: boolean): void {
    if (this.#state === 'open') this.#setPaused(PAUSE_FANOUT, paused);
  }

  /** Internal (read-budget.ts): a new turn began; this session may read again. */
  [kBudgetResume](): void {
    this.#setPaused(PAUSE_BUDGET, false);
  }

  /** Internal (flush scheduler): hands everything queued to the transport, in one write. */
  flushSendQueue(): void {
    this.#sendRegistered = false;
    const queue = this.#sendQueue;
    if (queue === undefined || queue.bytes === 0) return;
    const transport = this.#transport;
    if (transport === undefined || this.#state === 'closed' || transport.destroyed) {
      queue.clear();
      return;
    }
    (this.#writesInFlight ??= []).push(queue.writeTo(transport));
    const backlog = (this.#backlog = transport.bufferedBytes);
    if (backlog > (this.#settings as SessionSettings).sendHighWaterMark) this.#sendPressure().update(backlog + queue.bytes);
  }

  /** @internal TransportSink: bytes arrived. */
  transportData(chunk: Buffer): void {
    if (this.#state !== 'open') return; // closing: drain and drop, so the peer's FIN is seen
    this.#activity++;
    this[kTraffic].bytesReceived += chunk.length;
    if (this.#throttle !== undefined && !this.#admitBytes(this.#throttle, chunk)) return;
    this.#receive(chunk);
    // Fairness: one session reads its budget per turn, then waits for the next turn.
    if (this.#readBudget?.charge(chunk.length) === true && this.#state === 'open') {
      this.#setPaused(PAUSE_BUDGET, true);
      resumeNextTurn(this);
    }
  }

  /** @internal TransportSink: one write was handed to the kernel. */
  transportWritten(error: Error | null | undefined): void {
    const bytes = this.#writesInFlight?.shift();
    if (error || bytes === undefined || this.#state === 'closed') return;
    this.#backlog = this.#transport?.bufferedBytes ?? 0;
    const pressure = this.#pressure;
    if (pressure !== undefined && !pressure.writable) {
      this.#activity++;
      pressure.progress(this.#backlog + (this.#sendQueue?.bytes ?? 0));
    }
    this[kWritten](bytes);
  }

  /** @internal TransportSink: the peer ended its side. */
  transportEnd(): void {
    // allowHalfOpen is off, so Node ends our side after flushing what the socket holds.
    if (!this.#moveTo('open', 'closing')) return;
    this.#cause = disconnectCause(DisconnectCode.PeerClosed, 'peer closed the connection');
    this.#sendQueue?.clear();
    this.#pressure?.release();
    this.#startLingerTimer();
  }

  /** @internal TransportSink: a transport error; transportClosed follows. */
  transportError(error: Error): void {
    if (this.#cause !== undefined && this.#state !== 'open') return;
    const { cause, unexpected } = causeOfTransportError(error);
    if (unexpected) this[kContextLogger].warn({ sessionId: this.id, err: error }, 'session socket error');
    this.#cause = cause;
  }

  /** @internal TransportSink: closed; onDisconnected, then the close listeners, then the owner. */
  transportClosed(): void {
    const from = this.#state;
    if (from === 'closed') return;
    this.#moveTo(from, 'closed');
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    const settings = this.#settings as SessionSettings;
    if (settings.idleTimeoutMs > 0) unwatchIdle(this, settings.idleTimeoutMs);
    this.#pressure?.close();
    this.#sendQueue?.clear();
    this.#recvBuffer?.reset();
    const cause = (this.#cause ??= disconnectCause(DisconnectCode.PeerClosed, 'connection closed'));
    this[kClosed](cause);
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    if (listeners !== undefined) {
      for (const listener of listeners) {
        try {
          listener(this, cause);
        } catch (error) {
          logSafely(this[kContextLogger], 'error', { sessionId: this.id, err: error }, 'close listener threw');
        }
      }
    }
    this.#host?.[kSessionClosed](this, cause);
  }

  /** Internal (idle-watch.ts): one tick; silence past the timeout ends the session. */
  [kIdleTick](): void {
    if (this.#state !== 'open') return;
    // While throttled or held by fan-out flow control, silence is ours, not the peer's. While paused
    // because the peer is behind, write completions (counted as activity) show it is alive.
    const excused = (this.#pauseReasons & (PAUSE_THROTTLED | PAUSE_FANOUT)) !== 0;
    const active = excused || this.#activity !== this.#activitySeen;
    this.#activitySeen = this.#activity;
    this.#silentTicks = active ? 0 : this.#silentTicks + 1;
    if (this.#silentTicks > IDLE_CHECKS) {
      this[kEndWith](DisconnectCode.IdleTimeout, new IdleTimeoutError((this.#settings as SessionSettings).idleTimeoutMs));
    }
  }

  /** Internal (send-pressure.ts): queued and transport backlog bytes now. */
  [kPendingBytes](): number {
    return (this.#sendQueue?.bytes ?? 0) + (this.#transport?.bufferedBytes ?? 0);
  }

  /** Internal (send-pressure.ts): writability changed; the hook runs. */
  [kWritabilityChanged](writable: boolean): void {
    if (writable) this.#setPaused(PAUSE_UNWRITABLE, false);
    this[kWritableChanged](writable);
  }

  /** Internal (send-pressure.ts): its own input fills its queue; stop reading until it drains. */
  [kPauseOwnInput](): void {
    this.#setPaused(PAUSE_UNWRITABLE, true);
  }

  /** Internal (send-pressure.ts): destroys a peer that does not read; the sessions it held read again. */
  [kCutOff](cause: DisconnectCause): void {
    this[kDebug]({ sessionId: this.id, queued: this[kPendingBytes](), cause: cause.code }, cause.reason);
    this.#sendQueue?.clear();
    this.#backlog = 0;
    this.#pressure?.release();
    this[kDestroy](cause);
  }

  /** Sets or clears one pause reason; the transport pauses with the first and resumes with the last. */
  #setPaused(reason: number, paused: boolean): void {
    const before = this.#pauseReasons;
    const after = paused ? before | reason : before & ~reason;
    this.#pauseReasons = after;
    if (before === 0 && after !== 0) this.#transport?.pause();
    else if (before !== 0 && after === 0 && this.#state === 'open') this.#transport?.resume();
  }

  /** Presents `chunk` to onRecv with this session as the current input source (fanout-flow.ts). */
  #receive(chunk: Buffer): void {
    const previous = swapInputSource(this);
    try {
      receiveChunk(this, this.#recvBuffer as RecvBuffer, chunk);
    } finally {
      swapInputSource(previous);
    }
  }

  /** Internal (receive-loop.ts): runs onRecv on `view`; the consumed count, or -1 once the session stopped. */
  [kDeliverView](view: Buffer): number {
    const consumed = this[kDeliver](view);
    return consumed < 0 || this.#state !== 'open' ? -1 : consumed;
  }

  /** Internal (receive-loop.ts): the RecvBuffer is full and onRecv consumed nothing. */
  [kRecvOverflow](capacity: number): void {
    this[kEndWith](DisconnectCode.RecvBufferOverflow, new RecvBufferOverflowError(capacity));
  }

  #admitBytes(throttle: IngressThrottle, chunk: Buffer): boolean {
    const verdict = throttle.admit(chunk, performance.now());
    if (verdict === 'pass') return true;
    const settings = this.#settings as SessionSettings;
    if (verdict === 'over') {
      this[kEndWith](DisconnectCode.RateLimited, new RateLimitedError('bytes', settings.maxBytesPerSecond));
    } else if (verdict > 0) {
      this.#setPaused(PAUSE_THROTTLED, true);
      setTimeout(endThrottle, verdict, this).unref();
    }
    return false;
  }

  /** Internal: the throttle's debt is paid: deliver what it held and read again. */
  [kEndThrottle](): void {
    for (const chunk of this.#throttle?.release() ?? []) {
      if (this.#state !== 'open') break;
      this.#receive(chunk);
    }
    this.#setPaused(PAUSE_THROTTLED, false);
  }

  /** A closing session reads (and drops) again, so that the peer's FIN is seen. */
  #stopPausing(): void {
    this.#throttle?.release();
    if (this.#pauseReasons === 0) return;
    this.#pauseReasons = 0;
    this.#transport?.resume();
  }

  #startLingerTimer(): void {
    if (this.#lingerTimer !== undefined) return;
    this.#lingerTimer = setTimeout(lingerTimeout, (this.#settings as SessionSettings).disconnectTimeoutMs, this);
    this.#lingerTimer.unref();
  }

  /** Internal: the graceful close took too long. */
  [kLingerTimedOut](): void {
    this.#lingerTimer = undefined;
    this.#transport?.destroy();
  }

  /** The single state transition (connection-state.ts); false when the state is not `from`. */
  #moveTo(from: SessionState, to: SessionState): boolean {
    if (!transition(SESSION_MOVES, this.#state, from, to, `session ${this.id}`)) return false;
    this.#state = to;
    this[kDebug]({ sessionId: this.id, from, to }, 'session state');
    return true;
  }
}

function lingerTimeout(connection: Connection): void {
  connection[kLingerTimedOut]();
}

function endThrottle(connection: Connection): void {
  connection[kEndThrottle]();
}
