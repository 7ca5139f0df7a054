import type { PacketHandlerTable } from '../../packet/packet-handler-table.js';
import { PacketSession, type PacketSessionOptions } from '../../packet/packet-session.js';
import type { Room } from '../../room/room.js';
import type { Player } from '../protocol/packets.js';

/** A player's session on the chat server: its login state, its player and the room it is in. */
export class ChatSession extends PacketSession {
  /** Set by C_LOGIN. */
  account: string | undefined;
  /** The players offered at login; C_ENTER_GAME picks one. */
  players: Player[] = [];
  /** The player in game, once entered. */
  player: Player | undefined;

  constructor(
    /** The room players enter. */
    readonly room: Room<ChatSession>,
    private readonly handlers: PacketHandlerTable<ChatSession>,
    options?: PacketSessionOptions,
  ) {
    super(options);
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    this.handlers.dispatch(this, id, body);
  }
}
