/**
 * A plain `node:net` client for driving sessions from the outside: it records every 'data' chunk as it
 * arrived (so tests can see how writes were split), and lets a test wait for bytes, 'end' or 'close'.
 */
import { connect, type Socket } from 'node:net';
import type { Cleanup } from './wait.js';
import { Condition, DEFAULT_TIMEOUT_MS, withTimeout } from './wait.js';

export interface RawClientOptions {
  readonly host?: string;
  /** Keep our side open after the peer's FIN (Node's default for a client is to end it too). */
  readonly allowHalfOpen?: boolean;
  /** Register `close()` here so the socket is closed after the test. */
  readonly cleanup?: Cleanup;
}

export class RawClient {
  /** Every 'data' chunk, in arrival order. */
  readonly chunks: Buffer[] = [];
  /** Total bytes received. */
  byteCount = 0;
  /** True once the peer's FIN arrived ('end'). */
  ended = false;
  /** True once the socket closed ('close'). */
  closed = false;
  /** The socket error, if one happened. */
  error: Error | undefined;
  private readonly changed = new Condition();

  private constructor(readonly socket: Socket) {
    socket.on('connect', () => this.changed.notify());
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.byteCount += chunk.length;
      this.changed.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.changed.notify();
    });
    socket.on('error', (error) => {
      this.error = error;
      this.changed.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.changed.notify();
    });
  }

  /** Connects to `port` on loopback and resolves once connected. */
  static async connect(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const socket = connect({
      host: options.host ?? '127.0.0.1',
      port,
      noDelay: true,
      allowHalfOpen: options.allowHalfOpen ?? false,
    });
    const client = new RawClient(socket);
    options.cleanup?.add(() => client.close());
    await client.changed.until(
      () => {
        if (client.error !== undefined) throw client.error;
        if (client.closed) throw new Error('socket closed before it connected');
        return !socket.connecting;
      },
      `connection to port ${port}`,
    );
    return client;
  }

  /** Everything received so far, as one buffer. */
  get received(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Writes and resolves once the bytes are handed to the kernel. */
  write(data: Uint8Array | string): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve, reject) => {
        this.socket.write(data, (error) => (error ? reject(error) : resolve()));
      }),
      'a write to complete',
    );
  }

  /** Resolves once at least `count` bytes in total have arrived; fails early if the socket closes first. */
  async waitForBytes(count: number, label = `${count} bytes`, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Buffer> {
    await this.changed.until(
      () => {
        if (this.byteCount >= count) return true;
        if (this.closed || this.ended) {
          throw new Error(`socket ${this.closed ? 'closed' : 'ended'} after ${this.byteCount} bytes, waiting for ${label}`);
        }
        return false;
      },
      label,
      timeoutMs,
    );
    return this.received;
  }

  /** Writes `data` and resolves with the next `data.length` bytes received (an echo). */
  async roundTrip(data: Uint8Array): Promise<Buffer> {
    const start = this.byteCount;
    await this.write(data);
    const all = await this.waitForBytes(start + data.length, 'an echo');
    return all.subarray(start, start + data.length);
  }

  /** Resolves once the peer's FIN arrived. */
  waitForEnd(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.changed.until(
      () => {
        if (this.ended) return true;
        if (this.closed) throw new Error(`socket closed without 'end' (error: ${this.error?.message ?? 'none'})`);
        return false;
      },
      "the peer's FIN ('end')",
      timeoutMs,
    );
  }

  /** Resolves once the socket closed, for any reason. */
  waitForClose(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.changed.until(() => this.closed, "'close'", timeoutMs);
  }

  /** Half-closes (sends FIN). */
  end(): void {
    this.socket.end();
  }

  /** Sends RST and destroys the socket; resolves once closed. */
  async reset(): Promise<void> {
    this.socket.resetAndDestroy();
    await this.waitForClose();
  }

  /** Destroys the socket (if still open) and resolves once closed. Safe to call more than once. */
  async close(): Promise<void> {
    if (!this.closed) this.socket.destroy();
    await this.waitForClose();
  }
}

/**
 * Connects to `port` and closes at once: resolves `'connected'`, or the connect error's code
 * (`ECONNREFUSED` once nothing listens there).
 */
export function connectOutcome(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}
