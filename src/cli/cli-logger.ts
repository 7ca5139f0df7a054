import { pino, type Logger as PinoLogger } from 'pino';
import { describeValue as describeThrown } from '../core/describe.js';
import PinoPretty from 'pino-pretty';

/** How the CLI writes log lines: `pretty` for a person at a terminal, `json` for a machine. */
export type LogFormat = 'pretty' | 'json';

const LOG_FORMATS: readonly LogFormat[] = ['pretty', 'json'];
let chosenFormat: LogFormat | undefined;

/**
 * Sets the format for every logger made afterwards (the global `--log-format` flag). Without it the
 * format comes from `GAMEWIRE_LOG_FORMAT`, else `pretty` when stdout is a terminal and `json` when piped.
 * @returns false when `format` is not a known format.
 */
export function setLogFormat(format: string): boolean {
  if (!(LOG_FORMATS as readonly string[]).includes(format)) return false;
  chosenFormat = format as LogFormat;
  return true;
}

/** The format loggers made now use; see {@link setLogFormat}. */
export function currentLogFormat(): LogFormat {
  if (chosenFormat !== undefined) return chosenFormat;
  const fromEnv = process.env['GAMEWIRE_LOG_FORMAT'];
  if (fromEnv === 'json' || fromEnv === 'pretty') return fromEnv;
  return process.stdout.isTTY === true ? 'pretty' : 'json';
}

/** Fields of an error worth a log line; the stack only when debugging, so causes read as one line. */
export interface LoggedError {
  type: string;
  message: string;
  code?: unknown;
  hook?: unknown;
  syscallCode?: unknown;
  stack?: string;
}

/**
 * pino's own serializer appends every `cause` message to the error's message; gamewire's errors already
 * name their cause in the message, so that printed the same text twice.
 */
function errorSerializer(withStack: boolean): (value: unknown) => LoggedError {
  return (value) => serializeError(value, withStack);
}

/** The log fields of a thrown value (exported for tests). */
export function serializeError(value: unknown, withStack: boolean): LoggedError {
  {
    if (!(value instanceof Error)) return { type: typeof value, message: describeThrown(value) };
    const logged: LoggedError = { type: value.name, message: value.message };
    const fields = value as Error & { code?: unknown; hook?: unknown; syscallCode?: unknown };
    if (fields.code !== undefined) logged.code = fields.code;
    if (fields.hook !== undefined) logged.hook = fields.hook;
    if (fields.syscallCode !== undefined) logged.syscallCode = fields.syscallCode;
    const cause = value.cause;
    if (cause !== undefined) {
      const causeText = describeThrown(cause);
      if (!value.message.includes(causeText)) logged.message = `${value.message}: ${causeText}`;
    }
    if (withStack && value.stack !== undefined) logged.stack = value.stack;
    return logged;
  }
}

/**
 * The CLI's structured logger (pino). Level from `GAMEWIRE_LOG_LEVEL` (default `info`); format from
 * {@link currentLogFormat}. Pretty output is written synchronously, so the last lines before an exit
 * are never lost.
 */
export function createCliLogger(name: string): PinoLogger {
  const level = process.env['GAMEWIRE_LOG_LEVEL'] ?? 'info';
  const withStack = level === 'debug' || level === 'trace';
  const options = { name, level, serializers: { err: errorSerializer(withStack) } };
  if (currentLogFormat() === 'json') return pino(options);
  const stream = PinoPretty({
    sync: true,
    colorize: process.stdout.isTTY === true,
    ignore: 'pid,hostname,name',
    translateTime: 'SYS:HH:MM:ss.l',
    messageFormat: `${name}: {msg}`,
    singleLine: true,
  });
  return pino(options, stream);
}
