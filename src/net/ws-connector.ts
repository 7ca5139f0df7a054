import { WebSocket } from 'ws';
import { ConnectError, ConnectTimeoutError } from '../core/errors.js';
import { WebSocketTransport } from './ws-transport.js';

/** Where a ClientService opens WebSocket sessions. */
export interface WebSocketConnectOptions {
  /** Path of the upgrade request. Default `/ws`. */
  readonly path?: string;
  /** Use `wss://`; for a self-signed test server pass `{ rejectUnauthorized: false }` or its `ca`. */
  readonly tls?: { readonly rejectUnauthorized?: boolean; readonly ca?: string | Buffer };
  /** Compress messages (permessage-deflate). Default false. */
  readonly perMessageDeflate?: boolean;
}

/**
 * Opens one WebSocket to `host:port` and resolves with its transport once the upgrade completed.
 * @throws ConnectError when the connection or the upgrade fails; ConnectTimeoutError after `timeoutMs`.
 */
export function connectWebSocket(
  host: string,
  port: number,
  options: WebSocketConnectOptions,
  maxPayload: number,
  timeoutMs: number,
): { promise: Promise<WebSocketTransport>; abort(): void } {
  const secure = options.tls !== undefined;
  const url = `${secure ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}${options.path ?? '/ws'}`;
  const socket = new WebSocket(url, {
    maxPayload,
    perMessageDeflate: options.perMessageDeflate ?? false,
    handshakeTimeout: timeoutMs,
    skipUTF8Validation: true,
    ...(options.tls ?? {}),
  });
  const promise = new Promise<WebSocketTransport>((resolve, reject) => {
    const settle = (): void => {
      socket.off('open', onOpen);
      socket.off('error', onError);
    };
    const onOpen = (): void => {
      settle();
      resolve(new WebSocketTransport(socket, secure, host, port));
    };
    const onError = (error: Error): void => {
      settle();
      socket.on('error', ignoreError);
      socket.terminate();
      reject(/timed out/i.test(error.message) ? new ConnectTimeoutError(host, port, timeoutMs) : new ConnectError(host, port, error));
    };
    socket.once('open', onOpen);
    socket.once('error', onError);
  });
  return { promise, abort: () => socket.terminate() };
}

function ignoreError(): void {}
