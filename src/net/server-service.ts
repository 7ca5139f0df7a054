import type { TlsOptions } from 'node:tls';
import { DEFAULTS } from '../core/defaults.js';
import { errnoCode } from '../core/describe.js';
import { ListenError, SessionFactoryError } from '../core/errors.js';
import { logSafely } from '../core/logger.js';
import { checkTimerMs } from '../core/timer-range.js';
import { WarningThrottle } from '../core/warning-throttle.js';
import { connectionCapacity, openFileLimit, RESERVED_FDS } from './listen/file-limit.js';
import type { Session } from './session.js';
import { checkInteger, Service, type ServiceOptions } from './service.js';
import type { Listener, ListenerOwner } from './listen/listener.js';
import { TcpListener } from './listen/tcp-listener.js';
import { DEFAULT_WS_MAX_MESSAGE_BYTES, WebSocketListener, type WebSocketListenOptions } from './listen/ws-listener.js';
import type { Transport } from './transport/transport.js';
import {
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
} from './listen/handshake-gate.js';

export { DEFAULT_MAX_PENDING_HANDSHAKES, DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS, DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS };

/** Default `maxSessionCount` of a ServerService. */
export const DEFAULT_MAX_SESSION_COUNT = DEFAULTS.maxSessionCount;
/** Default listen backlog (Node's own default). */
export const DEFAULT_BACKLOG = DEFAULTS.backlog;

/** Options of a {@link ServerService}. */
export interface ServerServiceOptions<S extends Session> extends ServiceOptions<S> {
  /**
   * Most sessions live at once; connections past it are closed at once, counted in `refusedCount` and
   * warned about (at once, then at most every 10 s). Sessions are also kept below the process's
   * open-file limit less 64 (read at `start()`). Default 100.
   */
  readonly maxSessionCount?: number;
  /** Kernel accept queue length for `listen()`. Default 511. */
  readonly backlog?: number;
  /**
   * Most live sessions (and TLS handshakes) from one remote IP address; more are refused like past
   * `maxSessionCount`. 0 = no limit. Default 0 (off): players behind one NAT (a mobile carrier, a PC
   * bang, a LAN party) share one address, so a low cap locks real players out.
   */
  readonly maxSessionsPerAddress?: number;
  /**
   * Serve TLS (`node:tls`) instead of plain TCP: the key and certificate and any other
   * `tls.createServer` option. Sessions, limits and causes are the same. `handshakeTimeout` defaults
   * to 10000 ms here. Connections still handshaking count against `maxSessionCount` and
   * `maxSessionsPerAddress` and are bounded by `maxPendingHandshakes`.
   */
  readonly tls?: TlsOptions;
  /**
   * TLS only: most connections handshaking at once. When it is reached (or handshakes plus sessions
   * reach `maxSessionCount`) the oldest handshake is dropped to make room for the new one, so a flood
   * of silent connections cannot lock real clients out or run the process out of file descriptors.
   * Default 128.
   */
  readonly maxPendingHandshakes?: number;
  /** TLS only: most connections handshaking at once from one IP address; more are refused. Default 16. */
  readonly maxPendingHandshakesPerAddress?: number;
  /**
   * Also serve WebSocket sessions (browsers): `{ port, path }` (`path` default `/ws`; `tls` for
   * `wss://`; `onRequest` answers other HTTP requests, e.g. a game page; `maxMessageBytes` default
   * 262144). The same limits, hooks and causes as TCP; every binary message carries whole packets.
   * Default: none.
   */
  readonly ws?: WebSocketListenOptions;
}

/**
 * The C++ `ServerService` with its `Listener`: listens on `host:port` and makes a session for each
 * accepted connection while fewer than `maxSessionCount` are live. A connection past the limit is
 * closed at once and counted in `refusedCount`; the live sessions are not disturbed, and once one
 * leaves, the next connection is accepted again.
 *
 * ```ts
 * const service = new ServerService({ port: 7777, sessionFactory: () => new GameSession() });
 * await service.start();
 * ```
 */
export class ServerService<S extends Session = Session> extends Service<S> {
  /** Always `server`. */
  readonly type = 'server' as const;
  readonly #backlog: number;
  readonly #maxPerAddress: number;
  readonly #perAddress = new Map<string, number>();
  readonly #tls: TlsOptions | undefined;
  /** Where connections come from: the TCP (or TLS) listener, and any added with {@link addListener}. */
  readonly #listeners: Listener[] = [];
  #ws: WebSocketListener | undefined;
  readonly #owner: ListenerOwner;
  #refused = 0;
  #accepted = 0;
  /** Open-file limit read at start(); undefined when unknown. */
  #fileLimit: number | undefined;
  /** Connections the open-file limit allows (sessions plus TLS handshakes); Infinity when unknown. */
  #fdCapacity = Number.POSITIVE_INFINITY;
  readonly #fullWarning = new WarningThrottle();
  readonly #fdWarning = new WarningThrottle();

  /** @throws InvalidOptionError when an option is out of range. */
  constructor(options: ServerServiceOptions<S>) {
    super(options, DEFAULT_MAX_SESSION_COUNT);
    this.#backlog = checkInteger('backlog', options.backlog ?? DEFAULT_BACKLOG, 1);
    this.#maxPerAddress = checkInteger('maxSessionsPerAddress', options.maxSessionsPerAddress ?? 0, 0);
    this.#tls = options.tls;
    const maxPending = checkInteger('maxPendingHandshakes', options.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES, 1);
    const perAddress = options.maxPendingHandshakesPerAddress ?? Math.min(DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS, maxPending);
    const tls =
      options.tls === undefined
        ? undefined
        : {
            options: options.tls,
            limits: {
              maxPending,
              maxPendingPerAddress: checkInteger('maxPendingHandshakesPerAddress', perAddress, 1, maxPending),
              timeoutMs: checkTimerMs('tls.handshakeTimeout', options.tls.handshakeTimeout ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS, 1),
            },
          };
    this.#owner = {
      refusal: (address, countHandshakes) => this.#refusal(address, countHandshakes),
      refused: (address, why, transport) => this.#refuse(address, why, transport ?? this.#tcpTransport),
      hasRoom: (pending) => this.sessionCount + pending < Math.min(this.maxSessionCount, this.#fdCapacity),
      admit: (transport) => this.#admit(transport),
    };
    const host = this.host;
    const logger = this.logger;
    const onError = this.#handleListenerError;
    this.#listeners.push(new TcpListener(this.#owner, { host, port: this.port, backlog: this.#backlog, tls, logger, onError }));
    const ws = options.ws;
    if (ws !== undefined) {
      checkInteger('ws.port', ws.port, 0, 65535);
      const maxMessageBytes = checkInteger('ws.maxMessageBytes', ws.maxMessageBytes ?? DEFAULT_WS_MAX_MESSAGE_BYTES, 64);
      this.#ws = this.addListener((owner) => new WebSocketListener(ws, maxMessageBytes, owner, host)) as WebSocketListener;
    }
  }

  /** The WebSocket port once started (the real one, also for port 0); undefined without `ws`. */
  get wsPort(): number | undefined {
    return this.#ws === undefined || this.#ws.port === 0 ? undefined : this.#ws.port;
  }

  /** The transport label of the TCP listener's sessions. */
  get #tcpTransport(): string {
    return this.#tls === undefined ? 'tcp' : 'tls';
  }

  /**
   * Internal: adds a listener made with `make` (given the owner every listener hands its connections
   * to), started and closed with the service: one ServerService can accept TCP and WebSocket at once.
   * Call before `start()`.
   */
  addListener(make: (owner: ListenerOwner) => Listener): Listener {
    const listener = make(this.#owner);
    this.#listeners.push(listener);
    return listener;
  }

  /** True when the service serves TLS. */
  get secure(): boolean {
    return this.#tls !== undefined;
  }

  /** TLS connections that failed before a session was made (bad handshake, timeout, dropped to make room). */
  get tlsFailureCount(): number {
    return (this.#listeners[0] as Listener).handshakeFailureCount;
  }

  /** TLS handshakes in progress now. */
  get pendingHandshakeCount(): number {
    return this.#pendingHandshakes();
  }

  #pendingHandshakes(): number {
    let pending = 0;
    for (const listener of this.#listeners) pending += listener.pendingHandshakeCount;
    return pending;
  }

  /**
   * Connections closed at once because `maxSessionCount` sessions were live, an address was at its
   * limit, the service was closing, or (counted once per failed accept) the process was out of file
   * descriptors (`EMFILE`/`ENFILE`).
   */
  get refusedCount(): number {
    return this.#refused;
  }

  /** Connections accepted into sessions since start. */
  get acceptedCount(): number {
    return this.#accepted;
  }

  /**
   * Listens. Resolves once listening; `port` then holds the real port.
   * @throws ListenError when it cannot listen (port in use, bad address, no permission).
   * @throws ServiceStateError when called twice.
   */
  async start(): Promise<void> {
    this.beginStart();
    this.#fileLimit = openFileLimit();
    this.#fdCapacity = connectionCapacity(this.#fileLimit);
    if (this.maxSessionCount > this.#fdCapacity) {
      logSafely(
        this.logger,
        'warn',
        { maxSessionCount: this.maxSessionCount, fileLimit: this.#fileLimit, capacity: this.#fdCapacity },
        `maxSessionCount ${this.maxSessionCount} is more than the open-file limit allows ` +
          `(ulimit -n ${this.#fileLimit} less ${RESERVED_FDS} kept for the process = ${this.#fdCapacity}); ` +
          'connections past it are refused; raise ulimit -n to serve more',
      );
    }
    const [tcp, ...others] = this.#listeners as [Listener, ...Listener[]];
    try {
      this.currentPort = await tcp.listen();
      for (const listener of others) await listener.listen();
    } catch (error) {
      this.serviceState = 'closed';
      await Promise.all(this.#listeners.map((listener) => listener.close()));
      throw new ListenError(this.host, this.port, error);
    }
    this.logger.debug({ host: this.host, port: this.currentPort }, 'listening');
  }

  protected stopOpening(): Promise<void> {
    return Promise.all(this.#listeners.map((listener) => listener.close())).then(() => undefined);
  }

  /** Why a connection from `address` must be refused now, or undefined to accept it. */
  #refusal(address: string, countHandshakes: boolean): string | undefined {
    if (this.closing) return 'service closing';
    if (this.sessionCount >= this.maxSessionCount) return 'at maxSessionCount';
    // Past the open-file limit the OS would drop connections unseen; refusing them is seen and counted.
    // A new TLS connection may instead push out a handshake (the gate decides), so those are not counted then.
    const handshakes = countHandshakes ? this.#pendingHandshakes() : 0;
    if (this.sessionCount + handshakes >= this.#fdCapacity) return 'at the open-file limit';
    if (this.#maxPerAddress > 0) {
      let handshaking = 0;
      for (const listener of this.#listeners) handshaking += listener.pendingFrom(address);
      if (this.sessionCountFrom(address) + handshaking >= this.#maxPerAddress) return 'at maxSessionsPerAddress';
    }
    return undefined;
  }

  /** Live sessions from `address` (a remote IP). */
  sessionCountFrom(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  protected override sessionLeft(session: S): void {
    if (this.#maxPerAddress === 0) return;
    const address = session.remoteAddress;
    const count = (this.#perAddress.get(address) ?? 1) - 1;
    if (count <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, count);
  }

  /** Every listener's connections come here: refused, or made a session. */
  #admit(transport: Transport): void {
    const address = transport.remoteAddress;
    const why = this.#refusal(address, true);
    if (why !== undefined) {
      transport.destroy();
      this.#refuse(address, why, transport.kind);
      return;
    }
    this.#accepted++;
    this.serviceCounters.accepted(transport.kind);
    const session = this.adopt(transport);
    if (!(session instanceof SessionFactoryError) && this.#maxPerAddress > 0) {
      this.#perAddress.set(address, this.sessionCountFrom(address) + 1);
    }
  }

  /** Counts a connection closed at once, and warns (rate-limited) when a limit turned it away. */
  #refuse(address: string, why: string, transport: string): void {
    this.#refused++;
    this.serviceCounters.refusedFor(why, transport);
    this.logger.debug({ live: this.sessionCount, refused: this.#refused, address }, `connection refused: ${why}`);
    if (this.closing) return;
    const count = this.#fullWarning.count(performance.now());
    if (count === 0) return;
    const raise =
      why === 'at maxSessionCount'
        ? `raise option maxSessionCount (${this.maxSessionCount}; gamewire CLI: --max-sessions)`
        : why === 'at maxSessionsPerAddress'
          ? `raise option maxSessionsPerAddress (${this.#maxPerAddress}), or 0 for no limit`
          : why === 'at the open-file limit'
            ? `raise the open-file limit (ulimit -n, now ${this.#fileLimit}; ${RESERVED_FDS} are kept for the process)`
            : 'raise option maxPendingHandshakesPerAddress';
    logSafely(
      this.logger,
      'warn',
      { live: this.sessionCount, refusedSinceLastWarning: count, refused: this.#refused, reason: why },
      `refusing connections: ${why}; ${count} refused since the last warning; ${raise}`,
    );
  }

  readonly #handleListenerError = (error: Error): void => {
    const code = errnoCode(error);
    if (code !== 'EMFILE' && code !== 'ENFILE') {
      logSafely(this.logger, 'error', { err: error }, 'listener error');
      return;
    }
    // Node reports an accept that failed for lack of file descriptors here; libuv has already closed
    // the waiting connections, so the peers see a reset.
    this.#refused++;
    this.serviceCounters.emfile(this.#tcpTransport);
    const count = this.#fdWarning.count(performance.now());
    if (count === 0) return;
    logSafely(
      this.logger,
      'warn',
      { code, live: this.sessionCount, failedAcceptsSinceLastWarning: count, refused: this.#refused },
      `out of file descriptors (${code}): ${count} accepts failed since the last warning and connections were dropped; ` +
        `raise the open-file limit (ulimit -n) or lower maxSessionCount (${this.maxSessionCount}; gamewire CLI: --max-sessions)`,
    );
  };
}
