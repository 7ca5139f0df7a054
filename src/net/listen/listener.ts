/*
 * net/listen/: how a connection is obtained. Listeners accept (TcpListener for TCP and TLS,
 * WebSocketListener for ws and wss, the Listener contract in this file), connectors open
 * (TcpConnector, WebSocketConnector); the handshake gate bounds TLS handshakes in progress and
 * file-limit.ts reads the descriptor limit. Each hands a connected Transport to its service.
 * May import: core/, net/transport/.
 */
import type { Transport } from '../transport/transport.js';

/**
 * What a listener asks of the service that owns it. A ServerService owns one or more listeners (TCP
 * or TLS now, WebSocket next), and every one hands its connections to the same `admit`.
 */
export interface ListenerOwner {
  /** Why a new connection from `address` must be refused now (counting handshakes in progress or not), or undefined. */
  refusal(address: string, countHandshakes: boolean): string | undefined;
  /** Counts and warns about a connection refused for `why`; the listener has closed it. `transport`: its kind, default the service's TCP one. */
  refused(address: string, why: string, transport?: string): void;
  /** True while sessions plus `pendingHandshakes` leave room for one more connection. */
  hasRoom(pendingHandshakes: number): boolean;
  /** A connection is ready: refuse it or make it a session. */
  admit(transport: Transport): void;
}

/** One way a ServerService accepts connections. */
export interface Listener {
  /** The bound port, once listening. */
  readonly port: number;
  /** Connections still in a handshake (TLS, WebSocket upgrade): not sessions yet, but counted. */
  readonly pendingHandshakeCount: number;
  /** Handshakes that failed, timed out or were dropped to make room. */
  readonly handshakeFailureCount: number;
  /** Handshakes in progress from `address`. */
  pendingFrom(address: string): number;
  /** Starts listening; resolves with the bound port. Rejects when it cannot listen. */
  listen(): Promise<number>;
  /** Stops accepting and ends handshakes in progress; resolves once closed. */
  close(): Promise<void>;
}
