import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { performance } from 'node:perf_hooks';
import { MAX_PACKET_SIZE, PACKET_HEADER_SIZE } from '../../packet/packet-header.js';
import { PacketSession } from '../../packet/packet-session.js';
import { defineBot, type BotContext } from './bot.js';
import { DeliveryOrder } from './delivery-order.js';

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

/** Requests a session keeps in flight: `--bot-option pipeline=N`, 1..MAX_PIPELINE. */
export function echoPipeline(extra: Readonly<Record<string, string>>): number {
  const text = extra['pipeline'];
  if (text === undefined) return 1;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > MAX_PIPELINE) {
    throw new RangeError(`echo bot: --bot-option pipeline must be an integer 1..${MAX_PIPELINE}, got '${text}'`);
  }
  return value;
}

/** Most requests one echo session keeps in flight. */
const MAX_PIPELINE = 1024;

/**
 * One echo client: keeps `pipeline` packets in flight (default 1), each stamped with a sequence number
 * and its send time; each echo records its round trip, and the next packet goes `intervalMs` later (at
 * once for 0: a closed loop). Echoes must come back exactly once and in order, across resumes too: a
 * repeated one is counted as a duplicate, one that comes after a later one as out of order, and one
 * that never comes stays in flight and is counted unanswered at the end. A body too short to hold
 * the stamp ends the session ('echo mismatch').
 */
export class EchoBotSession extends PacketSession {
  readonly #context: BotContext;
  /** Reused scratch body: sendPacket copies it into a SendBuffer. */
  readonly #body: Buffer;
  readonly #pipeline: number;
  readonly #order = new DeliveryOrder();
  #seq = 0;
  /** Sends owed once the interval passes. */
  #due = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(context: BotContext) {
    super();
    this.#context = context;
    const { message, size, extra } = context.options;
    this.#pipeline = echoPipeline(extra);
    this.#order.start(0, 1);
    this.#body = Buffer.alloc(echoBodySize(message, size));
    const text = Buffer.from(message.length > 0 ? message : ' ', 'utf8');
    for (let at = ECHO_BOT_STAMP_SIZE; at < this.#body.length; at += text.length) text.copy(this.#body, at);
  }

  protected override onConnected(): void {
    for (let i = 0; i < this.#pipeline; i++) this.#sendNext();
  }

  protected override onRecvPacket(_id: number, body: Buffer): void {
    const context = this.#context;
    context.recordReceived(PACKET_HEADER_SIZE + body.length);
    if (body.length < ECHO_BOT_STAMP_SIZE) {
      context.count('echo-mismatch');
      this.disconnect('echo mismatch');
      return;
    }
    switch (this.#order.check(0, body.readUInt32LE(0))) {
      case 'duplicate':
        context.recordDuplicate();
        return; // its request was answered already: nothing ends, nothing more is sent
      case 'late':
        context.recordOutOfOrder();
        break;
      case 'next':
      case 'gap': // the skipped ones stay in flight: unanswered at the end, or late if they come
        break;
    }
    context.recordRoundTrip((performance.now() - body.readDoubleLE(4)) * 1000);
    const interval = context.options.intervalMs;
    if (interval === 0) this.#sendNext();
    else {
      this.#due++;
      this.#timer ??= setTimeout(this.#sendDue, interval);
    }
  }

  protected override onDisconnected(_cause: DisconnectCause): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  readonly #sendDue = (): void => {
    this.#timer = undefined;
    const due = this.#due;
    this.#due = 0;
    for (let i = 0; i < due; i++) this.#sendNext();
  };

  #sendNext(): void {
    if (this.#context.stopping) return;
    const body = this.#body;
    this.#seq = (this.#seq + 1) >>> 0;
    body.writeUInt32LE(this.#seq, 0);
    body.writeDoubleLE(performance.now(), 4);
    if (this.sendPacket(ECHO_BOT_PACKET_ID, body)) this.#context.recordRequest(PACKET_HEADER_SIZE + body.length);
  }
}

/** The built-in `echo` bot, for `gamewire echo-server` or any server that echoes packets unchanged. */
export const echoBot = defineBot({
  name: 'echo',
  summary: 'stamped packets echoed back, checked once and in order; --interval-ms 0 is a closed loop, --bot-option pipeline=N keeps N in flight',
  defaults: { intervalMs: 100, message: 'Hello World' },
  createSession: (context) => new EchoBotSession(context),
});
