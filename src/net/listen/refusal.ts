import { RESERVED_FDS } from './file-limit.js';

/**
 * Why a server turned a connection away, as counted for monitoring (the `reason` label of
 * `gamewire_sessions_refused_total` and the keys of `service.counters.refused`):
 * - `max_sessions`: `maxSessionCount` sessions were live;
 * - `per_address`: the remote address was at `maxSessionsPerAddress` or `maxPendingHandshakesPerAddress`;
 * - `closing`: the service was closing;
 * - `emfile`: at the open-file limit, or an accept failed for lack of file descriptors (EMFILE/ENFILE);
 * - `tls_handshake`: a TLS connection failed, timed out or was pushed out during its handshake;
 * - `ws_upgrade`: a connection to the WebSocket port closed, timed out or was pushed out before its upgrade;
 * - `ws_path`: a WebSocket upgrade asked for another path than `ws.path` (answered 404);
 * - `ws_origin`: a WebSocket upgrade came from a browser page of an origin not allowed (answered 403).
 */
export type RefusalReason = 'max_sessions' | 'per_address' | 'closing' | 'emfile' | 'tls_handshake' | 'ws_upgrade' | 'ws_path' | 'ws_origin';

/** Every {@link RefusalReason}, in a stable order. */
export const REFUSAL_REASONS: readonly RefusalReason[] = Object.freeze([
  'max_sessions',
  'per_address',
  'closing',
  'emfile',
  'tls_handshake',
  'ws_upgrade',
  'ws_path',
  'ws_origin',
]);

/** The limits a refusal's advice names: the service's values when it warns. */
export interface RefusalLimits {
  readonly maxSessionCount: number;
  readonly maxSessionsPerAddress: number;
  readonly maxPendingHandshakes: number;
  readonly maxPendingHandshakesPerAddress: number;
  readonly tlsHandshakeTimeoutMs: number;
  readonly wsUpgradeTimeoutMs: number;
  readonly wsPath: string;
  /** The open-file limit read at start; undefined when unknown. */
  readonly fileLimit: number | undefined;
}

/** One row of {@link REFUSALS}. */
export interface RefusalRow {
  /** The label it is counted under. */
  readonly reason: RefusalReason;
  /**
   * `refused`: the connection was closed as soon as it came (counted in `refusedCount`); `dropped`:
   * it was held while its TLS handshake or WebSocket upgrade went on, and closed before it became a
   * session (counted in `tlsFailureCount` or `wsUpgradeFailureCount`).
   */
  readonly kind: 'refused' | 'dropped';
  /** What happened, for the log line. */
  readonly text: string;
  /**
   * What the operator can change, naming the option, for the warning (logged at once, then at most
   * every 10 s per row); undefined for what is ordinary and only logged at debug level.
   */
  readonly advice: ((limits: RefusalLimits) => string) | undefined;
}

const PENDING = 'connections that have not finished their TLS handshake or WebSocket upgrade';

/**
 * Every reason a server turns a connection away, one row each: the closed set that
 * `ServerService` counts, logs and warns about, as `DISCONNECT_CODES` is for the causes that end a
 * session. A new way to refuse is a new row here, never a new string to parse.
 */
export const REFUSALS = Object.freeze({
  closing: { reason: 'closing', kind: 'refused', text: 'service closing', advice: undefined },
  maxSessions: {
    reason: 'max_sessions',
    kind: 'refused',
    text: 'at maxSessionCount',
    advice: (l) => `raise option maxSessionCount (${l.maxSessionCount}; gamewire CLI: --max-sessions)`,
  },
  sessionsPerAddress: {
    reason: 'per_address',
    kind: 'refused',
    text: 'at maxSessionsPerAddress',
    advice: (l) => `raise option maxSessionsPerAddress (${l.maxSessionsPerAddress}; gamewire CLI: --max-sessions-per-address), or 0 for no limit`,
  },
  pendingPerAddress: {
    reason: 'per_address',
    kind: 'refused',
    text: 'at maxPendingHandshakesPerAddress',
    advice: (l) =>
      `one address holds ${l.maxPendingHandshakesPerAddress} ${PENDING} (a flood, or many players behind one NAT); ` +
      `raise option maxPendingHandshakesPerAddress (gamewire CLI: --max-pending-handshakes-per-address)`,
  },
  fileLimit: {
    reason: 'emfile',
    kind: 'refused',
    text: 'at the open-file limit',
    advice: (l) => `raise the open-file limit (ulimit -n, now ${l.fileLimit}; ${RESERVED_FDS} are kept for the process)`,
  },
  acceptFailed: {
    reason: 'emfile',
    kind: 'refused',
    text: 'out of file descriptors: accepts failed (EMFILE/ENFILE) and the OS dropped the waiting connections',
    advice: (l) => `raise the open-file limit (ulimit -n) or lower maxSessionCount (${l.maxSessionCount}; gamewire CLI: --max-sessions)`,
  },
  wsPath: {
    reason: 'ws_path',
    kind: 'refused',
    text: 'a WebSocket upgrade to another path (answered 404)',
    advice: (l) => `clients must upgrade at ${l.wsPath} (option ws.path)`,
  },
  wsOrigin: {
    reason: 'ws_origin',
    kind: 'refused',
    text: 'a WebSocket upgrade from an origin not allowed (answered 403)',
    advice: () => "add the game page's origin to option ws.allowedOrigins (gamewire CLI: --ws-allowed-origins), or '*' for any",
  },
  tlsHandshakeDropped: {
    reason: 'tls_handshake',
    kind: 'dropped',
    text: 'TLS handshakes not done within tls.handshakeTimeout or pushed out to make room',
    advice: (l) =>
      `silent or slow ${PENDING} are being shed (a flood, or clients slower than ${l.tlsHandshakeTimeoutMs} ms); ` +
      `to hold more at once raise option maxPendingHandshakes (${l.maxPendingHandshakes}; gamewire CLI: --max-pending-handshakes)`,
  },
  tlsHandshakeFailed: { reason: 'tls_handshake', kind: 'dropped', text: 'TLS handshake failed or the peer closed', advice: undefined },
  wsUpgradeDropped: {
    reason: 'ws_upgrade',
    kind: 'dropped',
    text: 'WebSocket upgrades not done within ws.upgradeTimeoutMs or pushed out to make room',
    advice: (l) =>
      `silent or slow ${PENDING} are being shed (a flood, or clients slower than ${l.wsUpgradeTimeoutMs} ms); ` +
      `to hold more at once raise option maxPendingHandshakes (${l.maxPendingHandshakes}; gamewire CLI: --max-pending-handshakes)`,
  },
  wsUpgradeFailed: {
    reason: 'ws_upgrade',
    kind: 'dropped',
    text: 'closed, or a bad request, before the WebSocket upgrade',
    advice: undefined,
  },
} satisfies Record<string, RefusalRow>);

/** One of the rows of {@link REFUSALS}: why one connection was turned away. */
export type Refusal = keyof typeof REFUSALS;
