/**
 * A TCP peer written from docs/protocol.md alone (node:net and the test's own packet parser, no
 * src/): it answers each heartbeat ping with a pong carrying the same body, or answers nothing, and
 * records when each ping came and how long the peer had been silent then.
 */
import { PacketReader, packet, type ParsedPacket } from './packets.js';
import { RawClient } from './raw-client.js';
import { Condition, DEFAULT_TIMEOUT_MS, type Cleanup } from './wait.js';

/** Heartbeat ping and pong ids (docs/protocol.md, "Packet ids"). */
export const PING_ID = 65534;
export const PONG_ID = 65535;

/** One ping that arrived. */
export interface PingSeen {
  /** performance.now() when it arrived. */
  readonly at: number;
  /** How long this peer had sent nothing when it arrived, ms. */
  readonly silentForMs: number;
  readonly body: Buffer;
}

export class HeartbeatPeer {
  /** Every packet but the pings, in order. */
  readonly packets: ParsedPacket[] = [];
  readonly pings: PingSeen[] = [];
  /** performance.now() of this peer's last write (connect, until it writes). */
  lastWriteAt = performance.now();
  /** performance.now() when the server's FIN arrived. */
  endedAt: number | undefined;
  readonly #reader = new PacketReader();
  readonly #changed = new Condition();

  private constructor(
    readonly client: RawClient,
    /** Answer pings with pongs (what docs/protocol.md asks of a client); false: answer nothing. */
    public answerPings: boolean,
  ) {
    client.socket.on('data', (chunk: Buffer) => {
      for (const p of this.#reader.push(chunk)) {
        if (p.id === PING_ID) this.#ping(p);
        else this.packets.push(p);
      }
      this.#changed.notify();
    });
    client.socket.on('end', () => {
      this.endedAt = performance.now();
      this.#changed.notify();
    });
    client.socket.on('close', () => this.#changed.notify());
  }

  static async connect(port: number, answerPings: boolean, cleanup: Cleanup): Promise<HeartbeatPeer> {
    return new HeartbeatPeer(await RawClient.connect(port, { cleanup }), answerPings);
  }

  /** Sends a packet and notes the time. */
  send(id: number, body: Uint8Array = new Uint8Array(0)): Promise<void> {
    this.lastWriteAt = performance.now();
    return this.client.write(packet(id, body));
  }

  /** Resolves once `check` holds; fails early if the connection ends first (unless `check` expects that). */
  until(check: () => boolean, label: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return this.#changed.until(
      () => {
        if (check()) return true;
        if (this.client.closed || this.endedAt !== undefined) throw new Error(`the server closed the connection while waiting for ${label}`);
        return false;
      },
      label,
      timeoutMs,
    );
  }

  /** Resolves with the time of the server's FIN. */
  async untilEnded(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number> {
    await this.#changed.until(() => this.endedAt !== undefined || this.client.closed, "the server's FIN", timeoutMs);
    if (this.endedAt === undefined) throw new Error(`closed without a FIN (error: ${this.client.error?.message ?? 'none'})`);
    return this.endedAt;
  }

  #ping(p: ParsedPacket): void {
    const at = performance.now();
    const body = p.bytes.subarray(4);
    this.pings.push({ at, silentForMs: at - this.lastWriteAt, body });
    if (!this.answerPings || this.client.closed) return;
    this.lastWriteAt = at;
    this.client.socket.write(packet(PONG_ID, body));
  }
}
