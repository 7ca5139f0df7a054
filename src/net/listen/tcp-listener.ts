import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext, type SecureContext, type TlsOptions } from 'node:tls';
import { logSafely, type Logger } from '../../core/logger.js';
import type { Listener, ListenerOwner } from './listener.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { HandshakeGate, type HandshakeLimits } from './handshake-gate.js';

/** Where and how a {@link TcpListener} listens. */
export interface TcpListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly backlog: number;
  /** Serve TLS with these options (and the handshake limits); plain TCP when undefined. */
  readonly tls?: { readonly options: TlsOptions; readonly limits: HandshakeLimits } | undefined;
  readonly logger: Logger;
  /** Errors after listening (EMFILE on accept, for example): must not crash the process. */
  readonly onError: (error: Error) => void;
}

/**
 * Accepts TCP (or TLS over TCP) connections and hands each to its owner as a {@link TcpTransport}.
 * TLS sockets are made here from accepted TCP sockets (the public TLSSocket API), so that a connection
 * is refused before its handshake, a handshake has a deadline, and close() ends handshakes in progress
 * (tls-handshakes.ts).
 */
export class TcpListener implements Listener {
  readonly #owner: ListenerOwner;
  readonly #options: TcpListenerOptions;
  readonly #handshakes: HandshakeGate | undefined;
  #context: SecureContext | undefined;
  #server: Server | undefined;
  #port: number;

  constructor(owner: ListenerOwner, options: TcpListenerOptions) {
    this.#owner = owner;
    this.#options = options;
    this.#port = options.port;
    const tls = options.tls;
    this.#handshakes = tls === undefined ? undefined : new HandshakeGate(tls.limits, tls.options, options.logger);
  }

  get port(): number {
    return this.#port;
  }

  get pendingHandshakeCount(): number {
    return this.#handshakes?.size ?? 0;
  }

  get handshakeFailureCount(): number {
    return this.#handshakes?.failureCount ?? 0;
  }

  pendingFrom(address: string): number {
    return this.#handshakes?.pendingFrom(address) ?? 0;
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
    server.on('error', options.onError);
    this.#port = (server.address() as AddressInfo).port;
    return this.#port;
  }

  close(): Promise<void> {
    this.#handshakes?.destroyAll();
    const server = this.#server;
    if (server === undefined || !server.listening) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  readonly #accept = (socket: Socket): void => {
    this.#owner.admit(new TcpTransport(socket));
  };

  readonly #handshake = (raw: Socket): void => {
    const gate = this.#handshakes as HandshakeGate;
    const address = raw.remoteAddress ?? '';
    const owner = this.#owner;
    const why = owner.refusal(address, false) ?? (gate.addressFull(address) ? 'at maxPendingHandshakesPerAddress' : undefined);
    if (why !== undefined) {
      raw.on('error', ignoreError);
      raw.destroy();
      owner.refused(address, why);
      return;
    }
    gate.start(raw, this.#context as SecureContext, () => owner.hasRoom(gate.size), this.#secure);
  };

  readonly #secure = (socket: Socket): void => {
    try {
      this.#owner.admit(new TcpTransport(socket));
    } catch (error) {
      logSafely(this.#options.logger, 'error', { err: error }, 'admitting a TLS connection failed');
    }
  };
}

function ignoreError(): void {}
