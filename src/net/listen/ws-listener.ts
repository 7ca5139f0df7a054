import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { ListenError } from '../../core/errors.js';
import { DEFAULT_WS_MAX_MESSAGE_BYTES } from '../../core/websocket-close.js';
import type { Listener, ListenerOwner } from './listener.js';
import { WebSocketTransport } from '../transport/ws-transport.js';

export { DEFAULT_WS_MAX_MESSAGE_BYTES };
/** Default path WebSocket upgrades are accepted at. */
export const DEFAULT_WS_PATH = '/ws';
/** Default time a connection may take to send its upgrade request, ms (an HTTP slowloris bound). */
export const DEFAULT_WS_UPGRADE_TIMEOUT_MS = 10_000;

/** Where and how a ServerService accepts WebSocket sessions. */
export interface WebSocketListenOptions {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Address to listen on. Default: the service's host. */
  readonly host?: string;
  /** Path of the upgrade requests; other paths get 404. Default `/ws`. */
  readonly path?: string;
  /** Serve `wss://`: the key and certificate and any other `https.createServer` option. */
  readonly tls?: TlsOptions;
  /** Largest message accepted, bytes: it may hold several whole packets. Past it: close 1009. Default 262144. */
  readonly maxMessageBytes?: number;
  /** Compress messages (permessage-deflate). Costs latency and CPU per message. Default false. */
  readonly perMessageDeflate?: boolean;
  /** Answers plain HTTP requests (not upgrades), e.g. a game page. Default: 404 for everything. */
  readonly onRequest?: (request: IncomingMessage, response: ServerResponse) => void;
}


/**
 * The HTTP server that upgrades `GET <path>` to WebSocket (with `ws`, `noServer` mode, so limits are
 * checked before the upgrade is answered) and hands each connection to its service as a
 * {@link WebSocketTransport}. Upgrades past the service's limits are answered 503 and closed.
 */
export class WebSocketListener implements Listener {
  readonly #options: WebSocketListenOptions;
  readonly #owner: ListenerOwner;
  readonly #defaultHost: string;
  readonly #maxPayload: number;
  readonly #server: HttpServer;
  readonly #wss: WebSocketServer;
  readonly #path: string;
  #port = 0;
  #address = '';

  /** `maxPayload`: the largest message accepted, bytes; `defaultHost`: where to listen without `options.host`. */
  constructor(options: WebSocketListenOptions, maxPayload: number, owner: ListenerOwner, defaultHost: string) {
    this.#options = options;
    this.#owner = owner;
    this.#defaultHost = defaultHost;
    this.#maxPayload = maxPayload;
    this.#path = options.path ?? DEFAULT_WS_PATH;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload,
      perMessageDeflate: options.perMessageDeflate ?? false,
      clientTracking: false,
      skipUTF8Validation: true, // text messages are refused anyway
    });
    const onRequest = options.onRequest ?? notFound;
    this.#server = options.tls === undefined ? createHttpServer(onRequest) : createHttpsServer(options.tls, onRequest);
    this.#server.headersTimeout = DEFAULT_WS_UPGRADE_TIMEOUT_MS;
    this.#server.requestTimeout = DEFAULT_WS_UPGRADE_TIMEOUT_MS;
    this.#server.on('upgrade', this.#handleUpgrade);
  }

  /** The real port once listening (also for port 0). */
  get port(): number {
    return this.#port;
  }

  /** The address listened on. */
  get host(): string {
    return this.#address;
  }

  /** True for `wss://`. */
  get secure(): boolean {
    return this.#options.tls !== undefined;
  }

  /** The largest message accepted, bytes. */
  get maxPayload(): number {
    return this.#maxPayload;
  }

  /** Upgrades are answered at once when their request arrives: none is held as a handshake. */
  get pendingHandshakeCount(): number {
    return 0;
  }

  get handshakeFailureCount(): number {
    return 0;
  }

  pendingFrom(): number {
    return 0;
  }

  /** Listens on `host:port`; resolves with the bound port. @throws ListenError as ServerService.start() does. */
  listen(): Promise<number> {
    const host = this.#options.host ?? this.#defaultHost;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(new ListenError(host, this.#options.port, error));
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, host, () => {
        this.#server.off('error', onError);
        const address = this.#server.address() as AddressInfo;
        this.#port = address.port;
        this.#address = host;
        resolve(address.port);
      });
    });
  }

  /** Stops accepting; open WebSocket sessions are the service's to close. Resolves once the HTTP server is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
  }

  readonly #handleUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer): void => {
    socket.on('error', ignoreError);
    const address = socket.remoteAddress ?? '';
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== this.#path) return reject(socket, 404, 'Not Found');
    const why = this.#owner.refusal(address, true);
    if (why !== undefined) {
      reject(socket, 503, 'Service Unavailable');
      this.#owner.refused(address, why, this.secure ? 'wss' : 'ws');
      return;
    }
    const port = socket.remotePort ?? 0;
    this.#wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      this.#owner.admit(new WebSocketTransport(ws, this.secure, address, port));
    });
  };
}

function reject(socket: Socket, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function notFound(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

function ignoreError(): void {}
