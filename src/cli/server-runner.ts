import type { Logger as PinoLogger } from 'pino';
import type { ServerService } from '../net/server-service.js';
import type { Session } from '../net/session.js';
import { waitForSignal } from './command.js';

/** The flags every server command shares. */
export const SERVER_FLAGS = {
  host: { type: 'string' },
  port: { type: 'string' },
  'max-sessions': { type: 'string' },
  'max-packet': { type: 'string' },
} as const;

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
): Promise<number> {
  const signal = waitForSignal();
  await service.start();
  logger.info({ host: service.host, port: service.port, ...details }, `listening on ${service.host}:${service.port}`);
  logger.info(`drive it with: ${driveHint.replace('{host}', service.host).replace('{port}', String(service.port))}`);
  const received = await signal;
  logger.info({ signal: received, sessions: service.sessionCount }, 'closing');
  beforeClose?.();
  await service.close();
  logger.info({ refused: service.refusedCount, accepted: service.acceptedCount }, 'closed');
  return 0;
}
