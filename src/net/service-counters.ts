import { REFUSAL_REASONS, type RefusalReason } from './listen/refusal.js';
import { TrafficCounters, type SessionTraffic } from './connection/session-traffic.js';

/** Monitoring counters of a service, plain numbers updated as things happen. See `Service.counters`. */
export interface ServiceCountersView {
  /** Sessions that ended, by disconnect cause code (`PEER_CLOSED`, `SEND_QUEUE_OVERFLOW`, …). */
  readonly disconnects: ReadonlyMap<string, number>;
  /**
   * Connections a server turned away, by reason (always 0 for a client): refused as they came, or
   * dropped before their TLS handshake or WebSocket upgrade was done (`tls_handshake`, `ws_upgrade`).
   */
  readonly refused: Readonly<Record<RefusalReason, number>>;
  /** Traffic of the sessions that have closed; add the live sessions' `traffic` for the total. */
  readonly closedTraffic: SessionTraffic;
  /** The same counts by transport (`tcp`, `tls`, `ws`, `wss`): one service may serve several. */
  readonly byTransport: ReadonlyMap<string, TransportCountersView>;
}

/** A service's counts for the sessions of one transport. */
export interface TransportCountersView {
  /** Connections accepted into sessions. */
  readonly accepted: number;
  readonly disconnects: ReadonlyMap<string, number>;
  readonly refused: Readonly<Record<RefusalReason, number>>;
  readonly closedTraffic: SessionTraffic;
}

class TransportCounters implements TransportCountersView {
  accepted = 0;
  readonly disconnects = new Map<string, number>();
  readonly refused = zeroRefusals();
  readonly closedTraffic = new TrafficCounters();
}

function zeroRefusals(): Record<RefusalReason, number> {
  const refused = {} as Record<RefusalReason, number>;
  for (const reason of REFUSAL_REASONS) refused[reason] = 0;
  return refused;
}

/** Internal: the mutable counters behind {@link ServiceCountersView}. */
export class ServiceCounters implements ServiceCountersView {
  readonly disconnects = new Map<string, number>();
  readonly refused = zeroRefusals();
  readonly closedTraffic = new TrafficCounters();
  readonly byTransport = new Map<string, TransportCounters>();

  /** The counters of `transport`, made on first use. */
  of(transport: string): TransportCounters {
    let counters = this.byTransport.get(transport);
    if (counters === undefined) this.byTransport.set(transport, (counters = new TransportCounters()));
    return counters;
  }

  /** A connection of `transport` became a session. */
  accepted(transport: string): void {
    this.of(transport).accepted++;
  }

  /** A session of `transport` ended with `cause` after moving `traffic`. */
  sessionClosed(cause: string, traffic: SessionTraffic, transport = 'tcp'): void {
    this.disconnects.set(cause, (this.disconnects.get(cause) ?? 0) + 1);
    this.closedTraffic.add(traffic);
    const own = this.of(transport);
    own.disconnects.set(cause, (own.disconnects.get(cause) ?? 0) + 1);
    own.closedTraffic.add(traffic);
  }

  /** A server turned a connection of `transport` away for `reason`. */
  refusedFor(reason: RefusalReason, transport: string): void {
    this.refused[reason]++;
    this.of(transport).refused[reason]++;
  }
}
