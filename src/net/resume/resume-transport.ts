import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { ReplayOverflowError, ResumeProtocolError, type GamewireError } from '../../core/errors.js';
import { ReplayBuffer } from '../../core/resume/replay-buffer.js';
import { ACK_BYTES, ACK_EVERY_PACKETS, encodeAck, encodeBye, HEADER_BYTES, readU64, RESUME_ACK_ID, RESUME_BYE_ID, writeAck } from '../../core/resume/resume-wire.js';
import type { TrafficCounters } from '../connection/session-traffic.js';
import { kClose, kDestroy, kEndWith, kFlushPending, kReconnecting, kTraffic, kWritesInFlight } from '../symbols.js';
import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportResumed, kTransportSuspended, kTransportWritten } from '../symbols.js';
import { causeOfTransportError } from '../transport/transport-errors.js';
import type { Transport, TransportKind, TransportSink } from '../transport/transport.js';
import type { LinkOwner, TransportLink } from './transport-link.js';

/** What a resume transport needs of its connection: the connection core implements it. */
export interface ResumableSink extends TransportSink {
  [kTransportSuspended](cause: DisconnectCause): void;
  [kTransportResumed](): void;
  [kReconnecting](attempt: number, delayMs: number): void;
  readonly [kTraffic]: TrafficCounters;
  /** True while a flush is coming this turn: an acknowledgement owed can ride in its write. */
  readonly [kFlushPending]: boolean;
  /** Writes it handed this transport and awaits the completion of. */
  readonly [kWritesInFlight]: number;
  [kEndWith](error: GamewireError): void;
  [kClose](cause: DisconnectCause): void;
  [kDestroy](cause: DisconnectCause): void;
}

/** Where the transport is: carried by a connection, waiting for one, or done. */
type LinkState = 'live' | 'suspended' | 'closed';

/**
 * The transport a resumable session sees (docs/resume.md): it stands for whichever real connection
 * carries the session now, and survives their loss. It keeps every write of the session (by
 * reference) until the peer acknowledges it, counts the packets received from the peer (the session's
 * traffic counters, less the resume packets), acknowledges them, and turns the loss of a connection
 * into `suspended` instead of a close. A new connection is attached with `reattach`, after which the
 * subclass sends what the peer missed. The server and the client side are the two subclasses; a
 * plain session of a resume-enabled server gets a non-recording one (it forwards only).
 */
export abstract class ResumeTransport implements Transport, LinkOwner {
  // The fields a write and a read of an ACK use come first: they are laid out in this order, and with
  // a thousand sessions the fewer cache lines of this object a write touches, the better.
  /** The link's raw transport, kept here so that a write does not go through the link. */
  #raw: Transport;
  #sink: ResumableSink | undefined;
  #state: LinkState = 'live';
  /** Writes are kept until acknowledged (from HELLO on; false for a plain session, or after overflow). */
  #recording: boolean;
  #overflowed = false;
  readonly replay = new ReplayBuffer();
  /** Resume packets received in the session's stream: not counted (docs/protocol.md, "Counting"). */
  #controlReceived = 0;
  /** The received count last told to the peer. */
  #lastAckSent = 0;
  /** The peer's ACK asked for ours: it rides in the next write of this turn, or goes alone after the read. */
  #ackOwed = false;
  #link: TransportLink;
  /** Bytes the kernel took over the connections that carried the session before the current one. */
  #sentBefore = 0;
  /** True once the session is ending on purpose: a loss is then a close, not a suspension. */
  #ending = false;
  #paused = false;
  #byeReceived = false;
  /** Writes made while no connection carried the session whose completion (next tick) has not run. */
  #heldWrites = 0;

  constructor(link: TransportLink, recording: boolean) {
    this.#link = link;
    this.#raw = link.transport;
    this.#recording = recording;
  }

  /** True when the session survives the loss of its connection. */
  abstract get resumable(): boolean;
  /** Bytes kept unacknowledged past which the session ends with `REPLAY_OVERFLOW`. */
  protected abstract get maxReplayBytes(): number;
  /** The transport opened on its first connection: write what opens the stream (WELCOME, HELLO). */
  protected abstract opened(): void;
  /** The connection was lost and the session is suspended. */
  protected abstract lost(cause: DisconnectCause): void;
  /** The transport closed for good. */
  protected abstract closed(): void;
  /** A resume packet the base does not handle (WELCOME on a client). */
  protected abstract otherControl(id: number, body: Buffer): void;

  get kind(): TransportKind {
    return this.#raw.kind;
  }

  get remoteAddress(): string {
    return this.#raw.remoteAddress;
  }

  get remotePort(): number {
    return this.#raw.remotePort;
  }

  get bufferedBytes(): number {
    return this.#state === 'live' ? this.#raw.bufferedBytes : 0;
  }

  /**
   * Bytes the kernel took over every connection that carried the session: what the dropped ones took,
   * plus the current one's count, so that the count only grows across a resume (send pressure reads
   * its growth); -1 while a connection cannot tell (TLS), or while none carries the session.
   */
  get sentBytes(): number {
    if (this.#state !== 'live') return -1;
    const sent = this.#raw.sentBytes;
    return sent < 0 ? -1 : this.#sentBefore + sent;
  }

  get destroyed(): boolean {
    return this.#state === 'closed';
  }

  /** True while no connection carries the session. */
  get suspended(): boolean {
    return this.#state === 'suspended';
  }

  /** The connection carrying the session now (or last). */
  protected get link(): TransportLink {
    return this.#link;
  }

  /**
   * Continues, on this process, a session that moved in: `received` packets already received from the
   * client (the count goes on from there), and no connection yet: suspended until the client resumes.
   * Called before `open`.
   */
  protected continueMoved(received: number): void {
    this.#controlReceived = -received;
    this.#lastAckSent = received;
    this.#state = 'suspended';
    this.#link.cut();
  }

  /** The session is ending on purpose (the peer said BYE): a loss now is a close, and no BYE is sent back. */
  protected markEnding(): void {
    this.#ending = true;
    this.#byeReceived = true;
  }

  /** The session's connection core, once opened. */
  protected get sink(): ResumableSink | undefined {
    return this.#sink;
  }

  /** Packets received from the peer on this session (docs/protocol.md, "Counting"). */
  get received(): number {
    const sink = this.#sink;
    return sink === undefined ? 0 : sink[kTraffic].packetsReceived - this.#controlReceived;
  }

  /** True while writes are kept for the peer. */
  protected get recording(): boolean {
    return this.#recording;
  }

  /** Stops keeping writes (a client whose server turned out not to resume). */
  protected stopRecording(): void {
    this.#recording = false;
    this.replay.clear();
  }

  open(sink: TransportSink): void {
    this.#sink = sink as ResumableSink;
    this.#link.owner = this;
    this.#link.deliverTo(sink); // linkData and linkWritten only forward: the raw transport calls the sink itself
    this.opened();
  }

  write(pieces: readonly Uint8Array[], count: number, bytes: number): void {
    if (this.#recording && !this.#overflowed) {
      const replay = this.replay;
      for (let i = 0; i < count; i++) replay.append(pieces[i] as Uint8Array);
      if (replay.bytes > this.maxReplayBytes) this.#overflow();
    }
    if (this.#state !== 'live') {
      // Kept for the peer: "written" as far as the send queue is concerned, on the next tick.
      this.#heldWrites++;
      process.nextTick(completeHeldWrite, this);
      return;
    }
    const received = this.resumable ? this.received : 0;
    const unacked = received - this.#lastAckSent;
    if (unacked >= ACK_EVERY_PACKETS || (this.#ackOwed && unacked > 0)) {
      this.#ackOwed = false;
      // The acknowledgement rides in the same write: one write, one completion, as the queue expects.
      this.#lastAckSent = received;
      const total = bytes + ACK_BYTES;
      if (total <= JOIN_LIMIT) {
        // One buffer: the ACK written into it, the pieces copied after it (no ACK view, no list, and
        // no second join in the transport).
        const joined = Buffer.allocUnsafe(total);
        writeAck(joined, 0, received);
        let at = ACK_BYTES;
        for (let i = 0; i < count; i++) {
          const piece = pieces[i] as Uint8Array;
          joined.set(piece, at);
          at += piece.length;
        }
        single[0] = joined;
        this.#raw.write(single, 1, total);
        single[0] = EMPTY;
        return;
      }
      const withAck = [encodeAck(received)];
      for (let i = 0; i < count; i++) withAck.push(pieces[i] as Uint8Array);
      this.#raw.write(withAck, withAck.length, total);
      return;
    }
    this.#raw.write(pieces, count, bytes);
  }

  /** Writes the resume machinery's own bytes (control packets, a replay): not kept, not reported. */
  protected writeOwn(pieces: readonly Uint8Array[]): void {
    if (this.#state !== 'live' || pieces.length === 0) return;
    let bytes = 0;
    for (const piece of pieces) bytes += piece.length;
    this.#raw.write(pieces, pieces.length, bytes, true);
  }

  pause(): void {
    this.#paused = true;
    if (this.#state === 'live') this.#raw.pause();
  }

  resume(): void {
    this.#paused = false;
    if (this.#state === 'live') this.#raw.resume();
  }

  end(cause: DisconnectCause): void {
    if (this.#state === 'closed') return;
    this.#ending = true;
    if (this.#state === 'suspended') return this.#closeLater();
    // The peer must not try to resume a session that ended: BYE says so, with the cause.
    if (this.resumable && !this.#byeReceived) this.writeOwn([encodeBye(cause.reason.length > 0 ? `${cause.code}: ${cause.reason}` : cause.code)]);
    this.#raw.end(cause);
  }

  destroy(): void {
    if (this.#state === 'closed') return;
    this.#ending = true;
    if (this.#state === 'suspended') return this.#closeLater();
    this.#raw.destroy();
  }

  lose(cause: DisconnectCause): boolean {
    if (!this.resumable || this.#ending || this.#state === 'closed') return false;
    if (this.#state === 'live') this.suspend(cause);
    return true;
  }

  control(id: number, bytes: Buffer, offset: number, size: number): void {
    this.#controlReceived++;
    if (id === RESUME_ACK_ID) {
      // Read in place: an ACK comes every 32 packets, a view of its body each time is garbage.
      const count = size === ACK_BYTES ? readU64(bytes, offset + HEADER_BYTES) : undefined;
      this.#onAck(count, size - HEADER_BYTES);
      return;
    }
    const body = bytes.subarray(offset + HEADER_BYTES, offset + size);
    if (id === RESUME_BYE_ID) this.onBye(body);
    else this.otherControl(id, body);
  }

  /** The peer said BYE: the server ends the session at once; a client keeps the server's cause. */
  protected abstract onBye(body: Buffer): void;

  /** The peer's ACK: `count`, undefined when its body (`bodyBytes` long) is not a count. */
  #onAck(count: number | undefined, bodyBytes: number): void {
    if (!this.resumable) return;
    if (count === undefined) return this.fail(`ACK body of ${bodyBytes} bytes that is not a count (8 bytes, below 2^53)`);
    if (!this.replay.ack(count)) return this.fail(`ACK of ${count} packets; ${this.replay.acked} acknowledged and fewer than that sent since`);
    // Answer with our own count when it says something new (an ACK also asks for one back). Not at
    // once: the answer rides in the write that the packets read with this ACK usually cause (an echo,
    // a broadcast), so an acknowledged stream costs no extra write; answerAck sends it alone otherwise.
    if (this.received > this.#lastAckSent && !this.#ackOwed) {
      this.#ackOwed = true;
      process.nextTick(answerAck, this);
    }
  }

  /** Internal (next tick, after the read that carried the peer's ACK): sends the answer alone unless a write is coming. */
  answerOwedAck(): void {
    if (!this.#ackOwed) return;
    if (this.#state === 'live' && this.#sink?.[kFlushPending] === true) return; // write() takes it along
    this.#ackOwed = false;
    const received = this.received;
    if (received > this.#lastAckSent) this.sendAck(received);
  }

  /** Sends ACK for `received` packets now. */
  protected sendAck(received: number): void {
    this.#ackOwed = false;
    this.#lastAckSent = received;
    this.writeOwn([encodeAck(received)]);
  }

  /** The received count last told to the peer. */
  protected get lastAckSent(): number {
    return this.#lastAckSent;
  }

  /** Ends the session for a broken resume packet (`BAD_PACKET`). */
  protected fail(message: string): void {
    this.#sink?.[kEndWith](new ResumeProtocolError(message));
  }

  #overflow(): void {
    this.#overflowed = true;
    if (this.overflowEnds()) process.nextTick(endOverflowed, this);
  }

  /** The session is about to end with `REPLAY_OVERFLOW` (the server warns its operator). */
  protected overflowedHook(): void {}

  /** More than `maxReplayBytes` kept: true to end the session (`REPLAY_OVERFLOW`); a subclass may instead stop keeping. */
  protected overflowEnds(): boolean {
    return true;
  }

  /** Internal (next tick): ends the session for `REPLAY_OVERFLOW` (not inside the flush that found it). */
  endOverflowed(): void {
    this.overflowedHook();
    this.#sink?.[kEndWith](new ReplayOverflowError(this.replay.bytes, this.maxReplayBytes));
  }

  /** Internal (next tick): a write made while no connection carries the session is done. */
  completeHeldWrite(): void {
    this.#heldWrites--;
    if (this.#state !== 'closed') this.#sink?.[kTransportWritten](undefined);
  }

  /** Drops the current connection and suspends the session (its writes in flight count as done: they are kept). */
  protected suspend(cause: DisconnectCause): void {
    const raw = this.#raw;
    const sent = raw.sentBytes;
    if (sent > 0) this.#sentBefore += sent;
    this.#link.cut(); // late completions of the writes in flight reach no one: they are completed here
    raw.destroy();
    this.#state = 'suspended';
    const sink = this.#sink;
    if (sink === undefined) return;
    for (let n = sink[kWritesInFlight] - this.#heldWrites; n > 0; n--) sink[kTransportWritten](undefined);
    sink[kTransportSuspended](cause);
    if (this.#state === 'suspended') this.lost(cause);
  }

  /** Carries the session on `link` from now on; the caller writes what the peer missed, then calls `resumed`. */
  protected reattach(link: TransportLink): void {
    this.#link = link;
    this.#raw = link.transport;
    link.owner = this;
    link.deliverTo(this.#sink);
    this.#state = 'live';
    this.#lastAckSent = this.received;
    if (this.#paused) link.transport.pause();
  }

  /** Tells the session it is carried again (after what the peer missed was written). */
  protected resumed(): void {
    this.#sink?.[kTransportResumed]();
  }

  #closeLater(): void {
    this.#state = 'closed';
    process.nextTick(closeHeld, this);
  }

  /** Internal (next tick): the close of a transport that had no connection. */
  closeHeld(): void {
    this.replay.clear();
    this.closed();
    this.#sink?.[kTransportClosed]();
  }

  /** Data of the link (when it does not deliver it straight, see `TransportLink.deliverTo`). */
  linkData(link: TransportLink, chunk: Buffer): void {
    void link;
    this.#sink?.[kTransportData](chunk);
  }

  linkEnd(link: TransportLink, leaving: boolean | undefined, closeCode?: number): void {
    void link;
    if (this.resumable && !this.#ending) this.suspend(disconnectCause(DisconnectCode.PeerClosed, 'the peer closed the connection'));
    else this.#sink?.[kTransportEnd](leaving, closeCode);
  }

  linkError(link: TransportLink, error: Error): void {
    void link;
    if (this.resumable && !this.#ending) this.suspend(causeOfTransportError(error).cause);
    else this.#sink?.[kTransportError](error);
  }

  linkClosed(link: TransportLink): void {
    void link;
    if (this.resumable && !this.#ending && this.#state === 'live') {
      this.suspend(disconnectCause(DisconnectCode.PeerClosed, 'connection closed'));
      return;
    }
    this.#state = 'closed';
    this.replay.clear();
    this.closed();
    this.#sink?.[kTransportClosed]();
  }

  linkWritten(link: TransportLink, error: Error | null | undefined): void {
    void link;
    this.#sink?.[kTransportWritten](error);
  }
}

/** Writes up to this size get their ACK joined in front in one buffer (TCP joins writes this small anyway). */
const JOIN_LIMIT = 64 * 1024;
const EMPTY = new Uint8Array(0);
/** The list a one-buffer write is handed over in; the link uses it only during `write`. */
const single: Uint8Array[] = [EMPTY];

function completeHeldWrite(transport: ResumeTransport): void {
  transport.completeHeldWrite();
}

function answerAck(transport: ResumeTransport): void {
  transport.answerOwedAck();
}

function endOverflowed(transport: ResumeTransport): void {
  transport.endOverflowed();
}

function closeHeld(transport: ResumeTransport): void {
  transport.closeHeld();
}
