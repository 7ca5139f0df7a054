/**
 * Signals to a server command, as a supervisor or an impatient person sends them: SIGTERM twice under
 * load (the first drains, the second closes now; the graceful close goes on and every echoed byte is
 * right, in order, ending with FIN, never a reset), and SIGINT twice (the second exits at once with code 130).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { DEFAULTS } from '../../src/core/defaults.js';
import { runCli, type CliProcess } from '../helpers/cli.js';
import { fdCount } from '../helpers/flood.js';
import { pollUntil } from '../helpers/limits.js';
import { RawClient } from '../helpers/raw-client.js';
import { cleanupAfter, Condition, type Cleanup } from '../helpers/wait.js';

const CLIENTS = 20;
const CHUNK = 16 * 1024;
/** Echoed bytes each client must have seen before the signals: the server is under load. */
const WARM_BYTES = 256 * 1024;

/** Longest piece compared at once; longer chunks are compared piece by piece. */
const MAX_PIECE = 1024 * 1024;

/**
 * Client `index`'s stream repeats a pseudo-random block of a prime length of its own, so any gap,
 * reorder or corruption shows; `pattern` holds one period plus MAX_PIECE bytes to compare against.
 */
function makePattern(index: number): { period: number; bytes: Buffer } {
  const period = 65521 + index * 2;
  const bytes = Buffer.allocUnsafe(period + MAX_PIECE);
  let x = 0x9e3779b9 ^ index;
  for (let i = 0; i < period; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  for (let i = period; i < bytes.length; i++) bytes[i] = bytes[i - period] as number;
  return { period, bytes };
}

/** A client streaming its pattern to a raw echo server and checking every byte that comes back. */
class StreamingClient {
  sent = 0;
  echoed = 0;
  mismatches = 0;
  ended = false;
  closed = false;
  error: Error | undefined;
  private readonly socket: Socket;
  private readonly pattern: { period: number; bytes: Buffer };

  constructor(
    readonly index: number,
    port: number,
    private readonly changed: Condition,
  ) {
    this.pattern = makePattern(index);
    this.socket = connect({ host: '127.0.0.1', port, noDelay: true });
    this.socket.on('connect', () => this.pump());
    this.socket.on('data', (chunk: Buffer) => {
      for (let at = 0; at < chunk.length; at += MAX_PIECE) {
        const piece = chunk.subarray(at, at + MAX_PIECE);
        if (!piece.equals(this.expected(this.echoed + at, piece.length))) this.mismatches++;
      }
      this.echoed += chunk.length;
      this.changed.notify();
    });
    this.socket.on('end', () => {
      this.ended = true;
      this.changed.notify();
    });
    this.socket.on('error', (error) => {
      this.error = error;
      this.changed.notify();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.changed.notify();
    });
  }

  /** The `length` bytes of this client's stream from `offset` (length at most MAX_PIECE). */
  private expected(offset: number, length: number): Buffer {
    const start = offset % this.pattern.period;
    return this.pattern.bytes.subarray(start, start + length);
  }

  /** Writes chunks while the socket takes them, until the server ends the connection. */
  private pump(): void {
    while (!this.ended && !this.socket.destroyed && this.socket.writable) {
      const chunk = this.expected(this.sent, CHUNK);
      this.sent += CHUNK;
      if (!this.socket.write(chunk)) {
        this.socket.once('drain', () => this.pump());
        return;
      }
    }
  }

  destroy(): void {
    this.socket.destroy();
  }
}

async function startEcho(cleanup: Cleanup, args: readonly string[]): Promise<{ cli: CliProcess; port: number }> {
  const cli = runCli(cleanup, ['echo-server', '--host', '127.0.0.1', '--port', '0', ...args]);
  const line = await cli.waitForLine(/listening on [^ ]+:\d+/);
  const port = Number(/listening on [^ ]+:(\d+)/.exec(line)?.[1]);
  assert.ok(port > 0, line);
  return { cli, port };
}

describe('signals to a server command', () => {
  it('SIGTERM twice under load: the first drains, the second closes now; every echoed byte is right, FIN not reset, exit 0', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startEcho(cleanup, ['--raw', '--drain-timeout-ms', '60000']);
    const changed = new Condition();
    const clients = Array.from({ length: CLIENTS }, (_, i) => new StreamingClient(i, port, changed));
    cleanup.add(() => clients.forEach((client) => client.destroy()));
    await changed.until(() => clients.every((c) => c.echoed >= WARM_BYTES || c.error !== undefined), 'load to flow', 20_000);
    cli.child.kill('SIGTERM');
    await cli.waitForLine(/"msg":"draining/);
    // The sessions go on while draining: every client is still echoed.
    const mark = clients.map((c) => c.echoed);
    await changed.until(() => clients.every((c, i) => c.echoed > (mark[i] as number) || c.error !== undefined), 'echoes during the drain', 10_000);
    assert.equal(cli.child.kill('SIGTERM'), true); // while draining: closes now, not after the 20 s drain
    assert.equal(await cli.waitForExit(20_000), 0, cli.output());
    await changed.until(() => clients.every((c) => c.closed), 'every client to close', 10_000);
    assert.ok(cli.stdoutLines.some((line) => line.includes('SIGTERM while draining: closing now')), cli.output());
    const echoed = clients.reduce((n, c) => n + c.echoed, 0);
    const inFlight = clients.reduce((n, c) => n + c.sent - c.echoed, 0);
    t.diagnostic(`${CLIENTS} clients: ${echoed} bytes echoed, all checked; ${inFlight} bytes sent but not echoed: not yet read by the server when it began closing (in kernel buffers, or sent after), which a graceful close reads and discards`);
    for (const client of clients) {
      assert.equal(client.error, undefined, `client ${client.index}: ${client.error?.message} (a reset loses accepted bytes)`);
      assert.equal(client.ended, true, `client ${client.index} got the server's FIN`);
      assert.equal(client.mismatches, 0, `client ${client.index}: every echoed byte is the byte sent, in order`);
    }
  });

  it('SIGINT twice: the second is logged and exits at once with code 130', async (t) => {
    const cleanup = cleanupAfter(t);
    const { cli, port } = await startEcho(cleanup, []);
    // A peer that never closes its side keeps the graceful close waiting (disconnectTimeoutMs, 5 s).
    const stubborn = await RawClient.connect(port, { cleanup, allowHalfOpen: true });
    await stubborn.write(Buffer.from([5, 0, 1, 0, 42]));
    await stubborn.waitForBytes(5);
    cli.child.kill('SIGINT');
    await cli.waitForLine(/"msg":"closing"/);
    const before = performance.now();
    cli.child.kill('SIGINT');
    assert.equal(await cli.waitForExit(), 130, cli.output());
    assert.ok(performance.now() - before < 2_000, 'at once, not after the 5 s close');
    assert.ok(cli.stdoutLines.some((line) => line.includes('SIGINT again while closing: exiting now')), cli.output());
  });
});

describe('SIGTERM with a silent connection to the WebSocket port', () => {
  for (const workers of ['1', '2']) {
    it(`--workers ${workers}: the process exits within the close grace, whatever the peer does`, async (t) => {
      const cleanup = cleanupAfter(t);
      const cli = runCli(cleanup, ['echo-server', '--host', '127.0.0.1', '--port', '0', '--ws-port', '0', '--workers', workers]);
      const line = await cli.waitForLine(/listening on [^ ]+:\d+/, 20_000);
      const wsPort = Number(/"wsPort":(\d+)/.exec(line)?.[1]);
      assert.ok(wsPort > 0, line);
      const pids = JSON.parse(/"workerPids":(\[[\d,]*\])/.exec(line)?.[1] ?? '[]') as number[];
      const fds = (): number => pids.reduce((n, pid) => n + fdCount(pid), 0);
      const before = fds();
      // A port scanner or a load balancer's TCP check: connects and says nothing, never closes.
      const silent = connect({ host: '127.0.0.1', port: wsPort });
      const closed = new Condition();
      let closedByServer = false;
      silent.on('error', () => undefined);
      silent.on('close', () => {
        closedByServer = true;
        closed.notify();
      });
      cleanup.add(() => silent.destroy());
      await new Promise<void>((resolve) => silent.once('connect', () => resolve()));
      // The process serving it has accepted it (with workers, the primary hands it over first).
      await pollUntil(() => fds() > before, 'the silent connection to be accepted');
      const signalled = performance.now();
      cli.child.kill('SIGTERM');
      assert.equal(await cli.waitForExit(DEFAULTS.closeGraceMs + 5_000), 0, cli.output());
      const exitMs = performance.now() - signalled;
      await closed.until(() => closedByServer, 'the silent connection to be closed by the server');
      t.diagnostic(`--workers ${workers}: SIGTERM to exit ${exitMs.toFixed(0)} ms with a silent connection to the WebSocket port (close grace ${DEFAULTS.closeGraceMs} ms)`);
      assert.ok(exitMs < DEFAULTS.closeGraceMs, `exited ${exitMs.toFixed(0)} ms after SIGTERM`);
    });
  }
});
