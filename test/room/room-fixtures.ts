/**
 * Fixtures for the Room tests: a Session that remembers what it was asked to send (by reference), a
 * Room that counts its hooks, and a loopback setup that pairs raw clients with their server sessions.
 */
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { Session } from '../../src/net/session.js';
import { Room, type RoomOptions } from '../../src/room/room.js';
import { PacketReader, type ParsedPacket } from '../helpers/packets.js';
import { RawClient } from '../helpers/raw-client.js';
import { startServer } from '../helpers/services.js';
import { Condition, DEFAULT_TIMEOUT_MS, type Cleanup } from '../helpers/wait.js';

/** A server session that records every buffer passed to send() (the reference, not a copy). */
export class TrackingSession extends Session {
  static readonly changed = new Condition();
  /** Every buffer given to send(), with what send() returned. */
  readonly sent: Array<{ bytes: Uint8Array; queued: boolean }> = [];
  /** Runs inside send(), before the bytes are queued. */
  beforeSend: ((bytes: Uint8Array) => void) | undefined;
  disconnectCount = 0;
  cause: DisconnectCause | undefined;

  override send(bytes: Uint8Array): boolean {
    this.beforeSend?.(bytes);
    const queued = super.send(bytes);
    this.sent.push({ bytes, queued });
    return queued;
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.disconnectCount++;
    this.cause = cause;
    TrackingSession.changed.notify();
  }

  /** Resolves once onDisconnected ran. */
  untilDisconnected(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return TrackingSession.changed.until(() => this.cause !== undefined, `session ${this.id} onDisconnected`, timeoutMs);
  }
}

/** A Room that counts onEnter/onLeave per session and records ticks. */
export class CountingRoom<S extends Session = TrackingSession> extends Room<S> {
  readonly enters = new Map<S, number>();
  readonly leaves = new Map<S, number>();
  /** Every onLeave, in order. */
  readonly leaveLog: S[] = [];
  readonly ticks: number[] = [];
  /** Runs inside onTick, after it was recorded. */
  tickBehavior: ((tick: number) => void) | undefined;
  readonly changed = new Condition();

  constructor(options?: RoomOptions) {
    super(options);
  }

  leaveCount(session: S): number {
    return this.leaves.get(session) ?? 0;
  }

  /** Resolves once `check()` holds, re-checked after every hook. */
  until(check: () => boolean, label: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.changed.until(check, label, timeoutMs);
  }

  protected override onEnter(session: S): void {
    this.enters.set(session, (this.enters.get(session) ?? 0) + 1);
    this.changed.notify();
  }

  protected override onLeave(session: S): void {
    this.leaves.set(session, this.leaveCount(session) + 1);
    this.leaveLog.push(session);
    this.changed.notify();
  }

  protected override onTick(elapsedMs: number): void {
    this.ticks.push(elapsedMs);
    this.changed.notify();
    this.tickBehavior?.(this.ticks.length);
  }
}

/** A raw client and the server session it is connected to. */
export interface Pair {
  readonly client: RawClient;
  readonly session: TrackingSession;
}

/** Starts a server of TrackingSessions and connects `count` raw clients, one at a time so pairs match. */
export async function connectPairs(cleanup: Cleanup, count: number): Promise<Pair[]> {
  const { service, collector } = await startServer(cleanup, () => new TrackingSession());
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.connect(service.port, { cleanup });
    const session = await collector.nth(i);
    pairs.push({ client, session });
  }
  return pairs;
}

/** The packets a raw client has received so far. */
export function packetsOf(client: RawClient): ParsedPacket[] {
  return new PacketReader().push(client.received);
}

/** The packet ids a raw client has received so far. */
export function idsOf(client: RawClient): number[] {
  return packetsOf(client).map((p) => p.id);
}

/** 0, 1, ..., n - 1. */
export function range(n: number, from = 0): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}
