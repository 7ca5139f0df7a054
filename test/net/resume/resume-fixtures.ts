/** A server session for the resume tests: numbered bursts on request, every hook and packet recorded. */
import type { DisconnectCause } from '../../../src/core/disconnect-cause.js';
import type { SessionStateHooks } from '../../../src/net/session-state-hooks.js';
import { PacketSession } from '../../../src/packet/packet-session.js';
import { Condition } from '../../helpers/wait.js';

/** Client → server: "send me N numbered packets" (body u32 N). */
export const BURST = 1;
/** Server → client: numbered packet (body u32 seq, from 1 per session). */
export const NUMBERED = 2;
/** Client → server: a numbered packet of the client's (body u32 seq), recorded. */
export const CLIENT_SEQ = 3;

export class ResumeTestSession extends PacketSession {
  readonly events: string[] = [];
  /** Seqs of CLIENT_SEQ packets received, in order. */
  readonly clientSeqs: number[] = [];
  nextSeq = 1;
  cause: DisconnectCause | undefined;
  readonly changed = new Condition();

  /** Sends `count` numbered packets now. */
  burst(count: number): void {
    for (let i = 0; i < count; i++) {
      const body = Buffer.alloc(4);
      body.writeUInt32LE(this.nextSeq++);
      this.sendPacket(NUMBERED, body);
    }
  }

  until(check: () => boolean, label: string, timeoutMs?: number): Promise<void> {
    return this.changed.until(check, `session ${this.id}: ${label}`, timeoutMs);
  }

  protected override onConnected(): void {
    this.events.push('connected');
    this.changed.notify();
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    if (id === BURST) this.burst(body.readUInt32LE(0));
    else if (id === CLIENT_SEQ) this.clientSeqs.push(body.readUInt32LE(0));
    this.changed.notify();
  }

  protected override onConnectionLost(cause: DisconnectCause): void {
    this.events.push(`lost:${cause.code}`);
    this.changed.notify();
  }

  protected override onResumed(): void {
    this.events.push(`resumed:${this.transport}`);
    this.changed.notify();
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.events.push(`disconnected:${cause.code}`);
    this.cause = cause;
    this.changed.notify();
  }
}

/** A session whose game state (its next seq, a score, the client seqs it has) moves. */
export class MovableSession extends ResumeTestSession implements SessionStateHooks {
  score = 0;
  restored = false;

  serializeState(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ nextSeq: this.nextSeq, score: this.score, clientSeqs: this.clientSeqs }));
  }

  restoreState(bytes: Uint8Array): void {
    const state = JSON.parse(new TextDecoder().decode(bytes)) as { nextSeq: number; score: number; clientSeqs: number[] };
    this.nextSeq = state.nextSeq;
    this.score = state.score;
    this.clientSeqs.push(...state.clientSeqs);
    this.restored = true;
  }
}

/** The u32 seqs of the NUMBERED packets among `packets`. */
export function seqsOf(packets: readonly { id: number; bytes: Buffer }[]): number[] {
  return packets.filter((p) => p.id === NUMBERED).map((p) => p.bytes.readUInt32LE(4));
}

/** 1..n. */
export function upTo(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

export function u32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
}
