import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { ResumeExpiredError } from '../../core/errors.js';
import { encodeTokenAndCount, encodeWelcome, RESUME_RESUMED_ID, type ResumeRefusal } from '../../core/resume/resume-wire.js';
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

  constructor(link: TransportLink, registry: ResumeRegistry<ServerResumeTransport>) {
    super(link, true);
    this.#registry = registry;
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

function graceOver(transport: ServerResumeTransport): void {
  transport.graceOver();
}
