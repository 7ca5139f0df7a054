/*
 * net/listen/: how a connection is obtained. Listeners accept (TcpListener for TCP and TLS,
 * WebSocketListener for ws and wss, the Listener contract in this file), connectors open
 * (TcpConnector, WebSocketConnector); the handshake gate bounds TLS handshakes in progress and
 * file-limit.ts reads the descriptor limit. Each hands a connected Transport to its service.
 * May import: core/, net/transport/.
 */
import type { Socket } from 'node:net';
import type { HandshakeGate } from './handshake-gate.js';
import type { Refusal } from './refusal.js';
import type { Transport, TransportKind } from '../transport/transport.js';

/**
 * Where a new connection stands when its listener asks whether to refuse it: about to start its TLS
 * handshake (`tlsHandshake`), just accepted on the WebSocket port (`wsUpgrade`: a full server answers
 * its upgrade request 503 later, so `maxSessionCount` is not checked yet), or about to become a
 * session (`session`).
 */
export type AdmissionStage = 'tlsHandshake' | 'wsUpgrade' | 'session';

/**
 * What a listener asks of the service that owns it. A ServerService owns one or more listeners (TCP
 * or TLS, WebSocket), and every one hands its connections to the same `admit`.
 */
export interface ListenerOwner {
  /** The connections that are not sessions yet (TLS handshakes, WebSocket upgrades), one budget for all listeners. */
  readonly gate: HandshakeGate;
  /** Why a new connection from `address` must be refused now, at `stage`, or undefined. */
  refusal(address: string, stage: AdmissionStage): Refusal | undefined;
  /** Counts and warns about a connection of `transport` turned away for `refusal`; the listener has closed it. */
  refused(address: string, refusal: Refusal, transport: TransportKind): void;
  /** A connection is ready: refuse it or make it a session. */
  admit(transport: Transport): void;
  /** An error of a listening socket (EMFILE on accept, for example): must not crash the process. */
  listenerError(error: Error, transport: TransportKind): void;
  /**
   * A plain WebSocket upgrade request whose URL names another process of this server (`?route=N`, a
   * client reconnecting to resume): hands `socket` and `request` (the request's bytes, as read) to
   * that process. True when it left; false to upgrade it here (a single process, the route is this
   * one's or has no live process).
   */
  moveUpgrade?(route: number, socket: Socket, request: Buffer): boolean;
}

/** One way a ServerService accepts connections. */
export interface Listener {
  /** The bound port, once listening. */
  readonly port: number;
  /** Starts listening; resolves with the bound port. Rejects when it cannot listen. */
  listen(): Promise<number>;
  /** Stops accepting; resolves once every connection it accepted has closed (the service closes them). */
  close(): Promise<void>;
}
