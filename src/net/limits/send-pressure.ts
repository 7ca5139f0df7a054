import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { SendQueueOverflowError, SendStalledError } from '../../core/errors.js';
import { currentReadSource } from '../../core/read-source.js';
import { cutsOffOverCap, FanoutFlow, msUntilStalled, type FlowParty } from './fanout-flow.js';
import type { SessionSettings } from '../session-owner.js';
import { writabilityChange } from './write-watermarks.js';
import { kCutOff, kFlowState, kPauseOwnReading, kPendingBytes, kTakenBytes, kWritabilityChanged } from '../symbols.js';


/** What send pressure needs of a connection. */
export interface PressuredConnection extends FlowParty {
  readonly connected: boolean;
  [kPendingBytes](): number;
  [kTakenBytes](): number;
  [kWritabilityChanged](writable: boolean): void;
  [kPauseOwnReading](): void;
  [kCutOff](cause: DisconnectCause): void;
}

function isOpenParty(source: unknown): source is PressuredConnection {
  return typeof (source as Partial<PressuredConnection> | undefined)?.[kFlowState] === 'function' && (source as PressuredConnection).connected;
}

/**
 * How often a member above its high mark is asked whether its peer took bytes, as a part of
 * `stallTimeoutMs`: the peer's last byte is seen at most this late, so a peer that stopped reading is
 * cut off between `stallTimeoutMs` and 1.25 × `stallTimeoutMs` after it took its last byte.
 */
const STALL_CHECKS = 4;

/**
 * One connection's send side above its high water mark: writability (write-watermarks.ts), the send
 * cap `maxSendQueueBytes`, the stall check `stallTimeoutMs`, and its fan-out flow state. Made the first
 * time the connection is above its high mark or feeds one that is: a connection that keeps up never
 * has one. No sockets; it acts through the calls of {@link PressuredConnection}.
 *
 * Progress is the bytes the peer takes, not completed writes: a write completes only once all of it
 * is in the kernel, and Node joins every write queued behind it into one writev, so a peer reading
 * 20 KB/s can take bytes for seconds with no write completing.
 */
export class SendPressure {
  writable = true;
  readonly flow: FanoutFlow;
  readonly #connection: PressuredConnection;
  readonly #settings: SessionSettings;
  #stallTimer: NodeJS.Timeout | undefined;
  /** The connection's taken-bytes count when last looked at. */
  #taken = 0;

  constructor(connection: PressuredConnection, settings: SessionSettings) {
    this.#connection = connection;
    this.#settings = settings;
    this.flow = new FanoutFlow(connection);
  }

  /**
   * A send of `bytes` left `queued` bytes, more than the high mark: the connection goes unwritable;
   * the connection whose reads fed it is held once past its share; past `maxSendQueueBytes` it is cut
   * off when its peer takes nothing, or when bytes nothing holds back are past the cap on their own.
   * False when cut off.
   */
  aboveHigh(queued: number, bytes: number): boolean {
    const settings = this.#settings;
    const self = this.#connection;
    const source = currentReadSource();
    if (this.writable) this.update(queued);
    // Whose input fills this queue stops reading: another session's once it sends more than its share
    // (held until this one drains), or this session's own (an echo-style peer that does not read its
    // replies). A member filled by others keeps reading: pausing it would starve it as a sender.
    let paced = false;
    if (source !== self && isOpenParty(source)) {
      paced = this.flow.feed(source[kFlowState](), bytes, settings.fanoutShareBytesPerSecond);
    } else if (source === self && settings.pauseReadingWhenUnwritable) {
      self[kPauseOwnReading]();
      paced = true;
    }
    if (paced) this.flow.heldBytes += bytes;
    if (queued > settings.maxSendQueueBytes) {
      const now = performance.now();
      this.#look(now);
      const flow = this.flow;
      if (cutsOffOverCap(paced, queued, flow.heldBytes, settings.maxSendQueueBytes, now - flow.progressAt, settings.stallTimeoutMs)) {
        const error = new SendQueueOverflowError(queued, settings.maxSendQueueBytes);
        self[kCutOff](disconnectCause(DisconnectCode.SendQueueOverflow, error.message, error));
        return false;
      }
    }
    return true;
  }

  /** Applies the water marks to `queued` bytes pending. */
  update(queued: number): void {
    const writable = writabilityChange(this.writable, queued, this.#settings);
    if (writable === undefined) return;
    this.writable = writable;
    if (writable) {
      this.flow.releaseAll();
    } else {
      const now = performance.now();
      this.flow.progressAt = now;
      this.flow.aboveHighAt = now;
      this.#taken = this.#connection[kTakenBytes]();
      this.#stallTimer ??= this.#armStallTimer(this.#checkInterval());
    }
    this.#connection[kWritabilityChanged](writable);
  }

  /** A write completed while unwritable: progress, and maybe writable again. */
  progress(queued: number): void {
    this.flow.progressAt = performance.now();
    this.#taken = this.#connection[kTakenBytes]();
    this.update(queued);
  }

  /** The connection is closing: whoever it held reads again. */
  release(): void {
    this.flow.releaseAll();
  }

  /** The connection closed. */
  close(): void {
    if (this.#stallTimer !== undefined) clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
    this.flow.releaseAll();
  }

  /** Looks whether the peer took bytes since the last look; if so, that is progress now. */
  #look(now: number): void {
    const taken = this.#connection[kTakenBytes]();
    if (taken === this.#taken) return;
    this.#taken = taken;
    this.flow.progressAt = now;
  }

  #checkInterval(): number {
    return Math.max(1, Math.ceil(this.#settings.stallTimeoutMs / STALL_CHECKS));
  }

  #armStallTimer(ms: number): NodeJS.Timeout {
    const timer = setTimeout(checkStall, ms, this);
    timer.unref();
    return timer;
  }

  /** Above the high mark: cut off once the peer took no byte for stallTimeoutMs. */
  checkStall(): void {
    this.#stallTimer = undefined;
    const self = this.#connection;
    if (!self.connected || this.writable) return;
    const now = performance.now();
    this.#look(now);
    const stallTimeoutMs = this.#settings.stallTimeoutMs;
    const wait = msUntilStalled(now - this.flow.progressAt, stallTimeoutMs);
    if (wait > 0) {
      this.#stallTimer = this.#armStallTimer(Math.min(Math.ceil(wait), this.#checkInterval()));
      return;
    }
    const error = new SendStalledError(stallTimeoutMs, self[kPendingBytes]());
    self[kCutOff](disconnectCause(DisconnectCode.SendStalled, error.message, error));
  }
}

function checkStall(pressure: SendPressure): void {
  pressure.checkStall();
}

