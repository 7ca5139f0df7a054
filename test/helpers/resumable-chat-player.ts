/** A chat player of the sample game as a ClientService session with resume: numbered chats, every S_CHAT and S_DESPAWN recorded, and its resume hooks. */
import type { DisconnectCause } from '../../src/core/disconnect-cause.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import { C_CHAT, C_ENTER_GAME, C_LOGIN, S_CHAT, S_DESPAWN, S_ENTER_GAME } from '../../src/samples/protocol/packets.js';
import type { ClientService } from '../../src/net/client-service.js';
import { packet } from './packets.js';
import { Condition } from './wait.js';

export class ResumableChatPlayer extends PacketSession {
  playerId = -1;
  readonly chats: Array<readonly [number, number]> = [];
  readonly despawned: number[] = [];
  readonly events: string[] = [];
  readonly changed = new Condition();
  sent = 0;

  chat(): void {
    this.send(packet(C_CHAT.id, C_CHAT.encodeBody({ msg: `${this.playerId}:${this.sent++}`, sentAtMs: Date.now() })));
  }

  seqsFrom(from: number): number[] {
    return this.chats.filter(([f]) => f === from).map(([, seq]) => seq);
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    if (id === S_ENTER_GAME.id) this.playerId = S_ENTER_GAME.decode(body).player?.id ?? -1;
    else if (id === S_DESPAWN.id) this.despawned.push(...S_DESPAWN.decode(body).playerIds);
    else if (id === S_CHAT.id) {
      const [from, seq] = S_CHAT.decode(body).msg.split(':').map(Number);
      this.chats.push([from as number, seq as number]);
    }
    this.changed.notify();
  }

  protected override onConnectionLost(cause: DisconnectCause): void {
    this.events.push(`lost:${cause.code}`);
  }

  protected override onResumed(): void {
    this.events.push('resumed');
    this.changed.notify();
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    this.events.push(`disconnected:${cause.code}`);
    this.changed.notify();
  }
}

/** Connects a player through `client`, logs in as `account` and enters the room; resolves once in (and resumable). */
export async function joinResumable(client: ClientService<ResumableChatPlayer>, account: string): Promise<ResumableChatPlayer> {
  const player = await client.connect();
  player.send(packet(C_LOGIN.id, C_LOGIN.encodeBody({ account, token: '' })));
  player.send(packet(C_ENTER_GAME.id, C_ENTER_GAME.encodeBody({ playerIndex: 0 })));
  await player.changed.until(() => player.playerId > 0 && player.resumable, `${account} in the room`, 10_000);
  return player;
}
