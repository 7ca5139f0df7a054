import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { ListenError } from '../core/errors.js';
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
      const tlsServer = createTlsServer({
        handshakeTimeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
        ...this.#tls,
        noDelay: true,
        allowHalfOpen: false,
      });
      tlsServer.on('secureConnection', this.#handleConnection);
      tlsServer.on('tlsClientError', (error) => {
        this.#tlsFailures++;
        this.logger.debug({ err: error }, 'TLS handshake failed');
      });
      server = tlsServer;
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
    server.on('error', (error) => this.logger.error({ err: error }, 'listener error'));
    this.currentPort = (server.address() as AddressInfo).port;
    this.logger.info({ host: this.host, port: this.currentPort }, 'listening');
  }

  protected stopOpening(): Promise<void> {
    const server = this.#server;
    if (server === undefined || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
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
    let why: string | undefined;
    if (this.closing) why = 'service closing';
    else if (this.sessionCount >= this.maxSessionCount) why = 'at maxSessionCount';
    else if (this.#maxPerAddress > 0 && this.sessionCountFrom(address) >= this.#maxPerAddress) {
      why = 'at maxSessionsPerAddress';
    }
    if (why !== undefined) {
      this.#refused++;
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
