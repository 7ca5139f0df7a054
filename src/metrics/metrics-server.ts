import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../core/logger.js';
import { ListenError } from '../core/errors.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';
import type { Room } from '../room/room.js';
import { GamewireMetrics } from './gamewire-metrics.js';

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
  /** Stops listening and ends open connections. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format, with prom-client's default Node metrics) and
 * `GET /healthz` (200 `ok` while serving, 503 `closing` once closing) over HTTP.
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
  const healthy = options.healthy ?? ((): boolean => true);

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(response, 405, 'text/plain', 'method not allowed\n');
    } else if (path === '/metrics') {
      source.metrics().then(
        (text) => reply(response, 200, source.contentType, text),
        (error: unknown) => {
          logger.error({ err: error }, 'metrics scrape failed');
          reply(response, 500, 'text/plain', 'metrics scrape failed\n');
        },
      );
    } else if (path === '/healthz') {
      const ok = !closing && healthy();
      reply(response, ok ? 200 : 503, 'text/plain', ok ? 'ok\n' : 'closing\n');
    } else {
      reply(response, 404, 'text/plain', 'not found: try /metrics or /healthz\n');
    }
  };

  const server: Server = createServer(handle);
  server.keepAliveTimeout = 5_000;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: options.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new ListenError(host, options.port, error);
  }
  server.on('error', (error) => logger.error({ err: error }, 'metrics endpoint error'));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    metrics,
    markClosing() {
      closing = true;
    },
    close() {
      closing = true;
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function reply(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}
