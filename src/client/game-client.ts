import { HEARTBEAT_PING_ID, HEARTBEAT_PONG_ID, PACKET_HEADER_SIZE, readPacketId, readPacketSize, writePacketHeader } from '../packet/packet-header.js';
import type { MessageInit, MessageType } from '../packet/message-type.js';
import type { PacketPeer } from '../packet/packet-peer.js';
import { DEFAULTS } from '../core/defaults.js';
import { checkTimerMs } from '../core/timer-range.js';
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
  /**
   * When the client has sent nothing for this long, ms, it sends a heartbeat ping (id 65534), checked
   * four times per interval: the server hears from it at least every 1.25 intervals even if it never
   * pings, and the pong gives `heartbeatRttMs`. 0 = no pings of its own (the server's pings are still
   * answered, which alone keeps a client connected to a gamewire server with an idle timeout).
   * 1..2^31-1. Default 15000.
   */
  readonly keepaliveIntervalMs?: number;
}

/** Default `maxQueuedBytes` of a GameClient: 256 KiB (a server's default `ws.maxMessageBytes`). */
export const DEFAULT_CLIENT_MAX_QUEUED_BYTES = DEFAULT_WS_MAX_MESSAGE_BYTES;

/** Default `keepaliveIntervalMs` of a GameClient: 15 s. */
export const DEFAULT_CLIENT_KEEPALIVE_INTERVAL_MS = DEFAULTS.clientKeepaliveIntervalMs;

/** Checks of the keepalive per interval: a ping leaves 1 to 1.25 intervals after the last send. */
const KEEPALIVE_CHECKS = 4;
/** Bytes of a ping's body: the client's clock (performance.now(), ms) as float64 LE. */
const PING_BODY_SIZE = 8;

const OPEN = 1;

/**
 * A game client for browsers, shaped like a gamewire Session: subclass it and override `onConnected`,
 * `onRecvPacket(id, body)` and `onDisconnected(cause)`; call `send`/`sendMessage` and
 * `disconnect(reason)`. It speaks the same packets as a TCP client, over a WebSocket: every binary
 * message holds whole packets, and all packets sent in one turn of the event loop leave in one message.
 * Keepalive is built in (docs/protocol.md, "Heartbeats and keepalive"): the server's heartbeat pings
 * are answered on their own, and the client pings the server when it has sent nothing for
 * `keepaliveIntervalMs`, so a player who only watches stays connected. No Node built-ins: it runs in a
 * browser as it is, or bundled.
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
  readonly #keepaliveIntervalMs: number;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #flushScheduled = false;
  #connected = false;
  #ended = false;
  #keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  /** performance.now() of the last message sent (or of the open). */
  #lastSentAt = 0;
  #rttMs: number | undefined;

  /** Opens a WebSocket to `url` (e.g. `ws://host:port/ws`); `onConnected` runs once it is open. */
  constructor(url: string, options: GameClientOptions = {}) {
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketClass === undefined) throw new TypeError('no WebSocket here: pass options.WebSocket (the ws package in Node 20)');
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_CLIENT_MAX_QUEUED_BYTES;
    this.#keepaliveIntervalMs = checkTimerMs('keepaliveIntervalMs', options.keepaliveIntervalMs ?? DEFAULT_CLIENT_KEEPALIVE_INTERVAL_MS, 1, true);
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

  /** Round trip of the client's last heartbeat ping, ms; undefined until a pong came back. */
  get heartbeatRttMs(): number | undefined {
    return this.#rttMs;
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
    this.#stopKeepalive();
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
    if (this.#socket.readyState !== OPEN) return;
    this.#socket.send(message);
    this.#lastSentAt = performance.now();
  };

  readonly #handleOpen = (): void => {
    this.#connected = true;
    this.#lastSentAt = performance.now();
    const interval = this.#keepaliveIntervalMs;
    if (interval > 0) this.#keepaliveTimer = setInterval(this.#checkKeepalive, Math.max(1, interval / KEEPALIVE_CHECKS));
    this.onConnected();
  };

  readonly #checkKeepalive = (): void => {
    if (!this.#connected || this.#flushScheduled) return;
    const now = performance.now();
    if (now - this.#lastSentAt < this.#keepaliveIntervalMs) return;
    const ping = new Uint8Array(PACKET_HEADER_SIZE + PING_BODY_SIZE);
    writePacketHeader(ping, 0, ping.length, HEARTBEAT_PING_ID);
    new DataView(ping.buffer).setFloat64(PACKET_HEADER_SIZE, now, true);
    this.send(ping);
  };

  #stopKeepalive(): void {
    if (this.#keepaliveTimer !== undefined) clearInterval(this.#keepaliveTimer);
    this.#keepaliveTimer = undefined;
  }

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
      else if (id === HEARTBEAT_PONG_ID) this.#pong(body);
      else this.onRecvPacket(id, body);
      if (!this.#connected) return;
    }
  };

  #answerPing(body: Uint8Array): void {
    const pong = new Uint8Array(PACKET_HEADER_SIZE + body.length);
    writePacketHeader(pong, 0, pong.length, HEARTBEAT_PONG_ID);
    pong.set(body, PACKET_HEADER_SIZE);
    this.send(pong);
  }

  /** A pong to one of our pings carries our clock back. */
  #pong(body: Uint8Array): void {
    if (body.length !== PING_BODY_SIZE) return;
    this.#rttMs = performance.now() - new DataView(body.buffer, body.byteOffset, PING_BODY_SIZE).getFloat64(0, true);
  }

  #protocolError(code: 1002 | 1003, reason: string): void {
    this.#connected = false;
    this.#stopKeepalive();
    this.#socket.close(code, fitCloseReason(reason));
  }

  readonly #handleClose = (event: { code: number; reason: string }): void => {
    if (this.#ended) return;
    this.#ended = true;
    this.#connected = false;
    this.#stopKeepalive();
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
