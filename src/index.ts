/**
 * gamewire: the network core of a game server for Node.js, shaped like the C++ IOCP ServerCore.
 * This file is the whole public surface; everything else is internal.
 * @packageDocumentation
 */
export { DisconnectCode, type DisconnectCause } from './core/disconnect-cause.js';
export {
  BadConsumedCountError,
  ClientStartError,
  ConnectError,
  ConnectTimeoutError,
  GamewireError,
  HandlerError,
  InvalidOptionError,
  ListenError,
  MalformedHeaderError,
  MessageTooLargeError,
  PacketTooLargeError,
  RecvBufferOverflowError,
  ServiceStateError,
  SocketError,
  BadPacketError,
  IdleTimeoutError,
  RateLimitedError,
  SendQueueOverflowError,
  UnknownPacketError,
  type GamewireErrorCode,
} from './core/errors.js';
export { silentLogger, type Logger } from './core/logger.js';
export { DEFAULT_RECV_BUFFER_SIZE, RecvBuffer } from './core/recv-buffer.js';
export { Session, type SessionState } from './net/session.js';
export type { ServiceType, SessionOwner } from './net/session-owner.js';
export {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_DISCONNECT_TIMEOUT_MS,
  DEFAULT_HOST,
  Service,
  type ServiceOptions,
  type ServiceState,
  type SessionFactory,
} from './net/service.js';
export { DEFAULT_BACKLOG, DEFAULT_MAX_SESSION_COUNT, ServerService, type ServerServiceOptions } from './net/server-service.js';
export {
  ClientService,
  DEFAULT_CONNECT_CONCURRENCY,
  DEFAULT_CONNECT_TIMEOUT_MS,
  type ClientServiceOptions,
} from './net/client-service.js';
export {
  HEARTBEAT_PING_ID,
  HEARTBEAT_PONG_ID,
  MAX_MESSAGE_ID,
  MAX_PACKET_ID,
  MAX_PACKET_SIZE,
  PACKET_HEADER_SIZE,
  readPacketId,
  readPacketSize,
  writePacketHeader,
} from './packet/packet-header.js';
export { PacketScanner, type PacketSink } from './packet/packet-scanner.js';
export { EchoSession, PacketEchoSession, RawEchoSession } from './samples/echo-session.js';
export { PacketSession, type PacketSessionOptions } from './packet/packet-session.js';
export {
  DEFAULT_SEND_BUFFER_CHUNK_SIZE,
  SendBufferManager,
  sendBufferManager,
  type SendBufferCursor,
} from './packet/send-buffer.js';
export * from './packet/protocol-runtime.js';
export { DEFAULT_JOB_BUDGET_MS, JobQueue, type Job, type JobQueueOptions, type JobTimer } from './jobs/job-queue.js';
export { DEFAULT_ROOM_MAX_MEMBERS, Room, type BroadcastOptions, type RoomOptions } from './room/room.js';
export { IdSequence, useIdBlock } from './core/id-sequence.js';
export { runWorkers, resolveWorkerCount } from './cluster/run-workers.js';
export { ClusterRoom } from './cluster/cluster-room.js';
export { RoomDirectory } from './cluster/room-directory.js';
export type { RoomBus, RoomBusListener, RoomBusMessage } from './cluster/room-bus.js';
export { RedisRoomBus, REDIS_PREFIX, type RedisBusStats, type RedisBusTuning } from './cluster/redis-room-bus.js';
export { PRESENCE_TTL_MS, RedisPresence, type RoomPresence } from './cluster/redis-presence.js';
export type { ClusterServer, ClusterTotals, RunWorkersOptions, WorkerContext, WorkerServer } from './cluster/worker-types.js';
