import { Room, type RoomOptions } from '../../room/room.js';
import { S_DESPAWN } from '../protocol/packets.js';
import type { ChatSession } from './chat-session.js';

/**
 * The sample game's one room: players enter through C_ENTER_GAME (see chat-server-handlers.ts); when
 * one leaves, by disconnecting or otherwise, everyone still in the room is told with S_DESPAWN.
 */
export class ChatRoom extends Room<ChatSession> {
  constructor(options?: RoomOptions) {
    super(options);
  }

  protected override onLeave(session: ChatSession): void {
    const player = session.player;
    if (player === undefined) return;
    session.player = undefined;
    this.broadcastMessage(S_DESPAWN, { playerIds: [player.id] });
  }
}
