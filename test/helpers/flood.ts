/**
 * Floods from the attacker's side against a CLI server run under a small open-file limit: silent TCP
 * connections from many loopback source addresses, counted as they connect and as the server closes
 * them (with how long each lived), and the server process's descriptors and memory read from /proc.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { WebSocket } from 'ws';
import { CliProcess, MAIN_JS } from './cli.js';
import { packet } from './packets.js';
import { Condition, withTimeout, type Cleanup } from './wait.js';

/** Descriptors the process `pid` holds now. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident memory of the process `pid`, bytes. */
export function rssBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

/** The most descriptors and resident memory the process `pid` held, from the first sample on. */
export class ProcessPeaks {
  readonly baseFds: number;
  readonly baseRss: number;
  maxFds: number;
  maxRss: number;

  constructor(private readonly pid: number) {
    this.baseFds = this.maxFds = fdCount(pid);
    this.baseRss = this.maxRss = rssBytes(pid);
  }

  /** Reads both now and keeps the peaks. */
  readonly sample = (): void => {
    this.maxFds = Math.max(this.maxFds, fdCount(this.pid));
    this.maxRss = Math.max(this.maxRss, rssBytes(this.pid));
  };
}

/** Opens silent TCP connections; counts what happens to them and how long the server let each live. */
export class FloodCounts {
  connected = 0;
  closedByServer = 0;
  failed = 0;
  /** Longest time from connect to the server's close, ms, over the sockets the server closed. */
  longestLifeMs = 0;
  readonly sockets: Socket[] = [];
  readonly changed = new Condition();

  /** @param onChange - runs at every connect and close (the test samples the server there). */
  constructor(private readonly onChange: () => void = () => undefined) {}

  open(port: number, localAddress: string): void {
    const socket = connect({ host: '127.0.0.1', port, localAddress });
    this.sockets.push(socket);
    let connectedAt = -1;
    socket.on('connect', () => {
      connectedAt = performance.now();
      this.connected++;
      this.onChange();
      this.changed.notify();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (connectedAt >= 0) {
        this.closedByServer++;
        this.longestLifeMs = Math.max(this.longestLifeMs, performance.now() - connectedAt);
      } else {
        this.failed++;
      }
      this.onChange();
      this.changed.notify();
    });
  }

  /** Connections that connected or failed to. */
  get settled(): number {
    return this.connected + this.failed;
  }

  /** Connections the server still holds open. */
  get held(): number {
    return this.connected - this.closedByServer;
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}

/** A started CLI server under `ulimit -n`, with the ports and limits of its ready line. */
export interface ServerUnderUlimit {
  readonly cli: CliProcess;
  readonly pid: number;
  readonly port: number;
  readonly wsPort: number | undefined;
  readonly maxSessions: number;
}

/** Starts `gamewire <command> --port 0 ...args` under `ulimit -n fileLimit`; `cleanup` SIGKILLs it if still running. */
export async function startUnderUlimit(
  cleanup: Cleanup,
  fileLimit: number,
  args: readonly string[],
  command = 'echo-server',
): Promise<ServerUnderUlimit> {
  const child = spawn(
    'bash',
    ['-c', `ulimit -n ${fileLimit} && exec "$@"`, 'bash', process.execPath, MAIN_JS, command, '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GAMEWIRE_LOG_LEVEL: 'info' } },
  );
  const cli = new CliProcess(child);
  cleanup.add(async () => {
    if (!cli.exited) {
      child.kill('SIGKILL');
      await cli.waitForExit();
    }
  });
  const ready = await cli.waitForLine(/listening on [^ ]+:\d+/);
  const port = Number(/listening on [^ ]+:(\d+)/.exec(ready)?.[1]);
  const ws = /"wsPort":(\d+)/.exec(ready)?.[1];
  const maxSessions = Number(/"maxSessionCount":(\d+)/.exec(ready)?.[1]);
  return { cli, pid: child.pid as number, port, wsPort: ws === undefined ? undefined : Number(ws), maxSessions };
}

/** Retries `attempt` up to `attempts` times (a game client retries a failed login); resolves with the attempts used. */
export async function withRetries(attempts: number, attempt: () => Promise<unknown>): Promise<number> {
  for (let used = 1; ; used++) {
    try {
      await attempt();
      return used;
    } catch (error) {
      if (used >= attempts) throw error;
    }
  }
}

/** One plain TCP echo round trip (connect, a packet, its echo, close); resolves with ms. */
export async function tcpRoundTrip(port: number): Promise<number> {
  const started = performance.now();
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  try {
    const sent = packet(9, 'a real player');
    const echoed = await withTimeout(
      new Promise<Buffer>((resolve, reject) => {
        socket.once('connect', () => socket.write(sent));
        socket.once('data', resolve);
        socket.once('error', reject);
        socket.once('close', () => reject(new Error('closed before the echo')));
      }),
      'a plain echo round trip',
    );
    assert.deepEqual(echoed, sent);
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}

/** One WebSocket echo round trip (`ws://` or, with `ca`, `wss://`): upgrade, a packet, its echo, close; resolves with ms. */
export async function wsRoundTrip(port: number, ca?: Buffer, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  const url = `${ca === undefined ? 'ws' : 'wss'}://127.0.0.1:${port}/ws`;
  const socket = new WebSocket(url, ca === undefined ? {} : { ca });
  socket.on('error', () => undefined);
  try {
    const sent = packet(8, 'a browser player');
    const echoed = await withTimeout(
      new Promise<Buffer>((resolve, reject) => {
        socket.once('open', () => socket.send(sent));
        socket.once('message', (data: Buffer) => resolve(data));
        socket.once('error', reject);
        socket.once('close', (code) => reject(new Error(`closed (${code}) before the echo`)));
      }),
      `a WebSocket echo round trip on ${url}`,
      timeoutMs,
    );
    assert.deepEqual(echoed, sent);
    return performance.now() - started;
  } finally {
    socket.terminate();
  }
}

/** One TLS echo round trip: connect, handshake, a packet, its echo, close; resolves with ms. */
export async function tlsRoundTrip(port: number, ca: Buffer): Promise<number> {
  const started = performance.now();
  const socket = connectTls({ host: '127.0.0.1', port, ca, servername: 'localhost' });
  try {
    const sent = packet(7, 'legit player');
    const echoed = await withTimeout(
      new Promise<Buffer>((resolve, reject) => {
        let got = Buffer.alloc(0);
        socket.once('secureConnect', () => socket.write(sent));
        socket.on('data', (chunk: Buffer) => {
          got = Buffer.concat([got, chunk]);
          if (got.length >= sent.length) resolve(got);
        });
        socket.once('error', reject);
        socket.once('close', () => reject(new Error('closed before the echo')));
      }),
      'a TLS echo round trip',
      10_000,
    );
    assert.deepEqual(echoed, sent);
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}
