import { TrafficCounters, type SessionTraffic } from './connection/session-traffic.js';

/**
 * Why a server refused a connection, as counted for monitoring:
 * - `max_sessions`: `maxSessionCount` sessions were live;
 * - `per_address`: the remote address was at `maxSessionsPerAddress`;
 * - `closing`: the service was closing;
 * - `emfile`: an accept failed because the process was out of file descriptors (EMFILE/ENFILE);
 * - `tls_handshake`: a TLS connection failed or timed out in its handshake (`tlsFailureCount`).
 */
export type RefusalReason = 'max_sessions' | 'per_address' | 'closing' | 'emfile' | 'tls_handshake';

/** Every {@link RefusalReason}, in a stable order. */
export const REFUSAL_REASONS: readonly RefusalReason[] = ['max_sessions', 'per_address', 'closing', 'emfile', 'tls_handshake'];

/** Monitoring counters of a service, plain numbers updated as things happen. See `Service.counters`. */
export interface ServiceCountersView {
  /** Sessions that ended, by disconnect cause code (`PEER_CLOSED`, `SEND_QUEUE_OVERFLOW`, …). */
  readonly disconnects: ReadonlyMap<string, number>;
  /** Connections a server refused, by reason (always 0 for a client). `tls_handshake` is `tlsFailureCount`. */
  readonly refused: Readonly<Record<Exclude<RefusalReason, 'tls_handshake'>, number>>;
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
  readonly refused: Readonly<Record<Exclude<RefusalReason, 'tls_handshake'>, number>>;
  readonly closedTraffic: SessionTraffic;
}

class TransportCounters implements TransportCountersView {
  accepted = 0;
  readonly disconnects = new Map<string, number>();
  readonly refused = { max_sessions: 0, per_address: 0, closing: 0, emfile: 0 };
  readonly closedTraffic = new TrafficCounters();
}

/** Internal: the mutable counters behind {@link ServiceCountersView}. */
export class ServiceCounters implements ServiceCountersView {
  readonly disconnects = new Map<string, number>();
  readonly refused = { max_sessions: 0, per_address: 0, closing: 0, emfile: 0 };
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

  /** A server refused a connection of `transport`; `why` is ServerService's refusal text. */
  refusedFor(why: string, transport = 'tcp'): void {
    const reason = why.includes('maxSessionCount')
      ? 'max_sessions'
      : why.includes('open-file')
        ? 'emfile'
        : why.includes('PerAddress')
          ? 'per_address'
          : 'closing';
    this.refused[reason]++;
    this.of(transport).refused[reason]++;
  }

  /** An accept of `transport` failed for lack of file descriptors. */
  emfile(transport: string): void {
    this.refused.emfile++;
    this.of(transport).refused.emfile++;
  }
}
