import { PacketSession } from '../packet/packet-session.js';
import { sendBufferManager } from '../packet/send-buffer.js';
import type { Room } from '../room/room.js';

/**
 * The broadcast server's session, a PacketSession in batch mode: every complete packet it receives
 * goes, unchanged, to every member of its room, the sender included, in the order received. Each run
 * of packets of one read is copied once into a SendBuffer and that one buffer is handed to every
 * member: no copy or allocation per packet or per receiver. Heartbeats are answered, not broadcast.
 */
export class BroadcastSession extends PacketSession {
  constructor(private readonly room: Room<BroadcastSession>) {
    super({ batch: true });
  }

  protected override onConnected(): void {
    if (!this.room.enter(this)) this.disconnect('room full');
  }

  protected override onRecvBatch(packets: Buffer, packetCount: number): void {
    this.room.broadcast(sendBufferManager.copy(packets), { packetCount });
  }
}
