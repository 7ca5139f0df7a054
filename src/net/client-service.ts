import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import {
  ClientStartError,
  ConnectError,
  ConnectTimeoutError,
  GamewireError,
  ServiceStateError,
  SessionFactoryError,
} from '../core/errors.js';
import { checkTimerMs } from '../core/timer-range.js';
import type { Session } from './session.js';
import { checkInteger, Service, type ServiceOptions } from './service.js';
import { TransportSocket } from './transport-socket.js';
import { connectWebSocket, type WebSocketConnectOptions } from './ws-connector.js';

/** Largest WebSocket message a client session accepts, bytes (as a server's default). */
const CLIENT_WS_MAX_MESSAGE_BYTES = 256 * 1024;

/** Default `connectTimeoutMs` of a ClientService. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Default `connectConcurrency`: connection attempts in progress at once during `start()`. */
export const DEFAULT_CONNECT_CONCURRENCY = 256;

/** Options of a {@link ClientService}. */
export interface ClientServiceOptions<S extends Session> extends ServiceOptions<S> {
  /** Sessions `start()` opens to the target; also the most live at once. Default 1. */
  readonly maxSessionCount?: number;
  /** How long one connection attempt may take, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Connection attempts in progress at once during `start()`. Default 256. */
  readonly connectConcurrency?: number;
  /**
   * Connect with TLS (`node:tls`): `ca`, `servername`, `rejectUnauthorized` and any other
   * `tls.connect` option. A session opens once the handshake is done.
   */
  readonly tls?: ConnectionOptions;
  /**
   * Open WebSocket sessions instead of TCP: `{ path }` (default `/ws`), `tls` for `wss://`. The same
   * sessions, hooks and causes; `port` is then the server's WebSocket port. Default: TCP.
   */
  readonly ws?: WebSocketConnectOptions;
}

/**
 * The C++ `ClientService`: opens sessions to `host:port` (dummy clients, bots, server-to-server
 * links). `start()` opens `maxSessionCount` of them; `connect()` opens one more while below the limit.
 */
export class ClientService<S extends Session = Session> extends Service<S> {
  /** Always `client`. */
  readonly type = 'client' as const;
  readonly #connectTimeoutMs: number;
  readonly #connectConcurrency: number;
  readonly #connecting = new Set<Socket>();
  readonly #tls: ConnectionOptions | undefined;
  readonly #ws: WebSocketConnectOptions | undefined;
  readonly #connectingWs = new Set<() => void>();

  /** @throws InvalidOptionError when an option is out of range. */
  constructor(options: ClientServiceOptions<S>) {
    super(options, 1);
    this.#connectTimeoutMs = checkTimerMs('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, 1);
    this.#connectConcurrency = checkInteger(
      'connectConcurrency',
      options.connectConcurrency ?? DEFAULT_CONNECT_CONCURRENCY,
      1,
    );
    this.#tls = options.tls;
    this.#ws = options.ws;
  }

  /** Connection attempts in progress. */
  get connectingCount(): number {
    return this.#connecting.size + this.#connectingWs.size;
  }

  /**
   * Opens `maxSessionCount` sessions, at most `connectConcurrency` attempts at a time, and resolves
   * when all are up. Sessions that did connect stay live even when others fail.
   * @throws ClientStartError saying how many failed and why (each failure in `failures`).
   * @throws ServiceStateError when called twice.
   */
  async start(): Promise<void> {
    this.beginStart();
    const wanted = this.maxSessionCount;
    const failures: GamewireError[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < wanted && !this.closing) {
        next++;
        try {
          await this.connect();
        } catch (error) {
          failures.push(error instanceof GamewireError ? error : new ConnectError(this.host, this.port, error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#connectConcurrency, wanted) }, worker));
    if (failures.length > 0) throw new ClientStartError(wanted, this.sessionCount, failures);
  }

  /**
   * Opens one more session and resolves with it once connected (its `onConnected` has run).
   * @throws ConnectError when the connection fails (refused, unreachable, bad address).
   * @throws ConnectTimeoutError after `connectTimeoutMs`.
   * @throws ServiceStateError when the service is closing or `maxSessionCount` sessions are live or connecting.
   */
  connect(): Promise<S> {
    if (this.closing) return Promise.reject(new ServiceStateError('connect() on a closing service'));
    if (this.sessionCount + this.connectingCount >= this.maxSessionCount) {
      return Promise.reject(
        new ServiceStateError(`maxSessionCount (${this.maxSessionCount}) sessions are live or connecting`),
      );
    }
    if (this.#ws !== undefined) return this.#connectWebSocket(this.#ws);
    return new Promise<S>((resolve, reject) => {
      const plain = { host: this.host, port: this.port, noDelay: true, allowHalfOpen: false };
      const socket = this.#tls === undefined ? connect(plain) : connectTls({ ...this.#tls, ...plain });
      const connectedEvent = this.#tls === undefined ? 'connect' : 'secureConnect';
      this.#connecting.add(socket);
      const settle = (): void => {
        clearTimeout(timer);
        this.#connecting.delete(socket);
        socket.off(connectedEvent, onConnect);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const onConnect = (): void => {
        settle();
        if (this.closing) {
          socket.destroy();
          reject(new ServiceStateError('service closed while connecting'));
          return;
        }
        const session = this.adopt(socket);
        if (session instanceof SessionFactoryError) reject(session);
        else resolve(session);
      };
      const onError = (error: Error): void => {
        settle();
        socket.destroy();
        reject(new ConnectError(this.host, this.port, error));
      };
      const onClose = (): void => {
        settle();
        reject(new ServiceStateError('connection attempt aborted: service closing'));
      };
      const timer = setTimeout(() => {
        settle();
        socket.on('error', ignoreError);
        socket.destroy();
        reject(new ConnectTimeoutError(this.host, this.port, this.#connectTimeoutMs));
      }, this.#connectTimeoutMs);
      socket.once(connectedEvent, onConnect);
      socket.once('error', onError);
      socket.once('close', onClose);
    });
  }

  async #connectWebSocket(options: WebSocketConnectOptions): Promise<S> {
    const attempt = connectWebSocket(this.host, this.port, options, CLIENT_WS_MAX_MESSAGE_BYTES, this.#connectTimeoutMs);
    this.#connectingWs.add(attempt.abort);
    let transport;
    try {
      transport = await attempt.promise;
    } finally {
      this.#connectingWs.delete(attempt.abort);
    }
    if (this.closing) {
      transport.destroy();
      throw new ServiceStateError('service closed while connecting');
    }
    const session = this.adopt(new TransportSocket(transport));
    if (session instanceof SessionFactoryError) throw session;
    return session;
  }

  protected stopOpening(): Promise<void> {
    for (const abort of this.#connectingWs) abort();
    for (const socket of this.#connecting) socket.destroy();
    return Promise.resolve();
  }
}

function ignoreError(): void {}
