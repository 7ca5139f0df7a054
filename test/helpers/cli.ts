/** Runs the compiled CLI (dist/src/cli/main.js) as a child process and reads its output line by line. */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Condition, DEFAULT_TIMEOUT_MS, type Cleanup } from './wait.js';

/** dist/src/cli/main.js, found from this compiled file (dist/test/helpers/cli.js). */
export const MAIN_JS = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export class CliProcess {
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  exitCode: number | null = null;
  signal: NodeJS.Signals | null = null;
  exited = false;
  private readonly changed = new Condition();

  constructor(readonly child: ChildProcessByStdio<null, Readable, Readable>) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      this.stdoutLines.push(line);
      this.changed.notify();
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      this.stderrLines.push(line);
      this.changed.notify();
    });
    // 'close' (not 'exit'): all output has been read by then.
    child.on('close', (code, signal) => {
      this.exitCode = code;
      this.signal = signal;
      this.exited = true;
      this.changed.notify();
    });
  }

  /** Resolves with the first stdout line matching `pattern`; fails early if the process exits first. */
  async waitForLine(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const find = (): string | undefined => this.stdoutLines.find((line) => pattern.test(line));
    await this.changed.until(
      () => {
        if (find() !== undefined) return true;
        if (this.exited) throw new Error(`exited (${this.exitCode ?? this.signal}) before printing ${pattern}\n${this.output()}`);
        return false;
      },
      `a line matching ${pattern}`,
      timeoutMs,
    );
    return find() as string;
  }

  /** Resolves with the `count`-th stdout line matching `pattern` (1-based); fails early if the process exits first. */
  async waitForNthLine(pattern: RegExp, count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const matching = (): string[] => this.stdoutLines.filter((line) => pattern.test(line));
    await this.changed.until(
      () => {
        if (matching().length >= count) return true;
        if (this.exited) throw new Error(`exited (${this.exitCode ?? this.signal}) before printing ${pattern} ${count} times\n${this.output()}`);
        return false;
      },
      `line ${count} matching ${pattern}`,
      timeoutMs,
    );
    return matching()[count - 1] as string;
  }

  /** Resolves with the first stderr line matching `pattern`; fails early if the process exits first. */
  async waitForStderrLine(pattern: RegExp, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const find = (): string | undefined => this.stderrLines.find((line) => pattern.test(line));
    await this.changed.until(
      () => {
        if (find() !== undefined) return true;
        if (this.exited) throw new Error(`exited (${this.exitCode ?? this.signal}) before printing ${pattern} on stderr\n${this.output()}`);
        return false;
      },
      `a stderr line matching ${pattern}`,
      timeoutMs,
    );
    return find() as string;
  }

  /** Resolves with the exit code once the process exited and its output was read. */
  async waitForExit(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number | null> {
    await this.changed.until(() => this.exited, 'the process to exit', timeoutMs);
    return this.exitCode;
  }

  /** Everything printed so far, for assertion messages. */
  output(): string {
    return `stdout:\n${this.stdoutLines.join('\n')}\nstderr:\n${this.stderrLines.join('\n')}`;
  }
}

const SERVER_COMMANDS = new Set(['echo-server', 'broadcast-server', 'chat-server']);

/**
 * Spawns `node dist/src/cli/main.js ...args` (with more `env`); `cleanup` kills it (SIGKILL) if it is
 * still running. A server command gets `--drain-timeout-ms 0` unless the test gives one: SIGTERM
 * then closes at once (the players left end `SERVICE_DRAINED`), as tests that only stop the server
 * want; the tests of draining give their own.
 */
export function runCli(cleanup: Cleanup, args: readonly string[], env: Readonly<Record<string, string>> = {}): CliProcess {
  const drain = SERVER_COMMANDS.has(args[0] ?? '') && !args.includes('--drain-timeout-ms') && !args.includes('--help') ? ['--drain-timeout-ms', '0'] : [];
  const child = spawn(process.execPath, [MAIN_JS, ...args, ...drain], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GAMEWIRE_LOG_LEVEL: 'info', ...env },
  });
  const cli = new CliProcess(child);
  cleanup.add(async () => {
    if (!cli.exited) {
      child.kill('SIGKILL');
      await cli.waitForExit();
    }
  });
  return cli;
}
