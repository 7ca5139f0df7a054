import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from './transport.js';
import { Socket } from 'node:net';
import type { DisconnectCause } from '../core/disconnect-cause.js';
import { kernelSentBytes } from './tcp-transport.js';
import { WebSocketProtocolError } from '../core/errors.js';
import { WS_CLOSE_CODE, wsCloseReason } from '../core/websocket-close.js';
import type { Transport, TransportKind, TransportSink } from './transport.js';

/** Bytes of a packet header; the size field is its first u16 LE. Repeated here: net sits below packet. */
const HEADER_SIZE = 4;

/** Internal: the transport of a `ws` WebSocket, found by the module-level listeners below. */
const kTransport: unique symbol = Symbol('gamewire.wsTransport');

/**
 * What the transport uses of a `ws` WebSocket. Declared here so that gamewire's type declarations do
 * not depend on `ws`'s (users need not install @types/ws).
 */
export interface WsSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array, options: { binary: boolean; compress: boolean; fin: boolean }, done: (error?: Error | null) => void): void;
  pause(): void;
  resume(): void;
  close(code: number, reason: string): void;
  terminate(): void;
  on(event: 'message', listener: (this: TaggedWebSocket, data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'error', listener: (this: TaggedWebSocket, error: Error) => void): unknown;
  on(event: 'close', listener: (this: TaggedWebSocket, code: number) => void): unknown;
}

interface TaggedWebSocket extends WsSocket {
  [kTransport]?: WebSocketTransport;
}

/**
 * A connection over WebSocket (the `ws` package): every binary message carries whole packets
 * `[size u16 LE][id u16 LE][body]`, the same bytes as over TCP, and one `write` is one message. A text
 * message ends the connection with close code 1003, a message that ends inside a packet with 1002, and
 * one over the receive limit (`maxPayload`, set from the packet limits) with 1009, so `ws` never holds
 * more than gamewire allows. A graceful `end` sends a close frame whose code and reason tell the cause.
 */
export class WebSocketTransport implements Transport {
  readonly kind: TransportKind;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: WsSocket;
  #sink: TransportSink | undefined;
  /** True once we sent a close frame or terminated: the close that follows is ours, not the peer's. */
  #ending = false;
  #closed = false;

  constructor(socket: WsSocket, secure: boolean, remoteAddress: string, remotePort: number) {
    this.kind = secure ? 'wss' : 'ws';
    this.#socket = socket;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
  }

  get bufferedBytes(): number {
    return this.#socket.bufferedAmount;
  }

  /** Bytes the underlying socket handed to the kernel (frames and all), or -1 over TLS. */
  get sentBytes(): number {
    const raw = (this.#socket as { readonly _socket?: unknown })._socket;
    return raw instanceof Socket ? kernelSentBytes(raw) : -1;
  }

  get destroyed(): boolean {
    return this.#closed;
  }

  open(sink: TransportSink): void {
    this.#sink = sink;
    const socket = this.#socket as TaggedWebSocket;
    socket[kTransport] = this;
    socket.on('message', socketOnMessage);
    socket.on('error', socketOnError);
    socket.on('close', socketOnClose);
  }

  write(pieces: readonly Uint8Array[], count: number, bytes: number): void {
    const message = count === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces.slice(0, count) as Uint8Array[], bytes);
    this.#socket.send(message, SEND_OPTIONS, this.#written);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  end(cause: DisconnectCause): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#socket.close(WS_CLOSE_CODE[cause.code], wsCloseReason(cause.code, cause.reason));
  }

  destroy(): void {
    this.#ending = true;
    this.#socket.terminate();
  }

  readonly #written = (error?: Error | null): void => {
    this.#sink?.[kTransportWritten](error);
  };

  /** Internal (module-level listener): one message from the peer. */
  onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#ending) return;
    if (!isBinary) return this.#refuse(1003, new WebSocketProtocolError('a text message; gamewire packets travel in binary messages', 1003));
    // A message holds whole packets: walk the size fields, so a packet split over two messages is
    // refused here rather than silently joined by the stream framing above.
    let offset = 0;
    while (offset + HEADER_SIZE <= data.length) {
      const size = (data[offset] as number) | ((data[offset + 1] as number) << 8);
      if (size < HEADER_SIZE) {
        offset = data.length; // malformed: the packet layer ends the session with its own cause
        break;
      }
      offset += size;
    }
    if (offset !== data.length) {
      return this.#refuse(1002, new WebSocketProtocolError('a message that ends inside a packet; every message carries whole packets', 1002));
    }
    this.#sink?.[kTransportData](data);
  }

  /** Internal (module-level listener): a socket or protocol error of `ws`. */
  onError(error: Error & { code?: string }): void {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.#sink?.[kTransportError](new WebSocketProtocolError('a message over the receive limit (maxPacketSize)', 1009));
      return;
    }
    this.#sink?.[kTransportError](error);
  }

  /** Internal (module-level listener): the connection closed, after a close handshake or without one. */
  onClose(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    const sink = this.#sink;
    if (sink === undefined) return;
    if (!this.#ending) {
      if (code === 1006) sink[kTransportError](Object.assign(new Error('WebSocket closed without a close frame'), { code: 'ECONNRESET' }));
      else sink[kTransportEnd]();
    }
    sink[kTransportClosed]();
  }

  #refuse(closeCode: number, error: WebSocketProtocolError): void {
    this.#sink?.[kTransportError](error);
    this.#ending = true;
    this.#socket.close(closeCode, wsCloseReason(error.disconnectCode, error.message));
  }
}

const SEND_OPTIONS = { binary: true, compress: false, fin: true };

function socketOnMessage(this: TaggedWebSocket, data: Buffer, isBinary: boolean): void {
  this[kTransport]?.onMessage(data, isBinary);
}

function socketOnError(this: TaggedWebSocket, error: Error): void {
  this[kTransport]?.onError(error);
}

function socketOnClose(this: TaggedWebSocket, code: number): void {
  this[kTransport]?.onClose(code);
}
