import { kTransportClosed, kTransportData, kTransportEnd, kTransportError, kTransportWritten } from '../symbols.js';
import type { Transport, TransportSink } from '../transport/transport.js';

/** Who hears a link's events: a gate reading the first packet, then the resume transport. */
export interface LinkOwner {
  linkData(link: TransportLink, chunk: Buffer): void;
  linkEnd(link: TransportLink, leaving: boolean | undefined, closeCode?: number): void;
  linkError(link: TransportLink, error: Error): void;
  linkClosed(link: TransportLink): void;
  /** A write made through the link completed (writes made with `own` are not reported). */
  linkWritten(link: TransportLink, error: Error | null | undefined): void;
}

/**
 * The sink of one real connection (one raw transport, TCP or WebSocket) while resume may move what it
 * carries: it forwards the transport's events to its current owner, until it is cut loose (`dead`),
 * after which the dead connection's late events are ignored. While a resume transport owns it, the
 * raw transport sends data and the session's write completions to the connection itself
 * (`deliverTo`), and the link hears only the end, errors and the close: the path a read or a write
 * takes is then the one of a session without resume, plus the resume transport's bookkeeping.
 */
export class TransportLink implements TransportSink {
  readonly transport: Transport;
  #owner: LinkOwner | undefined;
  /** Cut loose: the connection is gone or replaced; its events are ignored. */
  #dead = false;

  constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Who hears this link's events now; setting it stops any straight delivery (`deliverTo`). */
  get owner(): LinkOwner | undefined {
    return this.#owner;
  }

  set owner(owner: LinkOwner | undefined) {
    this.#owner = owner;
    this.transport.deliverTo?.(undefined);
  }

  /** Data and the completions of writes not `own` go from the raw transport to `sink` straight. */
  deliverTo(sink: TransportSink | undefined): void {
    if (!this.#dead) this.transport.deliverTo?.(sink);
  }

  get dead(): boolean {
    return this.#dead;
  }

  /** Cuts the link loose: nothing the connection does reaches anyone any more. */
  cut(): void {
    this.#dead = true;
    this.transport.deliverTo?.(undefined);
  }

  [kTransportData](chunk: Buffer): void {
    if (!this.#dead) this.#owner?.linkData(this, chunk);
  }

  [kTransportEnd](leaving?: boolean, closeCode?: number): void {
    if (!this.#dead) this.#owner?.linkEnd(this, leaving, closeCode);
  }

  [kTransportError](error: Error): void {
    if (!this.#dead) this.#owner?.linkError(this, error);
  }

  [kTransportClosed](): void {
    if (!this.#dead) this.#owner?.linkClosed(this);
  }

  [kTransportWritten](error: Error | null | undefined): void {
    if (!this.#dead) this.#owner?.linkWritten(this, error);
  }
}
