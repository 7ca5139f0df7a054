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

/** Where the signal handlers (server-signals.ts) report a signal they act on (a pino logger fits). */
export interface SignalLogger {
  warn(fields: object, message: string): void;
}

/** Exit code of a forced exit by a second SIGINT: 128 + SIGINT (2), as a shell reports Ctrl-C. */
export const FORCED_EXIT_CODE = 130;

