import { DEFAULTS } from '../core/defaults.js';
import { readFileSync } from 'node:fs';
import type { Logger as PinoLogger } from 'pino';
import type { Session } from '../net/session.js';
import { MAX_TIMER_MS } from '../core/timer-range.js';
import { SERVER_RESUME_RANGES } from '../core/resume/resume-options.js';
import { defaultMaxSessions, openFileLimit, RESERVED_FDS } from '../net/listen/file-limit.js';
import { MAX_PACKET_SIZE } from '../packet/packet-header.js';
import { createCliLogger } from './cli-logger.js';
import type { ServerServiceOptions } from '../net/server-service.js';
import type { WebSocketListenOptions } from '../net/listen/ws-listener.js';
import { originPolicy } from '../net/listen/ws-origins.js';
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
  'ws-allowed-origins': { type: 'string' },
  resume: { type: 'boolean' },
  'resume-grace-ms': { type: 'string' },
  'resume-max-replay-bytes': { type: 'string' },
  'resume-max-per-second': { type: 'string' },
  'resume-hello-timeout-ms': { type: 'string' },
  ...OBSERVE_FLAGS,
} as const;

/** `--idle-timeout-ms` of the server commands: on, so dead and silent peers cannot hold every slot. */
export const CLI_IDLE_TIMEOUT_MS = 60_000;

/** Usage lines of the flags in {@link serverLimits}, shared by every server command. */
export const SERVER_LIMIT_USAGE = `  --resume             sessions survive a dropped connection: a client that asks (docs/resume.md)
                       comes back within the grace period as the same session, in the same rooms,
                       and gets every packet it missed, on whichever worker it lands (--workers)
  --resume-grace-ms MS how long a dropped resumable session waits for its client, ${range('graceMs')}
                       (default ${DEFAULTS.resumeGraceMs}; needs --resume)
  --resume-max-replay-bytes N  bytes sent to one client and not yet acknowledged; past it the session
                       ends (REPLAY_OVERFLOW), ${range('maxReplayBytes')} (default ${DEFAULTS.resumeMaxReplayBytes}; needs --resume)
  --resume-max-per-second N  resumes admitted per second (1 s burst); more are told to retry later,
                       so a reconnect storm cannot stall the server, ${range('maxResumesPerSecond')}
                       (default ${DEFAULTS.resumeMaxPerSecond}; needs --resume)
  --resume-hello-timeout-ms MS  a new connection that sends nothing gets a plain session after this
                       long, ${range('helloTimeoutMs')} (default ${DEFAULTS.resumeHelloTimeoutMs}; needs --resume)
  --idle-timeout-ms MS  disconnect a peer that sent nothing for this long, 1..${MAX_TIMER_MS}, 0 = never
                       (default ${CLI_IDLE_TIMEOUT_MS}); a peer quiet for a quarter to half of it gets a
                       heartbeat ping (packet id 65534), and one that answers (id 65535) stays
  --max-sessions-per-address N  most sessions from one IP address, 0 = no limit (default 0: players
                       behind one NAT, a mobile carrier, a PC bang, a LAN party, share an address)
  --max-send-queue N   bytes queued for a peer that does not read before it is cut off (default ${DEFAULTS.maxSendQueueBytes})
  --stall-timeout-ms MS  cut off a peer that took no byte for this long while the server has a backlog
                       for it, 1..${MAX_TIMER_MS} (default ${DEFAULTS.stallTimeoutMs}); it holds chat floods
                       that long; docs/flow-control.md
  --tls-cert FILE      serve TLS with this PEM certificate (with --tls-key)
  --tls-key FILE       the PEM private key for --tls-cert
  --ws-port N          also serve WebSocket sessions (browsers) on this port, upgrades at /ws
                       (0 = any free port); wss:// with --tls-cert/--tls-key; off by default. A
                       connection there must finish its upgrade within ${DEFAULTS.wsUpgradeTimeoutMs} ms and counts
                       against --max-pending-handshakes until then; a WebSocket message carries whole
                       packets (each at most --max-packet) and is at most ${DEFAULTS.wsMaxMessageBytes} bytes both ways
  --ws-allowed-origins LIST  browser pages allowed to connect to --ws-port besides the page it serves
                       itself, comma-separated origins (https://game.example.com), or '*' for any;
                       others are answered 403 (default: none; clients that send no Origin, such
                       as bots and native clients, are always allowed)
  --max-pending-handshakes N  connections in their TLS handshake or before their WebSocket upgrade,
                       at once; when full a silent one is dropped for the new one (default: a
                       quarter of --max-sessions, at most ${DEFAULTS.maxPendingHandshakes})
  --max-pending-handshakes-per-address N  such connections at once from one address; more are
                       refused (default ${DEFAULTS.maxPendingHandshakesPerAddress})
${OBSERVE_USAGE}
--max-sessions defaults to the open-file limit (ulimit -n) less ${RESERVED_FDS}: each session holds a file
descriptor, and past the limit the kernel refuses connections without a word.`;

/** The values parseArgs gives for {@link SERVER_FLAGS}. */
export interface ServerFlagValues extends ObserveFlagValues {
  host?: string | undefined;
  port?: string | undefined;
  'ws-port'?: string | undefined;
  'ws-allowed-origins'?: string | undefined;
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
  resume?: boolean | undefined;
  'resume-grace-ms'?: string | undefined;
  'resume-max-replay-bytes'?: string | undefined;
  'resume-max-per-second'?: string | undefined;
  'resume-hello-timeout-ms'?: string | undefined;
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
      host: values.host ?? DEFAULTS.host,
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
  const origins = values['ws-allowed-origins'];
  if (wsPort === undefined) {
    if (origins !== undefined) throw new UsageError('--ws-allowed-origins needs --ws-port');
    return undefined;
  }
  const allowedOrigins = origins === undefined ? undefined : origins.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  if (allowedOrigins !== undefined) {
    try {
      originPolicy(allowedOrigins);
    } catch {
      throw new UsageError(`--ws-allowed-origins takes origins like https://game.example.com, comma-separated, or '*'; got '${origins}'`);
    }
  }
  return {
    port: intFlag('ws-port', wsPort, 0, 0, 65535),
    ...(allowedOrigins === undefined ? {} : { allowedOrigins }),
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
  | 'resume'
>;

/** `least..most` of a field of the `resume` option, for the usage text. */
function range(field: keyof typeof SERVER_RESUME_RANGES): string {
  const [least, most] = SERVER_RESUME_RANGES[field];
  return `${least}..${most}`;
}

/** The `--resume-*` flags, each with the `resume` field it sets and its default. */
const RESUME_FLAGS = {
  'resume-grace-ms': ['graceMs', DEFAULTS.resumeGraceMs],
  'resume-max-replay-bytes': ['maxReplayBytes', DEFAULTS.resumeMaxReplayBytes],
  'resume-max-per-second': ['maxResumesPerSecond', DEFAULTS.resumeMaxPerSecond],
  'resume-hello-timeout-ms': ['helloTimeoutMs', DEFAULTS.resumeHelloTimeoutMs],
} as const;

type ResumeFlag = keyof typeof RESUME_FLAGS;

/** The value of one `--resume-*` flag, checked against the range of the field it sets. */
function resumeFlag(values: ServerFlagValues, flag: ResumeFlag): number {
  const [field, fallback] = RESUME_FLAGS[flag];
  const [least, most] = SERVER_RESUME_RANGES[field];
  return intFlag(flag, values[flag], fallback, least, most);
}

/** The `resume` option of `--resume` and the `--resume-*` flags. */
function resumeOption(values: ServerFlagValues): Pick<ServerServiceOptions<Session>, 'resume'> {
  if (values.resume !== true) {
    const stray = (Object.keys(RESUME_FLAGS) as ResumeFlag[]).find((flag) => values[flag] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --resume`);
    return {};
  }
  return {
    resume: {
      graceMs: resumeFlag(values, 'resume-grace-ms'),
      maxReplayBytes: resumeFlag(values, 'resume-max-replay-bytes'),
      maxResumesPerSecond: resumeFlag(values, 'resume-max-per-second'),
      helloTimeoutMs: resumeFlag(values, 'resume-hello-timeout-ms'),
    },
  };
}

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
    Math.max(1, Math.min(DEFAULTS.maxPendingHandshakes, Math.floor(maxSessionCount / 4))),
    1,
  );
  return {
    idleTimeoutMs: intFlag('idle-timeout-ms', idle, CLI_IDLE_TIMEOUT_MS, 0, MAX_TIMER_MS),
    maxSessionsPerAddress: intFlag('max-sessions-per-address', values['max-sessions-per-address'], 0, 0),
    maxPendingHandshakes: pending,
    maxPendingHandshakesPerAddress: intFlag(
      'max-pending-handshakes-per-address',
      values['max-pending-handshakes-per-address'],
      Math.min(DEFAULTS.maxPendingHandshakesPerAddress, pending),
      1,
      pending,
    ),
    maxSendQueueBytes: intFlag('max-send-queue', values['max-send-queue'], DEFAULTS.maxSendQueueBytes, 65536),
    stallTimeoutMs: intFlag('stall-timeout-ms', values['stall-timeout-ms'], DEFAULTS.stallTimeoutMs, 1, MAX_TIMER_MS),
    ...resumeOption(values),
    ...(cert !== undefined && key !== undefined ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
  };
}
