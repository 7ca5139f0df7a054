/** A resumable player of the sample chat game over a raw ResumePeer: logs in, enters, and reads chats numbered `id:seq`. */
import { C_ENTER_GAME, C_LOGIN, S_CHAT, S_ENTER_GAME } from '../../src/samples/protocol/packets.js';
import { ResumePeer, type Endpoint } from './resume-peer.js';
import type { Cleanup } from './wait.js';

export class ResumableChatter {
  readonly peer: ResumePeer;
  constructor(cleanup: Cleanup) {
    this.peer = new ResumePeer(cleanup);
  }

  get playerId(): number {
    const entered = this.peer.receivedOf(S_ENTER_GAME.id)[0];
    return entered === undefined ? -1 : (S_ENTER_GAME.decode(entered.bytes.subarray(4)).player?.id ?? -1);
  }

  async join(endpoint: Endpoint, account: string): Promise<void> {
    await this.peer.open(endpoint);
    this.peer.send(C_LOGIN.id, Buffer.from(C_LOGIN.encodeBody({ account, token: '' })));
    this.peer.send(C_ENTER_GAME.id, Buffer.from(C_ENTER_GAME.encodeBody({ playerIndex: 0 })));
    await this.peer.until(() => this.playerId > 0 && this.peer.token !== undefined, `${account} in the room`, 10_000);
  }

  /** Seqs of the chats from `from`, in arrival order. */
  seqsFrom(from: number): number[] {
    const seqs: number[] = [];
    for (const p of this.peer.receivedOf(S_CHAT.id)) {
      const [sender, seq] = S_CHAT.decode(p.bytes.subarray(4)).msg.split(':').map(Number);
      if (sender === from) seqs.push(seq as number);
    }
    return seqs;
  }

  get chatCount(): number {
    return this.peer.receivedOf(S_CHAT.id).length;
  }
}
