import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TLSSocket, type TlsOptions } from 'node:tls';
import { logSafely, type Logger } from '../../core/logger.js';
import type { Listener, ListenerOwner } from './listener.js';
import { TcpTransport } from '../transport/tcp-transport.js';

/** Where and how a {@link TcpListener} listens. */
export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly backlog: number;
  /** Serve TLS with these options, each handshake done within `timeoutMs`; plain TCP when undefined. */
  readonly tls?: { readonly options: TlsOptions; readonly timeoutMs: number } | undefined;
  readonly logger: Logger;
}

/**
 * Accepts TCP (or TLS over TCP) connections and hands each to its owner as a {@link TcpTransport}.
 * TLS sockets are made here from accepted TCP sockets (the public TLSSocket API), so that a connection
 * is refused before its handshake, and its handshake is held by the service's gate (handshake-gate.ts):
 * bounded, with a deadline, ended when the service closes.
 */
export class TcpListener implements Listener {
  readonly #owner: ListenerOwner;
  readonly #options: TcpListenerOptions;
  #context: SecureContext | undefined;
  #server: Server | undefined;
  #port: number;

  constructor(owner: ListenerOwner, options: TcpListenerOptions) {
    this.#owner = owner;
    this.#options = options;
    this.#port = options.port;
  }

  get port(): number {
    return this.#port;
  }

  async listen(): Promise<number> {
    const options = this.#options;
    if (options.tls !== undefined) this.#context = createSecureContext(options.tls.options);
    const server = createServer({ noDelay: true, allowHalfOpen: false }, this.#context === undefined ? this.#accept : this.#handshake);
    this.#server = server;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: options.host, port: options.port, backlog: options.backlog }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.#server = undefined;
      throw error;
    }
    server.on('error', this.#listenerError);
    this.#port = (server.address() as AddressInfo).port;
    return this.#port;
  }

  close(): Promise<void> {
    const server = this.#server;
    if (server === undefined || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  readonly #accept = (socket: Socket): void => {
    this.#owner.admit(new TcpTransport(socket));
  };

  readonly #handshake = (raw: Socket): void => {
    const address = raw.remoteAddress ?? '';
    const owner = this.#owner;
    const refusal = owner.refusal(address, 'tlsHandshake');
    if (refusal !== undefined) {
      raw.on('error', ignoreError);
      raw.destroy();
      owner.refused(address, refusal, 'tls');
      return;
    }
    const tls = this.#options.tls as NonNullable<TcpListenerOptions['tls']>;
    owner.gate.hold(raw, 'tls', tls.timeoutMs, { context: this.#context as SecureContext, options: tls.options }, this.#secure);
  };

  readonly #secure = (socket: TLSSocket): void => {
    if (!this.#owner.gate.release(socket)) return;
    try {
      this.#owner.admit(new TcpTransport(socket));
    } catch (error) {
      logSafely(this.#options.logger, 'error', { err: error }, 'admitting a TLS connection failed');
    }
  };

  readonly #listenerError = (error: Error): void => {
    this.#owner.listenerError(error, this.#options.tls === undefined ? 'tcp' : 'tls');
  };
}

function ignoreError(): void {}
