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

/** Resolves when SIGINT or SIGTERM arrives; removes its listeners afterwards. */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
