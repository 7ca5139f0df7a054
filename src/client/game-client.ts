import { HEARTBEAT_PING_ID, HEARTBEAT_PONG_ID, PACKET_HEADER_SIZE, readPacketId, readPacketSize, writePacketHeader } from '../packet/packet-header.js';
import type { MessageInit, MessageType } from '../packet/message-type.js';
import type { PacketPeer } from '../packet/packet-peer.js';
import { DEFAULTS } from '../core/defaults.js';
import { checkTimerMs } from '../core/timer-range.js';
import { describeCloseEvent, fitCloseReason, type ClientDisconnectCause } from '../core/websocket-close.js';
import { resolveClientResume, type ClientResumeOptions } from '../core/resume/resume-options.js';
import { decodeBye, encodeBye, isResumeId, RESUME_BYE_ID, RESUME_MOVE_ID, RESUME_REFUSED_ID, RESUME_RESUMED_ID, withRouteHint } from '../core/resume/resume-wire.js';
import { ClientResume } from './client-resume.js';

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
  /**
   * Survive a dropped connection (docs/resume.md): the client asks the server for resume (HELLO); when
   * the connection drops it reconnects by itself with exponential backoff and jitter
   * (`onConnectionLost`, `onReconnecting`), resumes (`onResumed`), and every packet arrives once and in
   * order, both ways. `{}` takes the defaults (`reconnectDelayMs` 250, `maxReconnectDelayMs` 5000,
   * `maxReplayBytes` 1048576). A server without resume gives a plain connection. Default: off.
   */
  readonly resume?: ClientResumeOptions;
}

/** Default `maxQueuedBytes` of a GameClient: 256 KiB (a server's default `ws.maxMessageBytes`). */
export const DEFAULT_CLIENT_MAX_QUEUED_BYTES = DEFAULTS.wsMaxMessageBytes;

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
  #socket: WebSocketLike;
  readonly #url: string;
  readonly #WebSocket: WebSocketConstructor;
  /** Resume state, with the `resume` option. */
  readonly #resume: ClientResume | undefined;
  /** The connection dropped and the client is reconnecting (resume): sends are kept, not sent. */
  #suspended = false;
  /** A reconnection is open and RESUME sent: its first packet is the answer. */
  #handshaking = false;
  /** The server said BYE with this cause: the close that follows is not a drop. */
  #byeCause: ClientDisconnectCause | undefined;
  #ackTimer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
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
  /**
   * performance.now() when the current connection began carrying the session (its open, or the
   * resume): a pong to a ping sent before it answers a ping of an earlier connection, replayed after
   * a resume, and its round trip would count the time the client was away.
   */
  #since = 0;

  /** Opens a WebSocket to `url` (e.g. `ws://host:port/ws`); `onConnected` runs once it is open. */
  constructor(url: string, options: GameClientOptions = {}) {
    const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketClass === undefined) throw new TypeError('no WebSocket here: pass options.WebSocket (the ws package in Node 20)');
    this.#maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_CLIENT_MAX_QUEUED_BYTES;
    this.#keepaliveIntervalMs = checkTimerMs('keepaliveIntervalMs', options.keepaliveIntervalMs ?? DEFAULT_CLIENT_KEEPALIVE_INTERVAL_MS, 1, true);
    const resume = resolveClientResume(options.resume);
    this.#resume = resume === undefined ? undefined : new ClientResume(resume);
    this.#url = url;
    this.#WebSocket = WebSocketClass;
    this.#socket = this.#open();
  }

  /**
   * A new WebSocket to the url, its events bound to this client while it is the current one. A
   * reconnect to resume names the token's route in the URL (`?route=N`), so that a server of several
   * workers moves it to the one that holds the session.
   */
  #open(): WebSocketLike {
    const token = this.#suspended ? this.#resume?.token : undefined;
    const socket = new this.#WebSocket(token === undefined ? this.#url : withRouteHint(this.#url, token));
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      if (socket === this.#socket) this.#handleOpen();
    };
    socket.onmessage = (event) => {
      if (socket === this.#socket) this.#handleMessage(event);
    };
    socket.onclose = (event) => {
      if (socket === this.#socket) this.#handleClose(event);
    };
    socket.onerror = ignore; // a close event always follows, with the code that says why
    return socket;
  }

  /** True once the server granted resume (WELCOME): a dropped connection is then resumed. */
  get resumable(): boolean {
    return this.#resume?.resumable === true;
  }

  /** True while the connection dropped and the client is reconnecting to resume. */
  get suspended(): boolean {
    return this.#suspended;
  }

  /** True while the WebSocket is open and `disconnect` was not called; also while resuming (sends are kept for the server). */
  get connected(): boolean {
    return this.#connected;
  }

  /**
   * Round trip of the client's last heartbeat ping, ms; undefined until a pong came back. After a
   * resume, pongs to pings sent before it do not count (their round trip would include the time away).
   */
  get heartbeatRttMs(): number | undefined {
    return this.#rttMs;
  }

  /**
   * Queues whole packets (header included) to leave with everything else sent this turn, in one
   * message.
   * @returns true when queued: while connected, and with `resume` while suspended or resuming (kept and
   *   sent once the server took the session back). False (nothing is sent) before the connection
   *   opened, after `disconnect()` or `onDisconnected`, and when more than `maxQueuedBytes` would be
   *   queued this turn.
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
    if (this.#suspended) return this.#end({ code: 'LOCAL_DISCONNECT', reason, closeCode: 1000 });
    // A resumable session is ended at once on the server too, not kept for the grace period.
    if (this.resumable && this.#socket.readyState === OPEN) this.#socket.send(encodeBye(reason));
    this.#socket.close(1000, fitCloseReason(reason));
  }

  /** Hook: the connection is open. */
  protected onConnected(): void {}

  /** Hook: one whole packet arrived; `body` (without header) is valid only during the call. */
  protected onRecvPacket(id: number, body: Uint8Array): void {
    void id;
    void body;
  }

  /** Hook (resume): the connection dropped; the client reconnects and resumes by itself. */
  protected onConnectionLost(cause: ClientDisconnectCause): void {
    void cause;
  }

  /** Hook (resume): reconnect attempt `attempt` (from 0) starts in `delayMs`. */
  protected onReconnecting(attempt: number, delayMs: number): void {
    void attempt;
    void delayMs;
  }

  /** Hook (resume): the server took the session back; what was missed arrives next, then the rest. */
  protected onResumed(): void {}

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
    const resume = this.#resume;
    if (resume !== undefined) {
      resume.sent(message);
      if (resume.overflowed) return this.#giveUp('REPLAY_OVERFLOW', 'more than resume.maxReplayBytes sent and not acknowledged by the server');
      if (this.#suspended || this.#handshaking) return; // kept: it leaves with the resume
      const ack = resume.ackDue();
      if (ack !== undefined && this.#socket.readyState === OPEN) {
        this.#socket.send(concat([ack, message], ack.length + message.length));
        this.#lastSentAt = performance.now();
        return;
      }
    }
    if (this.#socket.readyState !== OPEN) return;
    this.#socket.send(message);
    this.#lastSentAt = performance.now();
  };

  #handleOpen(): void {
    const resume = this.#resume;
    if (this.#suspended && resume !== undefined) {
      // A reconnection: RESUME only, until the server answers.
      this.#handshaking = true;
      this.#socket.send(resume.request());
      return;
    }
    this.#connected = true;
    this.#lastSentAt = performance.now();
    const interval = this.#keepaliveIntervalMs;
    if (interval > 0) this.#keepaliveTimer = setInterval(this.#checkKeepalive, Math.max(1, interval / KEEPALIVE_CHECKS));
    if (resume !== undefined) {
      this.#socket.send(resume.hello());
      this.#ackTimer = setInterval(this.#ackTick, DEFAULTS.resumeAckIntervalMs);
    }
    this.onConnected();
  }

  readonly #ackTick = (): void => {
    if (this.#suspended || this.#handshaking || this.#socket.readyState !== OPEN) return;
    const ack = this.#resume?.ackTick();
    if (ack !== undefined) this.#socket.send(ack);
  };

  readonly #checkKeepalive = (): void => {
    if (!this.#connected || this.#flushScheduled || this.#suspended) return;
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

  #handleMessage(event: { data: unknown }): void {
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
      const resume = this.#resume;
      if (resume !== undefined) {
        if (this.#handshaking) {
          if (!this.#answered(id, body)) return;
          continue;
        }
        if (isResumeId(id)) {
          this.#control(resume, id, body);
          if (!this.#connected || this.#suspended) return;
          continue;
        }
        resume.received++;
      }
      if (id === HEARTBEAT_PING_ID) this.#answerPing(body);
      else if (id === HEARTBEAT_PONG_ID) this.#pong(body);
      else this.onRecvPacket(id, body);
      if (!this.#connected) return;
    }
  }

  #control(resume: ClientResume, id: number, body: Uint8Array): void {
    if (id === RESUME_BYE_ID) {
      this.#byeCause = describeCloseEvent(1000, decodeBye(body));
      return;
    }
    const broken = resume.control(id, body);
    if (broken !== undefined) return this.#protocolError(1002, broken);
    if (id === RESUME_MOVE_ID && resume.phase === 'on') this.#moved(resume);
  }

  /**
   * MOVE: the session moved to another process of the server; `resume` has its new token. This
   * connection is dropped (nothing follows MOVE on it) and the reconnect goes at once.
   */
  #moved(resume: ClientResume): void {
    const old = this.#socket;
    old.onclose = ignore;
    old.onmessage = ignore;
    old.close(1000);
    this.#suspended = true;
    resume.lostAt = performance.now();
    this.onConnectionLost({ code: 'SESSION_MOVED', reason: 'the server moved the session to another process', closeCode: 1012 });
    if (!this.#suspended) return; // the hook called disconnect()
    resume.attempt = 1;
    this.onReconnecting(0, 0);
    if (!this.#suspended) return;
    this.#socket = this.#open();
  }

  /** The first packet of a reconnection: RESUMED (true: go on with the message) or REFUSED. */
  #answered(id: number, body: Uint8Array): boolean {
    const resume = this.#resume as ClientResume;
    this.#handshaking = false;
    if (id === RESUME_RESUMED_ID) {
      const missed = resume.resumed(body);
      if (missed === undefined) {
        this.#giveUp('RESUME_REFUSED', 'the server resumed at an impossible position');
        return false;
      }
      this.#suspended = false;
      if (missed.length > 0) this.#socket.send(missed);
      this.#lastSentAt = this.#since = performance.now();
      this.onResumed();
      if (this.#queuedBytes > 0) this.#flush(); // sends made while away that were not kept yet
      return this.#connected;
    }
    const refusal = id === RESUME_REFUSED_ID ? resume.refused(body) : { reason: 'UNKNOWN_SESSION' as const, retryAfterMs: 0, text: 'not a resume answer' };
    const old = this.#socket;
    old.onclose = ignore;
    old.close(1000);
    if (refusal.reason === 'RETRY_LATER') this.#scheduleReconnect(refusal.retryAfterMs);
    else this.#giveUp('RESUME_REFUSED', `${refusal.reason}${refusal.text.length > 0 ? `: ${refusal.text}` : ''}`);
    return false;
  }

  /** Waits, then reconnects; gives up once the server's grace period would be over. */
  #scheduleReconnect(atLeastMs: number): void {
    const resume = this.#resume as ClientResume;
    const delay = resume.nextDelay(performance.now(), atLeastMs);
    if (delay === undefined) return this.#giveUp('RESUME_EXPIRED', `could not resume within the server's grace period of ${resume.graceMs} ms`);
    this.onReconnecting(resume.attempt - 1, delay);
    if (!this.#suspended) return; // the hook called disconnect()
    this.#retryTimer = setTimeout(this.#reconnectNow, delay);
  }

  readonly #reconnectNow = (): void => {
    this.#retryTimer = undefined;
    if (!this.#suspended) return;
    this.#socket = this.#open();
  };

  /** Ends a session that could not resume. */
  #giveUp(code: string, reason: string): void {
    this.#connected = false;
    this.#stopKeepalive();
    const socket = this.#socket;
    socket.onclose = ignore;
    if (socket.readyState === OPEN) socket.close(1000);
    this.#end({ code, reason, closeCode: 1006 });
  }

  #answerPing(body: Uint8Array): void {
    const pong = new Uint8Array(PACKET_HEADER_SIZE + body.length);
    writePacketHeader(pong, 0, pong.length, HEARTBEAT_PONG_ID);
    pong.set(body, PACKET_HEADER_SIZE);
    this.send(pong);
  }

  /** A pong to one of our pings carries our clock back. */
  #pong(body: Uint8Array): void {
    if (body.length !== PING_BODY_SIZE) return;
    const sentAt = new DataView(body.buffer, body.byteOffset, PING_BODY_SIZE).getFloat64(0, true);
    if (sentAt >= this.#since) this.#rttMs = performance.now() - sentAt;
  }

  #protocolError(code: 1002 | 1003, reason: string): void {
    this.#connected = false;
    this.#stopKeepalive();
    this.#socket.close(code, fitCloseReason(reason));
  }

  #handleClose(event: { code: number; reason: string }): void {
    if (this.#ended) return;
    const cause = this.#byeCause ?? describeCloseEvent(event.code, event.reason);
    if (this.#suspended) {
      // A reconnection failed before its answer: try again.
      this.#handshaking = false;
      this.#scheduleReconnect(0);
      return;
    }
    if (this.#connected && this.resumable && this.#byeCause === undefined) {
      this.#suspended = true;
      (this.#resume as ClientResume).lostAt = performance.now();
      this.onConnectionLost(cause);
      if (this.#suspended) this.#scheduleReconnect(0);
      return;
    }
    this.#end(cause);
  }

  #end(cause: ClientDisconnectCause): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#connected = false;
    this.#suspended = false;
    this.#stopKeepalive();
    if (this.#ackTimer !== undefined) clearInterval(this.#ackTimer);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#ackTimer = undefined;
    this.#retryTimer = undefined;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.onDisconnected(cause);
  }
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
