import { GamewireError, HandlerError, InvalidOptionError, MessageTooLargeError, RateLimitedError, UnknownPacketError } from '../core/errors.js';
import type { MessageInit, MessageType } from './message-type.js';
import { Session } from '../net/session.js';
import { isInstance } from '../core/describe.js';
import type { DisconnectCause } from '../core/disconnect-cause.js';
import { DEFAULT_PACKET_SETTINGS, refuseMovedPacketOptions } from '../core/packet-options.js';
import type { SessionSettings } from '../net/session-owner.js';
import { Heartbeat, HEARTBEAT_BODY_SIZE, kSendPing, pongSentAt, writePingBody, type HeartbeatOwner } from './heartbeat.js';
import { PacketAdmission } from './packet-admission.js';
import {
  HEARTBEAT_PING_ID,
  HEARTBEAT_PONG_ID,
  MAX_PACKET_ID,
  MAX_PACKET_SIZE,
  PACKET_HEADER_SIZE,
  readPacketId,
  readPacketSize,
  writePacketHeader,
} from './packet-header.js';
import { PacketScanner, type PacketSink } from './packet-scanner.js';
import { sendBufferManager } from './send-buffer.js';
import { kClosed, kControlPacket, kKeepalive, kOnOpen, kResumed, kSendRange, kSettings, kTraffic, kWatchHook } from '../net/symbols.js';
import { FIRST_RESERVED_ID } from '../core/resume/resume-wire.js';

/**
 * Options of a {@link PacketSession}. Its packet limits (`maxPacketSize`, `maxPacketsPerSecond`,
 * `heartbeatIntervalMs`) are the service's `packet` option: one place for every session it makes.
 */
export interface PacketSessionOptions {
  /**
   * The handler table packets go to (`createServerHandlers(...)` of generated code, or any
   * `PacketHandlerTable`): the default `onRecvPacket` dispatches each packet to it. Without one, a
   * subclass overrides `onRecvPacket`; an id nothing handles ends the session with `UNKNOWN_PACKET`.
   */
  readonly handlers?: PacketDispatcher;
  /**
   * Batch mode: consecutive data packets of one read go to `onRecvBatch` in one call (their bytes,
   * headers included, and their count) instead of one `onRecvPacket` each; heartbeats, the rate limit
   * and framing errors work as in packet mode. For servers that forward packets whole (echo,
   * broadcast): no work per packet. Default false.
   */
  readonly batch?: boolean;
}

// Symbol-keyed private methods: a `#method` would cost every session a brand slot (connection.ts).
const kFlushRun: unique symbol = Symbol('gamewire.flushRun');
const kScanRuns: unique symbol = Symbol('gamewire.scanRuns');
const kHandRun: unique symbol = Symbol('gamewire.handRun');
const kOnHeartbeat: unique symbol = Symbol('gamewire.onHeartbeat');

/** Internal: one packet found by the scanner, handled by the session that is scanning. */
const kPacket: unique symbol = Symbol('gamewire.packet');

/** The session whose bytes are being scanned (restored after each scan, so scans may nest). */
let scanning: PacketSession | undefined;
/** Batch mode: the run of consecutive data packets of the scan in progress, [runStart, runEnd), and its count. */
let runStart = 0;
let runEnd = 0;
let runCount = 0;

/** One sink for every PacketSession: no closure or object per session. */
const sharedSink: PacketSink = {
  onPacketBytes(buffer, offset, size, id) {
    return (scanning as PacketSession)[kPacket](buffer, offset, size, id);
  },
};

/**
 * PacketSession modes: packet by packet; batch mode; and batch mode without packet admission
 * (`FAST_BATCH`: no rate limit, `admitPacket` not overridden), which finds each run with
 * `PacketScanner.scanRun` and no call per packet at all. That is all the per-packet work of the echo
 * and broadcast servers; going through a sink per packet cost as much again as the scan itself.
 */
const NOT_BATCH = 0;
const BATCH = 1;
const FAST_BATCH = 2;

/** What a PacketSession hands its packets to: a `PacketHandlerTable`. */
export interface PacketDispatcher {
  /** Decodes `body` as the message of `id` and runs its handler with `session`. */
  dispatch(session: PacketSession, id: number, body: Uint8Array): void;
}

/**
 * The C++ `PacketSession`: cuts the byte stream into packets
 * `[size u16 LE = whole packet incl. the 4-byte header][id u16 LE][body]` and calls
 * `onRecvPacket(id, body)` for each, in order. Subclasses override `onRecvPacket`, not `onRecv`.
 *
 * - A size below 4 ends the session with `MALFORMED_HEADER`; a size above `maxPacketSize` with
 *   `PACKET_TOO_LARGE`. Packets before the bad header are still delivered.
 * - `body` is a view into receive memory that is reused: it is valid only during the call. To keep it,
 *   copy it (`Buffer.from(body)`) or decode it into a message first.
 * - A throw from `onRecvPacket`, or a rejection of the promise an `async onRecvPacket` returns (it is
 *   not awaited: packets are still handled in order, one call each), ends this session with
 *   `HANDLER_ERROR` (hook `onRecvPacket`), except a gamewire error that carries its own cause
 *   (`error.disconnectCode`): `UnknownPacketError` (`UNKNOWN_PACKET`) and `BadPacketError`
 *   (`BAD_PACKET`) from a handler table.
 * - Heartbeats (ids 65534 ping, 65535 pong) and resume packets (65520..65533, docs/resume.md) never
 *   reach `onRecvPacket`: a ping from the peer is
 *   answered with its body, and a pong gives `heartbeatRttMs`. The session pings on its own every
 *   `packet.heartbeatIntervalMs`, and, with the service's `idleTimeoutMs` on, once whenever the peer
 *   has been quiet for a quarter to half of it, so that a peer that only listens stays connected.
 */
export abstract class PacketSession extends Session implements HeartbeatOwner {
  // Few fields, each made when first needed: ten thousand idle sessions are mostly these objects.
  /** Made on the first bytes: an idle session holds none. */
  #scanner: PacketScanner | undefined;
  /**
   * NOT_BATCH, BATCH, or FAST_BATCH: batch mode without packet admission (no limit, `admitPacket` not
   * overridden), scanned run by run with `scanRun`; decided when the session opens. One field for both.
   */
  #batch: number;
  /** Made when the session opens with `packet.maxPacketsPerSecond`. */
  #admission: PacketAdmission | undefined;
  /** Made when the session opens with `packet.heartbeatIntervalMs`, or when a pong first arrives (also one to a keepalive ping). */
  #heartbeat: Heartbeat | undefined;
  readonly #handlers: PacketDispatcher | undefined;

  /** @throws InvalidOptionError for a packet limit given here instead of the service's `packet` option. */
  constructor(options: PacketSessionOptions = {}) {
    super();
    refuseMovedPacketOptions(options, 'PacketSession');
    this.#handlers = options.handlers;
    this.#batch = options.batch === true ? BATCH : NOT_BATCH;
  }

  /** Internal (the shared sink): one whole packet at `offset` of `buffer`. */
  [kPacket](buffer: Buffer, offset: number, size: number, id: number): boolean {
    this[kTraffic].packetsReceived++;
    const admitted = this.admitPacket();
    if (this.#batch !== NOT_BATCH) {
      if (admitted && id < FIRST_RESERVED_ID) {
        if (runCount === 0) runStart = offset;
        runEnd = offset + size;
        runCount++;
        return this.connected;
      }
      this[kFlushRun](buffer); // a heartbeat or a dropped packet ends the run
    }
    if (!admitted) return this.connected;
    if (id >= FIRST_RESERVED_ID) this[kOnHeartbeat](buffer, offset, size, id);
    else {
      const result: unknown = this.onRecvPacket(id, buffer.subarray(offset + PACKET_HEADER_SIZE, offset + size));
      // An async onRecvPacket: its rejection ends the session (checked only when something came back).
      if (result !== undefined) this[kWatchHook]('onRecvPacket', result);
    }
    return this.connected;
  }

  /**
   * Hook (batch mode): `packetCount` consecutive whole packets arrived; `packets` holds their bytes,
   * headers included, and is valid only during the call (copy it to keep or send it).
   */
  protected onRecvBatch(packets: Buffer, packetCount: number): void {
    void packets;
    void packetCount;
  }

  [kFlushRun](buffer: Buffer): void {
    const count = runCount;
    if (count === 0) return;
    runCount = 0;
    if (this.connected) this[kHandRun](buffer, runStart, runEnd, count);
  }

  /** Runs onRecvBatch on `buffer[start..end)`: the buffer itself when the run is all of it (no view made). */
  [kHandRun](buffer: Buffer, start: number, end: number, count: number): void {
    let result: unknown;
    try {
      result = this.onRecvBatch(start === 0 && end === buffer.length ? buffer : buffer.subarray(start, end), count);
    } catch (thrown) {
      throw isInstance(thrown, HandlerError) ? thrown : new HandlerError('onRecvBatch', thrown);
    }
    // An async onRecvBatch: its rejection ends the session (checked only when something came back).
    if (result !== undefined) this[kWatchHook]('onRecvBatch', result);
  }

  /**
   * FAST_BATCH's scan: each run of data packets goes to onRecvBatch whole, each heartbeat between runs
   * is answered; every packet is counted in `packetsReceived` before onRecvBatch sees its run.
   */
  [kScanRuns](buffer: Buffer, scanner: PacketScanner): number {
    const end = buffer.length;
    let offset = 0;
    for (;;) {
      const runEnd = scanner.scanRun(buffer, offset, FIRST_RESERVED_ID);
      if (runEnd > offset) {
        const count = scanner.runCount;
        this[kTraffic].packetsReceived += count;
        this[kHandRun](buffer, offset, runEnd, count);
        if (!this.connected) return runEnd;
        offset = runEnd;
      }
      const error = scanner.error;
      if (error !== undefined) {
        this.closeWithError(error);
        return offset;
      }
      // The run stopped at a partial packet, or at a whole heartbeat (its header was checked).
      if (end - offset < PACKET_HEADER_SIZE) return offset;
      const size = readPacketSize(buffer, offset);
      if (end - offset < size) return offset;
      this[kTraffic].packetsReceived++;
      this[kOnHeartbeat](buffer, offset, size, readPacketId(buffer, offset));
      offset += size;
      if (!this.connected) return offset;
    }
  }

  /**
   * Round trip of the last heartbeat this session sent (a timed or a keepalive ping), ms; undefined
   * until a pong came back. After a resume, pongs to pings sent before it (replayed by the peer) do
   * not count: their round trip would include the time the session was away.
   */
  get heartbeatRttMs(): number | undefined {
    return this.#heartbeat?.rttMs;
  }

  /** Packets dropped by `maxPacketsPerSecond` with `rateLimitAction: 'drop'`. */
  get droppedPacketCount(): number {
    return this.#admission?.dropped ?? 0;
  }

  /**
   * Counts one packet against `maxPacketsPerSecond` (packet-admission.ts). Returns true to handle it;
   * false to skip it, either dropped (`rateLimitAction: 'drop'`) or because the session is now closing
   * (`RATE_LIMITED`).
   */
  protected admitPacket(): boolean {
    const admission = this.#admission;
    if (admission === undefined) return true;
    const verdict = admission.admit(performance.now());
    if (verdict === 'pass') return true;
    if (verdict === 'over') {
      const limit = (this[kSettings] as SessionSettings).packet.maxPacketsPerSecond;
      this.closeWithError(new RateLimitedError('packets', limit));
    }
    return false;
  }

  /** Internal: starts the packet rate limit and the heartbeat timer when the session opens. */
  override [kOnOpen](): void {
    const settings = this[kSettings] as SessionSettings;
    const { maxPacketsPerSecond, heartbeatIntervalMs } = settings.packet;
    if (maxPacketsPerSecond > 0) {
      this.#admission = new PacketAdmission(maxPacketsPerSecond, settings.rateLimitAction, performance.now());
    }
    if (this.#batch === BATCH && this.#admission === undefined && this.admitPacket === PacketSession.prototype.admitPacket) {
      this.#batch = FAST_BATCH;
    }
    if (heartbeatIntervalMs > 0) (this.#heartbeat = new Heartbeat()).start(this, heartbeatIntervalMs);
  }

  /** Internal (connection core): the session closed; the pings stop before onDisconnected. */
  override [kClosed](cause: DisconnectCause): void {
    this.#heartbeat?.stop();
    super[kClosed](cause);
  }

  /** Internal (connection core, resume): a new connection carries the session; pongs to earlier pings no longer count. */
  override [kResumed](): void {
    (this.#heartbeat ??= new Heartbeat()).since = performance.now();
    super[kResumed]();
  }

  /**
   * Internal (the idle watch): the peer has said nothing for a quarter to half of `idleTimeoutMs`; a
   * ping makes a live peer answer, so one that only listens is not cut as idle.
   */
  override [kKeepalive](): void {
    this[kSendPing]();
  }

  /**
   * Internal (the heartbeat timer, the idle watch): one ping carrying this clock's time for the round
   * trip, written straight into a SendBuffer (no allocation; heartbeats are not game code's packets,
   * so an overridden `sendPacket` is not involved).
   */
  [kSendPing](): void {
    if (!this.connected) return;
    const size = PACKET_HEADER_SIZE + HEARTBEAT_BODY_SIZE;
    const at = sendBufferManager.open(size);
    const { bytes, arrayBuffer, offset } = at;
    writePacketHeader(bytes, offset, size, HEARTBEAT_PING_ID);
    writePingBody(bytes, offset + PACKET_HEADER_SIZE, performance.now());
    sendBufferManager.commit(size); // before the send: a hook it runs may send too
    this[kSendRange](arrayBuffer, offset, size);
  }

  /**
   * A packet of the transport's own (ids 65520..65535): a ping is answered with its body, a pong's round
   * trip is kept; a resume packet goes to the (resumable) transport, and is ignored by any other.
   */
  [kOnHeartbeat](buffer: Buffer, offset: number, size: number, id: number): void {
    if (id < HEARTBEAT_PING_ID) {
      this[kControlPacket](id, buffer, offset, size);
    } else if (id === HEARTBEAT_PING_ID) {
      const at = sendBufferManager.open(size);
      const { bytes, arrayBuffer } = at;
      const to = at.offset;
      writePacketHeader(bytes, to, size, HEARTBEAT_PONG_ID);
      buffer.copy(bytes, to + PACKET_HEADER_SIZE, offset + PACKET_HEADER_SIZE, offset + size);
      sendBufferManager.commit(size);
      this[kSendRange](arrayBuffer, to, size);
    } else {
      const sentAt = pongSentAt(buffer, offset + PACKET_HEADER_SIZE, size - PACKET_HEADER_SIZE);
      if (sentAt !== undefined) (this.#heartbeat ??= new Heartbeat()).pong(sentAt, performance.now());
    }
  }

  /** Largest packet accepted from the peer, bytes, header included. */
  get maxPacketSize(): number {
    return (this[kSettings]?.packet ?? DEFAULT_PACKET_SETTINGS).maxPacketSize;
  }

  /**
   * Hook: one whole packet arrived. `body` (without header) is valid only during the call. The default
   * dispatches it to the `handlers` option (UNKNOWN_PACKET without one).
   */
  protected onRecvPacket(id: number, body: Buffer): void {
    if (this.#handlers === undefined) throw new UnknownPacketError(id);
    this.#handlers.dispatch(this, id, body);
  }

  /**
   * Sends `bytes` as {@link Session.send} does, or one typed message the natural way round:
   * `session.send(S_CHAT, { msg })`, encoded straight into a pooled SendBuffer (as `S_CHAT.send(session, …)`).
   * @returns as {@link Session.send}: true while open or suspended (kept for a resuming client), false
   *   once ending or closed.
   * @throws MessageTooLargeError when the packet would exceed 65535 bytes.
   */
  override send(bytes: Uint8Array, packetCount?: number): boolean;
  override send<T>(type: MessageType<T>, message: MessageInit<T>): boolean;
  override send<T>(what: Uint8Array | MessageType<T>, arg?: number | MessageInit<T>): boolean {
    if (what instanceof Uint8Array) return super.send(what, arg as number | undefined);
    return super.send(what.makeSendBuffer(arg as MessageInit<T>));
  }

  /**
   * Sends one packet: writes the header and `body` into a pooled SendBuffer and queues it.
   * @returns as {@link Session.send}: true while open or suspended (kept for a resuming client), false
   *   (nothing is sent) once ending or closed.
   * @throws InvalidOptionError when `id` is outside 0..65535; MessageTooLargeError when the packet would
   *   exceed 65535 bytes.
   */
  sendPacket(id: number, body: Uint8Array): boolean {
    const size = PACKET_HEADER_SIZE + body.length;
    if (size > MAX_PACKET_SIZE) throw new MessageTooLargeError(`packet ${id}`, size, MAX_PACKET_SIZE);
    if (!Number.isInteger(id) || id < 0 || id > MAX_PACKET_ID) {
      throw new InvalidOptionError('packet id', id, `an integer 0..${MAX_PACKET_ID}`);
    }
    if (!this.connected) return false;
    const at = sendBufferManager.open(size);
    const bytes = at.bytes;
    const arrayBuffer = at.arrayBuffer;
    const offset = at.offset;
    writePacketHeader(bytes, offset, size, id);
    bytes.set(body, offset + PACKET_HEADER_SIZE);
    sendBufferManager.commit(size);
    return this[kSendRange](arrayBuffer, offset, size);
  }

  /** Final: PacketSession's framing. Override `onRecvPacket` instead. */
  protected override onRecv(buffer: Buffer): number {
    const scanner = (this.#scanner ??= new PacketScanner(this.maxPacketSize));
    if (this.#batch === FAST_BATCH) return this[kScanRuns](buffer, scanner);
    let consumed: number;
    const previous = scanning;
    const outerStart = runStart;
    const outerEnd = runEnd;
    const outerCount = runCount;
    scanning = this;
    runCount = 0;
    try {
      consumed = scanner.scan(buffer, sharedSink);
      if (this.#batch !== NOT_BATCH) this[kFlushRun](buffer);
    } catch (thrown) {
      if (isInstance(thrown, HandlerError) && thrown.hook === 'onRecvBatch') throw thrown;
      // A handler table's UnknownPacketError / BadPacketError knows its cause; any other throw is a bug.
      if (isInstance(thrown, GamewireError) && thrown.disconnectCode !== undefined && thrown.code !== 'GW_ERR_HANDLER') {
        this.closeWithError(thrown);
        return 0;
      }
      throw new HandlerError('onRecvPacket', thrown);
    } finally {
      scanning = previous;
      runStart = outerStart;
      runEnd = outerEnd;
      runCount = outerCount;
    }
    const error = scanner.error;
    if (error !== undefined && this.connected) this.closeWithError(error);
    return consumed;
  }
}
