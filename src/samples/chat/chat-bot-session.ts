import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { PacketSession } from '../../packet/packet-session.js';
import { C_CHAT, C_ENTER_GAME, C_LOGIN, createClientHandlers } from '../protocol/packets.js';

/** Counters shared by every {@link ChatBotSession} of one run. */
export interface ChatBotStats {
  /** C_CHAT packets sent. */
  sent: number;
  /** S_CHAT packets received (deliveries, from every bot in the room). */
  delivered: number;
  /** Bots that entered the room. */
  entered: number;
  /** Set when the run ends: bots stop chatting, so what is in flight can arrive before the totals. */
  stopping?: boolean;
  /** A bot's own chat came back: round trip in microseconds. */
  recordRoundTrip(micros: number): void;
  /** Any chat arrived: sender-to-receiver time in microseconds. */
  recordDelivery(micros: number): void;
  /** A bot's session ended. */
  recordDisconnect(cause: DisconnectCause): void;
}

/** Milliseconds on a clock shared by the processes of one machine (sub-millisecond resolution). */
export function sharedClockMs(): number {
  return performance.timeOrigin + performance.now();
}

const handlers = createClientHandlers<ChatBotSession>({
  S_LOGIN(bot, message) {
    if (message.success) C_ENTER_GAME.send(bot, { playerIndex: 0 });
    else bot.disconnect('login refused');
  },
  S_ENTER_GAME(bot, message) {
    if (!message.success || message.player === null) {
      bot.disconnect('enter game refused');
      return;
    }
    bot.entered(message.player.id);
  },
  S_CHAT(bot, message) {
    bot.chatArrived(message.playerId, message.sentAtMs);
  },
  // The bots' chats are short; a refusal means the server's limit changed, which the run must show.
  S_CHAT_REJECTED(bot, message) {
    bot.disconnect(`chat rejected: ${message.reason}`);
  },
  S_MOVE() {},
});

/**
 * One bot of the course's chat stress test: logs in, enters the room, then chats every `intervalMs`
 * (first one at a random phase so bots spread out), and times every S_CHAT it receives.
 */
export class ChatBotSession extends PacketSession {
  private playerId = -1;
  private timer: NodeJS.Timeout | undefined;
  private readonly text: string;

  constructor(
    private readonly intervalMs: number,
    private readonly stats: ChatBotStats,
    message = 'Hello World',
  ) {
    super();
    this.text = message;
  }

  /** Called by the handler table when S_ENTER_GAME succeeds. */
  entered(playerId: number): void {
    this.playerId = playerId;
    this.stats.entered++;
    this.timer = setTimeout(this.chat, Math.random() * this.intervalMs);
  }

  /** Called by the handler table for every S_CHAT. */
  chatArrived(fromPlayerId: number, sentAtMs: number): void {
    const micros = Math.max(1, Math.round((sharedClockMs() - sentAtMs) * 1000));
    this.stats.delivered++;
    this.stats.recordDelivery(micros);
    if (fromPlayerId === this.playerId) this.stats.recordRoundTrip(micros);
  }

  protected override onConnected(): void {
    C_LOGIN.send(this, { account: `bot${this.id}`, token: '' });
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    handlers.dispatch(this, id, body);
  }

  protected override onDisconnected(cause: DisconnectCause): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.stats.recordDisconnect(cause);
  }

  private readonly chat = (): void => {
    this.timer = undefined;
    if (this.stats.stopping === true) return;
    if (!C_CHAT.send(this, { msg: this.text, sentAtMs: sharedClockMs() })) return;
    this.stats.sent++;
    this.timer = setTimeout(this.chat, this.intervalMs);
  };
}
