import type { Socket } from 'node:net';
import { DEFAULTS } from '../../core/defaults.js';
import { TLSSocket, type SecureContext, type TlsOptions } from 'node:tls';
import { logSafely, type Logger } from '../../core/logger.js';

/** Default `maxPendingHandshakes`: TLS connections handshaking at once, over all addresses. */
export const DEFAULT_MAX_PENDING_HANDSHAKES = DEFAULTS.maxPendingHandshakes;
/** Default `maxPendingHandshakesPerAddress`: TLS connections handshaking at once from one IP address. */
export const DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS = DEFAULTS.maxPendingHandshakesPerAddress;
/** Default TLS handshake timeout, ms (Node's own is 120 s, far too long for a game server). */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = DEFAULTS.tlsHandshakeTimeoutMs;

/** The limits of a {@link HandshakeGate}. */
export interface HandshakeLimits {
  /** Most handshakes at once; at the limit the oldest one is dropped to make room for the newest. */
  readonly maxPending: number;
  /** Most handshakes at once from one address; past it the new connection is refused. */
  readonly maxPendingPerAddress: number;
  /** A handshake not done within this many ms is dropped. */
  readonly timeoutMs: number;
}

interface Pending {
  readonly raw: Socket;
  readonly address: string;
  readonly timer: NodeJS.Timeout;
}

/**
 * The TLS connections of a ServerService that are still handshaking: not sessions yet, but each holds a
 * file descriptor and memory, so they are bounded. When the gate is full, a new connection takes the
 * slot of another handshake, chosen so that a flood pays and a real client does not: first one whose
 * peer has sent nothing yet (a real client sends its ClientHello at once), then one from the address
 * holding the most handshakes (a flood comes from few addresses, a player has one handshake), then the
 * oldest. A silent peer holds its slot only until the timeout or until it is pushed out, and one
 * address cannot hold more than `maxPendingPerAddress`.
 */
export class HandshakeGate {
  readonly #pending = new Map<TLSSocket, Pending>();
  readonly #perAddress = new Map<string, number>();
  #failures = 0;
  #evicted = 0;

  constructor(
    private readonly limits: HandshakeLimits,
    private readonly tls: TlsOptions,
    private readonly logger: Logger,
  ) {}

  /** Handshakes in progress. */
  get size(): number {
    return this.#pending.size;
  }

  /** Handshakes that failed, timed out or were dropped to make room. */
  get failureCount(): number {
    return this.#failures;
  }

  /** Handshakes dropped because the gate was full (counted in `failureCount` too). */
  get evictedCount(): number {
    return this.#evicted;
  }

  /** Handshakes in progress from `address`. */
  pendingFrom(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  /** True when a new handshake from `address` must be refused: that address is at its limit. */
  addressFull(address: string): boolean {
    return this.pendingFrom(address) >= this.limits.maxPendingPerAddress;
  }

  /**
   * Starts the handshake of `raw` as a TLS server. Makes room first while the gate holds
   * `maxPending` (or `hasRoom()` says there is none) by dropping the oldest handshakes. `onSecure` gets the
   * TLS socket once the handshake is done.
   */
  start(raw: Socket, context: SecureContext, hasRoom: () => boolean, onSecure: (socket: TLSSocket) => void): void {
    while (this.#pending.size > 0 && (this.#pending.size >= this.limits.maxPending || !hasRoom())) {
      this.#evicted++;
      this.#fail(this.#victim(), 'dropped to make room for a new connection');
    }
    const tls = this.tls;
    const socket = new TLSSocket(raw, {
      isServer: true,
      secureContext: context,
      requestCert: tls.requestCert ?? false,
      rejectUnauthorized: tls.rejectUnauthorized ?? false,
      ...(tls.ALPNProtocols === undefined ? {} : { ALPNProtocols: tls.ALPNProtocols }),
    });
    const address = raw.remoteAddress ?? '';
    const timer = setTimeout(() => this.#fail(socket, 'timed out'), this.limits.timeoutMs);
    timer.unref();
    this.#pending.set(socket, { raw, address, timer });
    this.#perAddress.set(address, this.pendingFrom(address) + 1);
    const fail = (error?: Error): void => this.#fail(socket, error?.message ?? 'closed');
    socket.once('error', fail);
    socket.once('close', () => this.#fail(socket, 'closed'));
    socket.once('secure', () => {
      if (!this.#remove(socket)) return;
      socket.off('error', fail);
      onSecure(socket);
    });
  }

  /**
   * The handshake to drop to make room: silent before talking, then from the address with the most
   * handshakes, then the oldest (the map is in arrival order). The gate holds at least one.
   */
  #victim(): TLSSocket {
    let victim: TLSSocket | undefined;
    let best = -1;
    for (const [socket, pending] of this.#pending) {
      // Silent peers rank above any talking one; among equals, the address with more handshakes.
      const score = (pending.raw.bytesRead === 0 ? 1 << 20 : 0) + this.pendingFrom(pending.address);
      if (score > best) {
        best = score;
        victim = socket;
      }
    }
    return victim as TLSSocket;
  }

  /** Ends every handshake in progress (the service is closing). */
  destroyAll(): void {
    for (const socket of [...this.#pending.keys()]) this.#fail(socket, 'service closing');
  }

  #fail(socket: TLSSocket, why: string): void {
    if (!this.#remove(socket)) return;
    this.#failures++;
    logSafely(this.logger, 'debug', { remoteAddress: socket.remoteAddress }, `TLS handshake failed: ${why}`);
    socket.on('error', ignoreError);
    socket.destroy();
  }

  #remove(socket: TLSSocket): boolean {
    const pending = this.#pending.get(socket);
    if (pending === undefined) return false;
    this.#pending.delete(socket);
    clearTimeout(pending.timer);
    const left = this.pendingFrom(pending.address) - 1;
    if (left <= 0) this.#perAddress.delete(pending.address);
    else this.#perAddress.set(pending.address, left);
    return true;
  }
}

function ignoreError(): void {}
