import { performance } from 'node:perf_hooks';
import type { DisconnectCause } from '../core/disconnect-cause.js';
import { Session } from '../net/session.js';
import { PACKET_HEADER_SIZE, writePacketHeader } from '../packet/packet-header.js';
import { PacketScanner, type PacketSink } from '../packet/packet-scanner.js';

/** Packet id the dummy client sends its message with. */
export const DUMMY_PACKET_ID = 1;

/** Counters shared by every {@link DummySession} of one run. */
export interface DummyStats {
  sent: number;
  received: number;
  bytesSent: number;
  bytesReceived: number;
  /** Set when the run ends: sessions stop sending, so the echoes in flight can arrive before the totals. */
  stopping?: boolean;
  /** Called with each round trip, in microseconds. */
  recordRoundTrip(micros: number): void;
  /** Called once per session that ends, with its cause. */
  recordDisconnect(cause: DisconnectCause): void;
}

/**
 * The seed's DummyClient session: sends one packet carrying `message` on connect and again
 * `intervalMs` after each echo comes back (a timer, never a blocking sleep), timing each round trip.
 */
export class DummySession extends Session implements PacketSink {
  private readonly packet: Buffer;
  private readonly scanner = new PacketScanner();
  private sentAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    message: string,
    private readonly intervalMs: number,
    private readonly stats: DummyStats,
  ) {
    super();
    const body = Buffer.from(message, 'utf8');
    this.packet = Buffer.allocUnsafe(PACKET_HEADER_SIZE + body.length);
    writePacketHeader(this.packet, 0, this.packet.length, DUMMY_PACKET_ID);
    body.copy(this.packet, PACKET_HEADER_SIZE);
  }

  protected override onConnected(): void {
    this.sendMessage();
  }

  protected override onRecv(buffer: Buffer): number {
    const consumed = this.scanner.scan(buffer, this);
    if (this.scanner.error !== undefined) this.disconnect(this.scanner.error.message);
    return consumed;
  }

  onPacketBytes(_buffer: Buffer, _offset: number, size: number): boolean {
    this.stats.received++;
    this.stats.bytesReceived += size;
    this.stats.recordRoundTrip((performance.now() - this.sentAt) * 1000);
    this.timer = setTimeout(this.sendMessage, this.intervalMs);
    return true;
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.stats.recordDisconnect(cause);
  }

  private readonly sendMessage = (): void => {
    this.timer = undefined;
    if (this.stats.stopping === true || !this.send(this.packet)) return;
    this.sentAt = performance.now();
    this.stats.sent++;
    this.stats.bytesSent += this.packet.length;
  };
}
