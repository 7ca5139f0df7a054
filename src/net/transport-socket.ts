import { EventEmitter } from 'node:events';
import type { DisconnectCause } from '../core/disconnect-cause.js';
import type { Transport, TransportSink } from './transport.js';

/**
 * What a Session uses of its connection's socket: the part of `net.Socket` it calls. A TCP or TLS
 * socket is one as it is; a {@link TransportSocket} makes any other {@link Transport} (WebSocket) one.
 */
export interface SessionSocket {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly writableLength: number;
  readonly destroyed: boolean;
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'end' | 'close', listener: () => void): this;
  on(event: 'error', listener: (error: Error) => void): this;
  write(chunk: Uint8Array, done?: (error?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
  pause(): this;
  resume(): this;
  end(): this;
  destroy(): this;
}

/** A socket that can tell the peer why it is ending (a WebSocket close frame carries the cause). */
export interface CauseAwareSocket {
  endWithCause(cause: DisconnectCause): void;
}

/** True when `socket` can end with a cause. */
export function isCauseAware(socket: object): socket is CauseAwareSocket {
  return typeof (socket as Partial<CauseAwareSocket>).endWithCause === 'function';
}

/**
 * A {@link Transport} seen as a socket, so a Session drives a WebSocket exactly as it drives TCP: the
 * same receive loop, send queue, limits and causes. Writes between `cork()` and `uncork()` leave as one
 * transport write (one WebSocket message); a write outside a cork is one on its own.
 */
export class TransportSocket extends EventEmitter implements SessionSocket, CauseAwareSocket, TransportSink {
  readonly #transport: Transport;
  readonly #corked: Uint8Array[] = [];
  #corkedBytes = 0;
  #corkDepth = 0;
  /** Callbacks of writes handed to the transport, oldest first (the last write of a cork carries it). */
  readonly #callbacks: Array<((error?: Error | null) => void) | undefined> = [];
  #corkedCallback: ((error?: Error | null) => void) | undefined;

  constructor(transport: Transport) {
    super();
    this.#transport = transport;
    transport.open(this);
  }

  /** `tcp`, `tls`, `ws` or `wss`. */
  get kind(): string {
    return this.#transport.kind;
  }

  get remoteAddress(): string {
    return this.#transport.remoteAddress;
  }

  get remotePort(): number {
    return this.#transport.remotePort;
  }

  get writableLength(): number {
    return this.#transport.bufferedBytes + this.#corkedBytes;
  }

  get destroyed(): boolean {
    return this.#transport.destroyed;
  }

  write(chunk: Uint8Array, done?: (error?: Error | null) => void): boolean {
    if (this.#corkDepth > 0) {
      this.#corked.push(chunk);
      this.#corkedBytes += chunk.length;
      if (done !== undefined) this.#corkedCallback = done;
      return true;
    }
    this.#callbacks.push(done);
    this.#transport.write([chunk], 1, chunk.length);
    return true;
  }

  cork(): void {
    this.#corkDepth++;
  }

  uncork(): void {
    if (this.#corkDepth === 0 || --this.#corkDepth > 0) return;
    const pieces = this.#corked;
    if (pieces.length === 0) return;
    this.#callbacks.push(this.#corkedCallback);
    this.#corkedCallback = undefined;
    const bytes = this.#corkedBytes;
    this.#corkedBytes = 0;
    const taken = pieces.splice(0);
    this.#transport.write(taken, taken.length, bytes);
  }

  pause(): this {
    this.#transport.pause();
    return this;
  }

  resume(): this {
    this.#transport.resume();
    return this;
  }

  end(): this {
    this.#transport.end({ code: 'LOCAL_DISCONNECT', reason: '' });
    return this;
  }

  endWithCause(cause: DisconnectCause): void {
    this.#transport.end(cause);
  }

  destroy(): this {
    this.#transport.destroy();
    return this;
  }

  transportData(chunk: Buffer): void {
    this.emit('data', chunk);
  }

  transportEnd(): void {
    this.emit('end');
  }

  transportError(error: Error): void {
    this.emit('error', error);
  }

  transportClosed(): void {
    this.emit('close');
  }

  transportWritten(error: Error | null | undefined): void {
    this.#callbacks.shift()?.(error);
  }
}
