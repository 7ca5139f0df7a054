import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../symbols.js';
import type { Transport, TransportSink } from '../transport/transport.js';

/** Who hears a link's events: a gate reading the first packet, then the resume transport. */
export interface LinkOwner {
  linkData(link: TransportLink, chunk: Buffer): void;
  linkEnd(link: TransportLink, leaving: boolean | undefined, closeCode?: number): void;
  linkError(link: TransportLink, error: Error): void;
  linkClosed(link: TransportLink): void;
  /** A write of the connection's own completed (writes made with `own` are not reported). */
  linkWritten(link: TransportLink, error: Error | null | undefined): void;
}

/**
 * The sink of one real connection (one raw transport, TCP or WebSocket) while resume may move what it
 * carries: it forwards the transport's events to its current owner, until it is cut loose (`dead`),
 * after which the dead connection's late events are ignored. It also tells apart, in the order they
 * complete, the writes made for the session from those the resume machinery made itself (control
 * packets, a replay), so the session's send queue sees exactly one completion per write of its own.
 */
export class TransportLink implements TransportSink {
  readonly transport: Transport;
  #owner: LinkOwner | undefined;
  /**
   * Where data and the session's write completions go straight to, past the owner: the connection
   * core, set by a resume transport that owns the link and would only forward them (a read is one
   * call shorter, and touches one object less, which counts with a thousand sessions).
   */
  #direct: TransportSink | undefined;
  /** Cut loose: the connection is gone or replaced; its events are ignored. */
  dead = false;
  #issued = 0;
  #completed = 0;
  /** Sequence numbers of own writes not yet completed, ascending (made on the first one). */
  #own: number[] | undefined;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Who hears this link's events now; setting it stops any straight delivery (`deliverTo`). */
  get owner(): LinkOwner | undefined {
    return this.#owner;
  }

  set owner(owner: LinkOwner | undefined) {
    this.#owner = owner;
    this.#direct = undefined;
  }

  /** The owner forwards data and completions to `sink` unchanged: they go there straight. */
  deliverTo(sink: TransportSink | undefined): void {
    this.#direct = sink;
  }

  /** Writes of the session handed to the transport and not yet completed. */
  get pendingSessionWrites(): number {
    return this.#issued - this.#completed - (this.#own?.length ?? 0);
  }

  /** One write; `own` for the resume machinery's own bytes (their completion is not reported). */
  write(pieces: readonly Uint8Array[], count: number, bytes: number, own: boolean): void {
    if (own) (this.#own ??= []).push(this.#issued);
    this.#issued++;
    this.transport.write(pieces, count, bytes);
  }

  [kTransportData](chunk: Buffer): void {
    if (this.dead) return;
    const direct = this.#direct;
    if (direct !== undefined) direct[kTransportData](chunk);
    else this.#owner?.linkData(this, chunk);
  }

  [kTransportEnd](leaving?: boolean, closeCode?: number): void {
    if (!this.dead) this.#owner?.linkEnd(this, leaving, closeCode);
  }

  [kTransportError](error: Error): void {
    if (!this.dead) this.#owner?.linkError(this, error);
  }

  [kTransportClosed](): void {
    if (!this.dead) this.#owner?.linkClosed(this);
  }

  [kTransportWritten](error: Error | null | undefined): void {
    if (this.dead) return;
    const sequence = this.#completed++;
    const own = this.#own;
    if (own !== undefined && own.length > 0 && own[0] === sequence) {
      own.shift();
      return;
    }
    const direct = this.#direct;
    if (direct !== undefined) direct[kTransportWritten](error);
    else this.#owner?.linkWritten(this, error);
  }
}
