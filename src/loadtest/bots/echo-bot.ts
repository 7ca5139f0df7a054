import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { performance } from 'node:perf_hooks';
import { MAX_PACKET_SIZE, PACKET_HEADER_SIZE } from '../../packet/packet-header.js';
import { PacketSession } from '../../packet/packet-session.js';
import { defineBot, type BotContext } from './bot.js';

/** Packet id of the echo bot's requests (the same as the dummy client's). */
export const ECHO_BOT_PACKET_ID = 1;
/** Bytes at the front of each echo body: sequence number (u32 LE) and send time (f64 LE, ms). */
export const ECHO_BOT_STAMP_SIZE = 12;
/** Largest echo body: a whole packet is at most 65535 bytes. */
const MAX_BODY_SIZE = MAX_PACKET_SIZE - PACKET_HEADER_SIZE;

/**
 * Body size of the echo bot's packets: `size` when given, else the stamp plus the message bytes;
 * never below the stamp or above what one packet holds.
 */
export function echoBodySize(message: string, size: number | undefined): number {
  const wanted = size ?? ECHO_BOT_STAMP_SIZE + Buffer.byteLength(message, 'utf8');
  return Math.min(MAX_BODY_SIZE, Math.max(ECHO_BOT_STAMP_SIZE, wanted));
}

/**
 * One echo client: sends a packet stamped with a sequence number and its send time, waits for the
 * echo, records the round trip, and sends the next one `intervalMs` later (at once for 0: a closed
 * loop). An echo that does not carry the expected sequence number ends the session ('echo mismatch').
 */
export class EchoBotSession extends PacketSession {
  readonly #context: BotContext;
  /** Reused scratch body: sendPacket copies it into a SendBuffer. */
  readonly #body: Buffer;
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(context: BotContext) {
    super();
    this.#context = context;
    const { message, size } = context.options;
    this.#body = Buffer.alloc(echoBodySize(message, size));
    const text = Buffer.from(message.length > 0 ? message : ' ', 'utf8');
    for (let at = ECHO_BOT_STAMP_SIZE; at < this.#body.length; at += text.length) text.copy(this.#body, at);
  }

  protected override onConnected(): void {
    this.#sendNext();
  }

  protected override onRecvPacket(_id: number, body: Buffer): void {
    const context = this.#context;
    context.recordReceived(PACKET_HEADER_SIZE + body.length);
    if (body.length < ECHO_BOT_STAMP_SIZE || body.readUInt32LE(0) !== this.#seq) {
      context.count('echo-mismatch');
      this.disconnect('echo mismatch');
      return;
    }
    context.recordRoundTrip((performance.now() - body.readDoubleLE(4)) * 1000);
    const interval = context.options.intervalMs;
    if (interval === 0) this.#sendNext();
    else this.#timer = setTimeout(this.#sendNext, interval);
  }

  protected override onDisconnected(_cause: DisconnectCause): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #sendNext = (): void => {
    this.#timer = undefined;
    if (this.#context.stopping) return;
    const body = this.#body;
    this.#seq = (this.#seq + 1) >>> 0;
    body.writeUInt32LE(this.#seq, 0);
    body.writeDoubleLE(performance.now(), 4);
    if (this.sendPacket(ECHO_BOT_PACKET_ID, body)) this.#context.recordRequest(PACKET_HEADER_SIZE + body.length);
  };
}

/** The built-in `echo` bot, for `gamewire echo-server` or any server that echoes packets unchanged. */
export const echoBot = defineBot({
  name: 'echo',
  summary: 'stamped packets echoed back; round trip per packet; --interval-ms 0 is a closed loop',
  defaults: { intervalMs: 100, message: 'Hello World' },
  createSession: (context) => new EchoBotSession(context),
});
