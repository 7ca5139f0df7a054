import type { Logger as PinoLogger } from 'pino';
import cluster from 'node:cluster';
import { Registry } from 'prom-client';
import type { ClusterStats } from '../cluster/worker-types.js';
import { clusterMetricsSource, registerWorkerSeries, shareWorkerMetrics } from '../metrics/cluster-metrics.js';
import { registerClusterSeries, registerPrimarySeries } from '../metrics/cluster-series.js';
import { GamewireMetrics } from '../metrics/gamewire-metrics.js';
import { serveMetrics, type MetricsServer, type ServeMetricsOptions } from '../metrics/metrics-server.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';
import type { Room } from '../room/room.js';
import { intFlag, UsageError } from './command.js';
import { exposedStatsSource, localStatsSource, ServerStatsLine, type StatsSource } from './server-stats-line.js';

/** The observability flags every server command takes. */
export const OBSERVE_FLAGS = {
  'metrics-port': { type: 'string' },
  'metrics-host': { type: 'string' },
  stats: { type: 'boolean' },
  'no-stats': { type: 'boolean' },
} as const;

/** Usage lines of {@link OBSERVE_FLAGS}. */
export const OBSERVE_USAGE = `  --metrics-port N     serve Prometheus /metrics and /healthz on this port (0 = any free one); off by default
  --metrics-host HOST  address of the metrics endpoint (default 127.0.0.1)
  --stats, --no-stats  a live stats line once a second on stderr (default: on when stderr is a terminal)
                       (GAMEWIRE_DEBUG_SESSION=<id|address>,... logs those sessions' debug traces; docs/metrics.md)`;

/** The values parseArgs gives for {@link OBSERVE_FLAGS}. */
export interface ObserveFlagValues {
  'metrics-port'?: string | undefined;
  'metrics-host'?: string | undefined;
  stats?: boolean | undefined;
  'no-stats'?: boolean | undefined;
}

/** What the observability flags ask for. */
export interface ObserveSettings {
  /** Port of the metrics endpoint; undefined = none. */
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
  readonly stats: boolean;
}

/** Parses {@link OBSERVE_FLAGS}. */
export function observeSettings(values: ObserveFlagValues): ObserveSettings {
  if (values.stats === true && values['no-stats'] === true) throw new UsageError('--stats and --no-stats exclude each other');
  const port = values['metrics-port'];
  return {
    metricsPort: port === undefined ? undefined : intFlag('metrics-port', port, 0, 0, 65535),
    metricsHost: values['metrics-host'] ?? '127.0.0.1',
    stats: values.stats ?? (values['no-stats'] === true ? false : process.stderr.isTTY === true),
  };
}

/** What a server command observes: the settings, and the rooms of its game. */
export interface ServerObservation extends ObserveSettings {
  readonly rooms?: readonly Room<Session>[];
}

/** A running metrics endpoint and stats line of a CLI server. */
export interface RunningObservation {
  /** `metrics on HOST:PORT`, for the ready line; undefined without an endpoint. */
  readonly metricsAddress: string | undefined;
  /** The server is closing: `/healthz` answers 503 and the stats line stops. */
  closing(): void;
  /** The server drains: `/healthz` answers 503 `draining`; the stats line goes on. */
  draining(): void;
  /** Closes the endpoint. */
  close(): Promise<void>;
}

/** Starts the metrics endpoint and the stats line asked for, for a single-process server. @throws ListenError for the endpoint. */
export async function startObservation(
  logger: PinoLogger,
  service: Service<Session>,
  observe: ServerObservation | undefined,
): Promise<RunningObservation> {
  const metrics =
    observe?.metricsPort === undefined ? undefined : new GamewireMetrics({ services: [service], rooms: observe.rooms ?? [] });
  return observation(logger, observe, metrics === undefined ? undefined : { metrics }, localStatsSource([service]));
}

/**
 * In a node:cluster worker of a server: when the primary serves metrics or shows the stats line,
 * this worker's series (its service and rooms) go to the primary on each of its scrapes.
 */
export function shareWorkerObservation(service: Service<Session>, observe: ServerObservation | undefined): void {
  if (observe === undefined || (observe.metricsPort === undefined && !observe.stats)) return;
  const metrics = new GamewireMetrics({ services: [service], rooms: observe.rooms ?? [] });
  registerWorkerSeries(metrics.registry, String(cluster.worker?.id ?? process.pid), () => service.sessionCount);
  shareWorkerMetrics([metrics.registry]);
}

/**
 * In the node:cluster primary of a server whose workers call {@link shareWorkerObservation}: the
 * endpoint serves the sum over the workers with the primary's own series (messages it dropped, and,
 * with `stats`, workers lost and replaced and the relay), and the stats line shows it.
 * @throws ListenError for the endpoint.
 */
export async function startPrimaryObservation(
  logger: PinoLogger,
  observe: ObserveSettings | undefined,
  stats?: () => ClusterStats,
): Promise<RunningObservation> {
  const own = new Registry();
  registerClusterSeries(own);
  if (stats !== undefined) registerPrimarySeries(own, stats);
  const source = clusterMetricsSource([own]);
  return observation(logger, observe, { source }, exposedStatsSource(source));
}

async function observation(
  logger: PinoLogger,
  observe: ObserveSettings | undefined,
  serve: Pick<ServeMetricsOptions, 'metrics' | 'source'> | undefined,
  statsSource: StatsSource,
): Promise<RunningObservation> {
  let endpoint: MetricsServer | undefined;
  if (observe?.metricsPort !== undefined && serve !== undefined) {
    endpoint = await serveMetrics({ port: observe.metricsPort, host: observe.metricsHost, logger, ...serve });
  }
  const stats = observe?.stats === true ? new ServerStatsLine(statsSource, process.stderr) : undefined;
  return {
    metricsAddress: endpoint === undefined ? undefined : `${endpoint.host}:${endpoint.port}`,
    closing() {
      endpoint?.markClosing();
      stats?.stop();
    },
    draining() {
      endpoint?.markDraining();
    },
    async close() {
      stats?.stop();
      await endpoint?.close();
    },
  };
}
