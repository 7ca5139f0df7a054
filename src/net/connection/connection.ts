/*
 * net/connection/: the connection core under Session, and the small pieces only it uses: the state
 * moves, the read loop, the send queue and its per-turn flush, close listeners, traffic counters
 * and the session's log context. It drives one Transport and calls the limits.
 * May import: core/, net/transport/, net/limits/, net/symbols.ts, net/session-owner.ts.
 */
import { WS_CLOSE_CODE } from '../../core/websocket-close.js';
import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { IdleTimeoutError, RateLimitedError, RecvBufferOverflowError, ServiceStateError, type GamewireError } from '../../core/errors.js';
import { causeOfTransportError } from '../transport/transport-errors.js';
import { sessionIds } from '../../core/id-sequence.js';
import { swapReadSource } from '../../core/read-source.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { removeCloseListener, runCloseListeners } from './close-listeners.js';
import { RecvBuffer } from '../../core/recv-buffer.js';
import { transition } from '../../core/state-machine.js';
import { SESSION_MOVES, type SessionState } from './connection-state.js';
import type { FanoutFlow, FlowParty } from '../limits/fanout-flow.js';
import { scheduleFlush, type Flushable } from './flush-scheduler.js';
import { runReadLoop, type ReadSink } from './read-loop.js';
import { SendQueue } from './send-queue.js';
import { debugEnabled, isDebugSession, sessionContextLogger } from './session-log.js';
import { TrafficCounters } from './session-traffic.js';
import type { CloseListener, SessionHost, SessionSettings } from '../session-owner.js';
import type { Transport, TransportKind, TransportSink } from '../transport/transport.js';
import { SendPressure, type PressuredConnection } from '../limits/send-pressure.js';
import { isIdle, isKeepaliveDue, nextSilentTicks, type IdleWatched } from '../limits/idle-watch.js';
import { ReadThrottle } from '../limits/read-throttle.js';
import { ReadBudget, resumeNextTurn, type BudgetReader } from '../limits/read-budget.js';
import { kAddCloseListener, kAttach, kClose, kDestroy, kRemoveCloseListener, kSessionClosed, kSettings } from '../symbols.js';
import { kClosed, kDeliver, kOnOpen, kOpened, kWritableChanged, kWritten } from '../symbols.js';
import { kContextLogger, kEndWith, kEnqueue, kHost, kTraffic } from '../symbols.js';
import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../symbols.js';
import { kBudgetResume, kCutOff, kDeliverView, kFanoutPaused, kFlowState, kFlush, kIdleTick, kKeepalive } from '../symbols.js';
import { kPauseOwnReading, kPendingBytes, kRecvOverflow, kTakenBytes, kWritabilityChanged } from '../symbols.js';
import { kConnectionLost, kControlPacket, kFlushPending, kReconnecting, kResumed, kTransportResumed, kTransportSuspended, kWritesInFlight } from '../symbols.js';
import { kAttachMoved, kTakeId, kTransportOf } from '../symbols.js';

// Private methods are symbol-keyed, not `#name`: a class with a `#method` gives every instance a
// brand slot, and a server holds tens of thousands of these.
const kDebug: unique symbol = Symbol('gamewire.debug');
const kLingerTimedOut: unique symbol = Symbol('gamewire.lingerTimedOut');
const kSendPressure: unique symbol = Symbol('gamewire.sendPressure');
const kStartLingerTimer: unique symbol = Symbol('gamewire.startLingerTimer');
const kMoveTo: unique symbol = Symbol('gamewire.moveTo');
const kAdmitRead: unique symbol = Symbol('gamewire.admitRead');
const kRunReadLoop: unique symbol = Symbol('gamewire.runReadLoop');
const kChargeReadBudget: unique symbol = Symbol('gamewire.chargeReadBudget');
const kSetReadPaused: unique symbol = Symbol('gamewire.setReadPaused');
const kEndThrottle: unique symbol = Symbol('gamewire.endThrottle');

/** Why reading is paused, as bits: the peer is behind on its own replies (`pauseReadingWhenUnwritable`). */
const PAUSE_UNWRITABLE = 1;
/** Throttled by `maxBytesPerSecond` ('drop'). */
const PAUSE_THROTTLED = 2;
/** Read its `readBudgetBytes` this turn; resumes next turn. */
const PAUSE_BUDGET = 4;
/** Its reads pushed other sessions above their high mark; resumes when they drain (fanout-flow.ts). */
const PAUSE_FANOUT = 8;

/**
 * Internal: the connection core under {@link Session}. It drives one {@link Transport} and is its sink:
 * the state machine, the read loop over a RecvBuffer, the send queue flushed once per turn, the
 * graceful-close timer and close listeners. Limits are small policies it calls (write water marks and
 * the send cap in send-pressure.ts, read-throttle.ts, idle-watch.ts, read-budget.ts,
 * fanout-flow.ts); each acts on it through pause/resume and close. Listeners are methods and
 * module-level functions: a connection holds no closure of its own until its first write.
 *
 * One class a byte can be followed through: reading, the reasons reading is paused (a `PAUSE_*` bit
 * each) and the idle count are here too; what only some connections need is made on first use.
 */
export abstract class Connection
  implements TransportSink, Flushable, FlowParty, PressuredConnection, ReadSink, IdleWatched, BudgetReader
{
  /** Unique, increasing id: unique across the workers of a server and the servers of a Redis too (see IdSequence). */
  readonly id: number = sessionIds.next();
  #traffic: TrafficCounters | undefined;
  #contextLogger: Logger | undefined;
  #pauseReasons = 0;
  /**
   * Idle-watch ticks since the peer last showed it is alive (a read, or a write completion while it is
   * behind): a sign of life sets it to 0, so counting costs one store per read.
   */
  #silentTicks = 0;
  #throttle: ReadThrottle | undefined;
  #readBudget: ReadBudget | undefined;
  #state: SessionState = 'connecting';
  #transport: Transport | undefined;
  #settings: SessionSettings | undefined;
  #recvBuffer: RecvBuffer | undefined;
  /** Made on the first send; it also knows the writes in flight and the transport's backlog. */
  #sendQueue: SendQueue | undefined;
  #cause: DisconnectCause | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closeListeners: CloseListener[] | undefined;
  /** Water marks, send cap and stall check; made once this connection is first above its high mark. */
  #pressure: SendPressure | undefined;

  /** Lifecycle state; see {@link SessionState}. */
  get state(): SessionState {
    return this.#state;
  }

  /**
   * True while the session is open: `send` queues bytes and `onRecv` receives them. Also true while a
   * resumable session is `suspended` (its connection dropped, its client may come back): `send` keeps
   * queueing for the client, and nothing is received.
   */
  get connected(): boolean {
    const state = this.#state;
    return state === 'open' || state === 'suspended';
  }

  /** True once the peer asked for resume (docs/resume.md): this session survives a dropped connection. */
  get resumable(): boolean {
    return this.#transport?.resumable === true;
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
   * `onWritableChanged` tells when it changes. Sends caused by another session's reads are slowed by
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
    return this.#settings?.host;
  }

  /** Internal: the settings the owner gave, once attached. */
  get [kSettings](): SessionSettings | undefined {
    return this.#settings;
  }

  /** Internal: what this session moved, in plain numbers; made on first use (an idle session has none). */
  get [kTraffic](): TrafficCounters {
    return (this.#traffic ??= new TrafficCounters());
  }

  /**
   * Internal: the service's logger with `sessionId`, `remote` and `transport` bound (silent before
   * attach), made on first use: a connection that logs nothing makes no child logger.
   */
  get [kContextLogger](): Logger {
    const base = this.#settings?.logger;
    if (base === undefined) return silentLogger;
    if (this.#contextLogger === undefined) {
      const bindings = { sessionId: this.id, remote: `${this.remoteAddress}:${this.remotePort}`, transport: this.transport };
      this.#contextLogger = sessionContextLogger(base, bindings, isDebugSession(this.id, this.remoteAddress, this.remotePort));
    }
    return this.#contextLogger;
  }

  /** A debug trace, built only when it can be seen (whether GAMEWIRE_DEBUG_SESSION names it is asked, not stored). */
  [kDebug](fields: object, message: string): void {
    const base = this.#settings?.logger;
    if (base === undefined || (!isDebugSession(this.id, this.remoteAddress, this.remotePort) && !debugEnabled(base))) return;
    this[kContextLogger].debug(fields, message);
  }

  /** Internal upcalls to the hooks, implemented by Session. */
  abstract [kDeliver](view: Buffer): number;
  abstract [kOpened](): void;
  abstract [kOnOpen](): void;
  abstract [kWritten](bytes: number): void;
  abstract [kWritableChanged](writable: boolean): void;
  abstract [kClosed](cause: DisconnectCause): void;
  abstract [kConnectionLost](cause: DisconnectCause): void;
  abstract [kResumed](): void;
  abstract [kReconnecting](attempt: number, delayMs: number): void;

  /** Internal: called once by the owning service with the connected transport. */
  [kAttach](transport: Transport, settings: SessionSettings): void {
    this.#take(transport, settings);
    this[kMoveTo]('connecting', 'open');
    transport.open(this);
    this[kOpened]();
  }

  /**
   * Internal: attaches the transport of a session that moved in from another process: it opens
   * suspended (its client is on its way), the subclass layers start, and no onConnected runs (the
   * game's restoreState ran instead, before).
   */
  [kAttachMoved](transport: Transport, settings: SessionSettings): void {
    this.#take(transport, settings);
    this[kMoveTo]('connecting', 'open');
    transport.open(this);
    this[kMoveTo]('open', 'suspended');
    this[kOnOpen]();
  }

  #take(transport: Transport, settings: SessionSettings): void {
    if (this.#settings !== undefined) throw new ServiceStateError(`session ${this.id} is already attached`);
    this.#transport = transport;
    this.#settings = settings;
    if (settings.maxBytesPerSecond > 0) {
      this.#throttle = new ReadThrottle(settings.maxBytesPerSecond, settings.rateLimitAction === 'drop', performance.now());
    }
  }

  /** Internal: a moved-in session keeps the id it had on the process it came from (before it is attached). */
  [kTakeId](id: number): void {
    if (this.#settings !== undefined) throw new ServiceStateError(`session ${this.id} is already attached`);
    (this as { id: number }).id = id;
  }

  /** Internal: the transport carrying the session (the resume transport of a resumable one). */
  get [kTransportOf](): Transport | undefined {
    return this.#transport;
  }

  /** Internal: begins a graceful close with `cause` (ignored if already closing or closed). */
  [kClose](cause: DisconnectCause): void {
    if (!this[kMoveTo]('open', 'closing')) {
      // Suspended (resume): there is no connection to flush to; it ends now with this cause.
      if (this.#state === 'suspended') this[kDestroy](cause);
      return;
    }
    this.#cause = cause;
    this[kFlush]();
    this.#pressure?.release(); // sends now return false: nothing more will come to drain
    this.#transport?.end(cause);
    this[kStartLingerTimer]();
    // Read (and drop) again, so that the peer's FIN is seen.
    this.#throttle?.release();
    if (this.#pauseReasons !== 0) {
      this.#pauseReasons = 0;
      this.#transport?.resume();
    }
  }

  /** Internal: destroys the transport now; `onDisconnected` follows with the recorded cause or `cause`. */
  [kDestroy](cause: DisconnectCause): void {
    if (this.#state === 'closed') return;
    this.#cause ??= cause;
    this.#transport?.destroy();
  }

  /** Internal: `listener` runs once, after onDisconnected; ignored once the session has closed. */
  [kAddCloseListener](listener: CloseListener): void {
    if (this.#state !== 'closed') (this.#closeListeners ??= []).push(listener);
  }

  /** Internal: removes a listener added with kAddCloseListener. */
  [kRemoveCloseListener](listener: CloseListener): void {
    removeCloseListener(this.#closeListeners, listener);
  }

  /** Ends this connection because of `error`, a limit crossed or a protocol error, with `code`. */
  [kEndWith](error: GamewireError): void {
    const code = error.disconnectCode ?? DisconnectCode.HandlerError;
    // A silent peer of a resumable session is a dropped connection: it is suspended, not ended.
    if (code === DisconnectCode.IdleTimeout && this.#transport?.lose?.(disconnectCause(code, error.message, error)) === true) return;
    this[kDebug]({ code, err: error }, 'session protocol error');
    this[kClose](disconnectCause(code, error.message, error));
  }

  // Sending: queued, flushed once per turn in one write, completed; send pressure above the high mark.

  /** Queues `length` bytes, `view` or the range of `buffer` at `offset` (see SendQueue.push); false once closing or cut off. */
  [kEnqueue](buffer: ArrayBuffer | undefined, offset: number, length: number, view: Uint8Array | undefined): boolean {
    if (this.#state !== 'open' && this.#state !== 'suspended') return false;
    if (length === 0) return true;
    const queue = (this.#sendQueue ??= new SendQueue((this.#settings as SessionSettings).maxSendQueuePieces));
    queue.push(buffer, offset, length, view);
    const queued = queue.bytes + queue.backlog;
    // Decided here, not only at the flush: one turn can read a lot from a flooding peer. A cut-off
    // resumable session is suspended instead, and what it queued, this send too, is kept for its
    // client: then the send did happen.
    if (
      queued > (this.#settings as SessionSettings).sendHighWaterMark &&
      !this[kSendPressure]().aboveHigh(queued, length) &&
      this.#state !== 'suspended'
    ) {
      return false;
    }
    this[kTraffic].bytesSent += length;
    if (!queue.flushScheduled) {
      queue.flushScheduled = true;
      scheduleFlush(this);
    }
    return true;
  }

  get [kFlushPending](): boolean {
    return this.#sendQueue?.flushScheduled === true;
  }

  get [kWritesInFlight](): number {
    return this.#sendQueue?.inFlight ?? 0;
  }

  [kSendPressure](): SendPressure {
    return (this.#pressure ??= new SendPressure(this, this.#settings as SessionSettings));
  }

  /** Internal: this session's fan-out flow state, made on first use. */
  [kFlowState](): FanoutFlow {
    return this[kSendPressure]().flow;
  }

  /** Internal (flush scheduler): hands everything queued to the transport, in one write. */
  [kFlush](): void {
    const queue = this.#sendQueue;
    if (queue === undefined) return;
    queue.flushScheduled = false;
    if (queue.bytes === 0) return;
    const transport = this.#transport;
    if (transport === undefined || this.#state === 'closed' || transport.destroyed) {
      queue.clear();
      return;
    }
    const backlog = queue.writeTo(transport);
    if (backlog > (this.#settings as SessionSettings).sendHighWaterMark) this[kSendPressure]().update(backlog + queue.bytes);
  }

  /** Internal (TransportSink): one write was handed to the kernel. */
  [kTransportWritten](error: Error | null | undefined): void {
    const queue = this.#sendQueue;
    const bytes = queue?.writeCompleted();
    if (error || queue === undefined || bytes === undefined || this.#state === 'closed') return;
    const backlog = (queue.backlog = this.#transport?.bufferedBytes ?? 0);
    const pressure = this.#pressure;
    if (pressure !== undefined && !pressure.writable) {
      this.#silentTicks = 0; // a write completed while the peer is behind: it is alive
      pressure.progress(backlog + queue.bytes);
    }
    this[kWritten](bytes);
  }

  // Ending: the peer's end, a transport error, the close; then what send pressure calls.

  /** Internal (TransportSink): the peer ended its side; one `leaving` (a WebSocket close frame) while behind is destroyed now. */
  [kTransportEnd](leaving?: boolean, closeCode?: number): void {
    // TCP: allowHalfOpen is off, so Node ends our side after flushing what the socket holds.
    if (!this[kMoveTo]('open', 'closing')) return;
    this.#cause =
      closeCode === WS_CLOSE_CODE.SERVICE_DRAINED
        ? disconnectCause(DisconnectCode.ServiceDrained, 'the server drained (WebSocket close 1012): reconnect at once')
        : disconnectCause(DisconnectCode.PeerClosed, leaving === true ? 'peer closed the WebSocket' : 'peer closed the connection');
    this.#sendQueue?.clear();
    const behind = this.#pressure?.writable === false;
    this.#pressure?.release();
    if (leaving === true && behind) this.#transport?.destroy();
    else this[kStartLingerTimer]();
  }

  /** Internal (TransportSink): a transport error; transportClosed follows. */
  [kTransportError](error: Error): void {
    if (this.#cause !== undefined && this.#state !== 'open') return;
    const { cause, unexpected } = causeOfTransportError(error);
    if (unexpected) this[kContextLogger].warn({ err: error }, 'session socket error');
    else if (cause.error !== undefined) this[kDebug]({ code: cause.code, err: error }, 'session protocol error');
    this.#cause = cause;
  }

  /** Internal (TransportSink): closed; onDisconnected, then the close listeners, then the owner. */
  [kTransportClosed](): void {
    const from = this.#state;
    if (from === 'closed') return;
    this[kMoveTo](from, 'closed');
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    this.#pressure?.close();
    this.#sendQueue?.clear();
    this.#recvBuffer?.reset();
    const cause = (this.#cause ??= disconnectCause(DisconnectCode.PeerClosed, 'connection closed'));
    this[kClosed](cause);
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    if (listeners !== undefined) runCloseListeners(listeners, this, cause, this[kContextLogger]);
    this.#settings?.host[kSessionClosed](this, cause);
  }

  /** Internal (send-pressure.ts): queued and transport backlog bytes now. */
  [kPendingBytes](): number {
    return (this.#sendQueue?.bytes ?? 0) + (this.#transport?.bufferedBytes ?? 0);
  }

  /** Internal (send-pressure.ts): bytes the peer took so far, as far as the transport can tell. */
  [kTakenBytes](): number {
    const sent = this.#transport?.sentBytes ?? -1;
    return sent >= 0 ? sent : (this.#sendQueue?.completedBytes ?? 0);
  }

  /** Internal (send-pressure.ts): writability changed; the hook runs. */
  [kWritabilityChanged](writable: boolean): void {
    if (writable) this[kSetReadPaused](PAUSE_UNWRITABLE, false);
    this[kWritableChanged](writable);
  }

  /** Internal (send-pressure.ts): destroys a peer that does not read; the sessions it held read again. */
  [kCutOff](cause: DisconnectCause): void {
    this[kDebug]({ queued: this[kPendingBytes](), cause: cause.code }, cause.reason);
    // Resumable: a peer that stopped reading may be a dead link; suspend, keeping what is queued.
    if (this.#transport?.lose?.(cause) === true) return;
    const queue = this.#sendQueue;
    if (queue !== undefined) {
      queue.clear();
      queue.backlog = 0;
    }
    this.#pressure?.release();
    this[kDestroy](cause);
  }

  // Resume (net/resume/): the connection drops and the session waits for its client; it comes back.

  /** Internal (TransportSink, resume): the connection dropped; the session waits for its client. */
  [kTransportSuspended](cause: DisconnectCause): void {
    if (!this[kMoveTo]('open', 'suspended')) return;
    this.#recvBuffer?.reset(); // a packet cut by the drop is not counted: the peer sends it again
    this.#throttle?.release(); // what the throttle held is dropped, for the same reason
    this.#pauseReasons = 0; // the next connection starts reading
    const queue = this.#sendQueue;
    if (queue !== undefined) queue.backlog = 0;
    this.#pressure?.progress(queue?.bytes ?? 0);
    this[kConnectionLost](cause);
  }

  /** Internal (TransportSink, resume): a new connection carries the session again. */
  [kTransportResumed](): void {
    if (!this[kMoveTo]('suspended', 'open')) return;
    this.#silentTicks = 0;
    this[kResumed]();
  }

  /** Internal (PacketSession): a resume packet arrived; the (resumable) transport handles it. */
  [kControlPacket](id: number, bytes: Buffer, offset: number, size: number): void {
    this.#transport?.control?.(id, bytes, offset, size);
  }

  // Reading, in the order a chunk goes: admitted by the throttle, presented to onRecv by the read
  // loop, charged to the read budget. Then the pause reasons the limits set, and the idle watch.

  /** Internal (TransportSink): bytes arrived. */
  [kTransportData](chunk: Buffer): void {
    if (this.#state !== 'open') return; // closing: drain and drop, so the peer's FIN is seen
    this[kTraffic].bytesReceived += chunk.length;
    if (!this[kAdmitRead](chunk)) return;
    this[kRunReadLoop](chunk);
    this[kChargeReadBudget](chunk.length);
  }

  /** `chunk` was read; true to deliver it now, false when the throttle held it or ended the connection. */
  [kAdmitRead](chunk: Buffer): boolean {
    this.#silentTicks = 0;
    const throttle = this.#throttle;
    if (throttle === undefined) return true;
    const verdict = throttle.admit(chunk, performance.now());
    if (verdict === 'pass') return true;
    if (verdict === 'over') {
      this[kEndWith](new RateLimitedError('bytes', (this.#settings as SessionSettings).maxBytesPerSecond));
    } else if (verdict > 0) {
      this[kSetReadPaused](PAUSE_THROTTLED, true);
      setTimeout(endThrottle, verdict, this).unref();
    }
    return false;
  }

  /** The throttle's debt is paid: deliver what it held and read again. */
  [kEndThrottle](): void {
    for (const chunk of this.#throttle?.release() ?? []) {
      if (!this.connected) break;
      this[kRunReadLoop](chunk);
    }
    this[kSetReadPaused](PAUSE_THROTTLED, false);
  }

  /** Runs the read loop over `chunk` with this session as the current read source (fanout-flow.ts). */
  [kRunReadLoop](chunk: Buffer): void {
    const previous = swapReadSource(this);
    try {
      // The RecvBuffer is made on the first bytes: an idle connection holds none.
      runReadLoop(this, (this.#recvBuffer ??= new RecvBuffer((this.#settings as SessionSettings).recvBufferSize)), chunk);
    } finally {
      swapReadSource(previous);
    }
  }

  /** Internal (read-loop.ts): runs onRecv on `view`; the consumed count, or -1 once the session stopped. */
  [kDeliverView](view: Buffer): number {
    const consumed = this[kDeliver](view);
    return consumed < 0 || this.#state !== 'open' ? -1 : consumed;
  }

  /** Internal (read-loop.ts): the RecvBuffer is full and onRecv consumed nothing. */
  [kRecvOverflow](capacity: number): void {
    this[kEndWith](new RecvBufferOverflowError(capacity));
  }

  /** `bytes` were read; past the read budget, reading waits for the next turn (fairness). */
  [kChargeReadBudget](bytes: number): void {
    const limit = (this.#settings as SessionSettings).readBudgetBytes;
    if (limit === 0) return;
    // Made on the first bytes: an idle connection holds none.
    if ((this.#readBudget ??= new ReadBudget(limit)).charge(bytes) && this.connected) {
      this[kSetReadPaused](PAUSE_BUDGET, true);
      resumeNextTurn(this);
    }
  }

  /** Internal (read-budget.ts): a new turn began; this connection may read again. */
  [kBudgetResume](): void {
    this[kSetReadPaused](PAUSE_BUDGET, false);
  }

  /** Internal (fanout-flow.ts): members this connection's reads fed are above their high mark (true), or drained (false). */
  [kFanoutPaused](paused: boolean): void {
    if (this.connected) this[kSetReadPaused](PAUSE_FANOUT, paused);
  }

  /** Internal (send-pressure.ts): its own reads fill its queue; stop reading until it drains. */
  [kPauseOwnReading](): void {
    this[kSetReadPaused](PAUSE_UNWRITABLE, true);
  }

  /** Sets or clears one pause reason; the transport pauses with the first and resumes with the last. */
  [kSetReadPaused](reason: number, paused: boolean): void {
    const before = this.#pauseReasons;
    const after = paused ? before | reason : before & ~reason;
    this.#pauseReasons = after;
    if (before === 0 && after !== 0) this.#transport?.pause();
    else if (before !== 0 && after === 0 && this.connected) this.#transport?.resume();
  }

  /** Internal (idle-watch.ts): one tick; silence past the timeout ends the connection. */
  [kIdleTick](): void {
    if (this.#state !== 'open') return; // a suspended session's grace period governs it
    // While throttled or held by fan-out flow control, silence is ours, not the peer's. While paused
    // because the peer is behind, write completions show it is alive.
    const excused = (this.#pauseReasons & (PAUSE_THROTTLED | PAUSE_FANOUT)) !== 0;
    const silentTicks = (this.#silentTicks = nextSilentTicks(this.#silentTicks, excused));
    if (isIdle(silentTicks)) {
      this[kEndWith](new IdleTimeoutError((this.#settings as SessionSettings).idleTimeoutMs));
    } else if (isKeepaliveDue(silentTicks)) {
      this[kKeepalive]();
    }
  }

  /**
   * Internal (idle watch): the peer has been quiet for a quarter to half of `idleTimeoutMs`; prompt it
   * to answer. Nothing here: a raw byte stream has no packet of its own to send (PacketSession pings).
   */
  [kKeepalive](): void {}

  [kStartLingerTimer](): void {
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
  [kMoveTo](from: SessionState, to: SessionState): boolean {
    if (!transition(SESSION_MOVES, this.#state, from, to, `session ${this.id}`)) return false;
    this.#state = to;
    this[kDebug]({ from, to }, 'session state');
    return true;
  }
}

function lingerTimeout(connection: Connection): void {
  connection[kLingerTimedOut]();
}

function endThrottle(connection: Connection): void {
  connection[kEndThrottle]();
}

