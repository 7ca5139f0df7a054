import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext, type TlsOptions } from 'node:tls';
import { errnoCode, ListenError } from '../core/errors.js';
import type { Session } from './session.js';
import { checkInteger, Service, type ServiceOptions } from './service.js';

/** Default `maxSessionCount` of a ServerService. */
export const DEFAULT_MAX_SESSION_COUNT = 100;
/** Default listen backlog (Node's own default). */
export const DEFAULT_BACKLOG = 511;
/** Default TLS handshake timeout, ms (Node's own is 120 s, far too long for a game server). */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Options of a {@link ServerService}. */
export interface ServerServiceOptions<S extends Session> extends ServiceOptions<S> {
  /** Most sessions live at once; connections past it are closed at once and counted. Default 100. */
  readonly maxSessionCount?: number;
  /** Kernel accept queue length for `listen()`. Default 511. */
  readonly backlog?: number;
  /** Most live sessions from one remote IP address; more are refused like past `maxSessionCount`. 0 = no limit. Default 0. */
  readonly maxSessionsPerAddress?: number;
  /**
   * Serve TLS (`node:tls`) instead of plain TCP: the key and certificate and any other
   * `tls.createServer` option. Sessions, limits and causes are the same. `handshakeTimeout` defaults
   * to 10000 ms here.
   */
  readonly tls?: TlsOptions;
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
  /** TLS connections still in their handshake: not sessions yet, but close() must end them too. */
  readonly #handshaking = new Set<TLSSocket>();
  #server: Server | undefined;
  #refused = 0;
  #accepted = 0;
  #tlsFailures = 0;

  /** @throws InvalidOptionError when an option is out of range. */
  constructor(options: ServerServiceOptions<S>) {
    super(options, DEFAULT_MAX_SESSION_COUNT);
    this.#backlog = checkInteger('backlog', options.backlog ?? DEFAULT_BACKLOG, 1);
    this.#maxPerAddress = checkInteger('maxSessionsPerAddress', options.maxSessionsPerAddress ?? 0, 0);
    this.#tls = options.tls;
  }

  /** True when the service serves TLS. */
  get secure(): boolean {
    return this.#tls !== undefined;
  }

  /** TLS connections that failed before a session was made (bad handshake, timeout). */
  get tlsFailureCount(): number {
    return this.#tlsFailures;
  }

  /** Connections closed at once because `maxSessionCount` sessions were live (or the service was closing). */
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
    let server: Server;
    if (this.#tls === undefined) {
      server = createServer({ noDelay: true, allowHalfOpen: false }, this.#handleConnection);
    } else {
      // TLS sockets are made here from accepted TCP sockets (the public TLSSocket API), so that a
      // connection is refused before its handshake, a handshake has a deadline, and close() can end
      // handshakes in progress.
      const context = createSecureContext(this.#tls);
      server = createServer({ noDelay: true, allowHalfOpen: false }, (raw) => this.#handshake(raw, context));
    }
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: this.host, port: this.port, backlog: this.#backlog }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.serviceState = 'closed';
      this.#server = undefined;
      throw new ListenError(this.host, this.port, error);
    }
    // Errors after listening (EMFILE on accept, for example) must not crash the process.
    server.on('error', (error) => {
      if (/^E[MN]FILE$/.test(errnoCode(error) ?? '')) this.serviceCounters.refused.emfile++;
      this.logger.error({ err: error }, 'listener error');
    });
    this.currentPort = (server.address() as AddressInfo).port;
    this.logger.debug({ host: this.host, port: this.currentPort }, 'listening');
  }

  protected stopOpening(): Promise<void> {
    for (const raw of this.#handshaking) raw.destroy();
    const server = this.#server;
    if (server === undefined || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  #handshake(raw: Socket, context: SecureContext): void {
    if (this.#refusal(raw) !== undefined) {
      this.#handleConnection(raw); // refuses and counts it, before any handshake work
      return;
    }
    const tls = this.#tls as TlsOptions;
    const socket = new TLSSocket(raw, {
      isServer: true,
      secureContext: context,
      requestCert: tls.requestCert ?? false,
      rejectUnauthorized: tls.rejectUnauthorized ?? false,
      ...(tls.ALPNProtocols === undefined ? {} : { ALPNProtocols: tls.ALPNProtocols }),
    });
    this.#handshaking.add(socket);
    const fail = (error?: Error): void => {
      if (!this.#handshaking.delete(socket)) return;
      clearTimeout(timer);
      this.#tlsFailures++;
      this.logger.debug({ err: error }, 'TLS handshake failed');
      socket.destroy();
    };
    const timer = setTimeout(
      () => fail(new Error('TLS handshake timed out')),
      tls.handshakeTimeout ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
    );
    timer.unref();
    socket.once('error', fail);
    socket.once('close', () => fail());
    socket.once('secure', () => {
      this.#handshaking.delete(socket);
      clearTimeout(timer);
      socket.off('error', fail);
      this.#handleConnection(socket);
    });
  }

  /** Why a connection from `socket` must be refused now, or undefined to accept it. */
  #refusal(socket: Socket): string | undefined {
    if (this.closing) return 'service closing';
    if (this.sessionCount >= this.maxSessionCount) return 'at maxSessionCount';
    if (this.#maxPerAddress > 0 && this.sessionCountFrom(socket.remoteAddress ?? '') >= this.#maxPerAddress) {
      return 'at maxSessionsPerAddress';
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

  readonly #handleConnection = (socket: Socket): void => {
    const address = socket.remoteAddress ?? '';
    const why = this.#refusal(socket);
    if (why !== undefined) {
      this.#refused++;
      this.serviceCounters.refusedFor(why);
      this.logger.debug({ live: this.sessionCount, refused: this.#refused, address }, `connection refused: ${why}`);
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    this.#accepted++;
    const session = this.adopt(socket);
    if (session !== undefined && this.#maxPerAddress > 0) {
      this.#perAddress.set(address, this.sessionCountFrom(address) + 1);
    }
  };
}

function ignoreError(): void {}
