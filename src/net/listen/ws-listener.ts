import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEFAULTS } from '../../core/defaults.js';
import { ListenError } from '../../core/errors.js';
import { routeHintOf } from '../../core/resume/resume-wire.js';
import type { Listener, ListenerOwner } from './listener.js';
import type { Refusal } from './refusal.js';
import { originAllowed, originPolicy, type OriginPolicy } from './ws-origins.js';
import { TransportWebSocket, WebSocketTransport } from '../transport/ws-transport.js';

/** Where and how a ServerService accepts WebSocket sessions. */
export interface WebSocketListenOptions {
  /** Port to listen on; 0 picks a free one. */
  readonly port: number;
  /** Address to listen on. Default: the service's host. */
  readonly host?: string;
  /** Path of the upgrade requests; other paths get 404. Default `/ws`. */
  readonly path?: string;
  /** Serve `wss://`: the key and certificate and any other TLS server option. */
  readonly tls?: TlsOptions;
  /**
   * Largest WebSocket message, bytes, both ways: a message carries one or more whole packets. A peer's
   * longer message closes its session with 1009 (`PACKET_TOO_LARGE`); what is sent to a session in
   * one turn leaves as several messages, split between packets, when it is longer. At least 65535 (the
   * largest packet). Default 262144 (256 KiB, what gamewire's clients and many others accept).
   */
  readonly maxMessageBytes?: number;
  /** Compress messages (permessage-deflate). Costs latency and CPU per message. Default false. */
  readonly perMessageDeflate?: boolean;
  /** Answers plain HTTP requests (not upgrades), e.g. a game page. Default: 404 for everything. */
  readonly onRequest?: (request: IncomingMessage, response: ServerResponse) => void;
  /**
   * How long a connection to this port may take, from its first byte, to finish its upgrade (for
   * `wss://`, its TLS handshake and its upgrade); past it, it is closed. Until then it counts against
   * `maxPendingHandshakes`, `maxPendingHandshakesPerAddress` and the open-file limit, as a TLS handshake
   * does. A plain HTTP request answered on it (`onRequest`) starts the time again. Default 5000.
   */
  readonly upgradeTimeoutMs?: number;
  /**
   * Browser pages allowed to open sessions, as origins (`https://game.example.com`), or `['*']` for
   * any. An upgrade whose `Origin` header is not allowed is answered 403. A page served by this port
   * itself (its origin's host is the request's `Host`) is always allowed, and so is a client that
   * sends no `Origin` (not a browser: bots, native clients). Default: none besides those.
   */
  readonly allowedOrigins?: readonly string[];
}

/**
 * Accepts connections on the WebSocket port, holds each in the service's gate (handshake-gate.ts)
 * from its first byte until its upgrade (its TLS handshake first, for `wss://`), parses its request
 * with a `node:http` server that never listens itself, and upgrades `GET <path>` with `ws` (`noServer`
 * mode, so limits are checked before the upgrade is answered). Each session gets a
 * {@link WebSocketTransport}. A refused upgrade (404 another path, 403 an origin not allowed, 503 the
 * service is full) is answered and its socket destroyed at once, whatever the client does next.
 */
export class WebSocketListener implements Listener {
  readonly #options: WebSocketListenOptions;
  readonly #owner: ListenerOwner;
  readonly #defaultHost: string;
  readonly #maxPayload: number;
  readonly #upgradeTimeoutMs: number;
  readonly #origins: OriginPolicy;
  readonly #path: string;
  readonly #net: NetServer;
  readonly #http: HttpServer;
  readonly #wss: WebSocketServer;
  #context: SecureContext | undefined;
  #port = 0;
  #address = '';

  /** `maxPayload`: the largest message, bytes, both ways; `defaultHost`: where to listen without `options.host`. */
  constructor(options: WebSocketListenOptions, maxPayload: number, owner: ListenerOwner, defaultHost: string) {
    this.#options = options;
    this.#owner = owner;
    this.#defaultHost = defaultHost;
    this.#maxPayload = maxPayload;
    this.#upgradeTimeoutMs = options.upgradeTimeoutMs ?? DEFAULTS.wsUpgradeTimeoutMs;
    this.#origins = originPolicy(options.allowedOrigins);
    this.#path = options.path ?? DEFAULTS.wsPath;
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload,
      perMessageDeflate: options.perMessageDeflate ?? false,
      clientTracking: false,
      skipUTF8Validation: true, // text messages are refused anyway
      WebSocket: TransportWebSocket,
    });
    this.#wss.on('wsClientError', this.#badUpgrade);
    const onRequest = options.onRequest ?? notFound;
    this.#http = createHttpServer((request, response) => {
      owner.gate.served(request.socket);
      onRequest(request, response);
    });
    this.#http.on('upgrade', this.#upgrade);
    // HTTP servers keep a socket open after the client's FIN until the answer is written.
    this.#net = createNetServer({ noDelay: true, allowHalfOpen: true }, this.#accept);
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

  /** The largest message, bytes, both ways. */
  get maxPayload(): number {
    return this.#maxPayload;
  }

  /** Listens on `host:port`; resolves with the bound port. @throws ListenError as ServerService.start() does. */
  listen(): Promise<number> {
    const host = this.#options.host ?? this.#defaultHost;
    const tls = this.#options.tls;
    if (tls !== undefined) this.#context = createSecureContext(tls);
    const server = this.#net;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(new ListenError(host, this.#options.port, error));
      server.once('error', onError);
      server.listen(this.#options.port, host, () => {
        server.off('error', onError);
        server.on('error', this.#listenerError);
        this.#port = (server.address() as AddressInfo).port;
        this.#address = host;
        resolve(this.#port);
      });
    });
  }

  /**
   * Stops accepting. Connections not yet upgraded are the service's gate's to end; open sessions are
   * the service's to close. Resolves once every connection accepted here has closed.
   */
  close(): Promise<void> {
    const server = this.#net;
    return new Promise((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  }

  get #kind(): 'ws' | 'wss' {
    return this.#options.tls === undefined ? 'ws' : 'wss';
  }

  /** A new connection: refused at once, or held in the gate until its upgrade. */
  readonly #accept = (raw: Socket): void => {
    const address = raw.remoteAddress ?? '';
    const owner = this.#owner;
    const refusal = owner.refusal(address, 'wsUpgrade');
    if (refusal !== undefined) {
      raw.on('error', ignoreError);
      raw.destroy();
      owner.refused(address, refusal, this.#kind);
      return;
    }
    const context = this.#context;
    if (context === undefined) {
      this.#http.emit('connection', owner.gate.hold(raw, 'ws', this.#upgradeTimeoutMs));
    } else {
      owner.gate.hold(raw, 'wss', this.#upgradeTimeoutMs, { context, options: this.#options.tls as TlsOptions }, this.#secure);
    }
  };

  /**
   * A plain connection another process of this server read an upgrade request from (`request`, its
   * bytes as read) and handed here: admitted as a new connection of this port, its request parsed
   * again by this listener's HTTP server.
   */
  adopt(socket: Socket, request: Buffer): void {
    socket.setNoDelay(true);
    if (request.length > 0) socket.unshift(request);
    this.#accept(socket);
  }

  /** A `wss://` connection finished its TLS handshake: its HTTP request comes next. */
  readonly #secure = (socket: TLSSocket): void => {
    this.#http.emit('connection', socket);
  };

  readonly #upgrade = (request: IncomingMessage, socket: Socket, head: Buffer): void => {
    const owner = this.#owner;
    if (!owner.gate.release(socket)) {
      socket.destroy(); // dropped by the gate meanwhile
      return;
    }
    const address = socket.remoteAddress ?? '';
    const path = (request.url ?? '').split('?', 1)[0];
    if (path !== this.#path) return this.#reject(socket, address, 404, 'wsPath');
    if (!originAllowed(request, this.#origins)) return this.#reject(socket, address, 403, 'wsOrigin');
    // A reconnect naming another worker moves now: once ws has answered, the socket cannot.
    const route = this.#context === undefined ? routeHintOf(request.url ?? '') : undefined;
    if (route !== undefined && owner.moveUpgrade?.(route, socket, requestBytes(request, head)) === true) return;
    const refusal = owner.refusal(address, 'session');
    if (refusal !== undefined) return this.#reject(socket, address, 503, refusal);
    const port = socket.remotePort ?? 0;
    this.#wss.handleUpgrade(request, socket, head, (ws: WebSocket) => {
      owner.admit(new WebSocketTransport(ws, this.secure, address, port, this.#maxPayload, socket));
    });
  };

  /** `ws` found the upgrade request bad (no key, a wrong version): answered 400 and closed. */
  readonly #badUpgrade = (_error: Error, socket: Socket): void => {
    this.#reject(socket, socket.remoteAddress ?? '', 400, 'wsUpgradeFailed');
  };

  /** Answers `status`, then destroys the socket as soon as the answer is written, whatever the client does. */
  #reject(socket: Socket, address: string, status: number, refusal: Refusal): void {
    socket.on('error', ignoreError);
    socket.once('finish', destroySocket);
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    this.#owner.refused(address, refusal, this.#kind);
  }

  readonly #listenerError = (error: Error): void => {
    this.#owner.listenerError(error, this.#kind);
  };
}

/** An upgrade request as it came: request line, headers (their raw names and order), blank line, and what followed it. */
function requestBytes(request: IncomingMessage, head: Buffer): Buffer {
  const lines = [`${request.method ?? 'GET'} ${request.url ?? '/'} HTTP/${request.httpVersion}`];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  const text = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return head.length === 0 ? text : Buffer.concat([text, head]);
}

function notFound(_request: IncomingMessage, response: ServerResponse): void {
  response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
}

function destroySocket(this: Socket): void {
  this.destroy();
}

function ignoreError(): void {}
