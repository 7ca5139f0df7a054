/*
 * The types a session and the service that owns it share: the public ones (SessionOwner, ServiceType,
 * RateLimitAction) and the internal contract (SessionSettings, SessionHost, CloseListener). Types only;
 * the internal symbols are in symbols.ts. Imports nothing of net/ but types; any file may import it.
 */
import type { Logger } from '../core/logger.js';
import type { DisconnectCause } from '../core/disconnect-cause.js';
import type { PacketSettings } from '../core/packet-options.js';
import type { kSessionClosed } from './symbols.js';

/** Whether a service accepts connections (`server`) or opens them (`client`). */
export type ServiceType = 'server' | 'client';

/**
 * What a session can see of the service that owns it. `Service` implements it; the session layer does
 * not import the service layer, so the two never form a cycle.
 */
export interface SessionOwner {
  /** `server` for a {@link ServerService}, `client` for a {@link ClientService}. */
  readonly type: ServiceType;
  /** The host the service listens on or connects to. */
  readonly host: string;
  /** The port the service listens on (the real one once started, also for port 0) or connects to. */
  readonly port: number;
  /** Live sessions right now. */
  readonly sessionCount: number;
  /** The most sessions the service keeps live at once. */
  readonly maxSessionCount: number;
  /** True once `close()` has been called. */
  readonly closing: boolean;
}

/** What a session does when a peer exceeds a rate limit. */
export type RateLimitAction = 'disconnect' | 'drop';

/** Session settings a service hands to each session it attaches. See `ServiceOptions` for each. */
export interface SessionSettings {
  /** The service these settings belong to: the owner of every session attached with them. */
  readonly host: SessionHost;
  /** RecvBuffer capacity in bytes. */
  readonly recvBufferSize: number;
  /** Milliseconds a graceful disconnect may take before the socket is destroyed. */
  readonly disconnectTimeoutMs: number;
  /** Where the session reports socket and handler errors. */
  readonly logger: Logger;
  /** Bytes queued for the peer above which the session stops being `writable`. */
  readonly sendHighWaterMark: number;
  /** Bytes queued for the peer at or below which it is `writable` again. */
  readonly sendLowWaterMark: number;
  /** Bytes queued for the peer past which the session is destroyed (`SEND_QUEUE_OVERFLOW`). */
  readonly maxSendQueueBytes: number;
  /** Separate buffers a session's send queue holds before it joins them into one. */
  readonly maxSendQueuePieces: number;
  /** Milliseconds above the high mark in which the peer took no byte before `SEND_STALLED`. */
  readonly stallTimeoutMs: number;
  /** Bytes per second a source may feed each member above its high mark without being held. */
  readonly fanoutShareBytesPerSecond: number;
  /** Bytes a session reads per event-loop turn before it waits for the next; 0 = unlimited. */
  readonly readBudgetBytes: number;
  /** Stop reading from a peer while its own reads keep its session unwritable. */
  readonly pauseReadingWhenUnwritable: boolean;
  /** Milliseconds without a byte from the peer before `IDLE_TIMEOUT` (a PacketSession pings a quiet peer first); 0 = never. */
  readonly idleTimeoutMs: number;
  /** Bytes per second the peer may send; 0 = unlimited. */
  readonly maxBytesPerSecond: number;
  /** The packet limits (PacketSession applies them). */
  readonly packet: PacketSettings;
  /** What crossing a rate limit does. */
  readonly rateLimitAction: RateLimitAction;
}

/** Internal: the calls a session makes on its owner. Not part of the public API. */
export interface SessionHost extends SessionOwner {
  [kSessionClosed](session: object, cause: DisconnectCause): void;
}

/** Internal: what a close listener receives. */
export type CloseListener = (session: object, cause: DisconnectCause) => void;
