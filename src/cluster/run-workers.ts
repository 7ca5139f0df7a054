import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { DEFAULTS } from '../core/defaults.js';
import { InvalidOptionError } from '../core/errors.js';
import { checkTimerMs } from '../core/timer-range.js';
import { useIdBlock } from '../core/id-sequence.js';
import { silentLogger } from '../core/logger.js';
import { checkInteger } from '../core/options.js';
import { MAX_TIMER_MS } from '../core/timer-range.js';
import { ClusterPrimary } from './cluster-primary.js';
import { WORKER_ENV } from './cluster-messages.js';
import { runClusterWorker } from './cluster-worker.js';
import { RedisRoomBus } from './redis-room-bus.js';
import { resolveRedisTarget, type RedisTarget } from './redis-target.js';
import { resolveRelayLimits } from './relay-channel.js';
import { RoomDirectory } from '../room/room-directory.js';
import { RoomHub } from './room-hub.js';
import { RollingReload } from './rolling-reload.js';
import { shutdownOnce } from './shutdown-once.js';
import { gamewireVersion } from '../core/package-version.js';
import type { ClusterServer, ClusterTotals, RunWorkersOptions } from './worker-types.js';
import { useResumeRouter, type ResumeRouter } from '../net/resume/resume-router.js';

/** The resume identity of a server that is one process: route 0, its `server` number, nothing to route. */
function loneServer(server: number): ResumeRouter {
  return { route: 0, server, serves: () => false, handOver: () => false, attach: () => () => {} };
}

/** `workers` resolved: 0 means one per core. */
export function resolveWorkerCount(workers: number | undefined): number {
  const n = workers ?? 1;
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidOptionError('workers', n, 'an integer >= 0 (0 = one per core)');
  return n === 0 ? availableParallelism() : n;
}

/**
 * Runs a server on several cores: the same program runs as the primary and as each worker
 * (node:cluster), `setup` runs in every worker and makes its ServerService, and the workers share
 * the port (the primary accepts and hands connections round-robin). Rooms made from
 * `context.rooms` are one room over all workers, and over all servers with `redis`.
 *
 * ```ts
 * const server = await runWorkers({
 *   workers: 0, // one per core
 *   maxSessionCount: 10_000, // the whole server
 *   setup: ({ rooms, maxSessionCount }) => {
 *     const lobby = rooms.room<GameSession>('lobby');
 *     return { service: new ServerService({ port: 7777, maxSessionCount, sessionFactory: () => new GameSession(lobby) }) };
 *   },
 * });
 * if (server.role !== 'worker') process.once('SIGTERM', () => void server.close());
 * ```
 *
 * Resolves, in the primary, once every worker listens (and Redis is subscribed); in a worker, once it
 * listens. With `workers: 1` (the default) there is no cluster: `setup` runs in this process.
 * A worker that dies is replaced (its sessions are lost, the others go on).
 * @throws InvalidOptionError for a bad `workers`, `redis`, `workerTimeoutMs` or `relay`; the first
 * worker's error when one fails to start.
 */
export async function runWorkers(options: RunWorkersOptions): Promise<ClusterServer> {
  const logger = options.logger ?? silentLogger;
  if (cluster.isWorker) return runClusterWorker(options.setup, logger);
  const workers = resolveWorkerCount(options.workers);
  checkTimerMs('workerCloseTimeoutMs', options.workerCloseTimeoutMs ?? DEFAULTS.workerCloseTimeoutMs, 1);
  if (options.workerBus === 'redis' && options.redis === undefined) throw new InvalidOptionError('workerBus', 'redis', "'ipc' without a redis URL");
  const target = options.redis === undefined ? undefined : resolveRedisTarget(options.redis);
  checkInteger('workerTimeoutMs', options.workerTimeoutMs ?? DEFAULTS.workerTimeoutMs, 10, MAX_TIMER_MS);
  checkTimerMs('drainTimeoutMs', options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs, 0);
  checkTimerMs('workerStartTimeoutMs', options.workerStartTimeoutMs ?? DEFAULTS.workerStartTimeoutMs, 1);
  resolveRelayLimits(options.relay);
  const perWorker = options.workerBus === 'redis' && workers > 1;
  const redis = target === undefined || perWorker ? undefined : await RedisRoomBus.connect(target, logger);
  try {
    return workers === 1 ? await runSingle(options, redis) : await runPrimary(options, workers, redis, perWorker ? target : undefined);
  } catch (error) {
    await redis?.close();
    throw error;
  }
}

async function runSingle(options: RunWorkersOptions, redis: RedisRoomBus | undefined): Promise<ClusterServer> {
  if (redis !== undefined) useIdBlock(redis.origin);
  // With Redis, this server's number in resume tokens comes from it: unique among the servers sharing it.
  if (redis !== undefined) useResumeRouter(loneServer(await redis.nextServerNumber()));
  const rooms = new RoomDirectory(redis);
  const server = await options.setup({
    role: 'single',
    workerIndex: 0,
    workerCount: 1,
    maxSessionCount: options.maxSessionCount,
    rooms,
    logger: options.logger ?? silentLogger,
  });
  const service = server.service;
  await redis?.settled();
  await service.start();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  const finish = shutdownOnce(service, async () => {
    server.beforeClose?.();
    await service.close();
    rooms.closeAll();
    await redis?.close();
    if (redis !== undefined) useResumeRouter(undefined);
    resolveClosed();
    return { accepted: service.acceptedCount, refused: service.refusedCount };
  });
  return {
    role: 'single',
    host: service.host,
    port: service.port,
    wsPort: service.wsPort,
    workerCount: 1,
    workerPids: () => [process.pid],
    workers: () => [{ index: 0, pid: process.pid, gamewireVersion: gamewireVersion(), appVersion: server.version }],
    closed,
    close: () => finish(undefined),
    drain: (drainOptions) => finish(drainOptions?.timeoutMs ?? options.drainTimeoutMs ?? service.drainTimeoutMs),
  };
}

async function runPrimary(
  options: RunWorkersOptions,
  workers: number,
  redis: RedisRoomBus | undefined,
  perWorker: RedisTarget | undefined,
): Promise<ClusterServer> {
  let block = 0;
  const relay = resolveRelayLimits(options.relay);
  const workerEnv: Record<string, string> = { [WORKER_ENV.relay]: JSON.stringify(relay) };
  if (perWorker !== undefined) {
    workerEnv[WORKER_ENV.redis] = perWorker.url;
    workerEnv[WORKER_ENV.redisPrefix] = perWorker.prefix;
  }
  const primary = new ClusterPrimary({
    workers,
    maxSessionCount: options.maxSessionCount,
    closeTimeoutMs: options.workerCloseTimeoutMs ?? DEFAULTS.workerCloseTimeoutMs,
    logger: options.logger ?? silentLogger,
    hub: new RoomHub(redis, options.logger, relay),
    workerEnv,
    nextIdBlock: redis === undefined ? () => Promise.resolve(++block) : () => redis.nextIdBlock(),
    ...(redis === undefined ? {} : { resumeServer: await redis.nextServerNumber() }),
    ...(options.workerTimeoutMs === undefined ? {} : { workerTimeoutMs: options.workerTimeoutMs }),
  });
  const address = await primary.start();
  await redis?.settled();
  const logger = options.logger ?? silentLogger;
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULTS.drainTimeoutMs;
  const reloads = new RollingReload(primary, {
    drainTimeoutMs,
    startTimeoutMs: options.workerStartTimeoutMs ?? DEFAULTS.workerStartTimeoutMs,
    logger,
  });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: ReturnType<ClusterServer['close']> | undefined;
  return {
    role: 'primary',
    host: address.host,
    port: address.port,
    wsPort: address.wsPort,
    workerCount: workers,
    workerPids: () => primary.workerPids.filter((pid): pid is number => pid !== undefined),
    stats: () => primary.stats,
    workers: () => primary.workers,
    reload: () => reloads.reload(),
    closed,
    close: () => {
      if (closing !== undefined) void primary.close();
      return (closing ??= finishPrimary(primary.close()));
    },
    drain: (drainOptions) => (closing ??= finishPrimary(primary.drain(checkTimerMs('timeoutMs', drainOptions?.timeoutMs ?? drainTimeoutMs, 0)))),
  };
  async function finishPrimary(closed: Promise<ClusterTotals>): Promise<ClusterTotals> {
    const totals = await closed;
    await redis?.close();
    resolveClosed();
    return totals;
  }
}
