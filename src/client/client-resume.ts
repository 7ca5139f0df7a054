import { ReplayBuffer } from '../core/resume/replay-buffer.js';
import { reconnectDelay, type ClientResumeSettings } from '../core/resume/resume-options.js';
import {
  ACK_EVERY_PACKETS,
  decodeAck,
  decodeMove,
  decodeRefused,
  decodeTokenAndCount,
  decodeWelcome,
  encodeAck,
  encodeHello,
  encodeTokenAndCount,
  RESUME_ACK_ID,
  RESUME_REQUEST_ID,
  RESUME_MOVE_ID,
  RESUME_WELCOME_ID,
  type ResumeRefusal,
} from '../core/resume/resume-wire.js';

/**
 * The resume state of a browser GameClient (docs/resume.md, docs/protocol.md "Resume"): no I/O of
 * its own. It counts the packets received, keeps the messages sent until the server acknowledges
 * them, and says what to send when (HELLO, ACK, RESUME, the replay). The GameClient owns the socket.
 */
export class ClientResume {
  readonly settings: ClientResumeSettings;
  readonly replay = new ReplayBuffer();
  /** `pending` until WELCOME, `on` once resumable, `off` when the server does not resume. */
  phase: 'pending' | 'on' | 'off' = 'pending';
  token: Uint8Array | undefined;
  graceMs = 0;
  /** Packets received on the session that count (not resume packets). */
  received = 0;
  lastAckSent = 0;
  attempt = 0;
  lostAt = 0;

  constructor(settings: ClientResumeSettings) {
    this.settings = settings;
  }

  /** True once WELCOME came. */
  get resumable(): boolean {
    return this.phase === 'on';
  }

  /** HELLO, the first packet of the first connection. */
  hello(): Uint8Array {
    return encodeHello();
  }

  /** A message leaves: kept until acknowledged (until WELCOME too: it may come). */
  sent(message: Uint8Array): void {
    if (this.phase === 'off') return;
    if (this.phase === 'pending' && this.received > 0) return this.#off(); // no WELCOME first: no resume
    this.replay.append(message);
    if (this.replay.bytes > this.settings.maxReplayBytes && this.phase === 'pending') this.#off();
  }

  /** True when the replay cap is crossed on a resumable session (`REPLAY_OVERFLOW`). */
  get overflowed(): boolean {
    return this.phase === 'on' && this.replay.bytes > this.settings.maxReplayBytes;
  }

  /** An ACK to put in front of the next message, when 32 packets came since the last one. */
  ackDue(): Uint8Array | undefined {
    if (this.phase !== 'on' || this.received - this.lastAckSent < ACK_EVERY_PACKETS) return undefined;
    return this.ack();
  }

  /** An ACK for the timer: something to acknowledge, or ours not acknowledged yet. */
  ackTick(): Uint8Array | undefined {
    if (this.phase !== 'on' || (this.received <= this.lastAckSent && this.replay.bytes === 0)) return undefined;
    return this.ack();
  }

  ack(): Uint8Array {
    this.lastAckSent = this.received;
    return encodeAck(this.received);
  }

  /** A resume packet arrived in the stream. Returns an error text for a broken one. */
  control(id: number, body: Uint8Array): string | undefined {
    if (id === RESUME_WELCOME_ID) {
      if (this.phase !== 'pending' || this.received > 0) return undefined;
      const welcome = decodeWelcome(body);
      if (welcome === undefined) return 'bad WELCOME';
      this.token = welcome.token;
      this.graceMs = welcome.graceMs;
      this.phase = 'on';
    } else if (id === RESUME_MOVE_ID && this.phase === 'on') {
      const token = decodeMove(body);
      if (token === undefined) return 'bad MOVE';
      this.token = token;
    } else if (id === RESUME_ACK_ID && this.phase === 'on') {
      const count = decodeAck(body);
      if (count === undefined || !this.replay.ack(count)) return `bad ACK (${count})`;
    }
    return undefined;
  }

  /** RESUME, the only packet of a reconnection until the answer. */
  request(): Uint8Array {
    return encodeTokenAndCount(RESUME_REQUEST_ID, this.token as Uint8Array, this.received);
  }

  /** RESUMED came: what to send again (one message), or undefined when its count is impossible. */
  resumed(body: Uint8Array): Uint8Array | undefined {
    const answer = decodeTokenAndCount(body);
    if (answer === undefined || !this.replay.canResumeAt(answer.received)) return undefined;
    this.replay.ack(answer.received);
    this.token = answer.token;
    this.attempt = 0;
    this.lastAckSent = this.received;
    const missed = this.replay.unacknowledged();
    const out = new Uint8Array(missed.bytes);
    let at = 0;
    for (const piece of missed.pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** REFUSED came: its reason and retry delay. */
  refused(body: Uint8Array): { reason: ResumeRefusal; retryAfterMs: number; text: string } {
    return decodeRefused(body) ?? { reason: 'UNKNOWN_SESSION', retryAfterMs: 0, text: '' };
  }

  /** The wait before the next attempt, or undefined when the grace period is over. */
  nextDelay(now: number, atLeastMs = 0): number | undefined {
    const delay = Math.max(atLeastMs, reconnectDelay(this.settings, this.attempt, Math.random()));
    if (now - this.lostAt + delay >= this.graceMs) return undefined;
    this.attempt++;
    return delay;
  }

  #off(): void {
    this.phase = 'off';
    this.replay.clear();
  }
}
