import type { ConnectionOptions } from 'node:tls';
import { DEFAULTS } from '../core/defaults.js';
import { ClientStartError, ConnectError, GamewireError, ServiceStateError } from '../core/errors.js';
import { checkTimerMs } from '../core/timer-range.js';
import type { Session } from './session.js';
import { checkInteger, Service, type ServiceOptions } from './service.js';
import { TcpConnector } from './listen/tcp-connector.js';
import type { Transport } from './transport/transport.js';
import type { WebSocketConnectOptions } from './listen/ws-connector.js';
import { resolveClientResume, type ClientResumeOptions, type ClientResumeSettings } from '../core/resume/resume-options.js';
import { ClientResumeTransport } from './resume/client-resume-transport.js';
import { TransportLink } from './resume/transport-link.js';

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
  /**
   * Sessions that survive a dropped connection (docs/resume.md): each session asks the server for
   * resume (HELLO); when its connection drops it is `suspended`, reconnects by itself with exponential
   * backoff and jitter (`onReconnecting`), and resumes (`onResumed`) with every packet it missed, exactly
   * once and in order, both ways. `{}` takes every default: `reconnectDelayMs` 250,
   * `maxReconnectDelayMs` 5000, `maxReplayBytes` 1048576. A server without resume gives plain sessions.
   * Default: off.
   */
  readonly resume?: ClientResumeOptions;
}

/** What opens a ClientService's connections: TCP (or TLS), or WebSocket. */
interface Connector {
  readonly pendingCount: number;
  /** `resumeToken`: a reconnect to resume this session (a WebSocket one names its route in the URL). */
  connect<T>(onConnected: (transport: Transport) => T | Error, resumeToken?: Uint8Array): Promise<T>;
  abortAll(): void;
}

/**
 * A connector made on the first attempt: the WebSocket connector, and with it the ws package, is
 * loaded only by a ClientService given `ws`, so `import 'gamewire'` stays light for TCP clients.
 * Attempts waiting for it count as pending, and `abortAll` ends them too.
 */
class LazyConnector implements Connector {
  readonly #make: () => Promise<Connector>;
  #making: Promise<Connector> | undefined;
  #made: Connector | undefined;
  #waiting = 0;
  #aborts = 0;

  constructor(make: () => Promise<Connector>) {
    this.#make = make;
  }

  get pendingCount(): number {
    return this.#waiting + (this.#made?.pendingCount ?? 0);
  }

  async connect<T>(onConnected: (transport: Transport) => T | Error, resumeToken?: Uint8Array): Promise<T> {
    if (this.#made === undefined) {
      const aborts = this.#aborts;
      this.#waiting++;
      try {
        this.#made = await (this.#making ??= this.#make());
      } finally {
        this.#waiting--;
      }
      if (aborts !== this.#aborts) throw new ServiceStateError('connection attempt aborted: service closing');
    }
    return this.#made.connect(onConnected, resumeToken);
  }

  abortAll(): void {
    this.#aborts++;
    this.#made?.abortAll();
  }
}

/**
 * The C++ `ClientService`: opens sessions to `host:port` (dummy clients, bots, server-to-server
 * links). `start()` opens `maxSessionCount` of them; `connect()` opens one more while below the limit.
 */
export class ClientService<S extends Session = Session> extends Service<S> {
  /** Always `client`. */
  readonly type = 'client' as const;
  readonly #connectConcurrency: number;
  readonly #connector: Connector;
  readonly #resume: ClientResumeSettings | undefined;

  /** @throws InvalidOptionError when an option is out of range. */
  constructor(options: ClientServiceOptions<S>) {
    const resume = resolveClientResume(options.resume);
    super(options, 1);
    this.#resume = resume;
    const timeoutMs = checkTimerMs('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 1);
    this.#connectConcurrency = checkInteger(
      'connectConcurrency',
      options.connectConcurrency ?? DEFAULTS.connectConcurrency,
      1,
    );
    this.#connector =
      options.ws === undefined
        ? new TcpConnector({ host: this.host, port: this.port, timeoutMs, tls: options.tls })
        : new LazyConnector(async () => {
            const { WebSocketConnector } = await import('./listen/ws-connector.js');
            return new WebSocketConnector({ ...options.ws, host: this.host, port: this.port, timeoutMs });
          });
  }

  /** Connection attempts in progress. */
  get connectingCount(): number {
    return this.#connector.pendingCount;
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
    if (this.sessionCount + this.#connector.pendingCount >= this.maxSessionCount) {
      return Promise.reject(
        new ServiceStateError(`maxSessionCount (${this.maxSessionCount}) sessions are live or connecting`),
      );
    }
    return this.#connector.connect<S>((transport) => {
      if (!this.closing) return this.adopt(this.#resume === undefined ? transport : this.#resumable(transport));
      transport.destroy();
      return new ServiceStateError('service closed while connecting');
    });
  }

  /** A resumable transport over `transport`, which reconnects through this service's connector. */
  #resumable(transport: Transport): Transport {
    const reconnect = (token: Uint8Array): Promise<Transport> => this.#connector.connect<Transport>((fresh) => fresh, token);
    return new ClientResumeTransport(new TransportLink(transport), this.#resume as ClientResumeSettings, reconnect, () => this.closing);
  }

  protected stopOpening(): Promise<void> {
    this.#connector.abortAll();
    return Promise.resolve();
  }
}
