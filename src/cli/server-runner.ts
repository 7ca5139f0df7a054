import { readFileSync } from 'node:fs';
import type { Logger as PinoLogger } from 'pino';
import type { ServerService } from '../net/server-service.js';
import type { Session } from '../net/session.js';
import { DEFAULT_HOST, DEFAULT_MAX_SEND_QUEUE_BYTES } from '../net/service.js';
import { MAX_PACKET_SIZE } from '../packet/packet-header.js';
import { createCliLogger } from './cli-logger.js';
import type { ServerServiceOptions } from '../net/server-service.js';
import { intFlag, UsageError, waitForSignal } from './command.js';
import { OBSERVE_FLAGS, OBSERVE_USAGE, observeSettings, startObservation, type ObserveFlagValues, type ObserveSettings, type ServerObservation } from './server-observe.js';

/** The flags every server command shares. */
export const SERVER_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'max-sessions': { type: 'string' },
  'max-packet': { type: 'string' },
  'idle-timeout-ms': { type: 'string' },
  'max-send-queue': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  ...OBSERVE_FLAGS,
} as const;

/** Usage lines of the flags in {@link serverLimits}, shared by every server command. */
export const SERVER_LIMIT_USAGE = `  --idle-timeout-ms MS  disconnect a peer silent this long, 0 = never (default 0)
  --max-send-queue N   bytes queued for a peer that does not read before it is cut off (default ${DEFAULT_MAX_SEND_QUEUE_BYTES})
  --tls-cert FILE      serve TLS with this PEM certificate (with --tls-key)
  --tls-key FILE       the PEM private key for --tls-cert
${OBSERVE_USAGE}`;

/** The values parseArgs gives for {@link SERVER_FLAGS}. */
export interface ServerFlagValues extends ObserveFlagValues {
  host?: string | undefined;
  port?: string | undefined;
  'max-sessions'?: string | undefined;
  'max-packet'?: string | undefined;
  'idle-timeout-ms'?: string | undefined;
  'max-send-queue'?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
}

/** What every server command sets up from the shared flags. */
export interface ServerSetup {
  readonly logger: PinoLogger;
  readonly maxPacketSize: number;
  /** ServerService options but the session factory. */
  readonly options: Omit<ServerServiceOptions<Session>, 'sessionFactory'> & { readonly maxSessionCount: number };
  /** Metrics endpoint and stats line asked for (pass to `runServer`). */
  readonly observe: ObserveSettings;
}

/** Parses the shared server flags (host, port, limits, TLS) and makes the command's logger. */
export function serverSetup(name: string, values: ServerFlagValues): ServerSetup {
  const logger = createCliLogger(name);
  return {
    logger,
    maxPacketSize: intFlag('max-packet', values['max-packet'], MAX_PACKET_SIZE, 4, MAX_PACKET_SIZE),
    observe: observeSettings(values),
    options: {
      host: values.host ?? DEFAULT_HOST,
      port: intFlag('port', values.port, 7777, 0, 65535),
      maxSessionCount: intFlag('max-sessions', values['max-sessions'], 100, 1),
      logger,
      ...serverLimits(values),
    },
  };
}

/** The service options the shared limit flags set. */
function serverLimits(values: ServerFlagValues): Pick<ServerServiceOptions<Session>, 'idleTimeoutMs' | 'maxSendQueueBytes' | 'tls'> {
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  return {
    idleTimeoutMs: intFlag('idle-timeout-ms', values['idle-timeout-ms'], 0, 0),
    maxSendQueueBytes: intFlag('max-send-queue', values['max-send-queue'], DEFAULT_MAX_SEND_QUEUE_BYTES, 65536),
    ...(cert !== undefined && key !== undefined ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
  };
}

/**
 * Runs a server command: starts `service`, logs the ready line `listening on HOST:PORT` (with the
 * real port, also for --port 0) and a hint for driving it, waits for SIGINT/SIGTERM, then closes
 * gracefully. Resolves with exit code 0.
 */
export async function runServer(
  logger: PinoLogger,
  service: ServerService<Session>,
  details: object,
  driveHint: string,
  beforeClose?: () => void,
  observe?: ServerObservation,
): Promise<number> {
  const signal = waitForSignal();
  await service.start();
  const observation = await startObservation(logger, service, observe);
  const hint = driveHint.replace('{host}', service.host).replace('{port}', String(service.port));
  const metricsOn = observation.metricsAddress === undefined ? '' : `, metrics on ${observation.metricsAddress}`;
  logger.info(
    { host: service.host, port: service.port, ...details, metrics: observation.metricsAddress, driveWith: hint },
    `listening on ${service.host}:${service.port}${metricsOn}`,
  );
  const received = await signal;
  observation.closing();
  logger.info({ signal: received, sessions: service.sessionCount }, 'closing');
  beforeClose?.();
  await service.close();
  await observation.close();
  logger.info({ refused: service.refusedCount, accepted: service.acceptedCount }, 'closed');
  return 0;
}
