/**
 * Chat players over raw sockets for flow-control tests against the chat server in another process: a
 * reader that takes at most `rate` bytes per second (a token bucket: the socket is paused until the
 * bucket has room again, so TCP pushes back on the server as a slow mobile link would), a chatter that
 * sends numbered chats at an ordinary pace and times their echo, and a flooder that sends 1000-byte
 * chats as fast as the server takes them. Every S_CHAT is checked against its sender's sequence.
 *
 * Node cannot set SO_RCVBUF on a TCP socket, so the kernel's receive buffer is its default (128 KiB on
 * Linux, which it does not grow for a reader this slow); the server's send buffer is autotuned.
 */
import { connect, type Socket } from 'node:net';
import { C_CHAT, C_ENTER_GAME, C_LOGIN, S_CHAT, S_ENTER_GAME } from '../../src/samples/protocol/packets.js';
import { packet } from './packets.js';
import { Condition, waitForEvent, type Cleanup } from './wait.js';

/** The heartbeat ping of docs/protocol.md, which keeps a quiet client from IDLE_TIMEOUT. */
const PING = packet(65534);
/** A reader pings this often: it sends nothing else. */
const PING_EVERY_MS = 10_000;

/** One player in the room: joins, reads (at full speed or throttled), checks every chat's order. */
export class ChatReader {
  playerId = -1;
  /** S_CHAT packets received, in all. */
  chatCount = 0;
  /** Bytes received, in all. */
  byteCount = 0;
  /** Order problems seen (at most 5 kept). */
  readonly problems: string[] = [];
  /** Next sequence number expected from each sender (by player id). */
  readonly next = new Map<number, number>();
  readonly changed = new Condition();
  /** Called with each S_CHAT's sender, sequence number and sentAtMs. */
  onChat: ((from: number, seq: number, sentAtMs: number) => void) | undefined;
  #rate = 0;
  #tokens = 0;
  #refilledAt = 0;
  #resumeTimer: NodeJS.Timeout | undefined;
  #pinger: NodeJS.Timeout | undefined;
  #tail: Buffer = Buffer.alloc(0);

  /** True once the socket closed (the server cut it off, or the test closed it). */
  closed = false;

  /** A plain socket: what it reads is parsed and dropped, never kept (a flood is hundreds of MB). */
  protected constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#stopTimers();
      this.changed.notify();
    });
  }

  /** Connects, logs in as `account` and enters the room; resolves once in the room. */
  static async join(cleanup: Cleanup, port: number, account: string): Promise<ChatReader> {
    return ChatReader.enter(cleanup, new ChatReader(await open(port)), account);
  }

  protected static async enter<T extends ChatReader>(cleanup: Cleanup, player: T, account: string): Promise<T> {
    cleanup.add(async () => {
      player.socket.destroy();
      await player.changed.until(() => player.closed, `${account} closed`);
    });
    player.socket.write(packet(C_LOGIN.id, C_LOGIN.encodeBody({ account, token: '' })));
    player.socket.write(packet(C_ENTER_GAME.id, C_ENTER_GAME.encodeBody({ playerIndex: 0 })));
    await player.changed.until(() => player.playerId > 0 || player.closed, `${account} in the room`, 10_000);
    if (player.playerId <= 0) throw new Error(`${account} was closed before it entered the room`);
    return player;
  }

  /** Chats received from `from`. */
  receivedFrom(from: number): number {
    return this.next.get(from) ?? 0;
  }

  /** Reads at most `bytesPerSecond` from now on (0 = as fast as the kernel gives), and pings meanwhile. */
  throttle(bytesPerSecond: number): void {
    if (this.closed) return;
    this.#rate = bytesPerSecond;
    this.#tokens = 0;
    this.#refilledAt = performance.now();
    if (bytesPerSecond === 0) {
      if (this.#resumeTimer !== undefined) clearTimeout(this.#resumeTimer);
      this.#resumeTimer = undefined;
      this.socket.resume();
    }
    this.#pinger ??= setInterval(() => {
      if (!this.closed) this.socket.write(PING);
    }, PING_EVERY_MS);
  }

  /** Stops reading altogether (a peer that no longer reads). */
  stopReading(): void {
    this.#rate = -1;
    this.socket.pause();
  }

  #onData(chunk: Buffer): void {
    this.byteCount += chunk.length;
    const data = this.#tail.length === 0 ? chunk : Buffer.concat([this.#tail, chunk]);
    let at = 0;
    while (data.length - at >= 4) {
      const size = data.readUInt16LE(at);
      if (data.length - at < size) break;
      const id = data.readUInt16LE(at + 2);
      const body = data.subarray(at + 4, at + size);
      if (id === S_CHAT.id) this.#chat(body);
      else if (id === S_ENTER_GAME.id) this.playerId = S_ENTER_GAME.decode(body).player?.id ?? -1;
      at += size;
    }
    this.#tail = at === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(at));
    this.#spend(chunk.length);
    this.changed.notify();
  }

  #chat(body: Buffer): void {
    const chat = S_CHAT.decode(body);
    this.chatCount++;
    const seq = Number.parseInt(chat.msg, 10);
    const expected = this.next.get(chat.playerId) ?? 0;
    if (seq !== expected && this.problems.length < 5) this.problems.push(`from ${chat.playerId}: seq ${seq}, expected ${expected}`);
    this.next.set(chat.playerId, seq + 1);
    this.onChat?.(chat.playerId, seq, chat.sentAtMs);
  }

  /** The token bucket: past the bytes allowed so far, pause until the debt is paid. */
  #spend(bytes: number): void {
    if (this.#rate <= 0) return;
    const now = performance.now();
    // At most one MSS of credit builds up while idle, as on a link of this rate.
    this.#tokens = Math.min(this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate, 1460) - bytes;
    this.#refilledAt = now;
    if (this.#tokens >= 0 || this.#resumeTimer !== undefined) return;
    this.socket.pause();
    this.#resumeTimer = setTimeout(() => {
      this.#resumeTimer = undefined;
      if (this.#rate > 0) this.socket.resume();
    }, Math.ceil((-this.#tokens / this.#rate) * 1000));
  }

  #stopTimers(): void {
    if (this.#resumeTimer !== undefined) clearTimeout(this.#resumeTimer);
    if (this.#pinger !== undefined) clearInterval(this.#pinger);
    this.#resumeTimer = undefined;
    this.#pinger = undefined;
  }

  /** Sends chat number `seq` (its text starts with the number), `padTo` characters long. */
  protected sendChat(seq: number, padTo: number): boolean {
    const text = String(seq);
    const msg = text.length >= padTo ? text : text + ':' + 'x'.repeat(padTo - text.length - 1);
    return this.socket.write(packet(C_CHAT.id, C_CHAT.encodeBody({ msg, sentAtMs: Date.now() })));
  }
}

/** A player who chats at an ordinary pace and times how long each chat takes to come back to it. */
export class ChatChatter extends ChatReader {
  sent = 0;
  /** Milliseconds from sending each chat to receiving it back. */
  readonly delays: number[] = [];
  #timer: NodeJS.Timeout | undefined;

  static override async join(cleanup: Cleanup, port: number, account: string): Promise<ChatChatter> {
    const chatter = await ChatReader.enter(cleanup, new ChatChatter(await open(port)), account);
    chatter.onChat = (from, _seq, sentAtMs) => {
      if (from === chatter.playerId) chatter.delays.push(Date.now() - sentAtMs);
    };
    cleanup.add(() => chatter.stop());
    return chatter;
  }

  /** Sends a `bytes`-character chat every `everyMs` until `stop`. */
  start(everyMs: number, bytes: number): void {
    this.#timer = setInterval(() => {
      if (!this.closed) this.sendChat(this.sent++, bytes);
    }, everyMs);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** A player who sends 1000-byte chats as fast as the server takes them, reading everything it gets. */
export class ChatFlooder extends ChatReader {
  sent = 0;

  static override async join(cleanup: Cleanup, port: number, account: string): Promise<ChatFlooder> {
    return ChatReader.enter(cleanup, new ChatFlooder(await open(port)), account);
  }

  /** Floods until `untilMs` (performance.now()); resolves with the chats written. */
  async flood(untilMs: number, bytes = 1000): Promise<number> {
    const socket = this.socket;
    while (performance.now() < untilMs && !this.closed) {
      if (this.sendChat(this.sent++, bytes)) {
        // Let this process's other players read meanwhile: the kernel may take chats for a long time.
        if (this.sent % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(1, untilMs - performance.now()));
        socket.once('drain', done);
        socket.once('close', done);
      });
    }
    return this.sent;
  }
}

async function open(port: number): Promise<Socket> {
  const socket = connect({ host: '127.0.0.1', port, noDelay: true });
  try {
    await waitForEvent(socket, 'connect', `a connection to port ${port}`);
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return socket;
}
