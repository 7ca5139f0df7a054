import { IdSequence } from '../../core/id-sequence.js';
import {
  createServerHandlers,
  PlayerType,
  S_CHAT,
  S_CHAT_REJECTED,
  S_ENTER_GAME,
  S_LOGIN,
  S_MOVE,
  S_SPAWN,
  type Player,
} from '../protocol/packets.js';
import type { ChatSession } from './chat-session.js';

/** Room id reported in S_ENTER_GAME: the sample has one room. */
export const CHAT_ROOM_ID = 1;

/**
 * Longest chat the sample accepts, UTF-8 bytes. Checked on receipt: a legal C_CHAT can carry up to
 * 65531 bytes of body, but the S_CHAT made from it must fit a packet too, and a room of players does
 * not want a page of text. A longer chat is answered with S_CHAT_REJECTED and reaches nobody.
 */
export const CHAT_MAX_BYTES = 1024;

/**
 * Player ids: a uint32 on the wire, so blocks of 2^20 ids (4096 blocks); unique across workers and
 * servers as long as fewer than 4096 worker starts share a Redis and no worker logs in 2^20 / 3 times.
 */
export const playerIds = new IdSequence({ blockBits: 20, maxBits: 32 });

/**
 * The chat server's handler table (the C++ `ServerPacketHandler`): login offers three players, enter
 * game puts the chosen one in the room (S_SPAWN tells the newcomer who is there and the others about
 * the newcomer), chat and move are broadcast to the room (chat to everyone, the sender included; move
 * to everyone else). Room changes run as jobs of the room, in order.
 */
export const chatServerHandlers = createServerHandlers<ChatSession>({
  C_LOGIN(session, message) {
    session.account = message.account;
    const types = [PlayerType.PLAYER_TYPE_KNIGHT, PlayerType.PLAYER_TYPE_MAGE, PlayerType.PLAYER_TYPE_ARCHER];
    session.players = types.map((playerType, i): Player => ({
      id: playerIds.next(),
      name: `${message.account}-${i + 1}`,
      playerType,
      position: { x: 0, y: 0, z: 0 },
    }));
    S_LOGIN.send(session, { success: true, players: session.players });
  },
  C_ENTER_GAME(session, message) {
    const player = session.players[message.playerIndex];
    if (player === undefined || session.player !== undefined) {
      S_ENTER_GAME.send(session, { success: false });
      return;
    }
    const room = session.room;
    room.doAsync(() => {
      const entered = room.enter(session);
      S_ENTER_GAME.send(session, { success: entered, player: entered ? player : null, roomId: CHAT_ROOM_ID });
      if (!entered) return;
      session.player = player;
      // The newcomer sees who is here; everyone else sees the newcomer.
      const others: Player[] = [];
      for (const member of room.members) if (member !== session && member.player !== undefined) others.push(member.player);
      S_SPAWN.send(session, { players: others });
      room.broadcastMessage(S_SPAWN, { players: [player] }, { except: session });
    });
  },
  // Chat and move go through the room's queue too, so they run after an enter sent just before them.
  C_CHAT(session, message) {
    const { msg, sentAtMs } = message;
    const bytes = Buffer.byteLength(msg);
    if (bytes > CHAT_MAX_BYTES) {
      S_CHAT_REJECTED.send(session, { reason: `chat is ${bytes} bytes, at most ${CHAT_MAX_BYTES}`, maxBytes: CHAT_MAX_BYTES });
      return;
    }
    session.room.doAsync(() => {
      const player = session.player;
      if (player === undefined) return;
      session.room.broadcastMessage(S_CHAT, { playerId: player.id, msg, sentAtMs });
    });
  },
  C_MOVE(session, message) {
    const { position, yaw, seq } = message;
    session.room.doAsync(() => {
      const player = session.player;
      if (player === undefined) return;
      player.position = position;
      session.room.broadcastMessage(S_MOVE, { playerId: player.id, position, yaw, seq }, { except: session });
    });
  },
});
