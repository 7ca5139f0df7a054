import { DisconnectCode } from '../core/disconnect-cause.js';
import { MalformedHeaderError } from '../core/errors.js';
import { Session } from '../net/session.js';
import { kTraffic } from '../net/session-traffic.js';
import { PacketScanner, type PacketSink } from '../packet/packet-scanner.js';
import { sendBufferManager } from '../packet/send-buffer.js';
import type { Room } from '../room/room.js';

/**
 * The broadcast server's session: every complete packet it receives goes, unchanged, to every member
 * of its room, the sender included, in the order received. All packets of one read are copied once
 * into a SendBuffer and that one buffer is handed to every member: no copy or allocation per packet
 * or per receiver.
 */
export class BroadcastSession extends Session implements PacketSink {
  private readonly scanner: PacketScanner;
  /** Packets the current scan went over. */
  private scanned = 0;

  constructor(
    private readonly room: Room<BroadcastSession>,
    maxPacketSize?: number,
  ) {
    super();
    this.scanner = new PacketScanner(maxPacketSize);
  }

  protected override onConnected(): void {
    if (!this.room.enter(this)) this.disconnect('room full');
  }

  protected override onRecv(buffer: Buffer): number {
    this.scanned = 0;
    const consumed = this.scanner.scan(buffer, this);
    const packetCount = this.scanned;
    this[kTraffic].packetsReceived += packetCount;
    if (consumed > 0) this.room.broadcast(sendBufferManager.copy(buffer.subarray(0, consumed)), { packetCount });
    const error = this.scanner.error;
    if (error !== undefined) {
      const code = error instanceof MalformedHeaderError ? DisconnectCode.MalformedHeader : DisconnectCode.PacketTooLarge;
      this.closeWithError(code, error);
    }
    return consumed;
  }

  /** Packets are forwarded whole, so there is nothing to do per packet but count it. */
  onPacketBytes(): boolean {
    this.scanned++;
    return true;
  }
}
