import { DisconnectCode } from '../core/disconnect-cause.js';
import { MalformedHeaderError } from '../core/errors.js';
import { Session } from '../net/session.js';
import { PacketScanner, type PacketSink } from '../packet/packet-scanner.js';

/**
 * The GameServer's echo session, packet-framed: every complete packet goes back unchanged, in order.
 * A header whose size is below 4 (or above `maxPacketSize`) disconnects the peer with cause
 * `MALFORMED_HEADER` (or `PACKET_TOO_LARGE`). All packets of one read go back as one copy and one write.
 */
export class EchoSession extends Session implements PacketSink {
  private readonly scanner: PacketScanner;

  /** @param maxPacketSize - bytes, header included; default 65535. */
  constructor(maxPacketSize?: number) {
    super();
    this.scanner = new PacketScanner(maxPacketSize);
  }

  protected override onRecv(buffer: Buffer): number {
    const consumed = this.scanner.scan(buffer, this);
    // The buffer may be the RecvBuffer's memory, which is reused: copy what goes back.
    if (consumed > 0) this.send(Buffer.from(buffer.subarray(0, consumed)));
    const error = this.scanner.error;
    if (error !== undefined) {
      const code = error instanceof MalformedHeaderError ? DisconnectCode.MalformedHeader : DisconnectCode.PacketTooLarge;
      this.closeWithError(code, error);
    }
    return consumed;
  }

  /** Every packet is echoed whole, so there is nothing to do per packet. */
  onPacketBytes(): boolean {
    return true;
  }
}

/** The seed's GameSession: echoes bytes exactly as they come, with no framing. */
export class RawEchoSession extends Session {
  protected override onRecv(buffer: Buffer): number {
    this.send(Buffer.from(buffer));
    return buffer.length;
  }
}
