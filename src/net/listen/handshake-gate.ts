import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext, type TlsOptions } from 'node:tls';
import { logSafely, type Logger } from '../../core/logger.js';
import type { Refusal } from './refusal.js';

/**
 * What a held connection waits for: `tls`, its TLS handshake on the TLS port; `ws`, its WebSocket
 * upgrade; `wss`, its TLS handshake and then its upgrade.
 */
export type PendingKind = 'tls' | 'ws' | 'wss';

/** The limits of a {@link HandshakeGate}. */
export interface HandshakeLimits {
  /** Most connections held at once; at the limit one is dropped to make room for the newest. */
  readonly maxPending: number;
  /** Most connections held at once from one address; past it the new connection is refused (by the owner). */
  readonly maxPendingPerAddress: number;
}

/** What the gate asks of the service that owns it. */
export interface GateOwner {
  /** True while the sessions plus `pending` held connections leave room for one more of `kind`. */
  hasRoom(pending: number, kind: PendingKind): boolean;
  /** A held connection was closed before it became a session, for `refusal`; counted and warned about. */
  refused(address: string, refusal: Refusal, kind: PendingKind): void;
}

/** The TLS a held connection starts with. */
export interface PendingTls {
  readonly context: SecureContext;
  readonly options: TlsOptions;
}

interface Pending {
  readonly raw: Socket;
  readonly address: string;
  readonly kind: PendingKind;
  readonly timer: NodeJS.Timeout;
  readonly onSecure: ((socket: TLSSocket) => void) | undefined;
  /** A plain HTTP request was answered on it (a page served on the WebSocket port): an HTTP client, not a flood. */
  served: boolean;
}

type Why = 'evicted' | 'timed out' | 'service closing' | 'closed' | 'error';

const kGate: unique symbol = Symbol('gamewire.gate');
const kFail: unique symbol = Symbol('gamewire.gateFail');
const kSecured: unique symbol = Symbol('gamewire.gateSecured');

interface GatedSocket extends Socket {
  [kGate]?: HandshakeGate;
}

/**
 * The connections of a ServerService that are not sessions yet: TLS connections in their handshake,
 * and connections to the WebSocket port before their upgrade (after their TLS handshake for `wss`).
 * Each holds a file descriptor and memory from its first byte, so they share one budget: at most
 * `maxPending` at once, `maxPendingPerAddress` from one address, each with a deadline, and together
 * with the sessions within the descriptors the open-file limit leaves (the owner's `hasRoom`).
 *
 * When the gate is full, a new connection takes the slot of another, chosen so that a flood pays and
 * a real client does not: first one whose peer has sent nothing yet (a real client sends its
 * ClientHello or its upgrade request at once), then one from the address holding the most, then the
 * oldest. Listeners are module-level functions that find the gate through a symbol on the socket.
 */
export class HandshakeGate {
  readonly #limits: HandshakeLimits;
  readonly #owner: GateOwner;
  readonly #logger: Logger;
  readonly #pending = new Map<Socket, Pending>();
  readonly #perAddress = new Map<string, number>();
  #evicted = 0;

  constructor(limits: HandshakeLimits, owner: GateOwner, logger: Logger) {
    this.#limits = limits;
    this.#owner = owner;
    this.#logger = logger;
  }

  /** Connections held now. */
  get size(): number {
    return this.#pending.size;
  }

  /** Connections dropped to make room for newer ones. */
  get evictedCount(): number {
    return this.#evicted;
  }

  /** Connections held now from `address`. */
  pendingFrom(address: string): number {
    return this.#perAddress.get(address) ?? 0;
  }

  /** True when a new connection from `address` must be refused: that address holds its limit. */
  addressFull(address: string): boolean {
    return this.pendingFrom(address) >= this.#limits.maxPendingPerAddress;
  }

  /**
   * Holds `raw` until {@link release}: makes room first (dropping held connections while the gate
   * holds `maxPending` or the owner has no room), then starts the deadline of `timeoutMs`. With `tls`,
   * starts its TLS handshake and returns the TLSSocket over it (`onSecure` gets it once the handshake is
   * done; it stays held); else returns `raw`. A held connection that errs, closes, times out or is
   * pushed out is destroyed and reported to the owner.
   */
  hold(raw: Socket, kind: PendingKind, timeoutMs: number, tls?: PendingTls, onSecure?: (socket: TLSSocket) => void): Socket {
    while (this.#pending.size > 0 && (this.#pending.size >= this.#limits.maxPending || !this.#owner.hasRoom(this.#pending.size, kind))) {
      this.#evicted++;
      this[kFail](this.#victim(), 'evicted');
    }
    const socket: GatedSocket = tls === undefined ? raw : serverTlsSocket(raw, tls);
    const address = raw.remoteAddress ?? '';
    const timer = setTimeout(pendingTimedOut, timeoutMs, socket);
    timer.unref();
    this.#pending.set(socket, { raw, address, kind, timer, onSecure, served: false });
    this.#perAddress.set(address, this.pendingFrom(address) + 1);
    socket[kGate] = this;
    socket.on('error', pendingOnError);
    socket.on('close', pendingOnClose);
    if (tls !== undefined) socket.once('secure', pendingOnSecure);
    return socket;
  }

  /** A plain HTTP request was answered on held `socket`: its deadline starts again. */
  served(socket: Socket): void {
    const pending = this.#pending.get(socket);
    if (pending === undefined) return;
    pending.served = true;
    pending.timer.refresh();
  }

  /**
   * `socket` is no longer held: it becomes a session, or is answered and closed by its listener. False
   * when it was not held (already dropped).
   */
  release(socket: Socket): boolean {
    if (!this.#remove(socket)) return false;
    socket.off('error', pendingOnError);
    socket.off('close', pendingOnClose);
    return true;
  }

  /** Ends every held connection (the service is closing). */
  destroyAll(): void {
    for (const socket of [...this.#pending.keys()]) this[kFail](socket, 'service closing');
  }

  /**
   * The connection to drop to make room: silent before talking, then from the address with the most
   * held, then the oldest (the map is in arrival order). The gate holds at least one.
   */
  #victim(): Socket {
    let victim: Socket | undefined;
    let best = -1;
    for (const [socket, pending] of this.#pending) {
      // Silent peers rank above any talking one; among equals, the address with more held.
      const score = (pending.raw.bytesRead === 0 ? 1 << 20 : 0) + this.pendingFrom(pending.address);
      if (score > best) {
        best = score;
        victim = socket;
      }
    }
    return victim as Socket;
  }

  /** Internal (module-level listeners): a held connection ends for `why`; destroyed and reported. */
  [kFail](socket: Socket, why: Why, error?: Error): void {
    const pending = this.#pending.get(socket);
    if (pending === undefined || !this.#remove(socket)) return;
    socket.on('error', ignoreError);
    socket.destroy();
    const what = pending.kind === 'tls' ? 'TLS handshake' : 'WebSocket upgrade';
    logSafely(this.#logger, 'debug', { remoteAddress: pending.address, kind: pending.kind }, `${what} not done: ${why}${error === undefined ? '' : ` (${error.message})`}`);
    const refusal = refusalOf(pending, why);
    if (refusal !== undefined) this.#owner.refused(pending.address, refusal, pending.kind);
  }

  /** Internal (module-level listener): a held connection finished its TLS handshake. */
  [kSecured](socket: TLSSocket): void {
    this.#pending.get(socket)?.onSecure?.(socket);
  }

  #remove(socket: Socket): boolean {
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

/** How a held connection that ended for `why` is counted; undefined for an HTTP client that left. */
function refusalOf(pending: Pending, why: Why): Refusal | undefined {
  if (why === 'service closing') return 'closing';
  const tls = pending.kind === 'tls';
  if (why === 'evicted') return tls ? 'tlsHandshakeDropped' : 'wsUpgradeDropped';
  // A page's HTTP client closing its keep-alive connection, or idle past the deadline, is ordinary.
  if (pending.served) return undefined;
  if (why === 'timed out') return tls ? 'tlsHandshakeDropped' : 'wsUpgradeDropped';
  return tls ? 'tlsHandshakeFailed' : 'wsUpgradeFailed';
}

/** A server-side TLSSocket over an accepted TCP socket (the public TLSSocket API). */
function serverTlsSocket(raw: Socket, tls: PendingTls): TLSSocket {
  const options = tls.options;
  return new TLSSocket(raw, {
    isServer: true,
    secureContext: tls.context,
    requestCert: options.requestCert ?? false,
    rejectUnauthorized: options.rejectUnauthorized ?? false,
    ...(options.ALPNProtocols === undefined ? {} : { ALPNProtocols: options.ALPNProtocols }),
    ...(options.SNICallback === undefined ? {} : { SNICallback: options.SNICallback }),
  });
}

function pendingOnError(this: GatedSocket, error: Error): void {
  this[kGate]?.[kFail](this, 'error', error);
}

function pendingOnClose(this: GatedSocket): void {
  this[kGate]?.[kFail](this, 'closed');
}

function pendingOnSecure(this: GatedSocket): void {
  this[kGate]?.[kSecured](this as unknown as TLSSocket);
}

function pendingTimedOut(socket: GatedSocket): void {
  socket[kGate]?.[kFail](socket, 'timed out');
}

function ignoreError(): void {}
