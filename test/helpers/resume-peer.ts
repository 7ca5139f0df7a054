/**
 * A resume client written from docs/protocol.md ("Resume") alone, over TCP (`node:net`) or WebSocket
 * (`ws`), with no code of src/: it sends HELLO, keeps the token of WELCOME, counts every packet it
 * receives except resume packets, keeps what it sent until the server acknowledges it, reconnects
 * with RESUME and sends again what the server did not have. Tests drive it packet by packet.
 */
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { PacketReader, packet, type ParsedPacket } from './packets.js';
import { Condition, type Cleanup } from './wait.js';

export const HELLO = 65520;
export const WELCOME = 65521;
export const RESUME = 65522;
export const RESUMED = 65523;
export const REFUSED = 65524;
export const ACK = 65525;
export const BYE = 65526;
export const PING = 65534;
export const PONG = 65535;

const REASONS = ['', 'UNKNOWN_SESSION', 'BAD_POSITION', 'RETRY_LATER', 'NOT_HERE', 'UNSUPPORTED'];

/** Where to connect: a TCP port, or a WebSocket port (path /ws, or `path`, e.g. `/ws?route=2`). */
export type Endpoint = { readonly tcp: number } | { readonly ws: number; readonly path?: string };

function u64(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(BigInt(value));
  return out;
}

/** One connection, TCP or WebSocket, as bytes in and out. */
class Wire {
  closed = false;
  closeCode: number | undefined;
  closeReason = '';

  private constructor(
    private readonly tcp: Socket | undefined,
    private readonly ws: WebSocket | undefined,
  ) {}

  static open(endpoint: Endpoint, onData: (chunk: Buffer) => void, onClose: () => void): Promise<Wire> {
    return new Promise((resolve, reject) => {
      if ('tcp' in endpoint) {
        const socket = connect({ host: '127.0.0.1', port: endpoint.tcp, noDelay: true });
        const wire = new Wire(socket, undefined);
        socket.once('connect', () => resolve(wire));
        socket.on('data', onData);
        socket.on('error', (error) => (socket.connecting ? reject(error) : undefined));
        socket.on('close', () => {
          wire.closed = true;
          onClose();
        });
      } else {
        const ws = new WebSocket(`ws://127.0.0.1:${endpoint.ws}${endpoint.path ?? '/ws'}`);
        const wire = new Wire(undefined, ws);
        ws.binaryType = 'nodebuffer';
        ws.once('open', () => resolve(wire));
        ws.on('message', (data: Buffer) => onData(data));
        ws.on('error', (error) => (ws.readyState === WebSocket.CONNECTING ? reject(error) : undefined));
        ws.on('close', (code: number, reason: Buffer) => {
          wire.closed = true;
          wire.closeCode = code;
          wire.closeReason = reason.toString();
          onClose();
        });
      }
    });
  }

  send(bytes: Buffer): void {
    if (this.closed) return;
    if (this.tcp !== undefined) this.tcp.write(bytes);
    else this.ws?.send(bytes);
  }

  /** Drops the connection without a word to the server (the cut itself is the proxy's). */
  destroy(): void {
    if (this.tcp !== undefined) this.tcp.destroy();
    else this.ws?.terminate();
  }

  /** A clean close: TCP FIN, WebSocket close 1000. */
  end(): void {
    if (this.tcp !== undefined) this.tcp.end();
    else this.ws?.close(1000);
  }
}

export class ResumePeer {
  /** Every packet received that counts (not a resume packet), in order, over every connection. */
  readonly received: ParsedPacket[] = [];
  /** Resume packets received, in order. */
  readonly controls: ParsedPacket[] = [];
  token: Buffer | undefined;
  graceMs = 0;
  maxReplayBytes = 0;
  /** The server's count of our packets, from its last ACK or RESUMED. */
  serverReceived = 0;
  /** Our stream packets, from index `serverReceived` on (the rest were acknowledged). */
  #unacked: Buffer[] = [];
  /** Packets of ours in the stream so far. */
  sent = 0;
  refusal: { reason: string; retryAfterMs: number; text: string } | undefined;
  bye: string | undefined;
  readonly changed = new Condition();
  #wire: Wire | undefined;
  #reader = new PacketReader();
  /** Answer pings (a real client must; a test may turn it off). */
  answerPings = true;
  /** Connections opened. */
  connections = 0;

  constructor(private readonly cleanup: Cleanup) {}

  /** The route of our token (its first two bytes): the server process that holds the session. */
  get route(): number | undefined {
    return this.token?.readUInt16LE(0);
  }

  get connected(): boolean {
    return this.#wire !== undefined && !this.#wire.closed;
  }

  get wire(): Wire | undefined {
    return this.#wire;
  }

  /** Opens a connection and sends HELLO (unless `hello` is false). */
  async open(endpoint: Endpoint, hello = true): Promise<void> {
    await this.#connect(endpoint);
    if (hello) this.#wire?.send(packet(HELLO, Buffer.from([1])));
  }

  /** Resolves once WELCOME came. */
  async welcomed(): Promise<void> {
    await this.until(() => this.token !== undefined, 'WELCOME');
  }

  /** Sends a game packet (or a pong): counted, kept until acknowledged. */
  send(id: number, body: Buffer | string = Buffer.alloc(0)): void {
    const bytes = packet(id, body);
    this.#unacked.push(bytes);
    this.sent++;
    this.#wire?.send(bytes);
  }

  /** Sends ACK with the count received. */
  ack(): void {
    this.#wire?.send(packet(ACK, u64(this.received.length)));
  }

  /** Sends any resume packet as it is (for malformed ones). */
  sendRaw(id: number, body: Buffer): void {
    this.#wire?.send(packet(id, body));
  }

  /** Sends BYE and closes cleanly. */
  bye_(reason = ''): void {
    this.#wire?.send(packet(BYE, reason));
    this.#wire?.end();
  }

  /** Drops the current connection (after a cut, the client gives up on it). */
  drop(): void {
    this.#wire?.destroy();
  }

  /** Reconnects and sends RESUME with `token` (default: ours) and the count received; resolves when the answer came. */
  async resume(endpoint: Endpoint, token: Buffer | undefined = this.token, received = this.received.length): Promise<'RESUMED' | 'REFUSED'> {
    this.refusal = undefined;
    const before = this.controls.length;
    await this.#connect(endpoint);
    this.#wire?.send(packet(RESUME, Buffer.concat([token ?? Buffer.alloc(24), u64(received)])));
    await this.until(
      () => this.controls.slice(before).some((c) => c.id === RESUMED || c.id === REFUSED),
      'RESUMED or REFUSED',
    );
    return this.controls.slice(before).some((c) => c.id === RESUMED) ? 'RESUMED' : 'REFUSED';
  }

  /** Resolves once the current connection closed. */
  untilClosed(): Promise<void> {
    return this.until(() => !this.connected, 'the connection to close');
  }

  until(check: () => boolean, label: string, timeoutMs?: number): Promise<void> {
    return this.changed.until(check, label, timeoutMs);
  }

  /** Game packets received with id `id`. */
  receivedOf(id: number): ParsedPacket[] {
    return this.received.filter((p) => p.id === id);
  }

  async #connect(endpoint: Endpoint): Promise<void> {
    this.#wire?.destroy();
    this.#reader = new PacketReader();
    const reader = () => this.#reader;
    const wire = await Wire.open(
      endpoint,
      (chunk) => {
        if (this.#wire !== wire) return;
        for (const p of reader().push(chunk)) this.#onPacket(p);
        this.changed.notify();
      },
      () => this.changed.notify(),
    );
    this.#wire = wire;
    this.connections++;
    this.cleanup.add(() => wire.destroy());
  }

  #onPacket(p: ParsedPacket): void {
    if (p.id >= 65520 && p.id <= 65533) {
      this.controls.push(p);
      const body = p.bytes.subarray(4);
      if (p.id === WELCOME) {
        this.token = Buffer.from(body.subarray(0, 24));
        this.graceMs = body.readUInt32LE(24);
        this.maxReplayBytes = body.readUInt32LE(28);
      } else if (p.id === RESUMED) {
        this.token = Buffer.from(body.subarray(0, 24));
        this.#acknowledged(Number(body.readBigUInt64LE(24)));
        for (const bytes of this.#unacked) this.#wire?.send(bytes); // what the server did not have
      } else if (p.id === REFUSED) {
        this.refusal = { reason: REASONS[body[0] as number] ?? String(body[0]), retryAfterMs: body.readUInt32LE(1), text: body.subarray(5).toString() };
      } else if (p.id === ACK) {
        this.#acknowledged(Number(body.readBigUInt64LE(0)));
      } else if (p.id === BYE) {
        this.bye = body.toString();
      }
      return;
    }
    this.received.push(p);
    if (p.id === PING && this.answerPings) this.send(PONG, p.bytes.subarray(4));
  }

  #acknowledged(count: number): void {
    if (count > this.serverReceived) this.#unacked.splice(0, count - this.serverReceived);
    this.serverReceived = Math.max(this.serverReceived, count);
  }
}
