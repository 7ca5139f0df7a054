import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { ResumeExpiredError } from '../../core/errors.js';
import { encodeMove, encodeTokenAndCount, encodeWelcome, RESUME_RESUMED_ID, type ResumeRefusal } from '../../core/resume/resume-wire.js';
import { kClose, kDestroy } from '../symbols.js';
import type { ResumeRegistry } from './resume-registry.js';
import { ResumeTransport } from './resume-transport.js';
import type { TransportLink } from './transport-link.js';

/**
 * The server side of a resumable session (docs/resume.md): WELCOME with the token when it opens,
 * `suspended` for `graceMs` when its connection drops, and `resumeOn` a new connection whose RESUME
 * named it: RESUMED with a new token, then everything the client had not received.
 */
export class ServerResumeTransport extends ResumeTransport {
  readonly #registry: ResumeRegistry<ServerResumeTransport>;
  /** The session's entry in the registry, from `open` (a transport never opened is never registered). */
  #key = 0;
  #token: Uint8Array | undefined;
  #graceTimer: NodeJS.Timeout | undefined;

  /** The key reserved for a session that moved in (0 for one opened here). */
  readonly #movedKey: number;

  constructor(link: TransportLink, registry: ResumeRegistry<ServerResumeTransport>, moved?: MovedResume) {
    super(link, true);
    this.#registry = registry;
    this.#movedKey = moved?.key ?? 0;
    if (moved !== undefined) this.continueMoved(moved.received);
  }

  /**
   * The transport of a session moving in from another process: suspended, holding what the client has
   * not acknowledged, at the key `registry.reserve()` gave. Undefined when `moved.held` is not whole
   * packets.
   */
  static movedIn(link: TransportLink, registry: ResumeRegistry<ServerResumeTransport>, moved: MovedResume): ServerResumeTransport | undefined {
    const transport = new ServerResumeTransport(link, registry, moved);
    return transport.replay.restore(moved.acked, moved.held) ? transport : undefined;
  }

  /** What moves with the session: packets received from the client, and those sent and not acknowledged. */
  snapshot(): { received: number; acked: number; held: Uint8Array } {
    return { received: this.received, acked: this.replay.acked, held: this.replay.copyHeld() };
  }

  /**
   * The session leaves for another process: MOVE with its `token` there, and no BYE when the session
   * then closes (the caller closes it, `SESSION_MOVED`). The session's own bytes must be flushed first.
   */
  moveOut(token: Uint8Array): void {
    this.writeOwn([encodeMove(token)]);
    this.markEnding();
  }

  get resumable(): boolean {
    return true;
  }

  /** Bytes held for the client (the registry's gauge). */
  get replayBytes(): number {
    return this.replay.bytes;
  }

  protected get maxReplayBytes(): number {
    return this.#registry.settings.maxReplayBytes;
  }

  protected opened(): void {
    if (this.#movedKey !== 0) {
      // Moved in: its client has the token already (in MOVE); it is suspended until the client is here.
      this.#key = this.#registry.fill(this.#movedKey, this) ? this.#movedKey : 0;
      this.lost(disconnectCause(DisconnectCode.SessionMoved, 'moved in'));
      return;
    }
    const { key, token } = this.#registry.add(this);
    this.#key = key;
    this.#token = token;
    const { graceMs, maxReplayBytes } = this.#registry.settings;
    this.writeOwn([encodeWelcome(token, graceMs, maxReplayBytes)]);
  }

  protected lost(cause: DisconnectCause): void {
    void cause;
    this.#graceTimer = setTimeout(graceOver, this.#registry.settings.graceMs, this);
    this.#graceTimer.unref();
  }

  protected closed(): void {
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    if (this.#key !== 0) this.#registry.remove(this.#key);
  }

  protected override overflowedHook(): void {
    this.#registry.overflowed(this.replay.bytes);
  }

  protected otherControl(id: number, body: Buffer): void {
    void id; // HELLO or RESUME after the first packet, WELCOME from a client: nothing to do
    void body;
  }

  protected onBye(body: Buffer): void {
    void body;
    this.sink?.[kClose](disconnectCause(DisconnectCode.PeerClosed, 'the client said BYE'));
  }

  /** Internal (the grace timer): the client did not come back. */
  graceOver(): void {
    this.#graceTimer = undefined;
    if (!this.suspended) return;
    this.#registry.counters.expired++;
    const error = new ResumeExpiredError(this.#registry.settings.graceMs);
    this.sink?.[kDestroy](disconnectCause(DisconnectCode.ResumeExpired, error.message, error));
  }

  /**
   * The client is back on `link`, having received `clientReceived` packets: re-attach, write RESUMED and
   * what it missed, and resume the session. Returns why not instead when the count is impossible.
   */
  resumeOn(link: TransportLink, clientReceived: number): ResumeRefusal | undefined {
    if (!this.replay.canResumeAt(clientReceived)) return 'BAD_POSITION';
    // The old connection died without a word (no RST reached us): the new one replaces it.
    if (!this.suspended) this.suspend(disconnectCause(DisconnectCode.ConnectionReset, 'the client resumed on a new connection'));
    if (!this.suspended) return 'UNKNOWN_SESSION'; // a hook ended the session meanwhile
    if (this.#graceTimer !== undefined) clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.replay.ack(clientReceived);
    this.#token = this.#registry.rotate(this.#key);
    const missed = this.replay.unacknowledged();
    this.reattach(link);
    this.writeOwn([encodeTokenAndCount(RESUME_RESUMED_ID, this.#token, this.received), ...missed.pieces]);
    const counters = this.#registry.counters;
    counters.resumed++;
    counters.replayedPackets += missed.packets;
    counters.replayedBytes += missed.bytes;
    this.resumed();
    return undefined;
  }
}

/** The resume state of a session moving in: its reserved key, its counts, and what the client has not acknowledged. */
export interface MovedResume {
  readonly key: number;
  /** Packets received from the client on the process it came from. */
  readonly received: number;
  /** Packets the client had acknowledged there. */
  readonly acked: number;
  /** The packets sent and not acknowledged, whole, in order. */
  readonly held: Uint8Array;
}

function graceOver(transport: ServerResumeTransport): void {
  transport.graceOver();
}
