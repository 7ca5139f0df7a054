/**
 * Shared pieces of the hardening tests (limits, floods, faults): sessions that record writability
 * changes and their cause, cause assertions, polling for counters that have no event, child processes
 * holding sockets, and the open-file limit.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { PacketSession, type PacketSessionOptions } from '../../src/packet/packet-session.js';
import { EchoSession } from '../../src/samples/echo-session.js';
import { Condition, DEFAULT_TIMEOUT_MS, withTimeout, type Cleanup } from './wait.js';

/** One `onWritableChanged` call and the bytes pending for the peer when it ran. */
export interface WritableChange {
  readonly writable: boolean;
  /** `queuedSendBytes + socketBufferedBytes` during the call. */
  readonly pending: number;
}

/** Runs inside onRecvPacket. */
export type OnPacket = (session: WatchedSession, id: number, body: Buffer) => void;

/**
 * A PacketSession that counts packets, records writability changes and its cause, and lets a test wait
 * on any of them. What a packet does is given as `onPacket` (default: nothing).
 */
export class WatchedSession extends PacketSession {
  readonly changes: WritableChange[] = [];
  packetCount = 0;
  packetBytes = 0;
  cause: DisconnectCause | undefined;
  readonly changed = new Condition();

  constructor(
    private readonly onPacket?: OnPacket,
    options?: PacketSessionOptions,
  ) {
    super(options);
  }

  /** Bytes queued in gamewire plus bytes held by the socket, not yet given to the kernel. */
  get pendingBytes(): number {
    return this.queuedSendBytes + this.socketBufferedBytes;
  }

  until(check: () => boolean, label: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.changed.until(check, `session ${this.id}: ${label}`, timeoutMs);
  }

  async untilDisconnected(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DisconnectCause> {
    await this.until(() => this.cause !== undefined, 'onDisconnected', timeoutMs);
    return this.cause as DisconnectCause;
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    this.packetCount++;
    this.packetBytes += body.length + 4;
    this.onPacket?.(this, id, body);
    this.changed.notify();
  }

  protected override onWritableChanged(writable: boolean): void {
    this.changes.push({ writable, pending: this.pendingBytes });
    this.changed.notify();
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.cause = cause;
    this.changed.notify();
  }
}

/** The sample EchoSession, recording its cause and writability changes. */
export class WatchedEcho extends EchoSession {
  readonly changes: WritableChange[] = [];
  cause: DisconnectCause | undefined;
  readonly changed = new Condition();

  async untilDisconnected(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DisconnectCause> {
    await this.changed.until(() => this.cause !== undefined, `session ${this.id}: onDisconnected`, timeoutMs);
    return this.cause as DisconnectCause;
  }

  protected override onWritableChanged(writable: boolean): void {
    this.changes.push({ writable, pending: this.queuedSendBytes + this.socketBufferedBytes });
    this.changed.notify();
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.cause = cause;
    this.changed.notify();
  }
}

/** Asserts the disconnect code and, when given, the stable code of the error behind it. */
export function assertCause(cause: DisconnectCause | undefined, code: string, errorCode?: string): void {
  assert.ok(cause !== undefined, `expected cause ${code}, but the session has not ended`);
  assert.equal(cause.code, code, `cause ${cause.code} (${cause.reason}), expected ${code}`);
  if (errorCode !== undefined) assert.equal(cause.error?.code, errorCode, `error code of ${cause.code}`);
}

/**
 * For state that changes without an event (service counters): re-checks `check` every `everyMs` until
 * it is true; rejects after `timeoutMs`.
 */
export function pollUntil(check: () => boolean, label: string, timeoutMs = DEFAULT_TIMEOUT_MS, everyMs = 5): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const polled = new Promise<void>((resolve, reject) => {
    const tick = (): void => {
      try {
        if (check()) return resolve();
      } catch (error) {
        return reject(error);
      }
      timer = setTimeout(tick, everyMs);
    };
    tick();
  });
  return withTimeout(polled, label, timeoutMs).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` (only for tests that must show something does NOT happen for a while). */
export function elapse(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The shell's open-file limit, or Infinity. */
export function openFileLimit(): number {
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text);
  } catch {
    return 1024;
  }
}

/**
 * Runs `source` (an ES module, as text) in a child node process with stdout piped; resolves once the
 * child printed a line containing `readyLine`. `cleanup` SIGKILLs it.
 */
export async function spawnNode(cleanup: Cleanup, source: string, args: readonly string[], readyLine: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  cleanup.add(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await withTimeout(exited, 'the child process to exit');
  });
  let out = '';
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes(readyLine)) resolve();
      });
      child.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before '${readyLine}': ${out}`)));
    }),
    `the child to print '${readyLine}'`,
  );
  return child;
}
