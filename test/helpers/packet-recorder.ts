/**
 * A PacketSession subclass that records every packet (copied, since the body is only valid during the
 * call) and its disconnect cause, and lets a test wait for them. What onRecvPacket does besides
 * recording is given as a function (it may throw, dispatch to a handler table, reply...).
 */
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { PacketSession, type PacketSessionOptions } from '../../src/packet/packet-session.js';
import { Condition, DEFAULT_TIMEOUT_MS } from './wait.js';

/** One packet as onRecvPacket saw it. */
export interface RecordedPacket {
  readonly id: number;
  /** A copy of the body. */
  readonly body: Buffer;
}

/** Runs inside onRecvPacket after the packet was recorded. */
export type PacketBehavior<S> = (session: S, id: number, body: Buffer) => void;

export class PacketRecorder extends PacketSession {
  readonly packets: RecordedPacket[] = [];
  seenCause: DisconnectCause | undefined;
  private readonly changed = new Condition();

  constructor(
    private readonly behavior?: PacketBehavior<PacketRecorder>,
    options?: PacketSessionOptions,
  ) {
    super(options);
  }

  /**
   * Runs PacketSession's own framing on `buffer` in-process (the bytes the Session would present to
   * onRecv) and returns what it consumed. For driving the framing with exact chunk boundaries.
   */
  feed(buffer: Buffer): number {
    return this.onRecv(buffer);
  }

  /** Resolves once at least `count` packets were recorded. */
  untilPackets(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.changed.until(
      () => this.packets.length >= count,
      `session ${this.id}: ${count} packets (have ${this.packets.length})`,
      timeoutMs,
    );
  }

  /** Resolves with the cause once onDisconnected ran. */
  async untilDisconnected(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DisconnectCause> {
    await this.changed.until(() => this.seenCause !== undefined, `session ${this.id}: onDisconnected`, timeoutMs);
    return this.seenCause as DisconnectCause;
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    this.packets.push({ id, body: Buffer.from(body) });
    this.changed.notify();
    this.behavior?.(this, id, body);
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.seenCause = cause;
    this.changed.notify();
  }
}
