/**
 * A session that enters a ClusterRoom when it connects and broadcasts every byte it reads to the
 * room: the smallest member of a room over processes, for tests and their child-process fixtures.
 */
import type { ClusterRoom } from '../../src/room/cluster-room.js';
import { Session } from '../../src/net/session.js';

export class RoomEchoMember extends Session {
  constructor(private readonly room: ClusterRoom<RoomEchoMember>) {
    super();
  }
  protected override onConnected(): void {
    this.room.enter(this);
  }
  protected override onRecv(buffer: Buffer): number {
    this.room.broadcast(Buffer.from(buffer));
    return buffer.length;
  }
}
