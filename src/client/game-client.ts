import { HEARTBEAT_PING_ID, HEARTBEAT_PONG_ID, PACKET_HEADER_SIZE, readPacketId, readPacketSize, writePacketHeader } from '../packet/packet-header.js';
import type { MessageInit, MessageType } from '../packet/message-type.js';
import type { PacketPeer } from '../packet/packet-peer.js';
import { DEFAULT_WS_MAX_MESSAGE_BYTES, describeCloseEvent, fitCloseReason, type ClientDisconnectCause } from '../core/websocket-close.js';

/** The part of the WebSocket API the client uses: the browser's own, Node's global one, or `ws`'s. */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string; wasClean?: boolean }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

/** A WebSocket constructor: `new (url, protocols?)`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** Options of a {@link GameClient}. */
export interface GameClientOptions {
  /** The WebSocket class; default `globalThis.WebSocket` (every browser, Node 22+). Pass `ws`'s in Node 20. */
  readonly WebSocket?: WebSocketConstructor;
  /** Largest batch of packets queued for one message before `send` refuses more, bytes. Default 256 KiB, the largest message a gamewire server accepts by default. */
  readonly maxQueuedBytes?: number;
}

/** Default `maxQueuedBytes` of a GameClient: 256 KiB (a server's default `ws.maxMessageBytes`). */
export const DEFAULT_CLIENT_MAX_QUEUED_BYTES = DEFAULT_WS_MAX_MESSAGE_BYTES;

const OPEN = 1;

/**
 * A game client for browsers, shaped like a gamewire Session: subclass it and override `onConnected`,
 * `onRecvPacket(id, body)` and `onDisconnected(cause)`; call `send`/`sendMessage` and
 * `disconnect(reason)`. It speaks the same packets as a TCP client, over a WebSocket: every binary
 * message holds whole packets, and all packets sent in one turn of the event loop leave in one message.
 * Heartbeat pings from the server are answered on their own. No Node built-ins: it runs in a browser
 * as it is, or bundled.
 *
 * ```ts
 * class Game extends GameClient {
 *   protected override onConnected() { this.sendMessage(C_LOGIN, { account: 'me' }); }
 *   protected override onRecvPacket(id: number, body: Uint8Array) { handlers.dispatch(this, id, body); }
 * }
 * new Game(`ws://${location.host}/ws`);
 * ```
 */
export class GameClient implements PacketPeer {
  readonly #socket: WebSocketLike;
  readonly #maxQueuedBytes: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  #connected = false;
  #ended = false;

  /** Opens a WebSocket to `url` (e.g. `ws://host:port/ws`); `onConnected` runs once it is open. */
  constructor(url: string, options: GameClientOptions = {}) {
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketClass === undefined) throw new TypeError('no WebSocket here: pass options.WebSocket (the ws package in Node 20)');
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_CLIENT_MAX_QUEUED_BYTES;
    const socket = new WebSocketClass(url);
    socket.binaryType = 'arraybuffer';
    socket.onopen = this.#handleOpen;
    socket.onmessage = this.#handleMessage;
    socket.onclose = this.#handleClose;
    socket.onerror = ignore; // a close event always follows, with the code that says why
    this.#socket = socket;
  }

  /** True while the WebSocket is open and `disconnect` was not called. */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Queues whole packets (header included) to leave with everything else sent this turn, in one
   * message. @returns false when not connected, or when more than `maxQueuedBytes` would be queued.
   */
  send(bytes: Uint8Array): boolean {
    if (!this.#connected) return false;
    if (this.#queuedBytes + bytes.length > this.#maxQueuedBytes) return false;
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(this.#flush);
    }
    return true;
  }

  /** Encodes `message` as packet `type` and sends it: `client.sendMessage(C_CHAT, { msg: 'hi' })`. */
  sendMessage<T>(type: MessageType<T>, message: MessageInit<T>): boolean {
    return this.connected && this.send(type.makeSendBuffer(message));
  }

  /**
   * Closes gracefully: what was sent this turn still leaves, then a close frame (1000, `reason`).
   * `onDisconnected` follows with code `LOCAL_DISCONNECT`. Calling it again does nothing.
   */
  disconnect(reason = 'disconnect'): void {
    if (!this.#connected) return;
    this.#flush();
    this.#connected = false;
    this.#socket.close(1000, fitCloseReason(reason));
  }

  /** Hook: the connection is open. */
  protected onConnected(): void {}

  /** Hook: one whole packet arrived; `body` (without header) is valid only during the call. */
  protected onRecvPacket(id: number, body: Uint8Array): void {
    void id;
    void body;
  }

  /** Hook: the connection ended, with the server's cause when it sent one. Runs once, last. */
  protected onDisconnected(cause: ClientDisconnectCause): void {
    void cause;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    const message = queue.length === 1 ? (queue[0] as Uint8Array) : concat(queue, this.#queuedBytes);
    this.#queue = [];
    this.#queuedBytes = 0;
    if (this.#socket.readyState === OPEN) this.#socket.send(message);
  };

  readonly #handleOpen = (): void => {
    this.#connected = true;
    this.onConnected();
  };

  readonly #handleMessage = (event: { data: unknown }): void => {
    if (!this.#connected) return;
    if (!(event.data instanceof ArrayBuffer)) {
      this.#protocolError(1003, 'text message; gamewire speaks binary packets');
      return;
    }
    const bytes = new Uint8Array(event.data);
    let offset = 0;
    while (offset < bytes.length) {
      if (bytes.length - offset < PACKET_HEADER_SIZE) return this.#protocolError(1002, 'a message ends inside a packet header');
      const size = readPacketSize(bytes, offset);
      if (size < PACKET_HEADER_SIZE || offset + size > bytes.length) return this.#protocolError(1002, `bad packet size ${size}`);
      const id = readPacketId(bytes, offset);
      const body = bytes.subarray(offset + PACKET_HEADER_SIZE, offset + size);
      offset += size;
      if (id === HEARTBEAT_PING_ID) this.#answerPing(body);
      else if (id !== HEARTBEAT_PONG_ID) this.onRecvPacket(id, body);
      if (!this.#connected) return;
    }
  };

  #answerPing(body: Uint8Array): void {
    const pong = new Uint8Array(PACKET_HEADER_SIZE + body.length);
    writePacketHeader(pong, 0, pong.length, HEARTBEAT_PONG_ID);
    pong.set(body, PACKET_HEADER_SIZE);
    this.send(pong);
  }

  #protocolError(code: 1002 | 1003, reason: string): void {
    this.#connected = false;
    this.#socket.close(code, fitCloseReason(reason));
  }

  readonly #handleClose = (event: { code: number; reason: string }): void => {
    if (this.#ended) return;
    this.#ended = true;
    this.#connected = false;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.onDisconnected(describeCloseEvent(event.code, event.reason));
  };
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function ignore(): void {}
