/**
 * A Session subclass that records every hook call (in order) and lets a test wait for hook-driven state.
 * What each hook does is given as a behavior; by default onRecv consumes everything, like Session.
 */
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { Session } from '../../src/net/session.js';
import { Condition, DEFAULT_TIMEOUT_MS } from './wait.js';

export type HookName = 'onConnected' | 'onRecv' | 'onSend' | 'onDisconnected';

/** One hook call, as seen from inside the hook. */
export interface HookRecord {
  readonly hook: HookName;
  /** `session.connected` during the call. */
  readonly connected: boolean;
  /** onRecv: a copy of the buffer presented. */
  readonly bytes?: Buffer;
  /** onRecv: what the behavior returned. */
  readonly consumed?: unknown;
  /** onSend: the byte count reported. */
  readonly byteCount?: number;
  /** onDisconnected: the cause. */
  readonly cause?: DisconnectCause;
}

/** What the hooks do, besides recording. A hook that throws makes the recorded hook throw too. */
export interface Behavior {
  connected?(session: RecordingSession): void;
  recv?(session: RecordingSession, buffer: Buffer): number;
  sent?(session: RecordingSession, byteCount: number): void;
  disconnected?(session: RecordingSession, cause: DisconnectCause): void;
}

/** Behavior: send every received byte straight back. */
export const echoBehavior: Behavior = {
  recv(session, buffer) {
    session.send(Buffer.from(buffer));
    return buffer.length;
  },
};

export class RecordingSession extends Session {
  readonly records: HookRecord[] = [];
  /** New bytes seen by onRecv so far (not counting tails presented again). */
  bytesSeen = 0;
  /** Sum of the counts reported to onSend. */
  bytesSent = 0;
  /** What `send()` returned when called from onDisconnected. */
  sendResultAfterDisconnect: boolean | undefined;
  private tail = 0;
  private readonly changed = new Condition();

  constructor(private readonly behavior: Behavior = {}) {
    super();
  }

  /** Hook names in call order. */
  get hooks(): HookName[] {
    return this.records.map((r) => r.hook);
  }

  /** The records of one hook. */
  callsOf(hook: HookName): HookRecord[] {
    return this.records.filter((r) => r.hook === hook);
  }

  /** The cause given to onDisconnected, once it ran. */
  get recordedCause(): DisconnectCause | undefined {
    return this.callsOf('onDisconnected')[0]?.cause;
  }

  /** Resolves once `check()` is true, re-checked after every hook call. */
  until(check: () => boolean, label: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.changed.until(check, `session ${this.id}: ${label}`, timeoutMs);
  }

  /** Resolves with the cause once onDisconnected ran. */
  async untilDisconnected(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DisconnectCause> {
    await this.until(() => this.recordedCause !== undefined, 'onDisconnected', timeoutMs);
    return this.recordedCause as DisconnectCause;
  }

  /** Resolves once onRecv has seen at least `count` new bytes in total. */
  untilSeen(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.until(() => this.bytesSeen >= count, `onRecv to see ${count} bytes (seen ${this.bytesSeen})`, timeoutMs);
  }

  protected override onConnected(): void {
    this.record({ hook: 'onConnected', connected: this.connected });
    this.behavior.connected?.(this);
  }

  protected override onRecv(buffer: Buffer): number {
    let consumed: unknown;
    try {
      consumed = this.behavior.recv ? this.behavior.recv(this, buffer) : buffer.length;
    } finally {
      this.bytesSeen += buffer.length - this.tail;
      if (typeof consumed === 'number' && Number.isInteger(consumed) && consumed >= 0 && consumed <= buffer.length) {
        this.tail = buffer.length - consumed;
      }
      this.record({ hook: 'onRecv', connected: this.connected, bytes: Buffer.from(buffer), consumed });
    }
    return consumed as number;
  }

  protected override onSend(byteCount: number): void {
    this.bytesSent += byteCount;
    this.record({ hook: 'onSend', connected: this.connected, byteCount });
    this.behavior.sent?.(this, byteCount);
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.sendResultAfterDisconnect = this.send(Buffer.from('too late'));
    this.record({ hook: 'onDisconnected', connected: this.connected, cause });
    this.behavior.disconnected?.(this, cause);
  }

  private record(entry: HookRecord): void {
    this.records.push(entry);
    this.changed.notify();
  }
}
