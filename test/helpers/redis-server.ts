/**
 * A throwaway redis-server for tests: Debian's binary on a free port, persistence off, stopped by the
 * test's cleanup. Without the binary the tests that need it skip with one visible line, unless
 * GAMEWIRE_REQUIRE_REDIS=1 (set by .ci/run), which makes a missing server a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Redis, type RedisOptions } from 'ioredis';
import { withTimeout, type Cleanup } from './wait.js';

const available = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** Why the Redis tests skip here, or false when they run. A missing server fails under GAMEWIRE_REQUIRE_REDIS=1. */
export function redisSkip(): string | false {
  if (available) return false;
  if (process.env.GAMEWIRE_REQUIRE_REDIS === '1') throw new Error('redis-server is missing and GAMEWIRE_REQUIRE_REDIS=1');
  const why = 'redis-server not found: the Redis tests are skipped (apt-get install redis-server to run them)';
  console.log(`# SKIP ${why}`);
  return why;
}

/** A free TCP port on 127.0.0.1 (bound and released). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly args: readonly string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts a server on a free port (or `port`), with more redis-server `args` (e.g. `--requirepass`); stopped by `cleanup`. */
  static async start(cleanup: Cleanup, port?: number, args: readonly string[] = []): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()), args);
    cleanup.add(() => server.stop());
    await server.restart();
    return server;
  }

  /** Starts (again) on the same port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...this.args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        lines.on('line', (line) => {
          if (/Ready to accept connections/.test(line)) resolve();
        });
        child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready`)));
      }),
      'redis-server to start',
      10_000,
    );
  }

  /** Kills it (SIGKILL, as a crash) and waits for the exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await withTimeout(exited, 'redis-server to exit');
  }

  stop(): Promise<void> {
    return this.kill('SIGTERM');
  }

  /** A plain client for assertions (`options`: e.g. `{ db, password }`); closed by `cleanup`. */
  client(cleanup: Cleanup, options: RedisOptions = {}): Redis {
    const redis = new Redis(this.url, { maxRetriesPerRequest: 1, ...options });
    cleanup.add(() => redis.disconnect());
    return redis;
  }
}
