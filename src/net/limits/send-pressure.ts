import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { SendQueueOverflowError, SendStalledError } from '../../core/errors.js';
import { currentReadSource } from '../../core/read-source.js';
import { cutsOffOverCap, FanoutFlow, msUntilStalled, type FlowParty } from './fanout-flow.js';
import type { SessionSettings } from '../session-owner.js';
import { writabilityChange } from './write-watermarks.js';
import { kCutOff, kFlowState, kPauseOwnReading, kPendingBytes, kWritabilityChanged } from '../symbols.js';

/** What send pressure needs of a connection. */
export interface PressuredConnection extends FlowParty {
  readonly connected: boolean;
  [kPendingBytes](): number;
  [kWritabilityChanged](writable: boolean): void;
  [kPauseOwnReading](): void;
  [kCutOff](cause: DisconnectCause): void;
}

function isOpenParty(source: unknown): source is PressuredConnection {
  return typeof (source as Partial<PressuredConnection> | undefined)?.[kFlowState] === 'function' && (source as PressuredConnection).connected;
}

/**
 * One connection's send side above its high water mark: writability (write-watermarks.ts), the send
 * cap `maxSendQueueBytes`, the stall check `stallTimeoutMs`, and its fan-out flow state. Made the first
 * time the connection is above its high mark or feeds one that is: a connection that keeps up never
 * has one. No sockets; it acts through the four calls of {@link PressuredConnection}.
 */
export class SendPressure {
  writable = true;
  readonly flow: FanoutFlow;
  readonly #connection: PressuredConnection;
  readonly #settings: SessionSettings;
  #stallTimer: NodeJS.Timeout | undefined;

  constructor(connection: PressuredConnection, settings: SessionSettings) {
    this.#connection = connection;
    this.#settings = settings;
    this.flow = new FanoutFlow(connection);
  }

  /**
   * A send left `queued` bytes, more than the high mark: the connection goes unwritable and holds the
   * connection whose reads fed it, or is cut off past `maxSendQueueBytes` when nothing can slow the
   * bytes down or it makes no progress. False when cut off.
   */
  aboveHigh(queued: number): boolean {
    const settings = this.#settings;
    const self = this.#connection;
    const source = currentReadSource();
    const fedByOther = source !== self && isOpenParty(source);
    if (queued > settings.maxSendQueueBytes) {
      const paced = fedByOther || (source === self && settings.pauseReadingWhenUnwritable);
      const sinceProgress = this.writable ? 0 : performance.now() - this.flow.progressAt;
      if (cutsOffOverCap(paced, sinceProgress, settings.stallTimeoutMs)) {
        const error = new SendQueueOverflowError(queued, settings.maxSendQueueBytes);
        self[kCutOff](disconnectCause(DisconnectCode.SendQueueOverflow, error.message, error));
        return false;
      }
    }
    if (this.writable) this.update(queued);
    // Whose reads fill this queue stops reading: another session's (held until this one drains), or
    // this session's own (an echo-style peer that does not read its replies). A member filled by others
    // keeps reading: pausing it would starve it as a sender, and peers that all send would starve each other.
    if (fedByOther) this.flow.hold((source as PressuredConnection)[kFlowState]());
    else if (source === self && settings.pauseReadingWhenUnwritable) self[kPauseOwnReading]();
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
      this.flow.progressAt = performance.now();
      this.#stallTimer ??= this.#armStallTimer(this.#settings.stallTimeoutMs);
    }
    this.#connection[kWritabilityChanged](writable);
  }

  /** A write completed while unwritable: progress, and maybe writable again. */
  progress(queued: number): void {
    this.flow.progressAt = performance.now();
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

  #armStallTimer(ms: number): NodeJS.Timeout {
    const timer = setTimeout(checkStall, ms, this);
    timer.unref();
    return timer;
  }

  /** Above the high mark since the timer was armed: cut off if no write progress for stallTimeoutMs. */
  checkStall(): void {
    this.#stallTimer = undefined;
    const self = this.#connection;
    if (!self.connected || this.writable) return;
    const stallTimeoutMs = this.#settings.stallTimeoutMs;
    const wait = msUntilStalled(performance.now() - this.flow.progressAt, stallTimeoutMs);
    if (wait > 0) {
      this.#stallTimer = this.#armStallTimer(Math.ceil(wait));
      return;
    }
    const error = new SendStalledError(stallTimeoutMs, self[kPendingBytes]());
    self[kCutOff](disconnectCause(DisconnectCode.SendStalled, error.message, error));
  }
}

function checkStall(pressure: SendPressure): void {
  pressure.checkStall();
}
