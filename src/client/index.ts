/**
 * gamewire/client: a game client for browsers (no Node built-ins). `GameClient` opens a WebSocket to
 * a gamewire server and speaks the same packets as a TCP client; the runtime that `gen-packets` output
 * imports is re-exported, so generated packets work through this entry alone
 * (`gamewire gen-packets proto --out src --runtime gamewire/client`).
 * @packageDocumentation
 * @module gamewire/client
 */
export {
  DEFAULT_CLIENT_KEEPALIVE_INTERVAL_MS,
  DEFAULT_CLIENT_MAX_QUEUED_BYTES,
  GameClient,
  type GameClientOptions,
  type WebSocketConstructor,
  type WebSocketLike,
} from './game-client.js';
export { describeCloseEvent, WS_CLOSE_CODE, type ClientDisconnectCause } from '../core/websocket-close.js';
export type { ClientResumeOptions } from '../core/resume/resume-options.js';
export { HEARTBEAT_PING_ID, HEARTBEAT_PONG_ID, MAX_PACKET_SIZE, PACKET_HEADER_SIZE } from '../packet/packet-header.js';
export * from '../packet/protocol-runtime.js';
