import { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../symbols.js';
import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { kernelSentBytes } from './tcp-transport.js';
import { WebSocketProtocolError } from '../../core/errors.js';
import { WS_CLOSE_CODE, wsCloseReason } from '../../core/websocket-close.js';
import type { Transport, TransportKind, TransportSink } from './transport.js';

/** Bytes of a packet header; the size field is its first u16 LE. Repeated here: net sits below packet. */
const HEADER_SIZE = 4;

/** Internal: the transport of a `ws` WebSocket (and of its TCP socket), found by the module-level listeners below. */
const kTransport: unique symbol = Symbol('gamewire.wsTransport');
/** Internal: `ws` is closing the WebSocket itself. */
const kWsClosing: unique symbol = Symbol('gamewire.wsClosing');
/** Internal: the TCP socket under the WebSocket got the peer's FIN. */
const kSocketEnded: unique symbol = Symbol('gamewire.wsSocketEnded');
/** Internal: everything written to the TCP socket is out, and our side has ended. */
const kSocketFinished: unique symbol = Symbol('gamewire.wsSocketFinished');
/** Internal: tells the sink, once, that the peer is leaving. */
const kTellLeaving: unique symbol = Symbol('gamewire.wsTellLeaving');

/** What the peer has said about leaving. */
const PEER_STAYS = 0;
/** TCP FIN without a close frame: it sends no more, and may still read. */
const PEER_FIN = 1;
/** Its close frame: it is done with the conversation; nothing it is sent now is read as data. */
const PEER_CLOSE_FRAME = 2;

/**
 * What the transport uses of a `ws` WebSocket. Declared here so that gamewire's type declarations do
 * not depend on `ws`'s (users need not install @types/ws).
 */
export interface WsSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array, options: { binary: boolean; compress: boolean; fin: boolean }, done?: (error?: Error | null) => void): void;
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

interface TaggedSocket extends Socket {
  [kTransport]?: WebSocketTransport;
}

/**
 * The `ws` WebSocket that gamewire's listener and connector make. When the peer's close frame
 * arrives (or a protocol error, reported right after), `ws` closes the WebSocket itself and says
 * nothing until the TCP connection is gone, which a peer that keeps it open delays for 30 s; sends
 * meanwhile fail and pile up in `bufferedAmount`. This class tells its transport at once, so the
 * session stops sending to a peer that has left and holds no sender of a room.
 */
export class TransportWebSocket extends WebSocket {
  declare [kTransport]?: WebSocketTransport;

  override close(code?: number, data?: string | Buffer): void {
    this[kTransport]?.[kWsClosing](code);
    super.close(code, data);
  }
}

/**
 * A connection over WebSocket (the `ws` package): every binary message carries whole packets
 * `[size u16 LE][id u16 LE][body]`, the same bytes as over TCP. One `write` is one message, or, when
 * longer than `maxMessageBytes`, several, split between packets. A text message ends the connection
 * with close code 1003, a message that ends inside a packet with 1002, an invalid frame with 1002, and
 * one over `maxMessageBytes` with 1009, so `ws` never holds more than gamewire allows. A graceful
 * `end` sends a close frame whose code and reason tell the cause. A peer's close frame or FIN is told
 * as an end at once; once both close frames are exchanged the connection is closed, whether or not the
 * peer closes its TCP side.
 */
export class WebSocketTransport implements Transport {
  readonly kind: TransportKind;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #socket: WsSocket;
  /** The TCP (or TLS) socket under the WebSocket, when known: its FIN and its finish are watched. */
  readonly #raw: Socket | undefined;
  readonly #maxMessageBytes: number;
  #sink: TransportSink | undefined;
  /** Who hears data and the completions of writes not `own` instead, if set (`deliverTo`). */
  #direct: TransportSink | undefined;
  /** True once we sent a close frame or terminated: the close that follows is ours, not the peer's. */
  #ending = false;
  #errored = false;
  #closed = false;
  /** PEER_STAYS, PEER_FIN or PEER_CLOSE_FRAME. */
  #peer = PEER_STAYS;
  /** The code of the peer's close frame, once it came. */
  #peerCloseCode: number | undefined;
  #toldEnd = false;

  /**
   * @param maxMessageBytes - largest message sent; a longer write is split between packets.
   * @param raw - the TCP or TLS socket under `socket`, to see the peer's FIN and the end of our writes.
   */
  constructor(socket: WsSocket, secure: boolean, remoteAddress: string, remotePort: number, maxMessageBytes: number, raw?: Socket) {
    this.kind = secure ? 'wss' : 'ws';
    this.#socket = socket;
    this.remoteAddress = remoteAddress;
    this.remotePort = remotePort;
    this.#maxMessageBytes = maxMessageBytes;
    this.#raw = raw;
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
    const raw = this.#raw as TaggedSocket | undefined;
    if (raw !== undefined) {
      raw[kTransport] = this;
      raw.on('end', rawOnEnd);
      raw.on('finish', rawOnFinish);
    }
  }

  deliverTo(sink: TransportSink | undefined): void {
    this.#direct = sink;
  }

  write(pieces: readonly Uint8Array[], count: number, bytes: number, own?: boolean): void {
    const message = count === 1 ? (pieces[0] as Uint8Array) : Buffer.concat(pieces.slice(0, count) as Uint8Array[], bytes);
    const done = own === true ? ignoreWritten : this.#written;
    if (bytes <= this.#maxMessageBytes) this.#socket.send(message, SEND_OPTIONS, done);
    else sendSplit(this.#socket, message, this.#maxMessageBytes, done);
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
    (this.#direct ?? this.#sink)?.[kTransportWritten](error);
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
    (this.#direct ?? this.#sink)?.[kTransportData](data);
  }

  /** Internal (module-level listener): a socket error, or a protocol error `ws` found (it closes with its own code). */
  onError(error: Error & { code?: string }): void {
    this.#errored = true;
    const code = error.code;
    if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
      this.#sink?.[kTransportError](
        code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
          ? new WebSocketProtocolError('a message over the limit (ws.maxMessageBytes)', 1009)
          : new WebSocketProtocolError(`an invalid WebSocket frame (${error.message})`, 1002),
      );
      return;
    }
    this.#sink?.[kTransportError](error);
  }

  /** Internal (module-level listener): the connection closed, after a close handshake or without one. */
  onClose(code: number): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#direct = undefined; // nothing reaches it after the close
    const sink = this.#sink;
    if (sink === undefined) return;
    if (!this.#ending && !this.#errored && !this.#toldEnd) {
      this.#toldEnd = true;
      if (code === 1006 && this.#peer === PEER_STAYS) sink[kTransportError](Object.assign(new Error('WebSocket closed without a close frame'), { code: 'ECONNRESET' }));
      else sink[kTransportEnd](this.#peer === PEER_CLOSE_FRAME, code);
    }
    sink[kTransportClosed]();
  }

  /** Internal (TransportWebSocket): `ws` closes the WebSocket itself: the peer's close frame came (or a protocol error, reported next). */
  [kWsClosing](code: number | undefined): void {
    if (this.#ending || this.#peer === PEER_CLOSE_FRAME) return;
    this.#peer = PEER_CLOSE_FRAME;
    // ws closes with the code of the peer's close frame: kept, so a drained server (1012) is told apart.
    this.#peerCloseCode = code;
    // A protocol error is reported right after this call, within the same turn: wait for it.
    process.nextTick(tellLeaving, this);
  }

  /** Internal (module-level listener): the peer's FIN. */
  [kSocketEnded](): void {
    if (this.#ending || this.#peer !== PEER_STAYS) return;
    this.#peer = PEER_FIN;
    process.nextTick(tellLeaving, this);
  }

  /**
   * Internal (module-level listener): our side of the TCP connection has ended and everything written
   * is out. After the peer's close frame that is our reply: the closing handshake is done, and the
   * connection is closed now rather than when (if ever) the peer closes its TCP side.
   */
  [kSocketFinished](): void {
    if (this.#ending || this.#peer === PEER_STAYS) return;
    this[kTellLeaving]();
    this.#ending = true;
    this.#socket.terminate();
  }

  [kTellLeaving](): void {
    if (this.#ending || this.#errored || this.#closed || this.#toldEnd) return;
    this.#toldEnd = true;
    this.#sink?.[kTransportEnd](this.#peer === PEER_CLOSE_FRAME, this.#peerCloseCode);
  }

  #refuse(closeCode: number, error: WebSocketProtocolError): void {
    this.#sink?.[kTransportError](error);
    this.#ending = true;
    this.#socket.close(closeCode, wsCloseReason(error.disconnectCode, error.message));
  }
}

const SEND_OPTIONS = { binary: true, compress: false, fin: true };

/**
 * Sends `data` as messages of at most `max` bytes, each ending between two packets (a packet longer
 * than `max` goes alone); the last one carries `done`, the completion of the whole write. Bytes that
 * are not whole packets stay with the message they are in.
 */
function sendSplit(socket: WsSocket, data: Uint8Array, max: number, done: (error?: Error | null) => void): void {
  let start = 0;
  let offset = 0;
  while (offset + HEADER_SIZE <= data.length) {
    const size = (data[offset] as number) | ((data[offset + 1] as number) << 8);
    if (size < HEADER_SIZE) break;
    if (offset + size - start > max && offset > start) {
      socket.send(data.subarray(start, offset), SEND_OPTIONS);
      start = offset;
    }
    offset += size;
  }
  socket.send(data.subarray(start), SEND_OPTIONS, done);
}

function tellLeaving(transport: WebSocketTransport): void {
  transport[kTellLeaving]();
}

function socketOnMessage(this: TaggedWebSocket, data: Buffer, isBinary: boolean): void {
  this[kTransport]?.onMessage(data, isBinary);
}

function socketOnError(this: TaggedWebSocket, error: Error): void {
  this[kTransport]?.onError(error);
}

function socketOnClose(this: TaggedWebSocket, code: number): void {
  this[kTransport]?.onClose(code);
}

function rawOnEnd(this: TaggedSocket): void {
  this[kTransport]?.[kSocketEnded]();
}

function rawOnFinish(this: TaggedSocket): void {
  this[kTransport]?.[kSocketFinished]();
}

/** The completion of a write of the resume machinery's own: not reported. */
function ignoreWritten(): void {}
