/**
 * gamewire/cluster: one server on every core, and rooms over processes and machines. `runWorkers`
 * starts the game's setup in node:cluster workers (or in the one process); `ClusterRoom` is one room
 * over all of them, relayed through the primary (IPC) or, with `redis`, through Redis between
 * servers. A separate entry so that `import 'gamewire'` never loads the Redis client: this one does.
 * @packageDocumentation
 * @module gamewire/cluster
 */
export { runWorkers, resolveWorkerCount } from './run-workers.js';
export type {
  ClusterDrainOptions,
  ClusterServer,
  ClusterStats,
  ClusterTotals,
  ReloadResult,
  RunWorkersOptions,
  WorkerContext,
  WorkerInfo,
  WorkerServer,
} from './worker-types.js';
export type { RelayLimits } from './relay-channel.js';
export type { MoveStats } from './move-coordinator.js';
export { ClusterRoom } from '../room/cluster-room.js';
export { RoomDirectory } from '../room/room-directory.js';
export type { RoomBus, RoomBusListener, RoomBusMessage, RoomFlowListener } from '../room/room-bus.js';
export { RedisRoomBus, REDIS_PREFIX, type RedisBusStats, type RedisBusTuning } from './redis-room-bus.js';
export { redactUrl, type RedisOptions } from './redis-target.js';
export { PRESENCE_TTL_MS, RedisPresence, type RoomPresence } from './redis-presence.js';
export { useIdBlock } from '../core/id-sequence.js';
