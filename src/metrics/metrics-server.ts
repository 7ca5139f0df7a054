import { Worker } from 'node:worker_threads';
import { silentLogger, type Logger } from '../core/logger.js';
import { ListenError } from '../core/errors.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';
import type { Room } from '../room/room.js';
import { GamewireMetrics } from './gamewire-metrics.js';
import type { EndpointConfig, EndpointPath, FromEndpoint, ToEndpoint } from './metrics-endpoint-messages.js';

/** The HTTP thread's program, next to this file in dist/. */
const ENDPOINT_THREAD = new URL('./metrics-endpoint-thread.js', import.meta.url);

/** What a metrics endpoint serves: the Prometheus text and its content type. */
export interface MetricsSource {
  /** The exposition text, e.g. `registry.metrics()`. */
  metrics(): Promise<string>;
  /** Its content type, e.g. `registry.contentType`. */
  readonly contentType: string;
}

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  /** Port of the HTTP endpoint; 0 picks a free one (read it from `port` afterwards). */
  readonly port: number;
  /** Address to listen on. Default `127.0.0.1`: expose it wider only on purpose. */
  readonly host?: string;
  /** Services to count, when no `metrics` or `source` is given. */
  readonly services?: Iterable<Service<Session>>;
  /** Rooms to count, when no `metrics` or `source` is given. */
  readonly rooms?: Iterable<Room<Session>>;
  /** Serve these metrics (and their registry, with your own series) instead of making new ones. */
  readonly metrics?: GamewireMetrics;
  /** Serve this instead (a cluster primary serves the sum over its workers: `clusterMetricsSource()`). */
  readonly source?: MetricsSource;
  /** True while the server is healthy; `/healthz` answers 503 once it is false or `markClosing()` was called. */
  readonly healthy?: () => boolean;
  /** Where scrape errors are logged. Default: silent. */
  readonly logger?: Logger;
}

/** A running metrics endpoint; see {@link serveMetrics}. */
export interface MetricsServer {
  /** The address listened on. */
  readonly host: string;
  /** The port listened on (the real one, also for port 0). */
  readonly port: number;
  /** The metrics served, when this endpoint made them or was given them (not for a `source`). */
  readonly metrics: GamewireMetrics | undefined;
  /** From now on `/healthz` answers 503 (the server is closing); `/metrics` still answers. */
  markClosing(): void;
  /**
   * From now on `/healthz` answers 503 `draining` (the server drains: a load balancer should send
   * new players elsewhere); `/metrics` still answers.
   */
  markDraining(): void;
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format, with prom-client's default Node metrics) and
 * `GET /healthz` (200 `ok` while serving, 503 `draining` once draining, 503 `closing` once closing)
 * over HTTP. A `healthy()` that returns false answers 503 `closing`; the services given are draining
 * when any is (`ServerService.drain()`): 503 `draining`.
 *
 * The HTTP server runs in a worker thread of its own; only the series (`registry.metrics()`) and
 * `healthy()` are read in the calling thread, once per request. (An HTTP socket in the game's thread
 * would make V8 drop and recompile the optimized stream code of the game's sockets at the first
 * scrape: `metrics-endpoint-thread.ts`.)
 *
 * ```ts
 * const endpoint = await serveMetrics({ port: 9100, services: [service], rooms: [room] });
 * // on shutdown: endpoint.markClosing(); await service.close(); await endpoint.close();
 * ```
 * @throws ListenError when it cannot listen.
 */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const metrics =
    options.source === undefined
      ? (options.metrics ?? new GamewireMetrics({ services: options.services ?? [], rooms: options.rooms ?? [] }))
      : undefined;
  const source: MetricsSource = options.source ?? (metrics as GamewireMetrics).registry;
  let closing = false;
  let draining = false;
  const healthy = options.healthy ?? ((): boolean => true);
  const anyDraining = (): boolean => metrics !== undefined && metrics.services.some((service) => service.draining);

  const thread = new Worker(ENDPOINT_THREAD, { workerData: { host, port: options.port } satisfies EndpointConfig });
  const exited = new Promise<void>((resolve) => thread.once('exit', () => resolve()));
  const answer = (id: number, status: number, contentType: string, body: string): void => {
    thread.postMessage({ type: 'reply', id, status, contentType, body } satisfies ToEndpoint);
  };
  const onRequest = (id: number, path: EndpointPath): void => {
    if (path === '/metrics') {
      source.metrics().then(
        (text) => answer(id, 200, source.contentType, text),
        (error: unknown) => {
          logger.error({ err: error }, 'metrics scrape failed');
          answer(id, 500, 'text/plain', 'metrics scrape failed\n');
        },
      );
    } else {
      const drainingNow = draining || anyDraining();
      const ok = !closing && !drainingNow && healthy();
      answer(id, ok ? 200 : 503, 'text/plain', ok ? 'ok\n' : drainingNow && !closing ? 'draining\n' : 'closing\n');
    }
  };

  thread.on('message', (message: FromEndpoint) => {
    if (message.type === 'request') onRequest(message.id, message.path);
    else if (message.type === 'error') logger.error({ err: message.message }, 'metrics endpoint error');
  });
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (cause: unknown): void => {
      stop();
      reject(new ListenError(host, options.port, cause));
    };
    const exit = (): void => fail(new Error('the metrics endpoint thread exited'));
    const started = (message: FromEndpoint): void => {
      if (message.type === 'listening') {
        stop();
        resolve(message.port);
      } else if (message.type === 'listen-error') {
        fail(Object.assign(new Error(message.message), { code: message.code }));
      }
    };
    const stop = (): void => {
      thread.off('error', fail).off('exit', exit).off('message', started);
    };
    thread.on('error', fail).on('exit', exit).on('message', started);
  });
  thread.on('error', (error) => logger.error({ err: error }, 'metrics endpoint error'));
  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    metrics,
    markClosing() {
      closing = true;
    },
    markDraining() {
      draining = true;
    },
    close() {
      closing = true;
      if (closed === undefined) {
        thread.postMessage({ type: 'close' } satisfies ToEndpoint); // the thread closes its server and ends
        closed = exited;
      }
      return closed;
    },
  };
}
