import { DisconnectCode, disconnectCause, type DisconnectCause } from '../core/disconnect-cause.js';
import {
  BadConsumedCountError,
  errnoCode,
  HandlerError,
  IdleTimeoutError,
  RateLimitedError,
  RecvBufferOverflowError,
  SendQueueOverflowError,
  SendStalledError,
  ServiceStateError,
  SocketError,
  WebSocketProtocolError,
  type GamewireError,
} from '../core/errors.js';
import { catchRejection, isInstance, isThenable } from '../core/describe.js';
import { currentInputSource, swapInputSource } from '../core/input-source.js';
import { logSafely, silentLogger, type Logger } from '../core/logger.js';
import { RecvBuffer } from '../core/recv-buffer.js';
import { sessionIds } from '../core/id-sequence.js';
import { TokenBucket } from '../core/token-bucket.js';
import { cutsOffOverCap, FanoutFlow, kFanoutPaused, kFlowState, msUntilStalled, type FlowParty } from './fanout-flow.js';
import { scheduleFlush, type Flushable } from './flush-scheduler.js';
import { kBudgetResume, ReadBudget, resumeNextTurn, type BudgetReader } from './read-budget.js';
import { SendQueue } from './send-queue.js';
import { isCauseAware, TransportSocket, type SessionSocket } from './transport-socket.js';
import { isDebugSession, sessionContextLogger } from './session-log.js';
import { kTraffic, TrafficCounters, type SessionTraffic } from './session-traffic.js';
import {
  kAddCloseListener,
  kAttach,
  kClose,
  kDestroy,
  kOnOpen,
  kWatchHook,
  kRemoveCloseListener,
  kSendRange,
  kSessionClosed,
  type CloseListener,
  type SessionHost,
  type SessionOwner,
  type SessionSettings,
} from './session-owner.js';

/** Lifecycle of a session. It only moves forward: `connecting → open → closing → closed`. */
export type SessionState = 'connecting' | 'open' | 'closing' | 'closed';

/** Socket errors that are an ordinary end of a connection, as in the seed's `HandleError`. */
const ORDINARY_SOCKET_ERRORS: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);


const ALLOWED_MOVES: Readonly<Record<SessionState, readonly SessionState[]>> = {
  connecting: ['open', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

/** The idle timer looks this many times per idleTimeoutMs; silence is noticed within 1 to 1.25 timeouts. */
const IDLE_CHECKS = 4;
const PAUSE_UNWRITABLE = 1;
const PAUSE_THROTTLED = 2;
/** Read its `readBudgetBytes` this turn; resumes next turn. */
const PAUSE_BUDGET = 4;
/** Its input pushed other sessions above their high mark; resumes when they drain (fanout-flow.ts). */
const PAUSE_FANOUT = 8;

/**
 * One connection, as the C++ `Session`: game code subclasses it and overrides the protected hooks
 * `onConnected`, `onRecv`, `onSend` and `onDisconnected`, and calls `send` and `disconnect`.
 *
 * Guarantees:
 * - Hooks run on the event loop, one at a time: `onConnected` first, then `onRecv`/`onSend` in any
 *   order, then `onDisconnected` exactly once and last.
 * - Everything passed to `send()` during one event-loop turn leaves in one socket write, in order.
 * - A hook that throws disconnects this session only, with cause `HANDLER_ERROR`; nothing else is
 *   affected. A hook may be `async`: it is not awaited, and a rejection ends the session the same way.
 * - Flow control: it reads at most `readBudgetBytes` per turn; what its input makes other sessions
 *   queue past their high water mark pauses its reading until they drain (fanout-flow.ts); it is cut
 *   off only when its own peer is stuck (`SEND_STALLED`, `SEND_QUEUE_OVERFLOW`).
 *
 * A session is created by the service's session factory and attached by the service once its socket
 * is connected; it is never reused or reopened.
 */
export class Session implements Flushable, FlowParty, BudgetReader {
  /** Unique, increasing id: unique across the workers of a server and the servers of a Redis too (see IdSequence). */
  readonly id: number = sessionIds.next();

  #sessionState: SessionState = 'connecting';
  #socket: SessionSocket | undefined;
  #host: SessionHost | undefined;
  #logger: Logger = silentLogger;
  #settings: SessionSettings | undefined;
  #recvBuffer: RecvBuffer | undefined;
  readonly #sendQueue = new SendQueue();
  #sendRegistered = false;
  /** Byte counts of writes whose completion is awaited, oldest first; used only when onSend is overridden. */
  readonly #writesInFlight: number[] = [];
  #trackSends = false;
  #cause: DisconnectCause | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  #closeListeners: CloseListener[] | undefined;
  #writable = true;
  /** Bytes the socket held after the last write or write completion (Node's writableLength). */
  #socketBacklog = 0;
  /** Why reading is paused: PAUSE_UNWRITABLE and/or PAUSE_THROTTLED; 0 = reading. */
  #pauseReasons = 0;
  /** Reads, and write completions while the peer is behind: what shows the peer is alive. */
  #activity = 0;
  #activitySeen = 0;
  /** Chunks held back while throttled by maxBytesPerSecond ('drop'); undefined when not throttled. */
  #held: Buffer[] | undefined;
  #idleTicks = 0;
  #idleTimer: NodeJS.Timeout | undefined;
  #byteBucket: TokenBucket | undefined;
  #readBudget: ReadBudget | undefined;
  /** Fan-out flow control state, made once this session feeds or is fed above a high mark. */
  #flow: FanoutFlow | undefined;
  #stallTimer: NodeJS.Timeout | undefined;
  #packetBucket: TokenBucket | undefined;
  #droppedPackets = 0;
  #peerAddress = '';
  #peerPort = 0;
  #transport = 'tcp';
  #contextLogger: Logger | undefined;
  /** Internal: what this session moved, in plain numbers (see {@link traffic}). */
  readonly [kTraffic] = new TrafficCounters();

  /** Lifecycle state; see {@link SessionState}. */
  get state(): SessionState {
    return this.#sessionState;
  }

  /** True while the session is open: `send` queues bytes and `onRecv` receives them. */
  get connected(): boolean {
    return this.#sessionState === 'open';
  }

  /** The peer's IP address (kept after the connection closes); empty before the session is attached. */
  get remoteAddress(): string {
    return this.#peerAddress;
  }

  /** The peer's port (kept after the connection closes); 0 before the session is attached. */
  get remotePort(): number {
    return this.#peerPort;
  }

  /**
   * The service that owns this session.
   * @throws ServiceStateError if read before the session is attached (for example in a constructor).
   */
  get service(): SessionOwner {
    if (this.#host === undefined) throw new ServiceStateError('session.service is set when the session connects');
    return this.#host;
  }

  /** `tcp` or `tls`: how the peer is connected (the `transport` of logs and metrics). */
  get transport(): string {
    return this.#transport;
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
    if (this.#host === undefined) return this.#logger; // not attached yet: no context to bind
    return (this.#contextLogger ??= sessionContextLogger(this.#logger, { sessionId: this.id }, false));
  }

  /** Bytes passed to `send()` this turn and not yet handed to the socket. */
  get queuedSendBytes(): number {
    return this.#sendQueue.bytes;
  }

  /** Bytes handed to the socket and not yet written to the kernel (Node's `writableLength`). */
  get socketBufferedBytes(): number {
    return this.#socket?.writableLength ?? 0;
  }

  /**
   * False while more than `sendHighWaterMark` bytes are queued for the peer, until the queue drains to
   * `sendLowWaterMark`. Game code can skip optional traffic (position updates) while it is false;
   * `onWritableChanged` tells when it changes. Sends caused by another session's input are slowed by
   * gamewire itself (that session stops reading meanwhile); sends from timers and ticks are not.
   */
  get writable(): boolean {
    return this.#writable;
  }

  /** Packets dropped by `maxPacketsPerSecond` with `rateLimitAction: 'drop'`. */
  get droppedPacketCount(): number {
    return this.#droppedPackets;
  }

  /** Why the session ended (or is ending); undefined while open. */
  get disconnectCause(): DisconnectCause | undefined {
    return this.#cause;
  }

  /**
   * Queues `bytes` for the peer. Everything sent in one event-loop turn leaves in one write, in order.
   * The bytes are not copied: the same buffer can be sent to many sessions, and it must not be changed
   * afterwards. Do not pass the buffer given to `onRecv` without copying it: that memory is reused.
   * `packetCount` is how many packets `bytes` holds, for `traffic.packetsSent` and the metrics (default 1).
   * @returns true if queued; false (and nothing happens) once `disconnect` was called or the session closed.
   */
  send(bytes: Uint8Array, packetCount = 1): boolean {
    if (!this.#enqueue(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, bytes)) return false;
    this[kTraffic].packetsSent += packetCount;
    return true;
  }

  /**
   * Closes the session gracefully: what was already passed to `send()` is written, then the socket is
   * half-closed (FIN) and, once the peer closes too, `onDisconnected` runs with cause `LOCAL_DISCONNECT`
   * and `reason`. If the peer does not close within `disconnectTimeoutMs` the socket is destroyed.
   * Calling it again, or after the session closed, does nothing.
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
   * Counts one packet against `maxPacketsPerSecond`. Returns true to handle it; false to skip it, either
   * dropped (`rateLimitAction: 'drop'`) or because the session is now closing (`RATE_LIMITED`).
   * PacketSession calls it for every packet.
   */
  protected admitPacket(): boolean {
    const bucket = this.#packetBucket;
    if (bucket === undefined || bucket.take(1, performance.now())) return true;
    const settings = this.#settings as SessionSettings;
    if (settings.rateLimitAction === 'drop') {
      this.#droppedPackets++;
      return false;
    }
    this.closeWithError(DisconnectCode.RateLimited, new RateLimitedError('packets', settings.maxPacketsPerSecond));
    return false;
  }

  /** Hook: the session ended, with the cause. Runs exactly once, last. */
  protected onDisconnected(cause: DisconnectCause): void {
    void cause;
  }

  /**
   * Ends this session because of a protocol error or a limit crossed: logs it at debug level and closes
   * gracefully with `code`. For subclasses such as PacketSession.
   */
  protected closeWithError(code: DisconnectCode, error: GamewireError): void {
    this.#logger.debug({ sessionId: this.id, code, err: error }, 'session protocol error');
    this[kClose](disconnectCause(code, error.message, error));
  }

  /** Internal: called once by the owning service with the connected socket. */
  [kAttach](socket: SessionSocket, host: SessionHost, settings: SessionSettings): void {
    if (this.#host !== undefined) throw new ServiceStateError(`session ${this.id} is already attached`);
    this.#socket = socket;
    this.#host = host;
    this.#settings = settings;
    if (settings.maxBytesPerSecond > 0) {
      this.#byteBucket = new TokenBucket(settings.maxBytesPerSecond, settings.maxBytesPerSecond, performance.now());
    }
    if (settings.readBudgetBytes > 0) this.#readBudget = new ReadBudget(settings.readBudgetBytes);
    this.#sendQueue.maxPieces = settings.maxSendQueuePieces;
    if (settings.maxPacketsPerSecond > 0) {
      this.#packetBucket = new TokenBucket(settings.maxPacketsPerSecond, settings.maxPacketsPerSecond, performance.now());
    }
    if (settings.idleTimeoutMs > 0) {
      this.#idleTimer = setInterval(this.#checkIdle, Math.max(1, settings.idleTimeoutMs / IDLE_CHECKS));
      this.#idleTimer.unref();
    }
    this.#recvBuffer = new RecvBuffer(settings.recvBufferSize);
    this.#peerAddress = socket.remoteAddress ?? '';
    this.#peerPort = socket.remotePort ?? 0;
    if (socket instanceof TransportSocket) this.#transport = socket.kind;
    else if ((socket as { encrypted?: boolean }).encrypted === true) this.#transport = 'tls';
    const remote = `${this.#peerAddress}:${this.#peerPort}`;
    const debug = isDebugSession(this.id, this.#peerAddress, this.#peerPort);
    this.#logger = sessionContextLogger(settings.logger, { remote, transport: this.#transport }, debug);
    this.#trackSends = this.onSend !== Session.prototype.onSend;
    this.#moveTo('open');
    socket.on('data', this.#handleData);
    socket.on('end', this.#handlePeerEnd);
    socket.on('error', this.#handleError);
    socket.on('close', this.#handleClose);
    try {
      this[kOnOpen]();
      this[kWatchHook]('onConnected', this.onConnected());
    } catch (error) {
      this.#failHook('onConnected', error);
    }
  }

  /** Internal: a subclass layer's start-up, run once before onConnected. */
  [kOnOpen](): void {}

  /** Internal: begins a graceful close with `cause` (ignored if already closing or closed). */
  [kClose](cause: DisconnectCause): void {
    if (this.#sessionState !== 'open') return;
    this.#cause = cause;
    this.#moveTo('closing');
    this.flushSendQueue();
    this.#flow?.releaseAll(); // sends now return false: nothing more will come to drain
    const socket = this.#socket;
    // Over WebSocket the close frame tells the peer the cause; TCP has only its FIN.
    if (socket !== undefined && isCauseAware(socket)) socket.endWithCause(cause);
    else socket?.end();
    this.#startLingerTimer();
    this.#stopPausing();
  }

  /** A closing session reads (and drops) again, so that the peer's FIN is seen. */
  #stopPausing(): void {
    this.#held = undefined;
    if (this.#pauseReasons === 0) return;
    this.#pauseReasons = 0;
    this.#socket?.resume();
  }

  /** Internal: destroys the socket now; `onDisconnected` follows with the recorded cause or `cause`. */
  [kDestroy](cause: DisconnectCause): void {
    if (this.#sessionState === 'closed') return;
    this.#cause ??= cause;
    this.#socket?.destroy();
  }

  /** Internal: `listener` runs once, after onDisconnected; ignored once the session has closed. */
  [kAddCloseListener](listener: CloseListener): void {
    if (this.#sessionState === 'closed') return;
    (this.#closeListeners ??= []).push(listener);
  }

  /** Internal: removes a listener added with kAddCloseListener. */
  [kRemoveCloseListener](listener: CloseListener): void {
    const list = this.#closeListeners;
    const index = list === undefined ? -1 : list.indexOf(listener);
    if (index >= 0) list?.splice(index, 1);
  }

  /**
   * Internal: `send` for a range of a SendBuffer chunk that has no view yet. Adjacent ranges extend the
   * current run, so a packet made by `sendPacket` costs no allocation here.
   */
  [kSendRange](buffer: ArrayBuffer, offset: number, length: number): boolean {
    if (!this.#enqueue(buffer, offset, length, undefined)) return false;
    this[kTraffic].packetsSent++;
    return true;
  }

  #enqueue(buffer: ArrayBuffer, offset: number, length: number, view: Uint8Array | undefined): boolean {
    if (this.#sessionState !== 'open') return false;
    if (length === 0) return true;
    const queue = this.#sendQueue;
    queue.push(buffer, offset, length, view);
    const queued = queue.bytes + this.#socketBacklog;
    // Decided here, not only at the flush: one turn can read a lot from a flooding peer.
    if (queued > (this.#settings as SessionSettings).sendHighWaterMark && !this.#aboveHighWaterMark(queued)) return false;
    this[kTraffic].bytesSent += length;
    if (!this.#sendRegistered) {
      this.#sendRegistered = true;
      scheduleFlush(this);
    }
    return true;
  }

  /**
   * The slow path of a send that leaves more than `sendHighWaterMark` queued: the member goes
   * unwritable and holds the session whose input fed it (fanout-flow.ts), or is cut off past
   * `maxSendQueueBytes` when nothing can slow the bytes down or it makes no progress. False when cut off.
   */
  #aboveHighWaterMark(queued: number): boolean {
    const settings = this.#settings as SessionSettings;
    const source = currentInputSource();
    const fedByOther = source instanceof Session && source !== this && source.#sessionState === 'open';
    if (queued > settings.maxSendQueueBytes) {
      const paced = fedByOther || (source === this && settings.pauseReadingWhenUnwritable);
      const sinceProgress = this.#writable ? 0 : performance.now() - (this.#flow?.progressAt ?? 0);
      if (cutsOffOverCap(paced, sinceProgress, settings.stallTimeoutMs)) {
        this.#overflowSendQueue(queued, settings.maxSendQueueBytes);
        return false;
      }
    }
    if (this.#writable) this.#updateWritable();
    // Whose input fills this queue stops reading: another session's (held until this one drains), or
    // this session's own (an echo-style peer that does not read its replies). A member filled by others
    // keeps reading: pausing it would starve it as a sender (issue 10, "senders starve each other").
    if (fedByOther) this[kFlowState]().hold((source as Session)[kFlowState]());
    else if (source === this && settings.pauseReadingWhenUnwritable) this.#setPaused(PAUSE_UNWRITABLE, true);
    return true;
  }

  /** Internal: this session's fan-out flow state, made on first use. */
  [kFlowState](): FanoutFlow {
    return (this.#flow ??= new FanoutFlow(this));
  }

  /** Internal: members this session's input fed are above their high mark (true), or drained (false). */
  [kFanoutPaused](paused: boolean): void {
    if (this.#sessionState === 'open') this.#setPaused(PAUSE_FANOUT, paused);
  }

  /** Internal (read-budget.ts): a new turn began; this session may read again. */
  [kBudgetResume](): void {
    this.#setPaused(PAUSE_BUDGET, false);
  }

  /** Internal (called by the flush scheduler): writes everything queued, in one write. */
  flushSendQueue(): void {
    this.#sendRegistered = false;
    const queue = this.#sendQueue;
    if (queue.bytes === 0) return;
    const socket = this.#socket;
    if (socket === undefined || this.#sessionState === 'closed' || socket.destroyed) {
      queue.clear();
      return;
    }
    this.#writesInFlight.push(queue.writeTo(socket, this.#handleWritten));
    this.#socketBacklog = socket.writableLength;
    if (this.#socketBacklog > (this.#settings as SessionSettings).sendHighWaterMark) this.#updateWritable();
  }

  readonly #handleData = (chunk: Buffer): void => {
    if (this.#sessionState !== 'open') return; // closing: drain and drop, so the peer's FIN is seen
    this.#activity++;
    this[kTraffic].bytesReceived += chunk.length;
    if (this.#held !== undefined) {
      this.#held.push(chunk); // throttled: read before the pause took effect
      return;
    }
    if (this.#byteBucket !== undefined && !this.#admitBytes(chunk)) return;
    this.#receive(chunk);
    // Fairness: one session reads its budget per turn, then waits for the next turn.
    if (this.#readBudget?.charge(chunk.length) === true && this.#sessionState === 'open') {
      this.#setPaused(PAUSE_BUDGET, true);
      resumeNextTurn(this);
    }
  };

  /** Presents `chunk` to onRecv with this session as the current input source (fanout-flow.ts). */
  #receive(chunk: Buffer): void {
    const previous = swapInputSource(this);
    try {
      this.#receiveChunk(chunk);
    } finally {
      swapInputSource(previous);
    }
  }

  /** The receive loop: presents `chunk` (after any held-back tail) to onRecv. */
  #receiveChunk(chunk: Buffer): void {
    const recvBuffer = this.#recvBuffer as RecvBuffer;
    let offset = 0;
    while (offset < chunk.length) {
      if (recvBuffer.isEmpty) {
        // Fast path: nothing held back, so the chunk itself is presented without a copy.
        const view = offset === 0 ? chunk : chunk.subarray(offset);
        const consumed = this.#deliver(view);
        if (consumed < 0) return;
        offset += consumed;
        const rest = chunk.length - offset;
        if (rest === 0) return;
        if (rest < recvBuffer.capacity) {
          recvBuffer.append(chunk, offset);
          return;
        }
        // A tail too big to hold back: present it again while onRecv makes progress, as a
        // C++ RecvBuffer would after reading at most its free space.
        if (consumed === 0) return this.#overflow(recvBuffer.capacity);
        continue;
      }
      offset += recvBuffer.append(chunk, offset);
      const consumed = this.#deliver(recvBuffer.data());
      if (consumed < 0) return;
      recvBuffer.onRead(consumed);
      recvBuffer.clean();
      if (recvBuffer.freeSize === 0 && consumed === 0) return this.#overflow(recvBuffer.capacity);
    }
  }

  /** Runs onRecv and checks its answer; returns the consumed count, or -1 when the session stopped. */
  #deliver(view: Buffer): number {
    let consumed: unknown;
    try {
      consumed = this.onRecv(view);
    } catch (error) {
      this.#failHook('onRecv', error);
      return -1;
    }
    if (typeof consumed !== 'number' || !Number.isInteger(consumed) || consumed < 0 || consumed > view.length) {
      this[kWatchHook]('onRecv', consumed);
      if (this.#sessionState !== 'open') return -1;
      const error = new BadConsumedCountError(consumed, view.length);
      this.#reportHandlerError(error);
      this[kClose](disconnectCause(DisconnectCode.HandlerError, error.message, error));
      return -1;
    }
    if (this.#sessionState !== 'open') return -1;
    return consumed;
  }

  #overflow(capacity: number): void {
    this.closeWithError(DisconnectCode.RecvBufferOverflow, new RecvBufferOverflowError(capacity));
  }

  readonly #handleWritten = (error?: Error | null): void => {
    const bytes = this.#writesInFlight.shift();
    if (error || bytes === undefined || this.#sessionState === 'closed') return;
    this.#socketBacklog = this.#socket?.writableLength ?? 0;
    if (!this.#writable) {
      this.#activity++;
      if (this.#flow !== undefined) this.#flow.progressAt = performance.now();
      this.#updateWritable();
    }
    if (!this.#trackSends) return;
    try {
      this[kWatchHook]('onSend', this.onSend(bytes));
    } catch (thrown) {
      this.#failHook('onSend', thrown);
    }
  };

  readonly #handlePeerEnd = (): void => {
    // allowHalfOpen is off, so Node ends our side after flushing what the socket holds.
    if (this.#sessionState !== 'open') return;
    this.#cause = disconnectCause(DisconnectCode.PeerClosed, 'peer closed the connection');
    this.#moveTo('closing');
    this.#sendQueue.clear();
    this.#flow?.releaseAll();
    this.#startLingerTimer();
  };

  readonly #handleError = (error: Error): void => {
    const code = errnoCode(error);
    const ordinary = code !== undefined && ORDINARY_SOCKET_ERRORS.has(code);
    if (this.#cause !== undefined && this.#sessionState !== 'open') return;
    if (ordinary) {
      this.#cause = disconnectCause(DisconnectCode.ConnectionReset, `connection reset (${code})`);
    } else if (error instanceof WebSocketProtocolError) {
      this.#cause = disconnectCause(error.disconnectCode, error.message, error);
    } else {
      const wrapped = new SocketError(error);
      this.#logger.warn({ sessionId: this.id, err: error }, 'session socket error');
      this.#cause = disconnectCause(DisconnectCode.SocketError, wrapped.message, wrapped);
    }
  };

  readonly #handleClose = (): void => {
    if (this.#sessionState === 'closed') return;
    this.#moveTo('closed');
    if (this.#lingerTimer !== undefined) clearTimeout(this.#lingerTimer);
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#flow?.releaseAll();
    this.#sendQueue.clear();
    this.#recvBuffer?.reset();
    const cause = this.#cause ?? disconnectCause(DisconnectCode.PeerClosed, 'connection closed');
    this.#cause = cause;
    try {
      this[kWatchHook]('onDisconnected', this.onDisconnected(cause));
    } catch (error) {
      this.#reportHandlerError(new HandlerError('onDisconnected', error));
    }
    const listeners = this.#closeListeners;
    this.#closeListeners = undefined;
    if (listeners !== undefined) {
      for (const listener of listeners) {
        try {
          listener(this, cause);
        } catch (error) {
          logSafely(this.#logger, 'error', { sessionId: this.id, err: error }, 'close listener threw');
        }
      }
    }
    this.#host?.[kSessionClosed](this, cause);
  };

  readonly #handleLingerTimeout = (): void => {
    this.#lingerTimer = undefined;
    this.#socket?.destroy();
  };

  #updateWritable(): void {
    const settings = this.#settings as SessionSettings;
    const queued = this.#socketBacklog + this.#sendQueue.bytes;
    let writable: boolean;
    if (this.#writable && queued > settings.sendHighWaterMark) writable = false;
    else if (!this.#writable && queued <= settings.sendLowWaterMark) writable = true;
    else return;
    this.#writable = writable;
    if (writable) {
      this.#flow?.releaseAll();
      this.#setPaused(PAUSE_UNWRITABLE, false);
    } else {
      this[kFlowState]().progressAt = performance.now();
      this.#stallTimer ??= this.#armStallTimer(settings.stallTimeoutMs);
    }
    try {
      this[kWatchHook]('onWritableChanged', this.onWritableChanged(writable));
    } catch (error) {
      this.#failHook('onWritableChanged', error);
    }
  }

  #armStallTimer(ms: number): NodeJS.Timeout {
    const timer = setTimeout(this.#checkStall, ms);
    timer.unref();
    return timer;
  }

  /** Above the high mark since the timer was armed: cut off if no write progress for stallTimeoutMs. */
  readonly #checkStall = (): void => {
    this.#stallTimer = undefined;
    if (this.#sessionState !== 'open' || this.#writable) return;
    const settings = this.#settings as SessionSettings;
    const wait = msUntilStalled(performance.now() - (this.#flow?.progressAt ?? 0), settings.stallTimeoutMs);
    if (wait > 0) {
      this.#stallTimer = this.#armStallTimer(Math.ceil(wait));
      return;
    }
    const queued = this.#sendQueue.bytes + (this.#socket?.writableLength ?? 0);
    const error = new SendStalledError(settings.stallTimeoutMs, queued);
    this.#logger.debug({ sessionId: this.id, queued, stallTimeoutMs: settings.stallTimeoutMs }, 'send stalled');
    this.#cutOff(disconnectCause(DisconnectCode.SendStalled, error.message, error));
  };

  #setPaused(reason: number, paused: boolean): void {
    const before = this.#pauseReasons;
    this.#pauseReasons = paused ? before | reason : before & ~reason;
    if (before === 0 && this.#pauseReasons !== 0) this.#socket?.pause();
    else if (before !== 0 && this.#pauseReasons === 0 && this.#sessionState === 'open') this.#socket?.resume();
  }

  #admitBytes(chunk: Buffer): boolean {
    const bucket = this.#byteBucket as TokenBucket;
    const now = performance.now();
    if (bucket.take(chunk.length, now)) return true;
    const settings = this.#settings as SessionSettings;
    if (settings.rateLimitAction === 'disconnect') {
      this.closeWithError(DisconnectCode.RateLimited, new RateLimitedError('bytes', settings.maxBytesPerSecond));
      return false;
    }
    // 'drop' cannot drop bytes from a stream without breaking its framing: throttle instead. The
    // chunk is charged (the bucket goes into debt) and held, and reading pauses until the debt is paid.
    bucket.charge(chunk.length, now);
    this.#held = [chunk];
    this.#setPaused(PAUSE_THROTTLED, true);
    setTimeout(this.#endThrottle, Math.max(1, Math.ceil(bucket.msUntil(0)))).unref();
    return false;
  }

  readonly #endThrottle = (): void => {
    const held = this.#held;
    this.#held = undefined;
    if (held !== undefined) {
      for (const chunk of held) {
        if (this.#sessionState !== 'open') break;
        this.#receive(chunk);
      }
    }
    this.#setPaused(PAUSE_THROTTLED, false);
  };

  readonly #checkIdle = (): void => {
    if (this.#sessionState !== 'open') return;
    // While throttled or held by fan-out flow control, silence is ours, not the peer's. While paused
    // because the peer is behind, write completions (counted as activity) show it is alive; a peer that
    // neither sends nor reads is not.
    if ((this.#pauseReasons & (PAUSE_THROTTLED | PAUSE_FANOUT)) !== 0 || this.#activity !== this.#activitySeen) {
      this.#activitySeen = this.#activity;
      this.#idleTicks = 0;
      return;
    }
    if (++this.#idleTicks >= IDLE_CHECKS) {
      const idleMs = (this.#settings as SessionSettings).idleTimeoutMs;
      this.closeWithError(DisconnectCode.IdleTimeout, new IdleTimeoutError(idleMs));
    }
  };

  #overflowSendQueue(queued: number, limit: number): void {
    const error = new SendQueueOverflowError(queued, limit);
    this.#logger.debug({ sessionId: this.id, queued, limit }, 'send queue overflow');
    this.#cutOff(disconnectCause(DisconnectCode.SendQueueOverflow, error.message, error));
  }

  /** Destroys a peer that does not read; the sessions it held read again at once. */
  #cutOff(cause: DisconnectCause): void {
    this.#sendQueue.clear();
    this.#socketBacklog = 0;
    this.#flow?.releaseAll();
    this[kDestroy](cause);
  }

  #startLingerTimer(): void {
    if (this.#lingerTimer !== undefined) return;
    this.#lingerTimer = setTimeout(this.#handleLingerTimeout, (this.#settings as SessionSettings).disconnectTimeoutMs);
    this.#lingerTimer.unref();
  }

  /**
   * Internal: `result` is what hook `hook` returned. If it is a promise (an `async` hook), a rejection
   * ends the session with HANDLER_ERROR as a throw would (only logged for onDisconnected). Nothing is
   * allocated for an ordinary return value.
   */
  [kWatchHook](hook: string, result: unknown): void {
    if (!isThenable(result)) return;
    catchRejection(result, (reason) => {
      const error = isInstance(reason, HandlerError) ? reason : new HandlerError(hook, reason, true);
      if (hook === 'onDisconnected') this.#reportHandlerError(error);
      else this.#failHook(hook, error);
    });
  }

  #failHook(hook: string, thrown: unknown): void {
    // A subclass (PacketSession) may already have named the hook that really threw.
    const error = isInstance(thrown, HandlerError) ? thrown : new HandlerError(hook, thrown);
    this.#reportHandlerError(error);
    this[kClose](disconnectCause(DisconnectCode.HandlerError, error.message, error));
  }

  #reportHandlerError(error: GamewireError): void {
    logSafely(this.#logger, 'error', { sessionId: this.id, err: error }, 'session hook failed');
  }

  /** The single state transition; refuses illegal moves so a bug shows at once instead of corrupting state. */
  #moveTo(next: SessionState): void {
    const from = this.#sessionState;
    if (!ALLOWED_MOVES[from].includes(next)) {
      throw new ServiceStateError(`session ${this.id}: illegal state change ${from} -> ${next}`);
    }
    this.#sessionState = next;
    this.#logger.debug({ sessionId: this.id, from, to: next }, 'session state');
  }
}
