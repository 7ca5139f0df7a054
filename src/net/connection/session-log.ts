import { silentLogger, type Logger } from '../../core/logger.js';

/**
 * Environment variable naming sessions whose debug traces are logged whatever the log level: a
 * comma-separated list of session ids (`42`) and remote addresses (`10.0.0.7`, or `10.0.0.7:51234`
 * for one connection). Read once, when gamewire is loaded.
 */
export const DEBUG_SESSION_ENV = 'GAMEWIRE_DEBUG_SESSION';

const debugTargets: ReadonlySet<string> = new Set(
  (process.env[DEBUG_SESSION_ENV] ?? '')
    .split(',')
    .map((target) => target.trim())
    .filter((target) => target !== ''),
);

/** A pino-style logger that can make children with bound fields (and their own level). */
interface ChildLogger extends Logger {
  child(bindings: object, options?: { level?: string }): Logger;
}

function canMakeChildren(logger: Logger): logger is ChildLogger {
  return typeof (logger as Partial<ChildLogger>).child === 'function';
}

/**
 * False only when `logger` says its debug level is off (pino's `isLevelEnabled`): then a debug trace
 * need not be built at all. True for a logger that cannot tell.
 */
export function debugEnabled(logger: Logger): boolean {
  if (logger === silentLogger) return false;
  const check = (logger as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return typeof check !== 'function' || check.call(logger, 'debug');
}

/** True when {@link DEBUG_SESSION_ENV} names this session by id, address, or address:port. */
export function isDebugSession(id: number, address: string, port: number): boolean {
  if (debugTargets.size === 0) return false;
  return debugTargets.has(String(id)) || debugTargets.has(address) || debugTargets.has(`${address}:${port}`);
}

/**
 * The logger of one session: `base` with the session's context bound to every line (`sessionId`,
 * `remote` as `address:port` and `transport`), at debug level when
 * {@link DEBUG_SESSION_ENV} names the session. A logger without `child` gets the fields merged in.
 */
export function sessionContextLogger(base: Logger, bindings: object, debug: boolean): Logger {
  if (base === silentLogger) return base;
  if (canMakeChildren(base)) return debug ? base.child(bindings, { level: 'debug' }) : base.child(bindings);
  return new FieldsLogger(base, bindings);
}

/** Adds fixed fields to each line of a logger that has no `child`. */
class FieldsLogger implements Logger {
  constructor(
    private readonly base: Logger,
    private readonly bindings: object,
  ) {}
  debug(fields: object, message: string): void {
    this.base.debug({ ...this.bindings, ...fields }, message);
  }
  info(fields: object, message: string): void {
    this.base.info({ ...this.bindings, ...fields }, message);
  }
  warn(fields: object, message: string): void {
    this.base.warn({ ...this.bindings, ...fields }, message);
  }
  error(fields: object, message: string): void {
    this.base.error({ ...this.bindings, ...fields }, message);
  }
}
