import { checkInteger } from '../core/options.js';
import { Session } from '../net/session.js';
import { MAX_PACKET_SIZE, PACKET_HEADER_SIZE } from '../packet/packet-header.js';
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
  readonly #maxPacketSize: number;
  /** Made on the first bytes: an idle session holds none. */
  #scanner: PacketScanner | undefined;

  constructor(
    private readonly room: Room<BroadcastSession>,
    maxPacketSize?: number,
  ) {
    super();
    this.#maxPacketSize = checkInteger('maxPacketSize', maxPacketSize ?? MAX_PACKET_SIZE, PACKET_HEADER_SIZE, MAX_PACKET_SIZE);
  }

  protected override onConnected(): void {
    if (!this.room.enter(this)) this.disconnect('room full');
  }

  protected override onRecv(buffer: Buffer): number {
    const before = this[kTraffic].packetsReceived;
    const scanner = (this.#scanner ??= new PacketScanner(this.#maxPacketSize));
    const consumed = scanner.scan(buffer, this);
    const packetCount = this[kTraffic].packetsReceived - before;
    if (consumed > 0) this.room.broadcast(sendBufferManager.copy(buffer.subarray(0, consumed)), { packetCount });
    const error = scanner.error;
    if (error !== undefined) this.closeWithError(error);
    return consumed;
  }

  /** Packets are forwarded whole, so there is nothing to do per packet but count it. */
  onPacketBytes(): boolean {
    this[kTraffic].packetsReceived++;
    return true;
  }
}
