/** One `gamewire` subcommand. */
export interface Command {
  /** Subcommand name, e.g. `echo-server`. */
  readonly name: string;
  /** One line for `gamewire --help`. */
  readonly summary: string;
  /** Full usage text for `gamewire <name> --help`. */
  readonly usage: string;
  /** Runs the command with its arguments; resolves with the exit code. */
  run(args: readonly string[]): Promise<number>;
}

/** Thrown for bad command-line input; main prints it with the usage and exits 2. */
export class UsageError extends Error {}

/** Parses a whole number flag, with a range check. */
export function intFlag(name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** Where {@link waitForSignal} reports a second signal (a pino logger fits). */
export interface SignalLogger {
  warn(fields: object, message: string): void;
}

/** Exit code of a forced exit by a second SIGINT: 128 + SIGINT (2), as a shell reports Ctrl-C. */
export const FORCED_EXIT_CODE = 130;

/**
 * Resolves when SIGINT or SIGTERM first arrives, so the caller can close gracefully. Later signals
 * are handled too, so that none of them kills the process by Node's default: a second SIGTERM (a
 * supervisor repeating itself) is logged and ignored, and the graceful close goes on; a second
 * SIGINT (Ctrl-C twice: a person who wants out) is logged and exits at once with code 130.
 */
export function waitForSignal(logger?: SignalLogger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (first === undefined) {
        first = signal;
        resolve(signal);
        return;
      }
      if (signal === 'SIGTERM') {
        report(logger, { signal, first }, 'SIGTERM again while closing: ignored, the graceful close goes on (SIGINT twice forces an exit)');
        return;
      }
      report(logger, { signal, first, exitCode: FORCED_EXIT_CODE }, 'SIGINT again while closing: exiting now without finishing the close');
      process.exit(FORCED_EXIT_CODE);
    };
    // Kept for the life of the process: a signal with no listener would kill it by default.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function report(logger: SignalLogger | undefined, fields: object, message: string): void {
  try {
    if (logger !== undefined) logger.warn(fields, message);
    else process.stderr.write(`${message}\n`);
  } catch {
    // the exit or the ignore happens anyway
  }
}
