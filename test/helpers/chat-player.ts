/**
 * A chat player over a raw socket, for servers in other processes: logs in, enters the room, sends
 * numbered chats (`PLAYERID:SEQ`) and records every S_CHAT it receives, so a test can check that
 * every chat reached every player exactly once and in order per sender.
 */
import { C_CHAT, C_ENTER_GAME, C_LOGIN, S_CHAT, S_DESPAWN, S_ENTER_GAME } from '../../src/samples/protocol/packets.js';
import { packet, PacketReader } from './packets.js';
import { RawClient } from './raw-client.js';
import { Condition, type Cleanup } from './wait.js';

export class ChatPlayer {
  playerId = -1;
  /** Chats received: [from player id, seq]. */
  readonly chats: Array<readonly [number, number]> = [];
  sent = 0;
  /** Player ids of every S_DESPAWN received (who was seen leaving). */
  readonly despawned: number[] = [];
  /** How many packets of each id arrived (anything but the sample's server packets means junk reached the player). */
  readonly packetIds = new Map<number, number>();
  readonly changed = new Condition();
  private readonly reader = new PacketReader();

  private constructor(readonly client: RawClient) {
    client.socket.on('data', (chunk: Buffer) => {
      for (const p of this.reader.push(chunk)) {
        this.packetIds.set(p.id, (this.packetIds.get(p.id) ?? 0) + 1);
        const body = p.bytes.subarray(4);
        if (p.id === S_ENTER_GAME.id) this.playerId = S_ENTER_GAME.decode(body).player?.id ?? -1;
        else if (p.id === S_DESPAWN.id) this.despawned.push(...S_DESPAWN.decode(body).playerIds);
        else if (p.id === S_CHAT.id) {
          const chat = S_CHAT.decode(body);
          const [from, seq] = chat.msg.split(':').map(Number);
          this.chats.push([from as number, seq as number]);
        }
      }
      this.changed.notify();
    });
    client.socket.on('close', () => this.changed.notify());
  }

  /** Connects, logs in and enters the room; resolves once in the room. */
  static async join(cleanup: Cleanup, port: number, account: string): Promise<ChatPlayer> {
    const player = new ChatPlayer(await RawClient.connect(port, { cleanup }));
    await player.client.write(packet(C_LOGIN.id, C_LOGIN.encodeBody({ account, token: '' })));
    await player.client.write(packet(C_ENTER_GAME.id, C_ENTER_GAME.encodeBody({ playerIndex: 0 })));
    await player.changed.until(() => player.playerId > 0, `${account} in the room`, 10_000);
    return player;
  }

  /** Bytes received that are not (yet) a whole packet. */
  get pendingBytes(): number {
    return this.reader.pendingBytes;
  }

  /** Sends the next numbered chat. */
  chat(): Promise<void> {
    return this.client.write(this.nextChat());
  }

  /** The next numbered chat's packet (`padding` more bytes of text after the number: 1,000 makes a ~1 KB chat). */
  nextChat(padding = 0): Buffer {
    const msg = `${this.playerId}:${this.sent++}${padding > 0 ? `:${'x'.repeat(padding)}` : ''}`;
    return packet(C_CHAT.id, C_CHAT.encodeBody({ msg, sentAtMs: Date.now() }));
  }

  /** Chats received from `from`, in arrival order (their seqs). */
  seqsFrom(from: number): number[] {
    return this.chats.filter(([f]) => f === from).map(([, seq]) => seq);
  }

  /** Waits until `count` chats arrived. */
  waitForChats(count: number, timeoutMs = 10_000): Promise<void> {
    return this.changed.until(() => this.chats.length >= count, `${count} chats at player ${this.playerId} (has ${this.chats.length})`, timeoutMs);
  }
}
