import { DisconnectCode, disconnectCause } from '../../core/disconnect-cause.js';
import type { Logger } from '../../core/logger.js';
import type { ServerResumeSettings } from '../../core/resume/resume-options.js';
import {
  decodeTokenAndCount,
  encodeRefused,
  HEADER_BYTES,
  isResumeId,
  packetIdAt,
  packetSizeAt,
  RESUME_HELLO_ID,
  RESUME_REQUEST_ID,
  RESUME_VERSION,
  tokenRoute,
  type ResumeRefusal,
} from '../../core/resume/resume-wire.js';
import type { Refusal } from '../listen/refusal.js';
import type { Transport, TransportKind } from '../transport/transport.js';
import { PlainTransport } from './plain-transport.js';
import { ResumeRegistry } from './resume-registry.js';
import { ServerResumeTransport } from './server-resume-transport.js';
import { TransportLink, type LinkOwner } from './transport-link.js';

/** Retry delay told to a client whose RESUME arrived before its moving session (ms): the move takes a few IPC messages. */
const MOVING_RETRY_MS = 20;

/** Largest first packet read whole by the gate: a RESUME (36 bytes) with room to spare. */
const MAX_GATED_PACKET = 64;

/** What the gate needs of the server it admits connections to. */
export interface GateOwner {
  /** Why no new session can be made for `address` now (full, closing), or undefined. */
  sessionRefusal(address: string): Refusal | undefined;
  /** Counts (and warns about) a connection refused. */
  refused(address: string, refusal: Refusal, transport: TransportKind): void;
  /** Makes a session for `transport` with the session factory; false when that failed (the transport is then destroyed). */
  adoptGated(transport: Transport): boolean;
  /** A session resumed from `to` (its address before was `from`): per-address counts follow it. */
  moved(from: string, to: string): void;
  /**
   * Hands the connection of `transport`, which sent a RESUME for another process of this server
   * (`route`), to that process with `bytes` (everything read from it): true when it left (the
   * transport is then no longer this process's), false when it cannot (TLS, no such live process).
   */
  handOver(route: number, transport: Transport, bytes: Buffer): boolean;
}

/**
 * The connections of a resume-enabled server before they have a session: each waits for its first
 * packet (docs/protocol.md, "Opening a resumable session"), then HELLO makes a resumable session, a
 * RESUME re-attaches the connection to the suspended session it names (no session is made, no hook of a
 * new session runs), and anything else, or silence for `helloTimeoutMs`, makes a plain session that
 * gets the bytes read so far. Holds the registry of resumable sessions.
 */
export class ResumeGates {
  readonly registry: ResumeRegistry<ServerResumeTransport>;
  readonly settings: ServerResumeSettings;
  readonly owner: GateOwner;
  readonly #pending = new Set<ResumeGate>();

  /** `route`, `server`: this process's route and this server's number in tokens (resume-router.ts; by default 0 and random). */
  constructor(settings: ServerResumeSettings, owner: GateOwner, logger: Logger, route = 0, server?: number) {
    this.settings = settings;
    this.owner = owner;
    this.registry = new ResumeRegistry<ServerResumeTransport>(settings, route, logger, server);
  }

  /** Connections waiting for their first packet. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Takes a new connection: it waits for its first packet. */
  admit(transport: Transport): void {
    this.#pending.add(new ResumeGate(this, transport));
  }

  /** Drops every connection still waiting (the service is closing). */
  closeAll(): void {
    for (const gate of [...this.#pending]) gate.drop();
  }

  /** Internal: `gate` has decided (or dropped). */
  done(gate: ResumeGate): void {
    this.#pending.delete(gate);
  }
}

/** One connection waiting for its first packet. */
class ResumeGate implements LinkOwner {
  readonly #gates: ResumeGates;
  readonly #link: TransportLink;
  #held: Buffer | undefined;
  #timer: NodeJS.Timeout | undefined;
  #decided = false;

  constructor(gates: ResumeGates, transport: Transport) {
    this.#gates = gates;
    const link = (this.#link = new TransportLink(transport));
    link.owner = this;
    transport.open(link);
    this.#timer = setTimeout(helloTimeout, gates.settings.helloTimeoutMs, this);
    this.#timer.unref();
  }

  linkData(link: TransportLink, chunk: Buffer): void {
    void link;
    if (this.#decided) return; // refused: what follows is dropped
    const held = this.#held === undefined ? chunk : Buffer.concat([this.#held, chunk]);
    if (held.length < HEADER_BYTES) {
      this.#held = Buffer.from(held); // the transport may reuse its chunk
      return;
    }
    const id = packetIdAt(held, 0);
    const size = packetSizeAt(held, 0);
    if (!isResumeId(id) || size > MAX_GATED_PACKET || size < HEADER_BYTES) return this.#plain(held);
    if (held.length < size) {
      this.#held = Buffer.from(held);
      return;
    }
    const body = held.subarray(HEADER_BYTES, size);
    const rest = held.subarray(size);
    if (id === RESUME_HELLO_ID) {
      if (body.length >= 1 && body[0] === RESUME_VERSION) return this.#resumable(rest);
      this.#gates.registry.counters.refused.UNSUPPORTED++;
      const refusal = encodeRefused('UNSUPPORTED', 0, `resume version ${body[0] ?? 'none'} is not supported`);
      this.#link.transport.write([refusal], 1, refusal.length, true); // own: no completion
      return this.#plain(rest);
    }
    if (id === RESUME_REQUEST_ID) return this.#resume(body, rest, held);
    this.#plain(held);
  }

  linkEnd(link: TransportLink): void {
    void link;
    this.drop();
  }

  linkError(link: TransportLink, error: Error): void {
    void link;
    void error;
    this.drop();
  }

  linkClosed(link: TransportLink): void {
    void link;
    this.drop();
  }

  linkWritten(link: TransportLink, error: Error | null | undefined): void {
    void link;
    void error;
  }

  /** Closes the connection and forgets it. */
  drop(): void {
    this.#settle();
    this.#link.transport.destroy();
  }

  /** Internal (timer): the client sent no whole first packet in time: a plain session gets what came. */
  helloTimeout(): void {
    this.#timer = undefined;
    if (this.#decided) return this.drop(); // refused, and the peer did not close
    this.#plain(this.#held ?? Buffer.alloc(0));
  }

  #settle(): void {
    this.#decided = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#held = undefined;
    this.#gates.done(this);
  }

  #plain(bytes: Buffer): void {
    this.#settle();
    const transport = new PlainTransport(this.#link);
    if (this.#adopt(transport) && bytes.length > 0) transport.linkData(this.#link, bytes);
  }

  #resumable(rest: Buffer): void {
    this.#settle();
    const transport = new ServerResumeTransport(this.#link, this.#gates.registry);
    if (this.#adopt(transport) && rest.length > 0) transport.linkData(this.#link, rest);
  }

  #adopt(transport: Transport): boolean {
    const owner = this.#gates.owner;
    const raw = this.#link.transport;
    const why = owner.sessionRefusal(raw.remoteAddress);
    if (why !== undefined) {
      raw.destroy();
      owner.refused(raw.remoteAddress, why, raw.kind);
      return false;
    }
    return owner.adoptGated(transport);
  }

  #resume(body: Buffer, rest: Buffer, held: Buffer): void {
    const request = decodeTokenAndCount(body);
    if (request === undefined) return this.#refuse('UNKNOWN_SESSION', 0, 'malformed RESUME');
    const registry = this.#gates.registry;
    const found = registry.find(request.token);
    if (found === 'NOT_HERE') return this.#elsewhere(request.token, held);
    if (found === 'RETRY_LATER') return this.#refuse(found, MOVING_RETRY_MS, 'the session is moving to this process: retry');
    if (typeof found === 'string') return this.#refuse(found, 0, 'no live session has this token');
    const wait = registry.admit(performance.now());
    if (wait > 0) return this.#refuse('RETRY_LATER', wait, 'too many resumes at once (resume.maxResumesPerSecond)');
    this.#settle();
    const from = found.remoteAddress;
    const refusal = found.resumeOn(this.#link, request.received);
    if (refusal !== undefined) return this.#refuse(refusal, 0, refusal === 'BAD_POSITION' ? `received ${request.received} is not a position the server can resume from` : 'the session ended');
    this.#gates.owner.moved(from, found.remoteAddress);
    if (rest.length > 0) found.linkData(this.#link, rest);
  }

  /**
   * A RESUME for a session this process does not hold: handed to the process of this server that
   * holds it (plain TCP), else refused NOT_HERE: another server's token (a resume never crosses
   * machines: docs/resume.md), a route with no live process, or a connection that cannot move.
   */
  #elsewhere(token: Uint8Array, held: Buffer): void {
    const registry = this.#gates.registry;
    if (registry.whose(token) === 'server') {
      return this.#refuse('NOT_HERE', 0, 'the session is held by another server: a resume does not cross servers, log in again');
    }
    const route = tokenRoute(token);
    this.#settle();
    if (this.#gates.owner.handOver(route, this.#link.transport, Buffer.from(held))) {
      registry.counters.routed++;
      return;
    }
    this.#refuse('NOT_HERE', 0, `the session's process (route ${route}) is gone, or this connection cannot move to it (TLS, or WebSocket without ?route=)`);
  }

  /** Writes REFUSED, ends the connection, and destroys it if the peer has not closed within helloTimeoutMs. */
  #refuse(reason: ResumeRefusal, retryAfterMs: number, text: string): void {
    this.#settle();
    this.#gates.registry.counters.refused[reason]++;
    const link = this.#link;
    link.owner = this;
    const refusal = encodeRefused(reason, retryAfterMs, text);
    link.transport.write([refusal], 1, refusal.length, true); // own: no completion
    link.transport.end(disconnectCause(DisconnectCode.ResumeRefused, `${reason}: ${text}`));
    this.#timer = setTimeout(helloTimeout, this.#gates.settings.helloTimeoutMs, this);
    this.#timer.unref();
  }
}

function helloTimeout(gate: ResumeGate): void {
  gate.helloTimeout();
}
