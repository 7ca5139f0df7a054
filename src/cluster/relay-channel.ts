import { DEFAULTS } from '../core/defaults.js';
import { InvalidOptionError } from '../core/errors.js';
import { checkInteger } from '../core/options.js';

/**
 * Bounds of the IPC channels that carry room traffic (primary → each worker, each worker → primary).
 * The rule (docs/cluster.md, "Flow between workers"): above `highWaterMark` bytes queued in a
 * channel, the sessions whose input feeds the rooms behind it are held (their reading pauses, as for
 * a slow member of a local room) until it drains to `lowWaterMark`; beyond `maxQueueBytes`,
 * broadcasts to it are dropped and counted (`relay_overflow`), so the queue never grows without
 * bound even with traffic nothing can hold (ticks, timers, other servers).
 */
export interface RelayLimits {
  /** Bytes. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** Bytes, at most `highWaterMark`. Default 256 KiB. */
  readonly lowWaterMark?: number;
  /** Bytes, at least `highWaterMark`. Default 8 MiB. */
  readonly maxQueueBytes?: number;
}

/** {@link RelayLimits} checked, with the defaults. */
export type ResolvedRelayLimits = Required<RelayLimits>;

/**
 * What a message costs in a channel beyond its frame: the envelope and the serializer's framing. An
 * estimate (Node does not say how many bytes a message took), the same for every message.
 */
export const RELAY_MESSAGE_OVERHEAD = 64;

/** Checks `limits` and fills in the defaults. @throws InvalidOptionError naming the field. */
export function resolveRelayLimits(limits: RelayLimits = {}): ResolvedRelayLimits {
  const highWaterMark = checkInteger('relay.highWaterMark', limits.highWaterMark ?? DEFAULTS.relayHighWaterMark, 1);
  const lowWaterMark = checkInteger('relay.lowWaterMark', limits.lowWaterMark ?? Math.min(DEFAULTS.relayLowWaterMark, highWaterMark), 0);
  const maxQueueBytes = checkInteger('relay.maxQueueBytes', limits.maxQueueBytes ?? Math.max(DEFAULTS.maxRelayQueueBytes, highWaterMark), 1);
  if (lowWaterMark > highWaterMark) throw new InvalidOptionError('relay.lowWaterMark', lowWaterMark, `at most relay.highWaterMark (${highWaterMark})`);
  if (maxQueueBytes < highWaterMark) throw new InvalidOptionError('relay.maxQueueBytes', maxQueueBytes, `at least relay.highWaterMark (${highWaterMark})`);
  return { highWaterMark, lowWaterMark, maxQueueBytes };
}

/** Sends one message on an IPC channel, calling `written` once when it has been written (or failed). */
export type ChannelSend = (message: object, written: (error: Error | null) => void) => void;

/**
 * One IPC channel's queue, counted in bytes: Node's `send` callback says when a message has left the
 * process, so what is queued is what was sent and not yet written. Knows nothing of rooms: it reports
 * crossing the marks through `onCongestion`.
 */
export class RelayChannel {
  /** Bytes sent and not yet written. */
  queuedBytes = 0;
  /** True from above the high mark until back at the low mark. */
  congested = false;
  readonly #send: ChannelSend;
  readonly #limits: ResolvedRelayLimits;
  readonly #onCongestion: (congested: boolean) => void;
  /** Sizes of the messages in flight, oldest first from #head (writes complete in order). */
  #sizes: number[] = [];
  #head = 0;

  constructor(send: ChannelSend, limits: ResolvedRelayLimits, onCongestion: (congested: boolean) => void) {
    this.#send = send;
    this.#limits = limits;
    this.#onCongestion = onCongestion;
  }

  /**
   * Sends `message`, which costs `size` bytes. A `droppable` message (a broadcast) is not sent when it
   * would take the queue past `maxQueueBytes`: returns false. Control messages are always sent.
   */
  send(message: object, size: number, droppable: boolean): boolean {
    if (droppable && this.queuedBytes + size > this.#limits.maxQueueBytes) return false;
    this.queuedBytes += size;
    this.#sizes.push(size);
    try {
      this.#send(message, this.#written);
    } catch {
      this.#written(); // a channel that throws is closing: its exit is handled elsewhere
      return true;
    }
    if (!this.congested && this.queuedBytes > this.#limits.highWaterMark) {
      this.congested = true;
      this.#onCongestion(true);
    }
    return true;
  }

  readonly #written = (): void => {
    const sizes = this.#sizes;
    const size = sizes[this.#head++] ?? 0;
    if (this.#head === sizes.length) {
      sizes.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= sizes.length) {
      this.#sizes = sizes.slice(this.#head);
      this.#head = 0;
    }
    this.queuedBytes -= size;
    if (this.congested && this.queuedBytes <= this.#limits.lowWaterMark) {
      this.congested = false;
      this.#onCongestion(false);
    }
  };
}
