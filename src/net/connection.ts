import { DisconnectCode, disconnectCause, type DisconnectCause } from '../core/disconnect-cause.js';
import { RecvBufferOverflowError, ServiceStateError, type GamewireError } from '../core/errors.js';
import { causeOfTransportError } from './transport-errors.js';
import { swapInputSource } from '../core/input-source.js';
import type { Logger } from '../core/logger.js';
import { removeCloseListener, runCloseListeners } from './close-listeners.js';
import { RecvBuffer } from '../core/recv-buffer.js';
import { transition } from '../core/state-machine.js';
import { SESSION_MOVES, type SessionState } from './connection-state.js';
import { kFlowState, type FanoutFlow, type FlowParty } from './fanout-flow.js';
import { kFlush, scheduleFlush, type Flushable } from './flush-scheduler.js';
import { kDeliverView, kRecvOverflow, receiveChunk, type Receiver } from './receive-loop.js';
import { SendQueue } from './send-queue.js';
import { kBaseLogger, kContextLogger, kDebug } from './connection-identity.js';
import { kTraffic } from './session-traffic.js';
import { kAddCloseListener, kAttach, kClose, kClosed, kDeliver, kDestroy, kOpened, kRemoveCloseListener, kSessionClosed } from './session-owner.js';
import { kWritableChanged, kWritten, type CloseListener, type SessionHost, type SessionSettings } from './session-owner.js';
import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from './transport.js';
import type { Transport, TransportKind, TransportSink } from './transport.js';
import { kCutOff, kPendingBytes, kTakenBytes, kWritabilityChanged, SendPressure, type PressuredConnection } from './send-pressure.js';
import { InputControl, kAdmitInput, kEndWith, kInputOpened, kInputRead, kPauseTransport } from './input-control.js';
import { kPeerAlive, kReceive, kSetPaused, kSettings, kStopPausing, PAUSE_UNWRITABLE } from './input-control.js';

export { kContextLogger, kDebug, kEndWith, kSettings };
/** Internal members the Session layer uses, symbol-keyed so that no name is taken from game code. */
export const kHost: unique symbol = Symbol('gamewire.host');
export const kEnqueue: unique symbol = Symbol('gamewire.enqueue');
// Private methods are symbol-keyed, not `#name`: a class with a `#method` gives every instance a
// brand slot, and a server holds tens of thousands of these.
const kLingerTimedOut: unique symbol = Symbol('gamewire.lingerTimedOut');
const kSendPressure: unique symbol = Symbol('gamewire.sendPressure');
const kStartLingerTimer: unique symbol = Symbol('gamewire.startLingerTimer');
const kMoveTo: unique symbol = Symbol('gamewire.moveTo');

/**
 * Internal: the connection core under {@link Session}. It drives one {@link Transport} and is its sink:
 * the state machine, the receive loop over a RecvBuffer, the send queue flushed once per turn, the
 * graceful-close timer and close listeners. Limits are small policies it calls (write water marks and
 * the send cap in send-pressure.ts, ingress-throttle.ts, idle-watch.ts, read-budget.ts,
 * fanout-flow.ts); each acts on it through pause/resume and close. Listeners are methods and
 * module-level functions: a connection holds no closure of its own until its first write.
 */
export abstract class Connection extends InputControl implements TransportSink, Flushable, FlowParty, PressuredConnection, Receiver {
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
    return this.#settings?.host;
  }

  /** Internal: the settings the owner gave, once attached. */
  get [kSettings](): SessionSettings | undefined {
    return this.#settings;
  }

  /** Internal: the owner's logger, once attached. */
  get [kBaseLogger](): Logger | undefined {
    return this.#settings?.logger;
  }

  /** Internal upcalls to the hooks, implemented by Session. */
  abstract [kDeliver](view: Buffer): number;
  abstract [kOpened](): void;
  abstract [kWritten](bytes: number): void;
  abstract [kWritableChanged](writable: boolean): void;
  abstract [kClosed](cause: DisconnectCause): void;

  /** Internal: called once by the owning service with the connected transport. */
  [kAttach](transport: Transport, settings: SessionSettings): void {
    if (this.#settings !== undefined) throw new ServiceStateError(`session ${this.id} is already attached`);
    this.#transport = transport;
    this.#settings = settings;
    this[kInputOpened](settings);
    this[kMoveTo]('connecting', 'open');
    transport.open(this);
    this[kOpened]();
  }

  /** Internal: begins a graceful close with `cause` (ignored if already closing or closed). */
  [kClose](cause: DisconnectCause): void {
    if (!this[kMoveTo]('open', 'closing')) return;
    this.#cause = cause;
    this[kFlush]();
    this.#pressure?.release(); // sends now return false: nothing more will come to drain
    this.#transport?.end(cause);
    this[kStartLingerTimer]();
    this[kStopPausing]();
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
    this[kDebug]({ code, err: error }, 'session protocol error');
    this[kClose](disconnectCause(code, error.message, error));
  }

  /** Queues `length` bytes, `view` or the range of `buffer` at `offset` (see SendQueue.push); false once closing or cut off. */
  [kEnqueue](buffer: ArrayBuffer | undefined, offset: number, length: number, view: Uint8Array | undefined): boolean {
    if (this.#state !== 'open') return false;
    if (length === 0) return true;
    const queue = (this.#sendQueue ??= new SendQueue((this.#settings as SessionSettings).maxSendQueuePieces));
    queue.push(buffer, offset, length, view);
    const queued = queue.bytes + queue.backlog;
    // Decided here, not only at the flush: one turn can read a lot from a flooding peer.
    if (queued > (this.#settings as SessionSettings).sendHighWaterMark && !this[kSendPressure]().aboveHigh(queued, length)) return false;
    this[kTraffic].bytesSent += length;
    if (!queue.flushScheduled) {
      queue.flushScheduled = true;
      scheduleFlush(this);
    }
    return true;
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

  /** Internal (TransportSink): bytes arrived. */
  [kTransportData](chunk: Buffer): void {
    if (this.#state !== 'open') return; // closing: drain and drop, so the peer's FIN is seen
    this[kTraffic].bytesReceived += chunk.length;
    if (!this[kAdmitInput](chunk)) return;
    this[kReceive](chunk);
    this[kInputRead](chunk.length);
  }

  /** Internal (TransportSink): one write was handed to the kernel. */
  [kTransportWritten](error: Error | null | undefined): void {
    const queue = this.#sendQueue;
    const bytes = queue?.writeCompleted();
    if (error || queue === undefined || bytes === undefined || this.#state === 'closed') return;
    const backlog = (queue.backlog = this.#transport?.bufferedBytes ?? 0);
    const pressure = this.#pressure;
    if (pressure !== undefined && !pressure.writable) {
      this[kPeerAlive]();
      pressure.progress(backlog + queue.bytes);
    }
    this[kWritten](bytes);
  }

  /** Internal (TransportSink): the peer ended its side. */
  [kTransportEnd](): void {
    // allowHalfOpen is off, so Node ends our side after flushing what the socket holds.
    if (!this[kMoveTo]('open', 'closing')) return;
    this.#cause = disconnectCause(DisconnectCode.PeerClosed, 'peer closed the connection');
    this.#sendQueue?.clear();
    this.#pressure?.release();
    this[kStartLingerTimer]();
  }

  /** Internal (TransportSink): a transport error; transportClosed follows. */
  [kTransportError](error: Error): void {
    if (this.#cause !== undefined && this.#state !== 'open') return;
    const { cause, unexpected } = causeOfTransportError(error);
    if (unexpected) this[kContextLogger].warn({ err: error }, 'session socket error');
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
    if (writable) this[kSetPaused](PAUSE_UNWRITABLE, false);
    this[kWritableChanged](writable);
  }

  /** Internal (send-pressure.ts): destroys a peer that does not read; the sessions it held read again. */
  [kCutOff](cause: DisconnectCause): void {
    this[kDebug]({ queued: this[kPendingBytes](), cause: cause.code }, cause.reason);
    const queue = this.#sendQueue;
    if (queue !== undefined) {
      queue.clear();
      queue.backlog = 0;
    }
    this.#pressure?.release();
    this[kDestroy](cause);
  }

  /** Internal (input-control.ts): pauses or resumes the transport's reading. */
  [kPauseTransport](paused: boolean): void {
    if (paused) this.#transport?.pause();
    else this.#transport?.resume();
  }

  /** Presents `chunk` to onRecv with this session as the current input source (fanout-flow.ts). */
  [kReceive](chunk: Buffer): void {
    const previous = swapInputSource(this);
    try {
      // The RecvBuffer is made on the first bytes: an idle connection holds none.
      receiveChunk(this, (this.#recvBuffer ??= new RecvBuffer((this.#settings as SessionSettings).recvBufferSize)), chunk);
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
    this[kEndWith](new RecvBufferOverflowError(capacity));
  }

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
