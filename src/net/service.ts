import { DisconnectCode, disconnectCause, type DisconnectCause } from '../core/disconnect-cause.js';
import { DEFAULTS } from '../core/defaults.js';
import { catchRejection, describeType, describeValue, isInstance } from '../core/describe.js';
import { InvalidOptionError, ServiceStateError, SessionFactoryError } from '../core/errors.js';
import { logSafely, silentLogger, type Logger } from '../core/logger.js';
import { WarningThrottle } from '../core/warning-throttle.js';
import { MIN_RECV_BUFFER_SIZE } from '../core/recv-buffer.js';
import { checkTimerMs } from '../core/timer-range.js';
import { checkInteger, checkOneOf } from '../core/options.js';
import { refuseMovedPacketOptions, resolvePacketOptions, type PacketOptions } from '../core/packet-options.js';
import { unwatchIdle, watchIdle } from './limits/idle-watch.js';
import { Session } from './session.js';
import { ServiceCounters, type ServiceCountersView } from './service-counters.js';
import type { Transport } from './transport/transport.js';
import type { RateLimitAction, ServiceType, SessionHost, SessionSettings } from './session-owner.js';
import { kAttach, kAttachMoved, kClose, kDestroy, kSessionClosed, kTakeId, kTraffic } from './symbols.js';
import { isMovable } from './session-state-hooks.js';

const SERVICE_CLOSING = disconnectCause(DisconnectCode.ServiceClosing, 'service closing');

/** Makes a new, unattached session: the C++ `SessionFactory`. Called once per connection. */
export type SessionFactory<S extends Session> = () => S;

/** Options shared by {@link ServerService} and {@link ClientService}. */
export interface ServiceOptions<S extends Session> {
  /** Host to listen on (server) or connect to (client). Default `127.0.0.1`. */
  readonly host?: string;
  /** Port to listen on (server; 0 picks a free one) or connect to (client). 0..65535. */
  readonly port: number;
  /** Makes the session for each connection. */
  readonly sessionFactory: SessionFactory<S>;
  /** Most sessions live at once. Server default 100; client default 1 (the number it opens). */
  readonly maxSessionCount?: number;
  /** Capacity of each session's RecvBuffer, bytes. Default 65536. */
  readonly recvBufferSize?: number;
  /** How long a graceful `disconnect()` waits for the peer to close before destroying, ms. Default 5000. */
  readonly disconnectTimeoutMs?: number;
  /** How long `close()` lets sessions flush and close before destroying them, ms. Default 5000. */
  readonly closeGraceMs?: number;
  /** Where to log (pino-compatible). Default: silent. */
  readonly logger?: Logger;
  /** Bytes queued for a peer above which its session stops being `writable`. Default 65536. */
  readonly sendHighWaterMark?: number;
  /** Bytes queued for a peer at or below which its session is `writable` again. Default 32768. */
  readonly sendLowWaterMark?: number;
  /**
   * Bytes queued for a peer (in gamewire and in the socket) past which the session is destroyed with
   * `SEND_QUEUE_OVERFLOW`: a peer that stops reading cannot grow the server's memory. Bytes from a
   * source that fan-out flow control holds (one feeding the peer past its `fanoutShareBytesPerSecond`)
   * cut off only a peer that took no byte for `stallTimeoutMs`; bytes nothing holds (a source within
   * its share, timers, ticks) cut it off at once: it is too slow for what its room sends. Default 1 MiB.
   */
  readonly maxSendQueueBytes?: number;
  /**
   * Separate buffers a session's send queue holds (scattered small packets); past it the pieces queued
   * since the last join are copied into one buffer. Bounds the views held and the length of a writev;
   * never disconnects. Default 1024.
   */
  readonly maxSendQueuePieces?: number;
  /**
   * A session above its `sendHighWaterMark` whose peer takes no byte for this long is destroyed with
   * `SEND_STALLED`: it has stopped reading. Progress is counted in bytes the kernel takes from the
   * socket, which it reports in steps of about a third of its send buffer: a peer reading 20 KB/s shows
   * progress every 10 to 30 s on Linux (docs/flow-control.md). It holds the sources that flood it (their
   * reading paused) at most this long. 1..2^31-1 ms. Default 60000.
   */
  readonly stallTimeoutMs?: number;
  /**
   * Fan-out flow control: bytes per second one session's input may add to each member above its
   * `sendHighWaterMark` without being held, plus a burst of 4 seconds' worth, counted from when the
   * member went above its high mark. A source past it (a flood) stops reading until the member drains;
   * a source within it (a player chatting or moving at an ordinary pace) is never held, so a slow
   * member does not slow the room. 0 holds every source that feeds a member above its high mark.
   * Default 4096.
   */
  readonly fanoutShareBytesPerSecond?: number;
  /**
   * Bytes a session reads in one event-loop turn before it waits for the next turn, so that no peer
   * feeds megabytes into one turn and peers that all send take turns. 0 = unlimited. Default 65536.
   */
  readonly readBudgetBytes?: number;
  /**
   * Stop reading from a peer while its own reads (the replies to them) keep its session unwritable, so
   * an echo-style peer that never reads only fills TCP, not the server's memory; resume at the low
   * water mark. Bytes fed by other sessions' reads pause those sessions instead (fan-out flow control),
   * and bytes from timers pause nobody. Default true.
   */
  readonly pauseReadingWhenUnwritable?: boolean;
  /**
   * Milliseconds without a byte from a peer before it is disconnected with `IDLE_TIMEOUT`, noticed 1 to
   * 1.25 times this after its last byte (dead, half-open and slowloris peers). A PacketSession pings a
   * peer it has heard nothing from for a quarter to half of it (heartbeat id 65534, no option needed),
   * so a peer that only listens but answers pings, as docs/protocol.md asks, stays connected; a plain
   * Session reading raw bytes sends nothing of its own. 1..2^31-1, or 0 = off. Default 0 (the CLI
   * servers: 60000).
   */
  readonly idleTimeoutMs?: number;
  /** Bytes per second a peer may send (1 s burst); 0 = unlimited. Default 0. */
  readonly maxBytesPerSecond?: number;
  /**
   * Packet limits of the PacketSessions this service makes: `maxPacketSize` (default 65535),
   * `maxPacketsPerSecond` (default 0 = unlimited) and `heartbeatIntervalMs` (default 0 = off); see
   * {@link PacketOptions}. Sessions that read raw bytes ignore them.
   */
  readonly packet?: PacketOptions;
  /**
   * Over a rate limit: `disconnect` (cause `RATE_LIMITED`) or `drop` (packets over
   * `maxPacketsPerSecond` are dropped and counted; bytes over `maxBytesPerSecond` are throttled by
   * pausing reads, since dropping bytes would break the stream). Default `disconnect`.
   */
  readonly rateLimitAction?: RateLimitAction;
}

/** Lifecycle of a service: `idle → started → closing → closed`. */
export type ServiceState = 'idle' | 'started' | 'closing' | 'closed';

/**
 * The C++ `Service`: owns the sessions made by its session factory, at most `maxSessionCount` at a
 * time. {@link ServerService} accepts them; {@link ClientService} opens them. `close()` is graceful.
 */
export abstract class Service<S extends Session = Session> implements SessionHost {
  /** `server` or `client`. */
  abstract readonly type: ServiceType;
  /** Host listened on or connected to. */
  readonly host: string;
  /** Most sessions live at once. */
  readonly maxSessionCount: number;
  /** Where this service and its sessions log. */
  protected readonly logger: Logger;
  /** @internal Per-session settings handed to every attached session. */
  protected readonly sessionSettings: SessionSettings;
  /** Port as configured; ServerService replaces it with the bound port. */
  protected currentPort: number;
  /** Lifecycle state. */
  protected serviceState: ServiceState = 'idle';
  /** @internal Monitoring counters, plain numbers (see {@link counters}). */
  protected readonly serviceCounters = new ServiceCounters();

  readonly #sessionFactory: SessionFactory<S>;
  readonly #liveSessions = new Set<S>();
  readonly #closeGraceMs: number;
  #closePromise: Promise<void> | undefined;
  #factoryFailures = 0;
  readonly #factoryWarning = new WarningThrottle();
  #notifyDrained: (() => void) | undefined;

  protected constructor(options: ServiceOptions<S>, defaultMaxSessionCount: number) {
    this.host = options.host ?? DEFAULTS.host;
    this.currentPort = checkInteger('port', options.port, 0, 65535);
    this.#sessionFactory = options.sessionFactory;
    if (typeof this.#sessionFactory !== 'function') {
      throw new InvalidOptionError('sessionFactory', this.#sessionFactory, 'a function returning a Session');
    }
    this.maxSessionCount = checkInteger('maxSessionCount', options.maxSessionCount ?? defaultMaxSessionCount, 1);
    refuseMovedPacketOptions(options, 'service');
    this.#closeGraceMs = checkTimerMs('closeGraceMs', options.closeGraceMs ?? DEFAULTS.closeGraceMs, 0);
    this.logger = options.logger ?? silentLogger;
    const high = checkInteger('sendHighWaterMark', options.sendHighWaterMark ?? DEFAULTS.sendHighWaterMark, 1);
    const low = checkInteger('sendLowWaterMark', options.sendLowWaterMark ?? Math.min(DEFAULTS.sendLowWaterMark, high), 0, high);
    const action = checkOneOf<RateLimitAction>('rateLimitAction', options.rateLimitAction ?? 'disconnect', ['disconnect', 'drop']);
    this.sessionSettings = Object.freeze({
      host: this,
      recvBufferSize: checkInteger('recvBufferSize', options.recvBufferSize ?? DEFAULTS.recvBufferSize, MIN_RECV_BUFFER_SIZE),
      disconnectTimeoutMs: checkTimerMs('disconnectTimeoutMs', options.disconnectTimeoutMs ?? DEFAULTS.disconnectTimeoutMs, 0),
      logger: this.logger,
      sendHighWaterMark: high,
      sendLowWaterMark: low,
      maxSendQueueBytes: checkInteger('maxSendQueueBytes', options.maxSendQueueBytes ?? Math.max(DEFAULTS.maxSendQueueBytes, high), high),
      maxSendQueuePieces: checkInteger('maxSendQueuePieces', options.maxSendQueuePieces ?? DEFAULTS.maxSendQueuePieces, 2),
      stallTimeoutMs: checkTimerMs('stallTimeoutMs', options.stallTimeoutMs ?? DEFAULTS.stallTimeoutMs, 1),
      fanoutShareBytesPerSecond: checkInteger(
        'fanoutShareBytesPerSecond',
        options.fanoutShareBytesPerSecond ?? DEFAULTS.fanoutShareBytesPerSecond,
        0,
      ),
      readBudgetBytes: checkInteger('readBudgetBytes', options.readBudgetBytes ?? DEFAULTS.readBudgetBytes, 0),
      pauseReadingWhenUnwritable: options.pauseReadingWhenUnwritable ?? true,
      idleTimeoutMs: checkTimerMs('idleTimeoutMs', options.idleTimeoutMs ?? 0, 1, true),
      maxBytesPerSecond: checkInteger('maxBytesPerSecond', options.maxBytesPerSecond ?? 0, 0),
      packet: resolvePacketOptions(options.packet),
      rateLimitAction: action,
    });
  }

  /** Port listened on (the real one once a server started, also for port 0) or connected to. */
  get port(): number {
    return this.currentPort;
  }

  /** Lifecycle state; see {@link ServiceState}. */
  get state(): ServiceState {
    return this.serviceState;
  }

  /**
   * True from `drain()` (ServerService) until the service has closed: it no longer accepts, and its
   * sessions run until they end or the drain's deadline.
   */
  get draining(): boolean {
    return false;
  }

  /** True once `close()` has been called. */
  get closing(): boolean {
    return this.serviceState === 'closing' || this.serviceState === 'closed';
  }

  /** The live sessions (connected and not yet disconnected). A live view: copy it before awaiting. */
  get sessions(): ReadonlySet<S> {
    return this.#liveSessions;
  }

  /** How many sessions are live. */
  get sessionCount(): number {
    return this.#liveSessions.size;
  }

  /**
   * Connections dropped because the session factory threw or returned something that is not a new
   * Session (`GW_ERR_SESSION_FACTORY`, logged at error level, at most once per 10 s).
   */
  get factoryFailureCount(): number {
    return this.#factoryFailures;
  }

  /**
   * Monitoring counters, kept as plain numbers as things happen: disconnects by cause, refusals by
   * reason, traffic of closed sessions. The metrics layer (`serveMetrics`) reads them at scrape time.
   */
  get counters(): ServiceCountersView {
    return this.serviceCounters;
  }

  /**
   * Starts the service: a server listens, a client connects its sessions.
   * @throws ServiceStateError if called twice; see the subclasses for the rest.
   */
  abstract start(): Promise<void>;

  /**
   * Closes gracefully: stops accepting or connecting, lets every session write what was already passed
   * to `send()`, ends each with cause `SERVICE_CLOSING`, waits for every `onDisconnected`, then
   * resolves. Sessions still open after `closeGraceMs` are destroyed. Calling it again returns the same
   * promise.
   */
  close(): Promise<void> {
    this.#closePromise ??= this.closeOnce();
    return this.#closePromise;
  }

  /**
   * The cause `close()` ends the sessions left with: `SERVICE_CLOSING`, or for a server that was
   * draining `SERVICE_DRAINED` (its clients may reconnect at once).
   */
  protected endCause(): DisconnectCause {
    return SERVICE_CLOSING;
  }

  /** Subclass part of `close()`: stop opening sessions; resolves once the listener (if any) is closed. */
  protected abstract stopOpening(): Promise<void>;

  /**
   * Makes a session with the factory and attaches `transport` to it (any transport: TCP, TLS,
   * WebSocket). Returns the error (and destroys the transport, counting it in `factoryFailureCount`) when the factory throws or returns something that is
   * not a new, unattached Session of this installation; the live set is not touched then.
   * @internal
   */
  protected adopt(transport: Transport): S | SessionFactoryError {
    return this.#adoptWith(transport, undefined);
  }

  /**
   * Makes the session of one that moved in from another process: made with the factory, given `id`,
   * its game state restored (`restoreState(game)`), attached to `transport` (suspended, no
   * onConnected). Returns the error (the transport is destroyed, nothing is live) when the factory
   * failed, or the session's class cannot move, or `restoreState` threw.
   * @internal
   */
  protected adoptMoved(transport: Transport, id: number, game: Uint8Array): S | SessionFactoryError {
    return this.#adoptWith(transport, { id, game });
  }

  #adoptWith(transport: Transport, moved: { readonly id: number; readonly game: Uint8Array } | undefined): S | SessionFactoryError {
    let made: unknown;
    try {
      made = this.#sessionFactory();
    } catch (error) {
      if (isInstance(error, SessionFactoryError)) return this.#factoryFailed(transport, error);
      return this.#factoryFailed(transport, new SessionFactoryError(`threw: ${describeValue(error)}`, error));
    }
    if (!isInstance(made, Session)) {
      // An async factory: its promise is not a session, and a rejection of it must not go unhandled.
      catchRejection(made, (reason) => logSafely(this.logger, 'error', { err: reason }, 'async sessionFactory rejected'));
      return this.#factoryFailed(transport, new SessionFactoryError(`returned ${describeValue(made)} (${describeType(made)})`));
    }
    if (made.state !== 'connecting') {
      return this.#factoryFailed(transport, new SessionFactoryError(`returned session ${made.id}, which is already ${made.state}`));
    }
    const session = made as S;
    if (moved !== undefined) {
      if (!isMovable(session)) return this.#factoryFailed(transport, new SessionFactoryError('made a session without serializeState and restoreState for a session that moved in'));
      try {
        session[kTakeId](moved.id);
        session.restoreState(moved.game);
      } catch (error) {
        return this.#factoryFailed(transport, new SessionFactoryError(`restoreState threw: ${describeValue(error)}`, error));
      }
    }
    this.#addLive(session);
    try {
      if (moved === undefined) session[kAttach](transport, this.sessionSettings);
      else session[kAttachMoved](transport, this.sessionSettings);
    } catch (error) {
      this.#deleteLive(session);
      return this.#factoryFailed(transport, new SessionFactoryError(`returned a session that could not be attached: ${describeValue(error)}`, error));
    }
    return session;
  }

  // The idle watch ticks over the live set itself while it has members: no entry per session elsewhere.
  #addLive(session: S): void {
    this.#liveSessions.add(session);
    const idleTimeoutMs = this.sessionSettings.idleTimeoutMs;
    if (idleTimeoutMs > 0 && this.#liveSessions.size === 1) watchIdle(this.#liveSessions, idleTimeoutMs);
  }

  #deleteLive(session: S): boolean {
    if (!this.#liveSessions.delete(session)) return false;
    const idleTimeoutMs = this.sessionSettings.idleTimeoutMs;
    if (idleTimeoutMs > 0 && this.#liveSessions.size === 0) unwatchIdle(this.#liveSessions, idleTimeoutMs);
    return true;
  }

  #factoryFailed(transport: Transport, error: SessionFactoryError): SessionFactoryError {
    this.#factoryFailures++;
    transport.destroy();
    const count = this.#factoryWarning.count(performance.now());
    if (count > 0) {
      logSafely(this.logger, 'error', { err: error, failuresSinceLastReport: count }, 'session factory failed; connection dropped');
    }
    return error;
  }

  /** Internal: a session ended; it leaves the live set exactly once. */
  [kSessionClosed](session: object, cause: DisconnectCause): void {
    if (!this.#deleteLive(session as S)) return;
    this.serviceCounters.sessionClosed(cause.code, (session as S)[kTraffic], (session as S).transport);
    (session as S).logger.debug({ cause: cause.code }, 'session closed');
    this.sessionLeft(session as S);
    if (this.#liveSessions.size === 0) this.#notifyDrained?.();
  }

  /** Moves `idle → started`. @throws ServiceStateError in any other state. */
  protected beginStart(): void {
    if (this.serviceState !== 'idle') {
      throw new ServiceStateError(`start() called on a service that is ${this.serviceState}`);
    }
    this.serviceState = 'started';
  }

  /** Called after a session leaves the live set. */
  protected sessionLeft(session: S): void {
    void session;
  }

  private async closeOnce(): Promise<void> {
    if (this.serviceState === 'closed') return;
    this.serviceState = 'closing';
    const stopped = this.stopOpening();
    const cause = this.endCause();
    if (this.#liveSessions.size > 0) {
      let graceTimer: NodeJS.Timeout | undefined;
      const drained = new Promise<void>((resolve) => {
        this.#notifyDrained = resolve;
      });
      graceTimer = setTimeout(() => {
        this.logger.warn({ sessions: this.#liveSessions.size }, 'close grace time over; destroying sessions');
        for (const session of [...this.#liveSessions]) session[kDestroy](cause);
      }, this.#closeGraceMs);
      for (const session of [...this.#liveSessions]) session[kClose](cause);
      await drained;
      clearTimeout(graceTimer);
      graceTimer = undefined;
    }
    await stopped;
    this.serviceState = 'closed';
  }
}

export { checkInteger };

