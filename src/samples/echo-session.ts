import { Session } from '../net/session.js';
import { PacketSession } from '../packet/packet-session.js';
import { sendBufferManager } from '../packet/send-buffer.js';

/**
 * The GameServer's echo session: a PacketSession in batch mode, so it runs the path game code runs
 * (framing and the service's `packet` limits: size below 4 → `MALFORMED_HEADER`, above
 * `maxPacketSize` → `PACKET_TOO_LARGE`; heartbeats answered; `maxPacketsPerSecond`), and every run of whole packets of
 * one read goes back with one copy and one write, with no work per packet. This is what
 * `gamewire echo-server` runs by default.
 */
export class EchoSession extends PacketSession {
  constructor() {
    super({ batch: true });
  }

  /** The packets are echoed whole; the receive memory is reused, so they are copied once. */
  protected override onRecvBatch(packets: Buffer, packetCount: number): void {
    this.send(sendBufferManager.copy(packets), packetCount);
  }
}

/**
 * The echo session written as game code would be: a PacketSession whose `onRecvPacket` sends each
 * packet back with `sendPacket`. `gamewire echo-server --dispatch` runs it; it pays the per-packet
 * dispatch that EchoSession avoids (see bench/README.md).
 */
export class PacketEchoSession extends PacketSession {
  protected override onRecvPacket(id: number, body: Buffer): void {
    this.sendPacket(id, body);
  }
}

/** The C++ course's GameSession: echoes bytes exactly as they come, with no framing. */
export class RawEchoSession extends Session {
  protected override onRecv(buffer: Buffer): number {
    this.send(Buffer.from(buffer));
    return buffer.length;
  }
}
