import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../symbols.js';
import type { Socket } from 'node:net';
import type { DisconnectCause } from '../../core/disconnect-cause.js';
import type { Transport, TransportKind, TransportSink } from './transport.js';

/** Outgoing bytes of one write up to this size are joined into one buffer; above it, one writev. */
const CONCAT_LIMIT = 64 * 1024;

/** Where a socket finds its transport: module-level listeners, no closure per connection (ws's way). */
const kTransport: unique symbol = Symbol('gamewire.tcpTransport');

interface OwnedSocket extends Socket {
  [kTransport]?: TcpTransport;
}

/**
 * A {@link Transport} over a connected `net.Socket` or `tls.TLSSocket` (`kind` is `tls` when the
 * socket is encrypted). The socket's listeners are shared module-level functions that find this
 * transport through a symbol on the socket; the one per-connection function, the write callback, is
 * made on the first write, so an idle connection holds none.
 */
export class TcpTransport implements Transport {
  /** Internal: the socket (module listeners reach the sink through it). */
  readonly socket: Socket;
  /** Internal: who hears this transport's events; set by `open`. */
  sink: TransportSink | undefined;
  /** Internal: who hears data and the completions of writes not `own` instead, if set (`deliverTo`). */
  direct: TransportSink | undefined;
  #written: ((error?: Error | null) => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
    // Asked once now, while the socket has its handle: Node caches the peer's address on the socket,
    // so it is still known after the connection closes, and this object keeps no copy of it.
    void socket.remotePort;
  }

  get kind(): TransportKind {
    return (this.socket as { encrypted?: boolean }).encrypted === true ? 'tls' : 'tcp';
  }

  get remoteAddress(): string {
    return this.socket.remoteAddress ?? '';
  }

  get remotePort(): number {
    return this.socket.remotePort ?? 0;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get sentBytes(): number {
    return kernelSentBytes(this.socket);
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  open(sink: TransportSink): void {
    this.sink = sink;
    const socket = this.socket as OwnedSocket;
    socket[kTransport] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('error', socketOnError);
    socket.on('close', socketOnClose);
  }

  deliverTo(sink: TransportSink | undefined): void {
    this.direct = sink;
  }

  write(pieces: readonly Uint8Array[], count: number, bytes: number, own?: boolean): void {
    const socket = this.socket;
    const done = own === true ? undefined : (this.#written ??= this.#makeWritten());
    if (count === 1) {
      socket.write(pieces[0] as Uint8Array, done);
    } else if (bytes <= CONCAT_LIMIT) {
      socket.write(Buffer.concat(count === pieces.length ? pieces : pieces.slice(0, count), bytes), done);
    } else {
      socket.cork();
      for (let i = 0; i < count - 1; i++) socket.write(pieces[i] as Uint8Array);
      socket.write(pieces[count - 1] as Uint8Array, done);
      socket.uncork();
    }
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** FIN after what was written; TCP carries no close code, so `cause` is not sent. */
  end(cause: DisconnectCause): void {
    void cause;
    this.socket.end();
  }

  destroy(): void {
    // Never opened (refused, or the session factory failed): nobody listens for its errors yet.
    if (this.sink === undefined && !this.socket.destroyed) this.socket.on('error', ignoreError);
    this.socket.destroy();
  }

  #makeWritten(): (error?: Error | null) => void {
    return (error) => (this.direct ?? this.sink)?.[kTransportWritten](error);
  }
}

/** What Node's stream handle (libuv's TCP stream) tells of its writes. */
interface StreamHandle {
  /** Bytes of every write handed to libuv. */
  readonly bytesWritten?: unknown;
  /** Bytes libuv still holds of them: it drops as the kernel takes each part of a write. */
  readonly writeQueueSize?: unknown;
}

/**
 * Bytes `socket` has handed to the kernel so far, or -1 when it cannot tell. libuv writes what the
 * kernel takes and keeps the rest (`writeQueueSize`, which Node's own socket timeout watches for the
 * same reason); a TLS socket's handle counts bytes before encryption, so it is not asked.
 */
export function kernelSentBytes(socket: Socket): number {
  if ((socket as { encrypted?: boolean }).encrypted === true) return -1;
  const handle = (socket as unknown as { _handle?: StreamHandle | null })._handle;
  if (handle === undefined || handle === null) return -1;
  const written = handle.bytesWritten;
  const held = handle.writeQueueSize;
  return typeof written === 'number' && typeof held === 'number' ? written - held : -1;
}

function sinkOf(socket: Socket): TransportSink | undefined {
  return (socket as OwnedSocket)[kTransport]?.sink;
}

function socketOnData(this: Socket, chunk: Buffer): void {
  const transport = (this as OwnedSocket)[kTransport];
  if (transport !== undefined) (transport.direct ?? transport.sink)?.[kTransportData](chunk);
}

function socketOnEnd(this: Socket): void {
  sinkOf(this)?.[kTransportEnd]();
}

function socketOnError(this: Socket, error: Error): void {
  sinkOf(this)?.[kTransportError](error);
}

function socketOnClose(this: Socket): void {
  const transport = (this as OwnedSocket)[kTransport];
  const sink = transport?.sink;
  if (transport !== undefined) {
    transport.sink = undefined; // transportClosed exactly once, nothing after
    transport.direct = undefined;
  }
  sink?.[kTransportClosed]();
}

function ignoreError(): void {}
