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
