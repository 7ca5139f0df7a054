import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { ResumeExpiredError, ResumeRefusedError, type GamewireError } from '../../core/errors.js';
import { DEFAULTS } from '../../core/defaults.js';
import { reconnectDelay, type ClientResumeSettings } from '../../core/resume/resume-options.js';
import {
  decodeBye,
  decodeMove,
  decodeRefused,
  decodeTokenAndCount,
  decodeWelcome,
  encodeHello,
  encodeTokenAndCount,
  HEADER_BYTES,
  packetIdAt,
  packetSizeAt,
  RESUME_MOVE_ID,
  RESUME_REFUSED_ID,
  RESUME_REQUEST_ID,
  RESUME_RESUMED_ID,
  RESUME_WELCOME_ID,
} from '../../core/resume/resume-wire.js';
import { kClose, kDestroy, kReconnecting } from '../symbols.js';
import type { Transport } from '../transport/transport.js';
import { ResumeTransport } from './resume-transport.js';
import { TransportLink, type LinkOwner } from './transport-link.js';

/**
 * Opens one new connection to the server (the ClientService's connector); `token` is the session's
 * token, whose route a WebSocket reconnect names in its URL (docs/protocol.md, "Workers and machines").
 */
export type Reconnect = (token: Uint8Array) => Promise<Transport>;

/** Largest answer to RESUME read before the session is back: REFUSED with its longest text. */
const MAX_ANSWER = HEADER_BYTES + 5 + 123;

/** Where a client session is with resume: HELLO sent and WELCOME awaited, resumable, or not. */
type Phase = 'pending' | 'on' | 'off';

/** The cause a server's BYE names (`CODE` or `CODE: text`), when it is one of ours. */
function causeOfBye(text: string): DisconnectCause {
  const colon = text.indexOf(':');
  const code = colon < 0 ? text : text.slice(0, colon);
  const known = (Object.values(DisconnectCode) as string[]).includes(code);
  return disconnectCause(known ? (code as DisconnectCode) : DisconnectCode.PeerClosed, colon < 0 ? text : text.slice(colon + 1).trim());
}

/**
 * The client side of a resumable session (docs/resume.md): HELLO when it opens, and once WELCOME
 * came, a dropped connection makes it reconnect by itself (exponential backoff with jitter, within the
 * server's grace period), send RESUME, and on RESUMED send again what the server did not have. It
 * acknowledges what it receives every `resumeAckIntervalMs` (and every 32 packets, in its writes).
 */
export class ClientResumeTransport extends ResumeTransport {
  readonly #settings: ClientResumeSettings;
  readonly #reconnect: Reconnect;
  readonly #closing: () => boolean;
  #phase: Phase = 'pending';
  #token: Uint8Array | undefined;
  #graceMs = 0;
  #ackTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #attempt = 0;
  #lostAt = 0;
  #done = false;
  /** MOVE came: the next loss is the move, and the first reconnect goes at once. */
  #moving = false;

  constructor(link: TransportLink, settings: ClientResumeSettings, reconnect: Reconnect, closing: () => boolean) {
    super(link, true);
    this.#settings = settings;
    this.#reconnect = reconnect;
    this.#closing = closing;
  }

  get resumable(): boolean {
    return this.#phase === 'on';
  }

  protected get maxReplayBytes(): number {
    return this.#settings.maxReplayBytes;
  }

  protected opened(): void {
    const link = this.link;
    link.transport.open(link);
    this.writeOwn([encodeHello()]);
  }

  override write(pieces: readonly Uint8Array[], count: number, bytes: number): void {
    // The server answers HELLO with WELCOME before anything else: a packet before it means no resume.
    if (this.#phase === 'pending' && this.received > 0) this.#noResume();
    super.write(pieces, count, bytes);
  }

  protected override overflowEnds(): boolean {
    if (this.#phase !== 'pending') return true;
    this.#noResume(); // a server that never answered HELLO: stop keeping, the session goes on
    return false;
  }

  #noResume(): void {
    this.#phase = 'off';
    this.stopRecording();
  }

  protected otherControl(id: number, body: Buffer): void {
    if (id === RESUME_MOVE_ID) return this.#onMove(body);
    if (id !== RESUME_WELCOME_ID || this.#phase !== 'pending' || this.received > 0) return;
    const welcome = decodeWelcome(body);
    if (welcome === undefined) return this.fail(`WELCOME body of ${body.length} bytes, not 32`);
    this.#token = welcome.token;
    this.#graceMs = welcome.graceMs;
    this.#phase = 'on';
    this.#ackTimer = setInterval(ackTick, DEFAULTS.resumeAckIntervalMs, this);
    this.#ackTimer.unref();
  }

  /**
   * MOVE: the session moved to another process of the server. The new token replaces ours, this
   * connection is dropped (nothing follows MOVE on it: its late events are ignored), and the first
   * reconnect goes at once, not after a backoff.
   */
  #onMove(body: Buffer): void {
    if (this.#phase !== 'on' || this.suspended) return;
    const token = decodeMove(body);
    if (token === undefined) return this.fail(`MOVE body of ${body.length} bytes, not 24`);
    this.#token = token;
    this.#moving = true;
    this.link.cut();
    // Not inside the read that delivered MOVE: suspending resets the receive buffer being read.
    process.nextTick(suspendMoved, this);
  }

  /** Internal (next tick after MOVE): the connection is dropped and the session resumes at its new place. */
  suspendMoved(): void {
    if (this.#done || this.suspended || this.destroyed) return;
    this.suspend(disconnectCause(DisconnectCode.SessionMoved, 'the server moved the session to another process'));
  }

  protected onBye(body: Buffer): void {
    this.markEnding();
    this.sink?.[kClose](causeOfBye(decodeBye(body)));
  }

  /** Internal (timer): acknowledges what came since the last ACK, or asks for one back while ours are not acknowledged. */
  ackTick(): void {
    if (this.suspended) return;
    const received = this.received;
    if (received > this.lastAckSent || this.replay.bytes > 0) this.sendAck(received);
  }

  protected lost(cause: DisconnectCause): void {
    void cause;
    this.#lostAt = performance.now();
    this.#attempt = 0;
    if (!this.#moving) return this.#scheduleAttempt(0);
    // Moved: the new process waits for us; the first attempt goes now (a RETRY_LATER backs off as usual).
    this.#moving = false;
    this.sink?.[kReconnecting](0, 0);
    if (this.#done || !this.suspended) return;
    this.#attempt = 1;
    this.#retryTimer = setTimeout(attemptNow, 0, this);
  }

  protected closed(): void {
    this.#done = true;
    if (this.#ackTimer !== undefined) clearInterval(this.#ackTimer);
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#ackTimer = undefined;
    this.#retryTimer = undefined;
  }

  #scheduleAttempt(atLeastMs: number): void {
    if (this.#done || !this.suspended) return;
    const elapsed = performance.now() - this.#lostAt;
    const delay = Math.max(atLeastMs, reconnectDelay(this.#settings, this.#attempt, Math.random()));
    if (elapsed + delay >= this.#graceMs) return this.#giveUp(new ResumeExpiredError(this.#graceMs, 'client'));
    this.sink?.[kReconnecting](this.#attempt, delay);
    if (this.#done || !this.suspended) return; // the hook ended the session
    this.#attempt++;
    this.#retryTimer = setTimeout(attemptNow, delay, this);
  }

  /** Internal (timer): one reconnect attempt. */
  attemptNow(): void {
    this.#retryTimer = undefined;
    if (this.#done || !this.suspended) return;
    if (this.#closing()) return this.#giveUp(undefined);
    this.#reconnect(this.#token as Uint8Array).then(
      (raw) => this.#connected(raw),
      () => this.#scheduleAttempt(0),
    );
  }

  #connected(raw: Transport): void {
    if (this.#done || !this.suspended) {
      raw.destroy();
      return;
    }
    const link = new TransportLink(raw);
    const answer = new ResumeAnswer(this);
    link.owner = answer;
    raw.open(link);
    answer.wait(link);
    const request = encodeTokenAndCount(RESUME_REQUEST_ID, this.#token as Uint8Array, this.received);
    link.transport.write([request], 1, request.length, true); // own: no completion
  }

  /** Internal (the answer reader): RESUMED: the server has `serverReceived` of our packets; `rest` followed it. */
  answered(link: TransportLink, body: Buffer, rest: Buffer): void {
    const resumed = decodeTokenAndCount(body);
    if (resumed === undefined || !this.replay.canResumeAt(resumed.received)) {
      link.transport.destroy();
      return this.#giveUp(new ResumeRefusedError('BAD_POSITION', `the server says it has ${resumed?.received ?? '?'} packets`));
    }
    this.replay.ack(resumed.received);
    this.#token = resumed.token;
    const missed = this.replay.unacknowledged();
    this.reattach(link);
    this.writeOwn(missed.pieces);
    this.resumed();
    if (rest.length > 0) this.linkData(link, rest);
  }

  /** Internal (the answer reader): REFUSED, or the connection failed before an answer. */
  refused(link: TransportLink, body: Buffer | undefined): void {
    link.cut();
    link.transport.destroy();
    if (body === undefined) return this.#scheduleAttempt(0);
    const refusal = decodeRefused(body);
    if (refusal?.reason === 'RETRY_LATER') return this.#scheduleAttempt(refusal.retryAfterMs);
    this.#giveUp(new ResumeRefusedError(refusal?.reason ?? 'UNKNOWN_SESSION', refusal?.text ?? ''));
  }

  /** Ends the suspended session: with `error`'s cause, or `SERVICE_CLOSING` when the service closes. */
  #giveUp(error: GamewireError | undefined): void {
    const sink = this.sink;
    if (sink === undefined || this.#done) return;
    if (error === undefined) sink[kDestroy](disconnectCause(DisconnectCode.ServiceClosing, 'service closing'));
    else sink[kDestroy](disconnectCause(error.disconnectCode ?? DisconnectCode.PeerClosed, error.message, error));
  }
}

/**
 * Reads the server's answer to RESUME on a new connection: its first packet, RESUMED or REFUSED. An
 * answer that does not come within `connectTimeoutMs` (the ClientService default, 5 s) counts as a
 * failed attempt: a connection handed between server processes can be left open with nobody to
 * answer it (the process it went to died), and waiting on it would stall the resume until the grace
 * period is over.
 */
class ResumeAnswer implements LinkOwner {
  #held: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #link: TransportLink | undefined;

  constructor(private readonly transport: ClientResumeTransport) {}

  /** Starts waiting for the answer on `link`. */
  wait(link: TransportLink): void {
    this.#link = link;
    this.#timer = setTimeout(answerLate, DEFAULTS.connectTimeoutMs, this);
    this.#timer.unref();
  }

  /** Internal (timer): no answer came. */
  late(): void {
    this.#timer = undefined;
    const link = this.#link;
    if (link !== undefined && !link.dead && link.owner === this) this.transport.refused(link, undefined);
  }

  #settled(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  linkData(link: TransportLink, chunk: Buffer): void {
    this.#settled();
    this.#dataNow(link, chunk);
  }

  #dataNow(link: TransportLink, chunk: Buffer): void {
    const held = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk]);
    if (held.length >= HEADER_BYTES) {
      const size = packetSizeAt(held, 0);
      const id = packetIdAt(held, 0);
      if ((id !== RESUME_RESUMED_ID && id !== RESUME_REFUSED_ID) || size > MAX_ANSWER || size < HEADER_BYTES) {
        return this.transport.refused(link, Buffer.alloc(0)); // not a gamewire resume answer
      }
      if (held.length >= size) {
        const body = held.subarray(HEADER_BYTES, size);
        if (id === RESUME_RESUMED_ID) return this.transport.answered(link, body, held.subarray(size));
        return this.transport.refused(link, body);
      }
    }
    this.#held = Buffer.from(held);
    // A partial answer: wait for the rest, within the same time.
    this.#timer = setTimeout(answerLate, DEFAULTS.connectTimeoutMs, this);
    this.#timer.unref();
  }

  linkEnd(link: TransportLink): void {
    this.#settled();
    this.transport.refused(link, undefined);
  }

  linkError(link: TransportLink, error: Error): void {
    void error;
    this.#settled();
    this.transport.refused(link, undefined);
  }

  linkClosed(link: TransportLink): void {
    this.#settled();
    this.transport.refused(link, undefined);
  }

  linkWritten(link: TransportLink, error: Error | null | undefined): void {
    void link;
    void error;
  }
}

function ackTick(transport: ClientResumeTransport): void {
  transport.ackTick();
}

function answerLate(answer: ResumeAnswer): void {
  answer.late();
}

function suspendMoved(transport: ClientResumeTransport): void {
  transport.suspendMoved();
}

function attemptNow(transport: ClientResumeTransport): void {
  transport.attemptNow();
}
