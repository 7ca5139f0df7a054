import type { Logger } from '../core/logger.js';
import { useIdBlock } from '../core/id-sequence.js';
import { toPrimary, parseToWorker, WORKER_ENV, type ToPrimaryBody } from './cluster-messages.js';
import { countDropped } from './dropped-messages.js';
import { IpcRoomBus } from './ipc-room-bus.js';
import { resolveRelayLimits, type RelayLimits, type ResolvedRelayLimits } from './relay-channel.js';
import { RedisRoomBus } from './redis-room-bus.js';
import { RoomDirectory } from '../room/room-directory.js';
import { WorkerMoves } from './worker-moves.js';
import { useResumeRouter } from '../net/resume/resume-router.js';
import { WorkerResumeRouter } from './worker-resume-router.js';
import { gamewireVersion } from '../core/package-version.js';
import { shutdownOnce } from './shutdown-once.js';
import type { ClusterServer, ClusterTotals, WorkerContext, WorkerServer } from './worker-types.js';
import { kStopAccepting } from '../net/symbols.js';

/** Longest a draining worker waits for its sessions to move before the rest simply drain, ms. */
const MOVE_ALL_TIMEOUT_MS = 10_000;

function envInt(name: string): number | undefined {
  const value = process.env[name];
  return value === undefined ? undefined : Number(value);
}

function send(body: ToPrimaryBody): void {
  if (process.send !== undefined && process.connected) process.send(toPrimary(body), undefined, {}, ignoreSendError);
}

/** The relay bounds the primary passed; the defaults when absent (a primary of an older release). */
function relayLimits(): ResolvedRelayLimits {
  try {
    return resolveRelayLimits(JSON.parse(process.env[WORKER_ENV.relay] ?? '{}') as RelayLimits);
  } catch {
    return resolveRelayLimits();
  }
}

const ignoreSignal = (): void => {};

/**
 * The worker side of `runWorkers`: runs the game's setup with its context, starts the service,
 * reports `ready`, answers the primary's heartbeat, and closes gracefully when the primary says so
 * (or when the primary is gone). Every message from the primary is checked (cluster-messages.ts): a
 * malformed one or one of a version it cannot read is counted and dropped.
 * SIGINT and SIGTERM are ignored here: Ctrl-C reaches the whole process group, and the primary
 * decides.
 */
export async function runClusterWorker(
  setup: (context: WorkerContext) => WorkerServer | Promise<WorkerServer>,
  logger: Logger,
): Promise<ClusterServer> {
  process.on('SIGINT', ignoreSignal);
  process.on('SIGTERM', ignoreSignal);
  const workerIndex = envInt(WORKER_ENV.index) ?? 0;
  const redisUrl = process.env[WORKER_ENV.redis];
  const prefix = process.env[WORKER_ENV.redisPrefix];
  const redis =
    redisUrl === undefined ? undefined : await RedisRoomBus.connect(prefix === undefined ? redisUrl : { url: redisUrl, prefix }, logger);
  const block = redis?.origin ?? envInt(WORKER_ENV.idBlock) ?? 0;
  useIdBlock(block);
  const ipc = redis === undefined ? new IpcRoomBus(block, logger, relayLimits()) : undefined;
  const bus = redis ?? (ipc as IpcRoomBus);
  let close: ((drainTimeoutMs?: number) => Promise<ClusterTotals>) | undefined;
  /** A close (undefined) or drain (its timeout) asked before the service was up. */
  let asked: { readonly drainTimeoutMs: number | undefined } | undefined;
  /** With resume over the IPC bus: this worker's side of sessions that move (made once the service is). */
  let moves: WorkerMoves | undefined;
  // Made before the game's setup: a ServerService with resume made there routes resumes through it.
  const router = WorkerResumeRouter.fromEnv(logger);
  useResumeRouter(router);
  /** Closes the listeners (a rolling reload's old worker), once the service is up. */
  let stopAccepting: (() => void) | undefined;
  // One listener for everything gamewire sends this worker, so each message is checked (and counted) once.
  const onMessage = (raw: unknown, handle?: unknown): void => {
    const message = parseToWorker(raw);
    if (message === undefined) return;
    if (typeof message === 'string' || (handle !== undefined && message.type !== 'resume-socket')) {
      countDropped('ipc', typeof message === 'string' ? message : 'malformed', logger, { from: 'primary' });
      if (handle !== undefined) WorkerResumeRouter.drop(handle);
      return;
    }
    ipc?.heard(message.v);
    switch (message.type) {
      case 'routes':
        router?.routes(message.routes);
        return;
      case 'resume-socket':
        if (router === undefined) WorkerResumeRouter.drop(handle);
        else router.handed(message, handle);
        return;
      case 'room':
      case 'flow':
      case 'sender-flow':
        ipc?.receive(message);
        return;
      case 'ping':
        send({ type: 'pong', seq: message.seq });
        return;
      case 'stop-accepting':
        // Only ever sent to a worker that said ready; one not up yet has nothing to stop.
        stopAccepting?.();
        return;
      case 'close':
        if (close === undefined) asked = { drainTimeoutMs: undefined };
        else void close();
        return;
      case 'drain':
        if (close === undefined) asked ??= { drainTimeoutMs: message.timeoutMs };
        else {
          // The drain stops accepting; meanwhile the sessions that can move leave for the new workers,
          // and the drain ends once the last session here ended (moved ones end at once).
          void close(message.timeoutMs);
          if (message.moveResumable === true) void moves?.moveAll(Math.min(message.timeoutMs, MOVE_ALL_TIMEOUT_MS));
        }
        return;
      case 'move-prepare':
      case 'move-cut':
      case 'move-in':
      case 'move-out':
      case 'move-cancel':
        moves?.receive(message);
        return;
      case 'metrics-request':
        return; // answered by the metrics layer's own listener (metrics/cluster-metrics.ts)
    }
  };
  process.on('message', onMessage);
  const rooms = new RoomDirectory(bus);
  const context: WorkerContext = {
    role: 'worker',
    workerIndex,
    workerCount: envInt(WORKER_ENV.count) ?? 1,
    maxSessionCount: envInt(WORKER_ENV.maxSessions),
    rooms,
    logger,
  };
  let server: WorkerServer;
  try {
    server = await setup(context);
    await redis?.settled();
    await server.service.start();
  } catch (error) {
    process.off('message', onMessage);
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    // Let the process end: nothing else will come from the primary for a worker that never served.
    process.off('SIGINT', ignoreSignal);
    process.off('SIGTERM', ignoreSignal);
    await redis?.close();
    if (process.connected) process.disconnect();
    throw error;
  }
  const service = server.service;
  stopAccepting = () => service[kStopAccepting]();
  // Sessions move between workers over the IPC bus only: it orders every room frame (worker-moves.ts).
  if (ipc !== undefined && service.resumeCounters !== undefined) moves = new WorkerMoves(service, rooms, ipc, logger);
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  // The heartbeat is answered until the end: a worker closing gracefully is not unresponsive.
  close = shutdownOnce(service, async (): Promise<ClusterTotals> => {
    server.beforeClose?.();
    await service.close();
    rooms.closeAll();
    await bus.close();
    const totals = { accepted: service.acceptedCount, refused: service.refusedCount };
    send({ type: 'closed', ...totals });
    process.off('message', onMessage);
    process.off('SIGINT', ignoreSignal);
    process.off('SIGTERM', ignoreSignal);
    process.off('disconnect', onDisconnect);
    if (process.connected) process.disconnect();
    resolveClosed();
    return totals;
  });
  const closeWorker = close;
  const onDisconnect = (): void => void closeWorker();
  process.on('disconnect', onDisconnect);
  send({ type: 'ready', host: service.host, port: service.port, wsPort: service.wsPort, gamewireVersion: gamewireVersion(), appVersion: server.version, moves: moves !== undefined });
  if (asked !== undefined) void closeWorker(asked.drainTimeoutMs);
  return {
    role: 'worker',
    host: service.host,
    port: service.port,
    workerCount: context.workerCount,
    workerPids: () => [process.pid],
    workers: () => [{ index: workerIndex, pid: process.pid, gamewireVersion: gamewireVersion(), appVersion: server.version }],
    closed,
    close: () => closeWorker(),
    drain: (options) => closeWorker(options?.timeoutMs ?? service.drainTimeoutMs),
  };
}

/** The primary going away is handled by the 'disconnect' event; a send that races it is dropped. */
function ignoreSendError(): void {}
