import { pino, type Logger as PinoLogger } from 'pino';

/** The CLI's structured logger: pino, JSON lines on stdout; level from `GAMEWIRE_LOG_LEVEL` (default info). */
export function createCliLogger(name: string): PinoLogger {
  return pino({ name, level: process.env['GAMEWIRE_LOG_LEVEL'] ?? 'info' });
}
