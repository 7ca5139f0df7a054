import type { TlsOptions } from 'node:tls';
import { DEFAULTS } from '../core/defaults.js';
import { errnoCode } from '../core/describe.js';
import { ListenError, SessionFactoryError } from '../core/errors.js';
import { logSafely } from '../core/logger.js';
import { checkTimerMs } from '../core/timer-range.js';
import { WarningThrottle } from '../core/warning-throttle.js';
import { connectionCapacity, openFileLimit, RESERVED_FDS } from './listen/file-limit.js';
import type { Session } from './session.js';
import { ServiceDrain, type DrainOptions } from './service-drain.js';
import type { DisconnectCause } from '../core/disconnect-cause.js';
import { checkInteger, Service, type ServiceOptions } from './service.js';
import type { AdmissionStage, Listener, ListenerOwner } from './listen/listener.js';
import { REFUSALS, type Refusal, type RefusalLimits } from './listen/refusal.js';
import { TcpListener } from './listen/tcp-listener.js';
import type { WebSocketListener, WebSocketListenOptions } from './listen/ws-listener.js';
import { originPolicy } from './listen/ws-origins.js';
import type { Transport, TransportKind } from './transport/transport.js';
import { resolveServerResume, type ServerResumeOptions } from '../core/resume/resume-options.js';
import { ResumeGates } from './resume/resume-gate.js';
import { currentResumeRouter, releaseSocket, type HandedKind, type ResumeRouter } from './resume/resume-router.js';
import type { Socket } from 'node:net';
import { TcpTransport } from './transport/tcp-transport.js';
import type { ResumeCountersView } from './resume/resume-registry.js';
import { GoneTransport } from './resume/gone-transport.js';
import { ServerResumeTransport } from './resume/server-resume-transport.js';
import { TransportLink } from './resume/transport-link.js';
import { moveOut, type MovedSession } from './session-move.js';
import { kCancelMove, kMoveIn, kMoveOut, kReserveMove, kStopAccepting } from './symbols.js';
import {
  HandshakeGate,
  type PendingKind,
} from './listen/handshake-gate.js';

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
   * Most live sessions (and connections still in their TLS handshake or WebSocket upgrade) from one
   * remote IP address; more are refused like past `maxSessionCount`. 0 = no limit. Default 0 (off):
   * players behind one NAT (a mobile carrier, a PC bang, a LAN party) share one address, so a low cap
   * locks real players out.
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
   * Most connections that are not sessions yet, held at once: TLS connections in their handshake and
   * connections to the WebSocket port before their upgrade. Each holds a file descriptor from its
   * first byte. When it is reached (or these plus the sessions reach the open-file limit, or for TLS
   * `maxSessionCount`) one of them is dropped to make room for the new one, a silent one first, so a
   * flood of silent connections cannot lock real clients out or run the process out of file
   * descriptors. Default 128.
   */
  readonly maxPendingHandshakes?: number;
  /** Most such connections at once from one IP address; more are refused. Default 16 (at most `maxPendingHandshakes`). */
  readonly maxPendingHandshakesPerAddress?: number;
  /**
   * Also serve WebSocket sessions (browsers): `{ port, path }` (`path` default `/ws`; `tls` for
   * `wss://`; `onRequest` answers other HTTP requests, e.g. a game page; `maxMessageBytes` default
   * 262144; `upgradeTimeoutMs` default 5000; `allowedOrigins`). The same limits, hooks and causes as
   * TCP; every binary message carries whole packets. See {@link WebSocketListenOptions}. Default: none.
   */
  readonly ws?: WebSocketListenOptions;
  /**
   * Sessions that survive a dropped connection (docs/resume.md): a client that asks for it (HELLO,
   * docs/protocol.md) gets a session that is `suspended` for `graceMs` when its connection drops, in its
   * rooms, and resumes on a new connection (TCP or WebSocket) with every packet it missed, exactly once
   * and in order. `{}` takes every default: `graceMs` 30000, `maxReplayBytes` 1048576, `helloTimeoutMs`
   * 5000, `maxResumesPerSecond` 1000. With it, sessions are made at the client's first packet (see
   * `helloTimeoutMs`). Default: off (no change on the wire, no cost per session).
   */
  readonly resume?: ServerResumeOptions;
  /**
   * How long `drain()` (and so SIGTERM in the CLI servers, and a rolling reload of `runWorkers`)
   * lets the sessions run before the ones left are closed with `SERVICE_DRAINED`, ms,
   * 0..2^31-1. Default 20000 (docs/deploying.md).
   */
  readonly drainTimeoutMs?: number;
}

/**
 * The C++ `ServerService` with its `Listener`: listens on `host:port` and makes a session for each
 * accepted connection while fewer than `maxSessionCount` are live. A connection past the limit is
 * closed at once and counted in `refusedCount`; the live sessions are not disturbed, and once one
 * leaves, the next connection is accepted again. Why a connection is turned away is one row of
 * `REFUSALS` (refusal.ts): counted under its reason, warned about with the option to change.
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
  /** Where connections come from: the TCP (or TLS) listener, then the WebSocket one (from `start()`). */
  readonly #listeners: Listener[] = [];
  /** The `ws` option, checked, until `start()` makes its listener. */
  readonly #wsOptions: { readonly options: WebSocketListenOptions; readonly maxMessageBytes: number } | undefined;
  #ws: WebSocketListener | undefined;
  readonly #owner: ListenerOwner;
  /** Connections not yet sessions, over every listener. */
  readonly #gate: HandshakeGate;
  readonly #limits: Omit<RefusalLimits, 'fileLimit'>;
  #refused = 0;
  #accepted = 0;
  /** Open-file limit read at start(); undefined when unknown. */
  #fileLimit: number | undefined;
  /** Connections the open-file limit allows (sessions plus those held in the gate); Infinity when unknown. */
  #fdCapacity = Number.POSITIVE_INFINITY;
  /** One warning throttle per refusal row, made on its first warning. */
  readonly #warnings = new Map<Refusal, WarningThrottle>();
  /** With `resume`: the connections waiting for their first packet, and the resumable sessions. */
  readonly #resume: ResumeGates | undefined;
  /** With `resume` in a process of several (a cluster worker): how resumes reach the other processes. */
  readonly #router: ResumeRouter | undefined;
  /** Stops connections handed over by other processes from reaching this service (from `start()`). */
  readonly #detach: (() => void)[] = [];
  readonly #drainTimeoutMs: number;
  /** Made by drain(). */
  #drain: ServiceDrain | undefined;
  /** The listeners' closes begun by a drain, awaited again by close(). */
  #stopped: Promise<unknown> | undefined;
  /** What drain() returns: the close's promise, once a close began. */
  #drained: Promise<void> | undefined;
  #closeBegan: ((closing: Promise<void>) => void) | undefined;

  /** @throws InvalidOptionError when an option is out of range. */
  constructor(options: ServerServiceOptions<S>) {
    super(options, DEFAULTS.maxSessionCount);
    this.#backlog = checkInteger('backlog', options.backlog ?? DEFAULTS.backlog, 1);
    this.#maxPerAddress = checkInteger('maxSessionsPerAddress', options.maxSessionsPerAddress ?? 0, 0);
    this.#drainTimeoutMs = checkTimerMs('drainTimeoutMs', options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs, 0);
    this.#tls = options.tls;
    const maxPending = checkInteger('maxPendingHandshakes', options.maxPendingHandshakes ?? DEFAULTS.maxPendingHandshakes, 1);
    const perAddress = options.maxPendingHandshakesPerAddress ?? Math.min(DEFAULTS.maxPendingHandshakesPerAddress, maxPending);
    const maxPendingPerAddress = checkInteger('maxPendingHandshakesPerAddress', perAddress, 1, maxPending);
    const tlsTimeoutMs = checkTimerMs('tls.handshakeTimeout', options.tls?.handshakeTimeout ?? DEFAULTS.tlsHandshakeTimeoutMs, 1);
    const ws = options.ws;
    this.#limits = {
      maxSessionCount: this.maxSessionCount,
      maxSessionsPerAddress: this.#maxPerAddress,
      maxPendingHandshakes: maxPending,
      maxPendingHandshakesPerAddress: maxPendingPerAddress,
      tlsHandshakeTimeoutMs: tlsTimeoutMs,
      wsUpgradeTimeoutMs: checkTimerMs('ws.upgradeTimeoutMs', ws?.upgradeTimeoutMs ?? DEFAULTS.wsUpgradeTimeoutMs, 1),
      wsPath: ws?.path ?? DEFAULTS.wsPath,
    };
    this.#gate = new HandshakeGate(
      { maxPending, maxPendingPerAddress },
      {
        hasRoom: (pending, kind) => this.#hasRoom(pending, kind),
        refused: (address, refusal, kind) => this.#refuse(address, refusal, kind),
      },
      this.logger,
    );
    this.#owner = {
      gate: this.#gate,
      refusal: (address, stage) => this.#refusal(address, stage),
      refused: (address, refusal, transport) => this.#refuse(address, refusal, transport),
      admit: (transport) => this.#admit(transport),
      listenerError: (error, transport) => this.#listenerError(error, transport),
      moveUpgrade: (route, socket, request) => this.#moveUpgrade(route, socket, request),
    };
    const resume = resolveServerResume(options.resume);
    this.#router = resume === undefined ? undefined : currentResumeRouter();
    this.#resume =
      resume === undefined
        ? undefined
        : new ResumeGates(resume, {
            sessionRefusal: (address) => this.#refusal(address, 'session'),
            refused: (address, refusal, transport) => this.#refuse(address, refusal, transport),
            adoptGated: (transport) => this.#adoptNow(transport),
            moved: (from, to) => this.#moved(from, to),
            handOver: (route, transport, bytes) => this.#handOver(route, transport, bytes),
          }, this.logger, this.#router?.route, this.#router?.server);
    const tls = options.tls === undefined ? undefined : { options: options.tls, timeoutMs: tlsTimeoutMs };
    const host = this.host;
    this.#listeners.push(new TcpListener(this.#owner, { host, port: this.port, backlog: this.#backlog, tls, logger: this.logger }));
    if (ws !== undefined) {
      checkInteger('ws.port', ws.port, 0, 65535);
      // At least one largest packet, so that every packet fits in a message both ways.
      const maxMessageBytes = checkInteger('ws.maxMessageBytes', ws.maxMessageBytes ?? DEFAULTS.wsMaxMessageBytes, DEFAULTS.maxPacketSize);
      originPolicy(ws.allowedOrigins); // checked now: the listener itself is made by start()
      this.#wsOptions = { options: { ...ws, upgradeTimeoutMs: this.#limits.wsUpgradeTimeoutMs }, maxMessageBytes };
    }
  }

  /** The WebSocket port once started (the real one, also for port 0); undefined without `ws`. */
  get wsPort(): number | undefined {
    return this.#ws === undefined || this.#ws.port === 0 ? undefined : this.#ws.port;
  }

  /** True when the service serves TLS. */
  get secure(): boolean {
    return this.#tls !== undefined;
  }

  /** TLS connections that failed before a session was made (bad handshake, timeout, dropped to make room). */
  get tlsFailureCount(): number {
    return this.serviceCounters.refused.tls_handshake;
  }

  /** Connections to the WebSocket port closed before their upgrade (timeout, dropped to make room, closed, bad request). */
  get wsUpgradeFailureCount(): number {
    return this.serviceCounters.refused.ws_upgrade;
  }

  /** Connections not sessions yet, now: TLS handshakes and WebSocket upgrades in progress. */
  get pendingHandshakeCount(): number {
    return this.#gate.size;
  }

  /**
   * Connections closed at once because `maxSessionCount` sessions were live, an address was at its
   * limit, the service was closing, the open-file limit was reached (counted once per failed accept
   * when the OS said so: `EMFILE`/`ENFILE`), or a WebSocket upgrade was refused (404, 403, 503).
   */
  get refusedCount(): number {
    return this.#refused;
  }

  /** Resume counts (docs/resume.md); undefined without the `resume` option. */
  get resumeCounters(): ResumeCountersView | undefined {
    return this.#resume?.registry.view;
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
    // The WebSocket listener (and with it the ws package) is loaded only by a service given `ws`, so
    // `import 'gamewire'` stays light for TCP servers. Loaded before the state check so that no await
    // separates it from making the listener: a close() meanwhile makes this start() throw instead.
    const ws = this.#wsOptions;
    const webSocket = ws === undefined ? undefined : { ...ws, module: await import('./listen/ws-listener.js') };
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
    try {
      if (webSocket !== undefined) {
        const { module, options, maxMessageBytes } = webSocket;
        this.#ws = new module.WebSocketListener(options, maxMessageBytes, this.#owner, this.host);
        this.#listeners.push(this.#ws);
      }
      const [tcp, ...others] = this.#listeners as [Listener, ...Listener[]];
      this.currentPort = await tcp.listen();
      for (const listener of others) await listener.listen();
      this.#attachRouter();
    } catch (error) {
      this.serviceState = 'closed';
      await Promise.all(this.#listeners.map((listener) => listener.close()));
      throw new ListenError(this.host, this.port, error);
    }
    this.logger.debug({ host: this.host, port: this.currentPort }, 'listening');
  }

  /** The `drainTimeoutMs` option: how long `drain()` lets the sessions run by default, ms. */
  get drainTimeoutMs(): number {
    return this.#drainTimeoutMs;
  }

  /** True from `drain()` until the service has closed. */
  override get draining(): boolean {
    return this.#drain !== undefined && this.serviceState !== 'closed';
  }

  /**
   * Drains the server, for a deploy: stops accepting at once (the listeners close, so new connections
   * are refused by the OS and, under `runWorkers`, go to the other workers), lets the sessions run
   * until they end or `timeoutMs` passes, then closes the service; the sessions left end with
   * `SERVICE_DRAINED` (WebSocket close code 1012), which tells a client it may reconnect at once.
   * Resolves once the service has closed. A `close()` meanwhile cuts the wait short (the sessions
   * left still end with `SERVICE_DRAINED`); calling `drain()` again returns the same promise.
   * On a service never started it closes at once.
   * @throws InvalidOptionError when `timeoutMs` is out of range.
   */
  /**
   * Internal: closes the listeners and nothing else: connections already accepted (a handshake or an
   * upgrade in progress included) become sessions as usual. Under node:cluster the primary then hands
   * this worker no more connections. Idempotent; a later drain or close awaits the same closes.
   */
  [kStopAccepting](): void {
    this.#stopped ??= Promise.all(this.#listeners.map((listener) => listener.close()));
  }

  drain(options: DrainOptions = {}): Promise<void> {
    if (this.#drained !== undefined) return this.#drained;
    if (this.closing || this.serviceState === 'idle') return this.close();
    const timeoutMs = checkTimerMs('drainTimeoutMs', options.timeoutMs ?? this.#drainTimeoutMs, 0);
    const drain = new ServiceDrain(
      {
        sessions: this.sessions,
        logger: this.logger,
        stopAccepting: () => {
          this.#gate.destroyAll();
          this[kStopAccepting]();
        },
        close: () => this.close(),
      },
      timeoutMs,
    );
    this.#drain = drain;
    const drained = (this.#drained = new Promise<Promise<void>>((resolve) => (this.#closeBegan = resolve)).then((closing) => closing));
    drain.begin();
    return drained;
  }

  override close(): Promise<void> {
    const closing = super.close();
    this.#closeBegan?.(closing);
    return closing;
  }

  protected override endCause(): DisconnectCause {
    return this.#drain?.closing() ?? super.endCause();
  }

  /** Ends every connection not yet a session at once, then stops every listener. */
  protected stopOpening(): Promise<void> {
    for (const detach of this.#detach.splice(0)) detach();
    this.#gate.destroyAll();
    this.#resume?.closeAll();
    const stopping = Promise.all(this.#listeners.map((listener) => listener.close()));
    return Promise.all([this.#stopped, stopping]).then(() => undefined);
  }

  /** Why a connection from `address` must be refused now, at `stage`, or undefined to go on. */
  #refusal(address: string, stage: AdmissionStage): Refusal | undefined {
    if (this.closing) return 'closing';
    // The WebSocket port answers a full server's upgrade request with 503 once it has read it.
    if (stage !== 'wsUpgrade' && this.sessionCount >= this.maxSessionCount) return 'maxSessions';
    const gate = this.#gate;
    // Past the open-file limit the OS would drop connections unseen; refusing them is seen and counted.
    // A connection about to be held may instead push a held one out (the gate decides), so held ones
    // are not counted then.
    const waiting = this.#resume?.pendingCount ?? 0;
    if (this.sessionCount + waiting + (stage === 'session' ? gate.size : 0) >= this.#fdCapacity) return 'fileLimit';
    if (this.#maxPerAddress > 0 && this.sessionCountFrom(address) + gate.pendingFrom(address) >= this.#maxPerAddress) {
      return 'sessionsPerAddress';
    }
    if (stage !== 'session' && gate.addressFull(address)) return 'pendingPerAddress';
    return undefined;
  }

  /**
   * True while the sessions plus `pending` held connections leave room for one more of `kind`: within
   * the open-file limit, and for TLS (whose handshakes become sessions) within `maxSessionCount`.
   */
  #hasRoom(pending: number, kind: PendingKind): boolean {
    const limit = kind === 'tls' ? Math.min(this.maxSessionCount, this.#fdCapacity) : this.#fdCapacity;
    return this.sessionCount + pending < limit;
  }

  /** Live sessions from `address` (a remote IP). */
  sessionCountFrom(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  protected override sessionLeft(session: S): void {
    this.#drain?.sessionLeft();
    if (this.#maxPerAddress === 0) return;
    const address = session.remoteAddress;
    const count = (this.#perAddress.get(address) ?? 1) - 1;
    if (count <= 0) this.#perAddress.delete(address);
    else this.#perAddress.set(address, count);
  }

  /**
   * Every listener's connections come here: refused, or made a session. With `resume`, a connection
   * first waits for its first packet (a RESUME makes no new session, so a full server still takes
   * back its suspended players): only closing and the open-file limit refuse it now, and the
   * connections waiting are bounded by `maxSessionCount`.
   */
  #admit(transport: Transport): void {
    const address = transport.remoteAddress;
    const gates = this.#resume;
    const refusal =
      gates === undefined
        ? this.#refusal(address, 'session')
        : this.closing
          ? 'closing'
          : gates.pendingCount >= this.maxSessionCount
            ? 'maxSessions'
            : this.sessionCount + gates.pendingCount + this.#gate.size >= this.#fdCapacity
              ? 'fileLimit'
              : undefined;
    if (refusal !== undefined) {
      transport.destroy();
      this.#refuse(address, refusal, transport.kind);
      return;
    }
    if (gates !== undefined) gates.admit(transport);
    else this.#adoptNow(transport);
  }

  /** A resumed session now comes from `to`: its count per address moves with it. */
  #moved(from: string, to: string): void {
    if (this.#maxPerAddress === 0 || from === to) return;
    const count = (this.#perAddress.get(from) ?? 1) - 1;
    if (count <= 0) this.#perAddress.delete(from);
    else this.#perAddress.set(from, count);
    this.#perAddress.set(to, this.sessionCountFrom(to) + 1);
  }

  /** Connections other processes of this server hand over (resumes of sessions held here) reach this service's listeners. */
  #attachRouter(): void {
    const router = this.#router;
    if (router === undefined) return;
    const sink = (socket: Socket, kind: HandedKind, bytes: Buffer): void => this.#handed(socket, kind, bytes);
    this.#detach.push(router.attach(this.currentPort, sink));
    const wsPort = this.#ws?.port;
    if (wsPort !== undefined && !this.#ws?.secure) this.#detach.push(router.attach(wsPort, sink));
  }

  /** A connection another process handed over: a TCP one that sent RESUME, or a WebSocket upgrade request. */
  #handed(socket: Socket, kind: HandedKind, bytes: Buffer): void {
    if (kind === 'ws' && this.#ws !== undefined) {
      this.#ws.adopt(socket, bytes);
      return;
    }
    socket.setNoDelay(true);
    if (bytes.length > 0) socket.unshift(bytes);
    this.#admit(new TcpTransport(socket));
  }

  /** The gate read a RESUME of another process of this server: plain TCP moves there, with what was read. */
  #handOver(route: number, transport: Transport, bytes: Buffer): boolean {
    const router = this.#router;
    if (router === undefined || !(transport instanceof TcpTransport) || transport.kind !== 'tcp' || transport.destroyed) return false;
    if (!router.serves(route)) return false;
    const socket = transport.socket;
    const more = releaseSocket(socket);
    return router.handOver(route, 'tcp', socket, more.length === 0 ? bytes : Buffer.concat([bytes, more]));
  }

  /** A WebSocket upgrade naming another process of this server: it moves there before ws answers it. */
  #moveUpgrade(route: number, socket: Socket, request: Buffer): boolean {
    const router = this.#router;
    const gates = this.#resume;
    if (router === undefined || gates === undefined || route === router.route || !router.serves(route) || this.closing) return false;
    const more = releaseSocket(socket);
    if (!router.handOver(route, 'ws', socket, more.length === 0 ? request : Buffer.concat([request, more]))) return false;
    gates.registry.counters.routed++;
    return true;
  }

  /**
   * Internal (the cluster worker, docs/deploying.md "Sessions that move"): reserves this process's
   * resume key and token for a session about to move in; undefined without `resume`.
   */
  [kReserveMove](): { key: number; token: Uint8Array } | undefined {
    if (this.closing) return undefined;
    return this.#resume?.registry.reserve();
  }

  /** Internal: releases a reservation whose session never came (the move failed or timed out). */
  [kCancelMove](key: number): void {
    this.#resume?.registry.release(key);
  }

  /**
   * Internal: the session of `id` leaves this process for the one whose token for it is `token`
   * (session-move.ts). Returns its state, or why it cannot move (it stays then).
   */
  [kMoveOut](id: number, token: Uint8Array): MovedSession | string {
    for (const session of this.sessions) if (session.id === id) return moveOut(session, token);
    return 'no such session';
  }

  /**
   * Internal: makes here, at the reserved `key`, the session that moved in: suspended until its client
   * resumes with the token of the reservation. Returns it, or why not (the reservation is released).
   */
  [kMoveIn](key: number, moved: MovedSession): S | string {
    const gates = this.#resume;
    if (gates === undefined) return 'resume is off';
    const link = new TransportLink(new GoneTransport(moved.kind, moved.remoteAddress, moved.remotePort));
    const transport = ServerResumeTransport.movedIn(link, gates.registry, { key, received: moved.received, acked: moved.acked, held: moved.held });
    if (transport === undefined) {
      gates.registry.release(key);
      return 'its held packets are not whole packets';
    }
    if (this.closing) {
      gates.registry.release(key);
      return 'this server is closing';
    }
    const session = this.adoptMoved(transport, moved.id, moved.game);
    if (session instanceof SessionFactoryError) {
      gates.registry.release(key);
      return session.message;
    }
    if (this.#maxPerAddress > 0) this.#perAddress.set(moved.remoteAddress, this.sessionCountFrom(moved.remoteAddress) + 1);
    return session;
  }

  /** Makes the session of an admitted connection; false when the session factory failed. */
  #adoptNow(transport: Transport): boolean {
    const address = transport.remoteAddress;
    this.#accepted++;
    this.serviceCounters.accepted(transport.kind);
    const session = this.adopt(transport);
    if (session instanceof SessionFactoryError) return false;
    if (this.#maxPerAddress > 0) this.#perAddress.set(address, this.sessionCountFrom(address) + 1);
    return true;
  }

  /**
   * Counts a connection of `transport` turned away for `refusal` under its reason, and warns
   * (at once, then at most every 10 s per row) when its row names something to change.
   */
  #refuse(address: string, refusal: Refusal, transport: TransportKind): void {
    const row = REFUSALS[refusal];
    const refused = row.kind === 'refused';
    if (refused) this.#refused++;
    this.serviceCounters.refusedFor(row.reason, transport);
    this.logger.debug({ live: this.sessionCount, refused: this.#refused, address, transport }, `connection ${row.kind}: ${row.text}`);
    if (this.closing || row.advice === undefined) return;
    let throttle = this.#warnings.get(refusal);
    if (throttle === undefined) this.#warnings.set(refusal, (throttle = new WarningThrottle()));
    const count = throttle.count(performance.now());
    if (count === 0) return;
    logSafely(
      this.logger,
      'warn',
      { live: this.sessionCount, [refused ? 'refusedSinceLastWarning' : 'droppedSinceLastWarning']: count, refused: this.#refused, reason: row.reason, transport },
      `${refused ? 'refusing' : 'dropping'} connections: ${row.text}; ${count} ${row.kind} since the last warning; ` +
        row.advice({ ...this.#limits, fileLimit: this.#fileLimit }),
    );
  }

  #listenerError(error: Error, transport: TransportKind): void {
    const code = errnoCode(error);
    if (code !== 'EMFILE' && code !== 'ENFILE') {
      logSafely(this.logger, 'error', { err: error, transport }, 'listener error');
      return;
    }
    // Node reports an accept that failed for lack of file descriptors here; libuv has already closed
    // the waiting connections, so the peers see a reset.
    this.#refuse('', 'acceptFailed', transport);
  }
}
