import cluster from 'node:cluster';
import type { Logger as PinoLogger } from 'pino';
import { redactUrl, resolveRedisTarget, type RedisTarget } from '../cluster/redis-target.js';
import { resolveWorkerCount, runWorkers } from '../cluster/run-workers.js';
import type { WorkerContext, WorkerServer } from '../cluster/worker-types.js';
import { DEFAULTS } from '../core/defaults.js';
import { InvalidOptionError } from '../core/errors.js';
import { intFlag, UsageError } from './command.js';
import { handleServerSignals } from './server-signals.js';
import { MAX_TIMER_MS } from '../core/timer-range.js';
import { shareWorkerObservation, startObservation, startPrimaryObservation, type ObserveSettings, type RunningObservation } from './server-observe.js';

/** The scale-out flags every server command shares. */
export const CLUSTER_FLAGS = {
  workers: { type: 'string' },
  redis: { type: 'string' },
  'redis-prefix': { type: 'string' },
  'worker-bus': { type: 'string' },
  'worker-timeout-ms': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
} as const;

/** Usage lines of {@link CLUSTER_FLAGS}. */
export const CLUSTER_USAGE = `  --workers N          worker processes sharing the port, 0 = one per core (default 1);
                       --max-sessions is then for the whole server, split evenly over the workers
  --redis URL          redis://[:password@]host:port[/db]: rooms span every server sharing this
                       Redis, database and prefix (the password is never logged)
  --redis-prefix P     key and channel prefix of this deployment in Redis (default gamewire:DB:,
                       DB the URL's database): deployments on one database need their own
  --worker-bus ipc|redis  how this server's workers reach each other: through the primary (ipc,
                       default) or each through Redis as if on separate machines (for measuring)
  --worker-timeout-ms N  a worker that does not answer the primary's heartbeat this long is
                       killed and replaced (default ${DEFAULTS.workerTimeoutMs}; docs/cluster.md)
  --drain-timeout-ms MS  SIGTERM drains first: stop accepting (/healthz answers 503 draining) and
                       let the sessions run this long, 0..${MAX_TIMER_MS}, then end the rest with
                       SERVICE_DRAINED (reconnect at once); a second SIGTERM or SIGINT closes at
                       once. With --workers, SIGHUP reloads the workers from the code on disk and
                       drains the old ones this long each (default ${DEFAULTS.drainTimeoutMs}; docs/deploying.md)`;

/** The values parseArgs gives for {@link CLUSTER_FLAGS}. */
export interface ClusterFlagValues {
  workers?: string | undefined;
  redis?: string | undefined;
  'redis-prefix'?: string | undefined;
  'worker-bus'?: string | undefined;
  'worker-timeout-ms'?: string | undefined;
  'drain-timeout-ms'?: string | undefined;
}

/** What {@link runServerCommand} needs from a server command. */
export interface ServerCommandRun {
  readonly logger: PinoLogger;
  readonly values: ClusterFlagValues;
  /** The whole server's --max-sessions. */
  readonly maxSessionCount: number;
  /** Fields of the ready line. */
  readonly details: object;
  /** How to drive the server, with {host} and {port} filled in. */
  readonly driveHint: string;
  /** Makes one worker's service (runs in each worker, or in this process with one worker). */
  readonly setup: (context: WorkerContext) => WorkerServer;
  /** The metrics endpoint and stats line asked for; with workers the primary serves their sum. */
  readonly observe?: ObserveSettings;
  /** The WebSocket port also serves the demo game page at `/`: the ready line gives its URL. */
  readonly page?: boolean;
}

/**
 * Runs a server command on `--workers` processes (one by default) and `--redis`: prints the one
 * ready line `listening on HOST:PORT` once every worker listens (and Redis is subscribed), waits for
 * SIGINT/SIGTERM, closes every worker gracefully and resolves with exit code 0. In a worker it
 * serves until the primary closes it.
 */
export async function runServerCommand(run: ServerCommandRun): Promise<number> {
  const { logger, values } = run;
  const workers = resolveWorkerCount(intFlag('workers', values.workers, 1, 0, 1024));
  const redis = redisFlags(values);
  const workerBus = values['worker-bus'] ?? 'ipc';
  if (workerBus !== 'ipc' && workerBus !== 'redis') throw new UsageError(`--worker-bus must be ipc or redis, got '${workerBus}'`);
  if (workerBus === 'redis' && redis === undefined) throw new UsageError('--worker-bus redis needs --redis');
  const workerTimeoutMs = intFlag('worker-timeout-ms', values['worker-timeout-ms'], DEFAULTS.workerTimeoutMs, 10, 2_147_483_647);
  const drainTimeoutMs = intFlag('drain-timeout-ms', values['drain-timeout-ms'], DEFAULTS.drainTimeoutMs, 0, MAX_TIMER_MS);
  // The setup runs in this process (one worker) or in each worker: keep what it made, for metrics.
  let made: WorkerServer | undefined;
  const setup = (context: WorkerContext): WorkerServer => {
    made = run.setup(context);
    if (context.role === 'worker') shareWorkerObservation(made.service, run.observe === undefined ? undefined : { ...run.observe, rooms: made.rooms ?? [] });
    return made;
  };
  const options = {
    workers,
    workerBus,
    workerTimeoutMs,
    drainTimeoutMs,
    maxSessionCount: run.maxSessionCount,
    logger,
    setup,
    ...(redis === undefined ? {} : { redis: { url: redis.url, prefix: redis.prefix } }),
  } as const;
  if (cluster.isWorker) {
    try {
      const server = await runWorkers(options);
      await server.closed;
      return 0;
    } catch {
      return 1; // already reported to the primary, which says it once for the whole server
    }
  }
  // Until the server is up, a signal closes what started (the closing starts once it is).
  let act: { drain(): void; close(): void; reload: (() => void) | undefined } = { drain() {}, close() {}, reload: undefined };
  let reloadAsked = false;
  const signal = handleServerSignals(logger, {
    drain: () => act.drain(),
    close: () => act.close(),
    reload: workers > 1 ? () => (act.reload === undefined ? (reloadAsked = true) : act.reload()) : undefined,
  });
  const server = await runWorkers(options);
  let observation: RunningObservation;
  if (server.role === 'single' && made !== undefined) {
    observation = await startObservation(logger, made.service, run.observe === undefined ? undefined : { ...run.observe, rooms: made.rooms ?? [] });
  } else {
    observation = await startPrimaryObservation(logger, run.observe, server.stats);
  }
  const hint = run.driveHint.replace('{host}', server.host).replace('{port}', String(server.port));
  const metricsOn = observation.metricsAddress === undefined ? '' : `, metrics on ${observation.metricsAddress}`;
  const wsPort = server.wsPort;
  const wsOn =
    wsPort === undefined
      ? ''
      : `, websocket listening on ${server.host}:${wsPort}${run.page === true ? ` (game page http://${server.host}:${wsPort}/)` : ''}`;
  logger.info(
    {
      host: server.host,
      port: server.port,
      workers,
      workerPids: server.workerPids(),
      ...run.details,
      // The URL carries the password: only its redacted form is ever logged.
      ...(redis === undefined ? {} : { redis: redactUrl(redis.url), redisPrefix: redis.prefix }),
      ...(wsPort === undefined ? {} : { wsPort }),
      metrics: observation.metricsAddress,
      driveWith: hint,
    },
    `listening on ${server.host}:${server.port}${wsOn}${metricsOn}`,
  );
  let finished: Promise<unknown> | undefined;
  act = {
    drain: () => {
      observation.draining();
      logger.info({ signal: 'SIGTERM', workers, drainTimeoutMs }, `draining: not accepting; sessions may run ${drainTimeoutMs} ms more (SIGTERM or SIGINT again closes now)`);
      finished = server.drain({ timeoutMs: drainTimeoutMs });
    },
    close: () => {
      observation.closing();
      logger.info({ workers }, 'closing');
      finished = server.close();
    },
    reload: () => {
      const reload = server.reload;
      if (reload === undefined) return;
      logger.info({ signal: 'SIGHUP', workers }, 'reloading the workers (SIGHUP)');
      void reload().then((result) => {
        if (!result.ok) logger.error({ error: result.error, durationMs: result.durationMs }, `reload failed: ${result.error}`);
      });
    },
  };
  if (reloadAsked) act.reload?.();
  const received = await signal;
  void received;
  if (finished === undefined) act.close(); // the signal came while the server was starting
  const totals = await server.closed.then(() => finished) as Awaited<ReturnType<typeof server.close>>;
  await observation.close();
  logger.info(totals, 'closed');
  return 0;
}

/** `--redis` and `--redis-prefix`, resolved; the error never repeats the password. */
function redisFlags(values: ClusterFlagValues): RedisTarget | undefined {
  const url = values.redis;
  const prefix = values['redis-prefix'];
  if (url === undefined) {
    if (prefix !== undefined) throw new UsageError('--redis-prefix needs --redis');
    return undefined;
  }
  try {
    return resolveRedisTarget(prefix === undefined ? url : { url, prefix });
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    if (/prefix/.test(error.message)) throw new UsageError(`--redis-prefix must be 1..100 characters, no whitespace and none of *?[]\\, got '${prefix}'`);
    throw new UsageError(`--redis must be a redis://host:port[/db] URL, got '${redactUrl(url)}'`);
  }
}
