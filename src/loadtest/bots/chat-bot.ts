import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { PACKET_HEADER_SIZE } from '../../packet/packet-header.js';
import { PacketSession } from '../../packet/packet-session.js';
import { C_CHAT, C_ENTER_GAME, C_LOGIN, createClientHandlers } from '../../samples/protocol/packets.js';
import { defineBot, type BotContext } from './bot.js';
import { DeliveryOrder } from './delivery-order.js';

/**
 * Milliseconds on a clock shared by the processes of one machine (sub-millisecond resolution), so a
 * chat stamped in one worker process can be timed when it arrives in another.
 */
export function sharedClockMs(): number {
  return performance.timeOrigin + performance.now();
}

const handlers = createClientHandlers<ChatLoadBotSession>({
  S_LOGIN(bot, message) {
    if (message.success) bot.sendTracked(C_ENTER_GAME.makeSendBuffer({ playerIndex: 0 }), false);
    else bot.disconnect('login refused');
  },
  S_ENTER_GAME(bot, message) {
    if (!message.success || message.player === null) bot.disconnect('enter game refused');
    else bot.entered(message.player.id);
  },
  S_CHAT(bot, message) {
    bot.chatArrived(message.playerId, message.msg, message.sentAtMs);
  },
  // The bots' chats are short; a refusal means the server's limit changed, which the run must show.
  S_CHAT_REJECTED(bot, message) {
    bot.disconnect(`chat rejected: ${message.reason}`);
  },
  S_MOVE() {},
  S_SPAWN() {},
  S_DESPAWN() {},
});

/** A bot's chat line: its number on the sender's stream, then the text (`#12 Hello World`). */
const NUMBERED_CHAT = /^#(\d+) /;

/**
 * One chat client for `gamewire chat-server`: logs in (account = its name in the run), enters the
 * room, then sends C_CHAT every `intervalMs` (the first at a random phase, so bots spread out). Each
 * C_CHAT is a request; its round trip ends when the bot's own S_CHAT comes back. Every S_CHAT is
 * counted as a delivery (custom counter `deliveries`); counter `entered` counts bots in the room.
 *
 * Each chat is numbered per sender (`#n text`), and every bot checks each sender's chats, its own
 * included, arrive exactly once and in order (from the first one it sees of that sender): a chat
 * received twice is a duplicate, one that fills an earlier gap is out of order, and gaps still open
 * when the session ends are lost (the bot's own chats that never came back are unanswered instead).
 */
export class ChatLoadBotSession extends PacketSession {
  readonly #context: BotContext;
  readonly #order = new DeliveryOrder();
  #playerId = -1;
  #chatSeq = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(context: BotContext) {
    super();
    this.#context = context;
  }

  /** Sends encoded packet bytes and reports them, as a request when `request` is set. */
  sendTracked(bytes: Uint8Array, request: boolean): void {
    if (!this.send(bytes)) return;
    if (request) this.#context.recordRequest(bytes.length);
    else this.#context.recordSent(bytes.length);
  }

  /** Called by the handler table when S_ENTER_GAME succeeds. */
  entered(playerId: number): void {
    this.#playerId = playerId;
    this.#context.count('entered');
    const interval = this.#context.options.intervalMs;
    this.#timer = setTimeout(this.#chat, Math.random() * interval);
  }

  /** Called by the handler table for every S_CHAT. */
  chatArrived(fromPlayerId: number, msg: string, sentAtMs: number): void {
    const context = this.#context;
    context.count('deliveries');
    const numbered = NUMBERED_CHAT.exec(msg);
    if (numbered !== null) {
      const delivery = this.#order.check(fromPlayerId, Number(numbered[1]));
      if (delivery === 'duplicate') return context.recordDuplicate();
      if (delivery === 'late') context.recordOutOfOrder();
    }
    if (fromPlayerId === this.#playerId) context.recordRoundTrip((sharedClockMs() - sentAtMs) * 1000);
  }

  protected override onConnected(): void {
    this.sendTracked(C_LOGIN.makeSendBuffer({ account: this.#context.name, token: '' }), false);
  }

  protected override onRecvPacket(id: number, body: Buffer): void {
    this.#context.recordReceived(PACKET_HEADER_SIZE + body.length);
    handlers.dispatch(this, id, body);
  }

  protected override onDisconnected(_cause: DisconnectCause): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const lost = this.#order.missingCount(this.#playerId);
    if (lost > 0) this.#context.recordLost(lost);
  }

  readonly #chat = (): void => {
    this.#timer = undefined;
    const context = this.#context;
    if (context.stopping || !this.connected) return;
    const msg = `#${++this.#chatSeq} ${context.options.message}`;
    this.sendTracked(C_CHAT.makeSendBuffer({ msg, sentAtMs: sharedClockMs() }), true);
    this.#timer = setTimeout(this.#chat, context.options.intervalMs);
  };
}

/** The built-in `chat` bot, for `gamewire chat-server` (every chat goes to every bot: N² deliveries). */
export const chatBot = defineBot({
  name: 'chat',
  summary: 'logs in, enters the room and chats every --interval-ms; round trip = own S_CHAT back; every chat checked once and in order',
  defaults: { intervalMs: 1000, message: 'Hello World' },
  createSession: (context) => new ChatLoadBotSession(context),
});
