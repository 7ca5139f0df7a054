/** Bytes of a heartbeat body: a float64 LE timestamp of the sender's clock, opaque to the receiver. */
export const HEARTBEAT_BODY_SIZE = 8;

/** Internal: the heartbeat timer calls this on its session (a symbol: no name is taken from game code). */
export const kSendPing: unique symbol = Symbol('gamewire.sendPing');

/** What the heartbeat timer pings. */
export interface HeartbeatOwner {
  [kSendPing](): void;
}

/**
 * Internal: a PacketSession's heartbeat, made only when pings are on or a pong arrives: the ping timer
 * (one module-level function, the session passed as its argument: no closure per session) and the
 * last round trip.
 */
export class Heartbeat {
  #timer: NodeJS.Timeout | undefined;
  /** Round trip of the last pong, ms; undefined until one came back. */
  rttMs: number | undefined;
  /**
   * performance.now() when the current connection began carrying the session (set at a resume):
   * a pong to a ping sent before it answers a ping of an earlier connection, replayed after the
   * resume, and its round trip would count the time the session was away.
   */
  since = 0;

  /** Keeps the round trip of a pong to a ping sent at `sentAt` (this clock), unless it was sent before `since`. */
  pong(sentAt: number, now: number): void {
    if (sentAt >= this.since) this.rttMs = now - sentAt;
  }

  /** Pings `owner` every `intervalMs`; the timer does not keep the process alive. */
  start(owner: HeartbeatOwner, intervalMs: number): void {
    this.#timer = setInterval(ping, intervalMs, owner);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

function ping(owner: HeartbeatOwner): void {
  owner[kSendPing]();
}

/** Scratch for writing a float64 little-endian on any platform: one for the process, never handed out. */
const scratch = new DataView(new ArrayBuffer(HEARTBEAT_BODY_SIZE));
const scratchBytes = new Uint8Array(scratch.buffer);

/**
 * Writes a ping's body at `offset` of `target`: `now` (the sender's clock, ms) as float64 LE; the peer
 * sends it back in its pong. Allocates nothing.
 */
export function writePingBody(target: Uint8Array, offset: number, now: number): void {
  scratch.setFloat64(0, now, true);
  target.set(scratchBytes, offset);
}

/**
 * The sender's time a pong's body carries back (`size` bytes at `offset` of `buffer`), or undefined
 * for a body that is not one of our pings.
 */
export function pongSentAt(buffer: Buffer, offset: number, size: number): number | undefined {
  return size === HEARTBEAT_BODY_SIZE ? buffer.readDoubleLE(offset) : undefined;
}
