import { TrafficCounters, type SessionTraffic } from './session-traffic.js';

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
}

/** Internal: the mutable counters behind {@link ServiceCountersView}. */
export class ServiceCounters implements ServiceCountersView {
  readonly disconnects = new Map<string, number>();
  readonly refused = { max_sessions: 0, per_address: 0, closing: 0, emfile: 0 };
  readonly closedTraffic = new TrafficCounters();

  /** A session ended with `cause` after moving `traffic`. */
  sessionClosed(cause: string, traffic: SessionTraffic): void {
    this.disconnects.set(cause, (this.disconnects.get(cause) ?? 0) + 1);
    this.closedTraffic.add(traffic);
  }

  /** A server refused a connection; `why` is ServerService's refusal text. */
  refusedFor(why: string): void {
    if (why.includes('maxSessionCount')) this.refused.max_sessions++;
    else if (why.includes('open-file')) this.refused.emfile++;
    else if (why.includes('PerAddress')) this.refused.per_address++;
    else this.refused.closing++;
  }
}
