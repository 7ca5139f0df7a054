import type { PacketHandlerTable } from '../../packet/packet-handler-table.js';
import { PacketSession, type PacketSessionOptions } from '../../packet/packet-session.js';
import type { Room } from '../../room/room.js';
import type { SessionStateHooks } from '../../net/session-state-hooks.js';
import type { Player } from '../protocol/packets.js';

/** What of a chat session moves with it to another worker: its login, its players, the one in game. */
interface ChatState {
  readonly account: string | undefined;
  readonly players: Player[];
  readonly player: Player | undefined;
}

/**
 * A player's session on the chat server: its login state, its player and the room it is in. It can
 * move to another worker in a rolling reload (docs/deploying.md): its state crosses as JSON, and the
 * room membership is restored by gamewire (the room is a ClusterRoom of the same name there).
 */
export class ChatSession extends PacketSession implements SessionStateHooks {
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

  serializeState(): Uint8Array {
    const state: ChatState = { account: this.account, players: this.players, player: this.player };
    return new TextEncoder().encode(JSON.stringify(state));
  }

  restoreState(bytes: Uint8Array): void {
    const state = JSON.parse(new TextDecoder().decode(bytes)) as ChatState;
    this.account = state.account;
    this.players = state.players;
    this.player = state.player;
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    this.handlers.dispatch(this, id, body);
  }
}
