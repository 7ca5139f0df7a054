import { ClusterRoom } from '../../room/cluster-room.js';
import type { RoomBus } from '../../room/room-bus.js';
import type { RoomOptions } from '../../room/room.js';
import { S_DESPAWN } from '../protocol/packets.js';
import type { ChatSession } from './chat-session.js';

/**
 * The sample game's one room: players enter through C_ENTER_GAME (see chat-server-handlers.ts); when
 * one leaves, by disconnecting or otherwise, everyone still in the room is told with S_DESPAWN. A
 * ClusterRoom, so with `--workers` or `--redis` it is one room over every process (alone, `bus` is
 * undefined and it is a plain Room).
 */
export class ChatRoom extends ClusterRoom<ChatSession> {
  constructor(name = 'chat', bus?: RoomBus, options?: RoomOptions) {
    super(name, bus, options);
  }

  protected override onLeave(session: ChatSession): void {
    const player = session.player;
    if (player === undefined) return;
    session.player = undefined;
    this.broadcastMessage(S_DESPAWN, { playerIds: [player.id] });
  }
}
