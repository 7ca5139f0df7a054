import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { ListenError } from '../core/errors.js';
import type { Session } from './session.js';
import { checkInteger, Service, type ServiceOptions } from './service.js';

/** Default `maxSessionCount` of a ServerService. */
export const DEFAULT_MAX_SESSION_COUNT = 100;
/** Default listen backlog (Node's own default). */
export const DEFAULT_BACKLOG = 511;

/** Options of a {@link ServerService}. */
export interface ServerServiceOptions<S extends Session> extends ServiceOptions<S> {
  /** Most sessions live at once; connections past it are closed at once and counted. Default 100. */
  readonly maxSessionCount?: number;
  /** Kernel accept queue length for `listen()`. Default 511. */
  readonly backlog?: number;
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
  #server: Server | undefined;
  #refused = 0;
  #accepted = 0;

  /** @throws InvalidOptionError when an option is out of range. */
  constructor(options: ServerServiceOptions<S>) {
    super(options, DEFAULT_MAX_SESSION_COUNT);
    this.#backlog = checkInteger('backlog', options.backlog ?? DEFAULT_BACKLOG, 1);
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
    const server = createServer({ noDelay: true, allowHalfOpen: false }, this.#handleConnection);
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

  readonly #handleConnection = (socket: Socket): void => {
    if (this.closing || this.sessionCount >= this.maxSessionCount) {
      this.#refused++;
      this.logger.debug({ live: this.sessionCount, refused: this.#refused }, 'connection refused: at maxSessionCount');
      socket.on('error', ignoreError);
      socket.destroy();
      return;
    }
    this.#accepted++;
    this.adopt(socket);
  };
}

function ignoreError(): void {}
