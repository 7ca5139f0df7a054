import { Session } from '../net/session.js';
import { PacketSession } from '../packet/packet-session.js';

/**
 * The GameServer's echo session: every packet goes back unchanged, in order. A header whose size is
 * below 4 (or above `maxPacketSize`) ends the session with `MALFORMED_HEADER` (or `PACKET_TOO_LARGE`).
 * Each echo is written into a pooled SendBuffer; packets echoed in one turn sit next to each other
 * there and leave in one write with no further copy.
 */
export class EchoSession extends PacketSession {
  /** @param maxPacketSize - bytes, header included; default 65535. */
  constructor(maxPacketSize?: number) {
    super(maxPacketSize === undefined ? {} : { maxPacketSize });
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    this.sendPacket(id, body);
  }
}

/** The seed's GameSession: echoes bytes exactly as they come, with no framing. */
export class RawEchoSession extends Session {
  protected override onRecv(buffer: Buffer): number {
    this.send(Buffer.from(buffer));
    return buffer.length;
  }
}
