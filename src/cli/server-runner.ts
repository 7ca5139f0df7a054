import { readFileSync } from 'node:fs';
import type { Logger as PinoLogger } from 'pino';
import type { Session } from '../net/session.js';
import { DEFAULT_HOST, DEFAULT_MAX_SEND_QUEUE_BYTES, DEFAULT_STALL_TIMEOUT_MS } from '../net/service.js';
import { MAX_TIMER_MS } from '../core/timer-range.js';
import {
  DEFAULT_MAX_PENDING_HANDSHAKES,
  DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS,
} from '../net/tls-handshakes.js';
import { defaultMaxSessions, openFileLimit, RESERVED_FDS } from '../net/file-limit.js';
import { MAX_PACKET_SIZE } from '../packet/packet-header.js';
import { createCliLogger } from './cli-logger.js';
import type { ServerServiceOptions } from '../net/server-service.js';
import type { WebSocketListenOptions } from '../net/ws-listener.js';
import { intFlag, UsageError } from './command.js';
import { OBSERVE_FLAGS, OBSERVE_USAGE, observeSettings, type ObserveFlagValues, type ObserveSettings } from './server-observe.js';

/** The flags every server command shares. */
export const SERVER_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'max-sessions': { type: 'string' },
  'max-packet': { type: 'string' },
  'idle-timeout-ms': { type: 'string' },
  'max-sessions-per-address': { type: 'string' },
  'max-pending-handshakes': { type: 'string' },
  'max-pending-handshakes-per-address': { type: 'string' },
  'max-send-queue': { type: 'string' },
  'stall-timeout-ms': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'ws-port': { type: 'string' },
  ...OBSERVE_FLAGS,
} as const;

/** `--idle-timeout-ms` of the server commands: on, so dead and silent peers cannot hold every slot. */
export const CLI_IDLE_TIMEOUT_MS = 60_000;

/** Usage lines of the flags in {@link serverLimits}, shared by every server command. */
export const SERVER_LIMIT_USAGE = `  --idle-timeout-ms MS  disconnect a peer that sent nothing for this long, 1..${MAX_TIMER_MS}, 0 = never
                       (default ${CLI_IDLE_TIMEOUT_MS}); a quiet client keeps itself alive with heartbeat
                       pings (packet id 65534), which the packet servers answer (id 65535)
  --max-sessions-per-address N  most sessions from one IP address, 0 = no limit (default 0: players
                       behind one NAT, a mobile carrier, a PC bang, a LAN party, share an address)
  --max-send-queue N   bytes queued for a peer that does not read before it is cut off (default ${DEFAULT_MAX_SEND_QUEUE_BYTES})
  --stall-timeout-ms MS  cut off a peer that took no byte for this long while the server has a backlog
                       for it, 1..${MAX_TIMER_MS} (default ${DEFAULT_STALL_TIMEOUT_MS}); it holds chat floods
                       that long; docs/flow-control.md
  --tls-cert FILE      serve TLS with this PEM certificate (with --tls-key)
  --tls-key FILE       the PEM private key for --tls-cert
  --ws-port N          also serve WebSocket sessions (browsers) on this port, upgrades at /ws
                       (0 = any free port); wss:// with --tls-cert/--tls-key; off by default
  --max-pending-handshakes N  TLS connections handshaking at once; when full the oldest is dropped
                       (default: a quarter of --max-sessions, at most ${DEFAULT_MAX_PENDING_HANDSHAKES})
  --max-pending-handshakes-per-address N  TLS handshakes at once from one address; more are refused
                       (default ${DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS})
${OBSERVE_USAGE}
--max-sessions defaults to the open-file limit (ulimit -n) less ${RESERVED_FDS}: each session holds a file
descriptor, and past the limit the kernel refuses connections without a word.`;

/** The values parseArgs gives for {@link SERVER_FLAGS}. */
export interface ServerFlagValues extends ObserveFlagValues {
  host?: string | undefined;
  port?: string | undefined;
  'ws-port'?: string | undefined;
  'max-sessions'?: string | undefined;
  'max-packet'?: string | undefined;
  'idle-timeout-ms'?: string | undefined;
  'max-sessions-per-address'?: string | undefined;
  'max-pending-handshakes'?: string | undefined;
  'max-pending-handshakes-per-address'?: string | undefined;
  'max-send-queue'?: string | undefined;
  'stall-timeout-ms'?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
}

/** What every server command sets up from the shared flags. */
export interface ServerSetup {
  readonly logger: PinoLogger;
  readonly maxPacketSize: number;
  /** ServerService options but the session factory. */
  readonly options: Omit<ServerServiceOptions<Session>, 'sessionFactory'> & { readonly maxSessionCount: number };
  /** Metrics endpoint and stats line asked for (pass to `runServerCommand`). */
  readonly observe: ObserveSettings;
}

/** Parses the shared server flags (host, port, limits, TLS) and makes the command's logger. */
export function serverSetup(name: string, values: ServerFlagValues): ServerSetup {
  const logger = createCliLogger(name);
  const maxSessionCount = intFlag('max-sessions', values['max-sessions'], defaultMaxSessions(openFileLimit()), 1);
  const maxPacketSize = intFlag('max-packet', values['max-packet'], MAX_PACKET_SIZE, 4, MAX_PACKET_SIZE);
  return {
    logger,
    maxPacketSize,
    observe: observeSettings(values),
    options: {
      host: values.host ?? DEFAULT_HOST,
      port: intFlag('port', values.port, 7777, 0, 65535),
      maxSessionCount,
      logger,
      packet: { maxPacketSize },
      ...serverLimits(values, maxSessionCount),
    },
  };
}

/**
 * The `ws` service option of `--ws-port` (undefined without it): WebSocket sessions on that port, with
 * the same TLS as TCP; `onRequest` answers plain HTTP on it (the chat demo page).
 */
export function wsOption(
  values: ServerFlagValues,
  tls: ServerServiceOptions<Session>['tls'],
  onRequest?: WebSocketListenOptions['onRequest'],
): WebSocketListenOptions | undefined {
  const wsPort = values['ws-port'];
  if (wsPort === undefined) return undefined;
  return {
    port: intFlag('ws-port', wsPort, 0, 0, 65535),
    ...(tls === undefined ? {} : { tls }),
    ...(onRequest === undefined ? {} : { onRequest }),
  };
}

type LimitOptions = Pick<
  ServerServiceOptions<Session>,
  | 'idleTimeoutMs'
  | 'maxSendQueueBytes'
  | 'stallTimeoutMs'
  | 'tls'
  | 'maxSessionsPerAddress'
  | 'maxPendingHandshakes'
  | 'maxPendingHandshakesPerAddress'
>;

/** The service options the shared limit flags set. */
function serverLimits(values: ServerFlagValues, maxSessionCount: number): LimitOptions {
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const idle = values['idle-timeout-ms'];
  if (idle !== undefined && Number(idle) > MAX_TIMER_MS) {
    throw new UsageError(`--idle-timeout-ms must be at most ${MAX_TIMER_MS} (Node's timer range, about 24.8 days), got '${idle}'; 0 turns it off`);
  }
  const pending = intFlag(
    'max-pending-handshakes',
    values['max-pending-handshakes'],
    Math.max(1, Math.min(DEFAULT_MAX_PENDING_HANDSHAKES, Math.floor(maxSessionCount / 4))),
    1,
  );
  return {
    idleTimeoutMs: intFlag('idle-timeout-ms', idle, CLI_IDLE_TIMEOUT_MS, 0, MAX_TIMER_MS),
    maxSessionsPerAddress: intFlag('max-sessions-per-address', values['max-sessions-per-address'], 0, 0),
    maxPendingHandshakes: pending,
    maxPendingHandshakesPerAddress: intFlag(
      'max-pending-handshakes-per-address',
      values['max-pending-handshakes-per-address'],
      Math.min(DEFAULT_MAX_PENDING_HANDSHAKES_PER_ADDRESS, pending),
      1,
      pending,
    ),
    maxSendQueueBytes: intFlag('max-send-queue', values['max-send-queue'], DEFAULT_MAX_SEND_QUEUE_BYTES, 65536),
    stallTimeoutMs: intFlag('stall-timeout-ms', values['stall-timeout-ms'], DEFAULT_STALL_TIMEOUT_MS, 1, MAX_TIMER_MS),
    ...(cert !== undefined && key !== undefined ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
  };
}
