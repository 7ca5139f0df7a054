import { GamewireError, HandlerError, InvalidOptionError, MessageTooLargeError, RateLimitedError, UnknownPacketError } from '../core/errors.js';
import type { MessageInit, MessageType } from './message-type.js';
import { Session } from '../net/session.js';
import { isInstance } from '../core/describe.js';
import { checkTimerMs } from '../core/timer-range.js';
import { checkInteger } from '../core/options.js';
import { kSettings } from '../net/connection.js';
import { kAddCloseListener, kOnOpen, kSendRange, kWatchHook, type SessionSettings } from '../net/session-owner.js';
import { PacketAdmission } from './packet-admission.js';
import { kTraffic } from '../net/session-traffic.js';
import {
  HEARTBEAT_PING_ID,
  HEARTBEAT_PONG_ID,
  MAX_PACKET_ID,
  MAX_PACKET_SIZE,
  PACKET_HEADER_SIZE,
  writePacketHeader,
} from './packet-header.js';
import { PacketScanner, type PacketSink } from './packet-scanner.js';
import { sendBufferManager } from './send-buffer.js';

/** Options of a {@link PacketSession}. */
export interface PacketSessionOptions {
  /**
   * Largest packet accepted from the peer, header included, bytes: 4..65535, default 65535. A header
   * announcing more ends the session with `PACKET_TOO_LARGE` as soon as its size field is read.
   */
  readonly maxPacketSize?: number;
  /**
   * Sends a heartbeat ping (id 65534) this often, ms; the peer answers with a pong (id 65535) and
   * `heartbeatRttMs` holds the round trip. 0 = no pings (pings from the peer are still answered).
   * Together with the service's `idleTimeoutMs` it finds dead peers. Default 0.
   */
  readonly heartbeatIntervalMs?: number;
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
 * The sink of a batch-mode session without packet admission (`#fastBatch`): a data packet only extends
 * the run, and is counted in `packetsReceived` when the run is handed over, before onRecvBatch sees it.
 * This is all the per-packet work of the echo and broadcast servers: the full `kPacket` (counter,
 * admission, mode checks) cost as much again as the scan itself per packet, which showed in echo at 1000
 * connections with 4 packets a read. A heartbeat takes the full path, which hands the run over first.
 * No game code runs between two data packets of a run, so the session is still open after each.
 */
const batchSink: PacketSink = {
  onPacketBytes(buffer, offset, size, id) {
    if (id >= HEARTBEAT_PING_ID) return (scanning as PacketSession)[kPacket](buffer, offset, size, id);
    if (runCount === 0) runStart = offset;
    runEnd = offset + size;
    runCount++;
    return true;
  },
};

/** What a PacketSession hands its packets to: a `PacketHandlerTable`. */
export interface PacketDispatcher {
  /** Decodes `body` as the message of `id` and runs its handler with `session`. */
  dispatch(session: PacketSession, id: number, body: Uint8Array): void;
}

/** Bytes of a heartbeat body: a float64 LE timestamp of the sender's clock, opaque to the receiver. */
const HEARTBEAT_BODY_SIZE = 8;

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
 */
export abstract class PacketSession extends Session {
  readonly #maxPacketSize: number;
  /** Made on the first bytes: an idle session holds none. */
  #scanner: PacketScanner | undefined;
  readonly #batch: boolean;
  /** Batch mode without packet admission (no limit, `admitPacket` not overridden): scanned with `batchSink`. */
  #fastBatch = false;
  readonly #heartbeatIntervalMs: number;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #heartbeatRttMs: number | undefined;
  #admission: PacketAdmission | undefined;
  readonly #handlers: PacketDispatcher | undefined;

  /** @throws InvalidOptionError when `maxPacketSize` is outside 4..65535. */
  constructor(options: PacketSessionOptions = {}) {
    super();
    this.#maxPacketSize = checkInteger('maxPacketSize', options.maxPacketSize ?? MAX_PACKET_SIZE, PACKET_HEADER_SIZE, MAX_PACKET_SIZE);
    this.#handlers = options.handlers;
    this.#heartbeatIntervalMs = checkTimerMs('heartbeatIntervalMs', options.heartbeatIntervalMs ?? 0, 1, true);
    this.#batch = options.batch === true;
  }

  /** Internal (the shared sink): one whole packet at `offset` of `buffer`. */
  [kPacket](buffer: Buffer, offset: number, size: number, id: number): boolean {
    this[kTraffic].packetsReceived++;
    const admitted = this.admitPacket();
    if (this.#batch) {
      if (admitted && id < HEARTBEAT_PING_ID) {
        if (runCount === 0) runStart = offset;
        runEnd = offset + size;
        runCount++;
        return this.connected;
      }
      this.#flushRun(buffer); // a heartbeat or a dropped packet ends the run
    }
    if (!admitted) return this.connected;
    if (id >= HEARTBEAT_PING_ID) this.#onHeartbeat(buffer, offset, size, id);
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

  #flushRun(buffer: Buffer): void {
    const count = runCount;
    if (count === 0) return;
    runCount = 0;
    if (this.#fastBatch) this[kTraffic].packetsReceived += count; // batchSink counts a run here
    if (!this.connected) return;
    try {
      this.onRecvBatch(buffer.subarray(runStart, runEnd), count);
    } catch (thrown) {
      throw isInstance(thrown, HandlerError) ? thrown : new HandlerError('onRecvBatch', thrown);
    }
  }

  /** Round trip of the last heartbeat, ms; undefined until a pong came back. */
  get heartbeatRttMs(): number | undefined {
    return this.#heartbeatRttMs;
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
      const limit = (this[kSettings] as SessionSettings).maxPacketsPerSecond;
      this.closeWithError(new RateLimitedError('packets', limit));
    }
    return false;
  }

  /** Internal: starts the packet rate limit and the heartbeat timer when the session opens. */
  override [kOnOpen](): void {
    const settings = this[kSettings] as SessionSettings;
    if (settings.maxPacketsPerSecond > 0) {
      this.#admission = new PacketAdmission(settings.maxPacketsPerSecond, settings.rateLimitAction, performance.now());
    }
    this.#fastBatch = this.#batch && this.#admission === undefined && this.admitPacket === PacketSession.prototype.admitPacket;
    if (this.#heartbeatIntervalMs === 0) return;
    this.#heartbeatTimer = setInterval(this.#sendPing, this.#heartbeatIntervalMs);
    this.#heartbeatTimer.unref();
    this[kAddCloseListener](() => clearInterval(this.#heartbeatTimer));
  }

  readonly #sendPing = (): void => {
    if (!this.connected) return;
    const ping = Buffer.allocUnsafe(HEARTBEAT_BODY_SIZE);
    ping.writeDoubleLE(performance.now(), 0);
    this.sendPacket(HEARTBEAT_PING_ID, ping);
  };

  #onHeartbeat(buffer: Buffer, offset: number, size: number, id: number): void {
    const body = buffer.subarray(offset + PACKET_HEADER_SIZE, offset + size);
    if (id === HEARTBEAT_PING_ID) {
      this.sendPacket(HEARTBEAT_PONG_ID, body);
    } else if (body.length === HEARTBEAT_BODY_SIZE) {
      this.#heartbeatRttMs = performance.now() - body.readDoubleLE(0);
    }
  }

  /** Largest packet accepted from the peer, bytes, header included. */
  get maxPacketSize(): number {
    return this.#maxPacketSize;
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
   * @returns false when the session is not open.
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
   * @returns false when the session is not open (nothing is sent).
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
    const offset = at.offset;
    writePacketHeader(bytes, offset, size, id);
    bytes.set(body, offset + PACKET_HEADER_SIZE);
    sendBufferManager.commit(size);
    return this[kSendRange](bytes.buffer as ArrayBuffer, bytes.byteOffset + offset, size);
  }

  /** Final: PacketSession's framing. Override `onRecvPacket` instead. */
  protected override onRecv(buffer: Buffer): number {
    const scanner = (this.#scanner ??= new PacketScanner(this.#maxPacketSize));
    let consumed: number;
    const previous = scanning;
    const outerStart = runStart;
    const outerEnd = runEnd;
    const outerCount = runCount;
    scanning = this;
    runCount = 0;
    try {
      consumed = scanner.scan(buffer, this.#fastBatch ? batchSink : sharedSink);
      if (this.#batch) this.#flushRun(buffer);
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
