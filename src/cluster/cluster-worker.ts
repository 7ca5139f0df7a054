import type { Logger } from '../core/logger.js';
import { useIdBlock } from '../core/id-sequence.js';
import { GW, isGamewireMessage, WORKER_ENV, type ToPrimary } from './cluster-messages.js';
import { IpcRoomBus } from './ipc-room-bus.js';
import { RedisRoomBus } from './redis-room-bus.js';
import { RoomDirectory } from './room-directory.js';
import type { ClusterServer, ClusterTotals, WorkerContext, WorkerServer } from './worker-types.js';

function envInt(name: string): number | undefined {
  const value = process.env[name];
  return value === undefined ? undefined : Number(value);
}

function send(message: ToPrimary): void {
  if (process.send !== undefined && process.connected) process.send(message, undefined, {}, ignoreSendError);
}

const ignoreSignal = (): void => {};

/**
 * The worker side of `runWorkers`: runs the game's setup with its context, starts the service,
 * reports `ready`, and closes gracefully when the primary says so (or when the primary is gone).
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
  const redis = redisUrl === undefined ? undefined : await RedisRoomBus.connect(redisUrl, logger);
  const block = redis?.origin ?? envInt(WORKER_ENV.idBlock) ?? 0;
  useIdBlock(block);
  const bus = redis ?? new IpcRoomBus(block);
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
    send({ gw: GW, type: 'failed', message: error instanceof Error ? error.message : String(error) });
    // Let the process end: nothing else will come from the primary for a worker that never served.
    process.off('SIGINT', ignoreSignal);
    process.off('SIGTERM', ignoreSignal);
    await redis?.close();
    if (process.connected) process.disconnect();
    throw error;
  }
  const service = server.service;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => (resolveClosed = resolve));
  let closing: Promise<ClusterTotals> | undefined;
  const close = (): Promise<ClusterTotals> =>
    (closing ??= (async () => {
      process.off('message', onMessage);
      server.beforeClose?.();
      await service.close();
      rooms.closeAll();
      await bus.close();
      const totals = { accepted: service.acceptedCount, refused: service.refusedCount };
      send({ gw: GW, type: 'closed', ...totals });
      process.off('SIGINT', ignoreSignal);
      process.off('SIGTERM', ignoreSignal);
      process.off('disconnect', onDisconnect);
      if (process.connected) process.disconnect();
      resolveClosed();
      return totals;
    })());
  const onMessage = (raw: unknown): void => {
    if (isGamewireMessage(raw) && raw.type === 'close') void close();
  };
  const onDisconnect = (): void => void close();
  process.on('message', onMessage);
  process.on('disconnect', onDisconnect);
  send({ gw: GW, type: 'ready', host: service.host, port: service.port, wsPort: service.wsPort });
  return { role: 'worker', host: service.host, port: service.port, workerCount: context.workerCount, workerPids: () => [process.pid], closed, close };
}

/** The primary going away is handled by the 'disconnect' event; a send that races it is dropped. */
function ignoreSendError(): void {}
