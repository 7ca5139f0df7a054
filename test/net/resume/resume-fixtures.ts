/**
 * What the resume tests share: a server session with numbered bursts on request and every hook and
 * packet recorded, and the start of most tests (a resume server, a client welcomed over TCP or
 * WebSocket, maybe through a proxy that can cut it, and that client's session).
 */
import type { DisconnectCause } from '../../../src/core/disconnect-cause.js';
import type { ServerService } from '../../../src/net/server-service.js';
import type { SessionStateHooks } from '../../../src/net/session-state-hooks.js';
import { PacketSession } from '../../../src/packet/packet-session.js';
import { CutProxy } from '../../helpers/cut-proxy.js';
import { ResumePeer, type Endpoint } from '../../helpers/resume-peer.js';
import { startServer, type SessionCollector } from '../../helpers/services.js';
import { Condition, type Cleanup } from '../../helpers/wait.js';

/** Client → server: "send me N numbered packets" (body u32 N). */
export const BURST = 1;
/** Server → client: numbered packet (body u32 seq, from 1 per session). */
export const NUMBERED = 2;
/** Client → server: a numbered packet of the client's (body u32 seq), recorded. */
export const CLIENT_SEQ = 3;

/**
 * The client side of the resume tests: a resumable PacketSession that sends numbered CLIENT_SEQ
 * packets, and records the NUMBERED seqs it receives, its resume hooks in order (`lost:CODE`,
 * `reconnecting:ATTEMPT`, `resumed`, `disconnected:CODE`), each reconnect's delay, and its cause.
 */
export class ResumePlayer extends PacketSession {
  readonly seqs: number[] = [];
  readonly events: string[] = [];
  /** The delay of each `onReconnecting`, ms, in order. */
  readonly reconnectDelays: number[] = [];
  cause: DisconnectCause | undefined;
  readonly changed = new Condition();
  #next = 1;

  sendSeqs(count: number): void {
    for (let i = 0; i < count; i++) this.sendPacket(CLIENT_SEQ, u32(this.#next++));
  }

  until(check: () => boolean, label: string, timeoutMs?: number): Promise<void> {
    return this.changed.until(check, label, timeoutMs);
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    if (id === NUMBERED) this.seqs.push(body.readUInt32LE(0));
    this.changed.notify();
  }

  protected override onConnectionLost(cause: DisconnectCause): void {
    this.events.push(`lost:${cause.code}`);
    this.changed.notify();
  }

  protected override onReconnecting(attempt: number, delayMs: number): void {
    this.events.push(`reconnecting:${attempt}`);
    this.reconnectDelays.push(delayMs);
    this.changed.notify();
  }

  protected override onResumed(): void {
    this.events.push('resumed');
    this.changed.notify();
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.events.push(`disconnected:${cause.code}`);
    this.cause = cause;
    this.changed.notify();
  }
}

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

type ServerOptions = NonNullable<Parameters<typeof startServer<ResumeTestSession>>[2]>;

/** A resume test's server, the client it is about, and that client's session. */
export interface ResumeFixture {
  readonly service: ServerService<ResumeTestSession>;
  readonly collector: SessionCollector<ResumeTestSession>;
  /** The TCP and (with `server.ws`) WebSocket ports, for resuming directly. */
  readonly ports: { readonly tcp: number; readonly ws: number | undefined };
  /** Between the client and the server, with `proxy`; undefined otherwise. */
  readonly proxy: CutProxy | undefined;
  readonly peer: ResumePeer;
  readonly session: ResumeTestSession;
}

/**
 * Starts a server with `server` options (default `{ resume: {} }`) and a ResumePeer that says HELLO
 * over `transport` (default TCP), through a CutProxy with `proxy`, and waits for WELCOME and the session.
 */
export async function resumeFixture(
  cleanup: Cleanup,
  { server = { resume: {} }, transport = 'tcp', proxy: proxied = false }: { server?: ServerOptions; transport?: 'tcp' | 'ws'; proxy?: boolean } = {},
): Promise<ResumeFixture> {
  const { service, collector } = await startServer(cleanup, () => new ResumeTestSession(), server);
  const ports = { tcp: service.port, ws: service.wsPort };
  const target = transport === 'tcp' ? ports.tcp : ports.ws;
  if (target === undefined) throw new Error('a WebSocket fixture needs the server option ws');
  const proxy = proxied ? await CutProxy.start(target, cleanup) : undefined;
  const port = proxy?.port ?? target;
  const peer = await welcomedPeer(cleanup, transport === 'tcp' ? { tcp: port } : { ws: port });
  return { service, collector, ports, proxy, peer, session: await collector.nth(0) };
}

/** A ResumePeer that said HELLO at `endpoint` and got WELCOME. */
export async function welcomedPeer(cleanup: Cleanup, endpoint: Endpoint): Promise<ResumePeer> {
  const peer = new ResumePeer(cleanup);
  await peer.open(endpoint);
  await peer.welcomed();
  return peer;
}
