/**
 * gamewire: the network core of a game server for Node.js, shaped like the C++ IOCP ServerCore.
 * This file is the everyday public surface: services, sessions, options, causes and errors, rooms
 * and job queues, and the runtime that `gen-packets` output imports. The byte-level building blocks
 * are in `gamewire/internals`, the sample servers' sessions in `gamewire/samples`, the load tester in
 * `gamewire/loadtest`.
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
  SendStalledError,
  SessionFactoryError,
  UnknownPacketError,
  type GamewireErrorCode,
} from './core/errors.js';
export { silentLogger, type Logger } from './core/logger.js';
export { DEFAULT_RECV_BUFFER_SIZE } from './core/recv-buffer.js';
export { DEFAULTS } from './core/defaults.js';
export { Session, type SessionState } from './net/session.js';
export type { SessionTraffic } from './net/session-traffic.js';
export { REFUSAL_REASONS, type RefusalReason, type ServiceCountersView } from './net/service-counters.js';
export { DEBUG_SESSION_ENV } from './net/session-log.js';
export type { ServiceType, SessionOwner } from './net/session-owner.js';
export {
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_DISCONNECT_TIMEOUT_MS,
  DEFAULT_FANOUT_SHARE_BYTES_PER_SECOND,
  DEFAULT_HOST,
  DEFAULT_MAX_SEND_QUEUE_PIECES,
  DEFAULT_READ_BUDGET_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
  Service,
  type ServiceOptions,
  type ServiceState,
  type SessionFactory,
} from './net/service.js';
export {
  DEFAULT_BACKLOG,
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
  DEFAULT_MAX_SESSION_COUNT,
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
  ServerService,
  type ServerServiceOptions,
} from './net/server-service.js';
export { DEFAULT_WS_MAX_MESSAGE_BYTES, DEFAULT_WS_PATH, type WebSocketListenOptions } from './net/ws-listener.js';
export type { WebSocketConnectOptions } from './net/ws-connector.js';
export { MAX_TIMER_MS } from './core/timer-range.js';
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
} from './packet/packet-header.js';
export { PacketSession, type PacketDispatcher, type PacketSessionOptions } from './packet/packet-session.js';
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
