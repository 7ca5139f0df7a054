import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ConnectError, ConnectTimeoutError, ServiceStateError } from '../../core/errors.js';
import { DEFAULTS } from '../../core/defaults.js';
import type { Transport } from '../transport/transport.js';
import { TransportWebSocket, WebSocketTransport } from '../transport/ws-transport.js';
import { withRouteHint } from '../../core/resume/resume-wire.js';

/** Where a ClientService opens WebSocket sessions. */
export interface WebSocketConnectOptions {
  /** Path of the upgrade request. Default `/ws`. */
  readonly path?: string;
  /** Use `wss://`; for a self-signed test server pass `{ rejectUnauthorized: false }` or its `ca`. */
  readonly tls?: { readonly rejectUnauthorized?: boolean; readonly ca?: string | Buffer };
  /** Compress messages (permessage-deflate). Default false. */
  readonly perMessageDeflate?: boolean;
  /**
   * Largest message, bytes, both ways: a longer one from the server closes the session with 1009, and
   * longer writes leave as several messages, split between packets. Default 262144.
   */
  readonly maxMessageBytes?: number;
}

/** Where and how a {@link WebSocketConnector} connects. */
export interface WebSocketConnectorOptions extends WebSocketConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
}

/**
 * Opens WebSocket sessions for a ClientService, in the shape of the TCP connector: each attempt
 * resolves with an open {@link WebSocketTransport} once the upgrade completed, or rejects with
 * ConnectError, ConnectTimeoutError, or ServiceStateError when `abortAll` ends it.
 */
export class WebSocketConnector {
  readonly #options: WebSocketConnectorOptions;
  readonly #connecting = new Set<TransportWebSocket>();

  constructor(options: WebSocketConnectorOptions) {
    this.#options = options;
  }

  /** Attempts in progress. */
  get pendingCount(): number {
    return this.#connecting.size;
  }

  /**
   * One attempt: `onConnected` runs with the transport as soon as it is open; the promise settles with
   * what it returns. With `resumeToken` (a reconnect to resume) the URL names the token's route
   * (`?route=N`), so a server of several workers can move the connection to the one holding the session.
   */
  connect<T>(onConnected: (transport: Transport) => T | Error, resumeToken?: Uint8Array): Promise<T> {
    const { host, port, timeoutMs, path, tls, perMessageDeflate, maxMessageBytes } = this.#options;
    const secure = tls !== undefined;
    const base = `${secure ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}${path ?? DEFAULTS.wsPath}`;
    const url = resumeToken === undefined ? base : withRouteHint(base, resumeToken);
    const maxPayload = maxMessageBytes ?? DEFAULTS.wsMaxMessageBytes;
    const socket = new TransportWebSocket(url, {
      maxPayload,
      perMessageDeflate: perMessageDeflate ?? false,
      handshakeTimeout: timeoutMs,
      skipUTF8Validation: true,
      ...(tls ?? {}),
    });
    this.#connecting.add(socket);
    // The TCP (or TLS) socket under the WebSocket, so that the transport sees the server's FIN.
    let raw: Socket | undefined;
    socket.once('upgrade', (response: IncomingMessage) => {
      raw = response.socket;
    });
    return new Promise<T>((resolve, reject) => {
      const settle = (): void => {
        this.#connecting.delete(socket);
        socket.off('open', onOpen);
        socket.off('error', onError);
      };
      const onOpen = (): void => {
        settle();
        const result = onConnected(new WebSocketTransport(socket, secure, host, port, maxPayload, raw));
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const onError = (error: Error): void => {
        const aborted = !this.#connecting.has(socket);
        settle();
        socket.on('error', ignoreError);
        socket.terminate();
        if (aborted) reject(new ServiceStateError('connection attempt aborted: service closing'));
        else if (/timed out/i.test(error.message)) reject(new ConnectTimeoutError(host, port, timeoutMs));
        else reject(new ConnectError(host, port, error));
      };
      socket.once('open', onOpen);
      socket.once('error', onError);
    });
  }

  /** Ends every attempt in progress (the service is closing). */
  abortAll(): void {
    const sockets = [...this.#connecting];
    this.#connecting.clear();
    for (const socket of sockets) socket.terminate();
  }
}

function ignoreError(): void {}
