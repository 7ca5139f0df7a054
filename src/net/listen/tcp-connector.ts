import { connect, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import { ConnectError, ConnectTimeoutError, ServiceStateError } from '../../core/errors.js';
import { TcpTransport } from '../transport/tcp-transport.js';

/** Where and how a {@link TcpConnector} connects. */
export interface TcpConnectorOptions {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  /** Connect with TLS (`tls.connect` options); plain TCP when undefined. */
  readonly tls?: ConnectionOptions | undefined;
}

/**
 * Opens TCP (or TLS) connections for a ClientService (ioredis's connectors): each attempt resolves with
 * a connected {@link TcpTransport}, after the TLS handshake when secure, or rejects with ConnectError,
 * ConnectTimeoutError, or ServiceStateError when `abortAll` ends it.
 */
export class TcpConnector {
  readonly #options: TcpConnectorOptions;
  readonly #connecting = new Set<Socket>();

  constructor(options: TcpConnectorOptions) {
    this.#options = options;
  }

  /** Attempts in progress. */
  get pendingCount(): number {
    return this.#connecting.size;
  }

  /**
   * One connection attempt: `onConnected` runs with the transport as soon as it is connected (in the
   * socket's event, so that nothing can come between), and the promise settles with what it returns
   * (rejects when that is an Error).
   */
  connect<T>(onConnected: (transport: TcpTransport) => T | Error): Promise<T> {
    const { host, port, timeoutMs, tls } = this.#options;
    return new Promise<T>((resolve, reject) => {
      const plain = { host, port, noDelay: true, allowHalfOpen: false };
      const socket = tls === undefined ? connect(plain) : connectTls({ ...tls, ...plain });
      const connectedEvent = tls === undefined ? 'connect' : 'secureConnect';
      this.#connecting.add(socket);
      const settle = (): void => {
        clearTimeout(timer);
        this.#connecting.delete(socket);
        socket.off(connectedEvent, onConnect);
        socket.off('error', onError);
        socket.off('close', onClose);
      };
      const onConnect = (): void => {
        settle();
        const result = onConnected(new TcpTransport(socket));
        if (result instanceof Error) reject(result);
        else resolve(result);
      };
      const onError = (error: Error): void => {
        settle();
        socket.destroy();
        reject(new ConnectError(host, port, error));
      };
      const onClose = (): void => {
        settle();
        reject(new ServiceStateError('connection attempt aborted: service closing'));
      };
      const timer = setTimeout(() => {
        settle();
        socket.on('error', ignoreError);
        socket.destroy();
        reject(new ConnectTimeoutError(host, port, timeoutMs));
      }, timeoutMs);
      socket.once(connectedEvent, onConnect);
      socket.once('error', onError);
      socket.once('close', onClose);
    });
  }

  /** Ends every attempt in progress (the service is closing). */
  abortAll(): void {
    for (const socket of this.#connecting) socket.destroy();
  }
}

function ignoreError(): void {}
