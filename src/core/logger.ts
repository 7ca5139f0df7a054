import { describeValue } from './describe.js';

/**
 * The logging surface gamewire writes to. It is the subset of pino's API the library uses, so a pino
 * logger (or a child of one) can be passed as is. The library is silent unless given one.
 */
export interface Logger {
  debug(fields: object, message: string): void;
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const ignore = (): void => {};

/** A logger that drops everything: the default of every Service. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
});

/** A level of {@link Logger}. */
export type LogLevel = keyof Logger;

/**
 * Logs without ever throwing: a thrown value in `fields.err` can make a logger's serializer throw (a
 * Proxy, a throwing getter), and a user's logger can throw by itself. On a throw it logs once more with
 * `err` replaced by its safe description, and if that throws too, drops the line.
 */
export function logSafely(logger: Logger, level: LogLevel, fields: Readonly<Record<string, unknown>>, message: string): void {
  try {
    logger[level](fields, message);
  } catch {
    try {
      logger[level]({ ...fields, err: describeValue(fields['err']) }, message);
    } catch {
      // nothing more can be done for this line
    }
  }
}
