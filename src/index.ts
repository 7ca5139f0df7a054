/**
 * gamewire: the network core of a game server for Node.js, shaped like the C++ IOCP ServerCore.
 * This file is the everyday public surface: services, sessions, options and their defaults
 * (`DEFAULTS`), causes and errors, rooms and job queues, and the runtime that `gen-packets` output
 * imports. It loads no heavy dependency: the ws package only when a service is given `ws`, and
 * Redis never (workers and rooms over processes are `gamewire/cluster`). The byte-level building
 * blocks are in `gamewire/internals`, the sample servers' sessions in `gamewire/samples`, the load
 * tester in `gamewire/loadtest`, Prometheus metrics in `gamewire/metrics`, the browser client in
 * `gamewire/client`.
 * @packageDocumentation
 * @module gamewire
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
  ReplayOverflowError,
  ResumeExpiredError,
  ResumeProtocolError,
  ServiceDrainedError,
  ResumeRefusedError,
  SendQueueOverflowError,
  SendStalledError,
  SessionFactoryError,
  UnknownPacketError,
  WebSocketProtocolError,
  type GamewireErrorCode,
} from './core/errors.js';
export { silentLogger, type Logger } from './core/logger.js';
export { DEFAULTS } from './core/defaults.js';
export { Session, type SessionState } from './net/session.js';
export { isMovable, type SessionStateHooks } from './net/session-state-hooks.js';
export type { SessionTraffic } from './net/connection/session-traffic.js';
export type { ServiceCountersView, TransportCountersView } from './net/service-counters.js';
export { REFUSAL_REASONS, type RefusalReason } from './net/listen/refusal.js';
export { DEBUG_SESSION_ENV } from './net/connection/session-log.js';
export type { RateLimitAction, ServiceType, SessionOwner } from './net/session-owner.js';
export type { TransportKind } from './net/transport/transport.js';
export type { PacketOptions } from './core/packet-options.js';
export { Service, type ServiceOptions, type ServiceState, type SessionFactory } from './net/service.js';
export { ServerService, type ServerServiceOptions } from './net/server-service.js';
export type { DrainOptions } from './net/service-drain.js';
export type { ClientResumeOptions, ServerResumeOptions } from './core/resume/resume-options.js';
export type { ResumeCountersView } from './net/resume/resume-registry.js';
export type { ResumeRefusal } from './core/resume/resume-wire.js';
export type { WebSocketListenOptions } from './net/listen/ws-listener.js';
export type { WebSocketConnectOptions } from './net/listen/ws-connector.js';
export { MAX_TIMER_MS } from './core/timer-range.js';
export { ClientService, type ClientServiceOptions } from './net/client-service.js';
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
export { JobQueue, type Job, type JobQueueOptions, type JobTimer } from './jobs/job-queue.js';
export { Room, type BroadcastOptions, type RoomOptions } from './room/room.js';
export { IdSequence } from './core/id-sequence.js';
