import { Redis } from 'ioredis';
import { silentLogger, type Logger } from '../core/logger.js';
import { PRESENCE_TTL_MS, RedisPresence, SERVER_KEY } from './redis-presence.js';
import type { RoomBus, RoomBusListener, RoomBusMessage } from './room-bus.js';

/** Key and channel prefix of everything gamewire keeps in Redis. */
export const REDIS_PREFIX = 'gamewire:';
const ROOM_CHANNEL = `${REDIS_PREFIX}room:`;
const KINDS = ['bytes', 'enter', 'leave', 'hello', 'gone'] as const;
const HEADER = 17; // kind u8, sender f64, origin f64
const ID_BLOCK = `${REDIS_PREFIX}id-block`;
/** How often the servers heard from are checked for being alive (their `gamewire:server:ID` key). */
const LIVENESS_CHECK_MS = PRESENCE_TTL_MS / 3;
/** Checks in a row that must find a server's key missing before its members are dropped (covers a Redis restart). */
const LIVENESS_MISSES = 3;
/** Raises the id-block counter to at least ARGV[1]: a Redis restarted without its data must not hand out blocks again. */
const RAISE_ID_BLOCK = "local v = tonumber(redis.call('GET', KEYS[1]) or '0') if v < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end return 1";

/** Timing of a {@link RedisRoomBus} (tests shorten it). */
export interface RedisBusTuning {
  /** How often servers heard from are checked for being alive, ms. Default 5000 (a third of the presence TTL). */
  readonly livenessCheckMs?: number;
}

/** What a {@link RedisRoomBus} counted. */
export interface RedisBusStats {
  /** Messages published to Redis. */
  published: number;
  /** Messages received from other servers. */
  received: number;
  /** Messages not published because Redis was unreachable: lost for the other servers (local members got them). */
  droppedWhileDown: number;
  /** Times the connection to Redis came back. */
  reconnects: number;
}

/**
 * A {@link RoomBus} over Redis pub/sub (ioredis): one channel per room, `gamewire:room:NAME`,
 * subscribed while the room exists on this server and unsubscribed when it closes. Messages carry
 * the sending server's id, so a server ignores its own. While Redis is down, publishing fails at once
 * (no offline queue: a late chat is worse than a lost one) and is counted in `droppedWhileDown`;
 * ioredis reconnects (every 100 to 500 ms) and resubscribes by itself.
 */
export class RedisRoomBus implements RoomBus {
  readonly origin: number;
  readonly stats: RedisBusStats = { published: 0, received: 0, droppedWhileDown: 0, reconnects: 0 };
  /** Who is in which room on this server, written to Redis with a TTL. */
  readonly presence: RedisPresence;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #logger: Logger;
  readonly #listeners = new Map<string, RoomBusListener>();
  readonly #pending = new Set<Promise<unknown>>();
  #down = false;
  #closing = false;
  #highestBlock: number;
  /** The processes (bus origins) each other server spoke for, and how many liveness checks missed it. */
  readonly #peers = new Map<number, { origins: Set<number>; misses: number }>();
  readonly #livenessTimer: NodeJS.Timeout;

  private constructor(pub: Redis, sub: Redis, origin: number, logger: Logger, livenessCheckMs: number) {
    this.#pub = pub;
    this.#sub = sub;
    this.origin = origin;
    this.#highestBlock = origin;
    this.#logger = logger;
    this.presence = new RedisPresence(pub, origin, logger);
    sub.on('messageBuffer', this.#onMessage);
    this.#livenessTimer = setInterval(() => void this.#checkPeers(), livenessCheckMs);
    this.#livenessTimer.unref();
    let pubLost = false;
    pub.on('close', () => (pubLost = true));
    pub.on('ready', () => {
      if (!pubLost) return;
      pubLost = false;
      pub.eval(RAISE_ID_BLOCK, 1, ID_BLOCK, this.#highestBlock).catch(() => {});
    });
    for (const client of [pub, sub]) {
      client.on('error', (error: Error) => logger.debug({ err: error }, 'redis error'));
      client.on('close', () => {
        if (this.#closing || this.#down) return;
        this.#down = true;
        logger.warn({}, 'redis connection lost; reconnecting (broadcasts to other servers are dropped and counted until it is back)');
      });
      client.on('ready', () => {
        if (!this.#down) return;
        this.#down = false;
        this.stats.reconnects++;
        logger.info({ droppedWhileDown: this.stats.droppedWhileDown }, 'redis connection back; subscriptions restored');
      });
    }
  }

  /**
   * Connects (two connections: commands and subscriptions), takes this server's id (`INCR
   * gamewire:id-block`, also its first id block) and resolves once both are ready.
   */
  static async connect(url: string, logger: Logger = silentLogger, tuning: RedisBusTuning = {}): Promise<RedisRoomBus> {
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number): number => Math.min(100 * times, 500),
    };
    const pub = new Redis(url, options);
    const sub = new Redis(url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    let lastError: Error | undefined;
    const onError = (error: Error): void => {
      lastError = error;
    };
    pub.on('error', onError);
    sub.on('error', onError);
    try {
      await pub.connect();
      await sub.connect();
      const origin = await pub.incr(ID_BLOCK);
      pub.off('error', onError);
      sub.off('error', onError);
      return new RedisRoomBus(pub, sub, origin, logger, tuning.livenessCheckMs ?? LIVENESS_CHECK_MS);
    } catch (error) {
      pub.disconnect();
      sub.disconnect();
      const why = lastError?.message ?? (error instanceof Error ? error.message : String(error));
      throw new Error(`cannot reach Redis at ${url}: ${why}`, { cause: error });
    }
  }

  /** A fresh id block (and bus origin) for a worker of this server. */
  async nextIdBlock(): Promise<number> {
    const block = await this.#pub.incr(ID_BLOCK);
    this.#highestBlock = Math.max(this.#highestBlock, block);
    return block;
  }

  /** Resolves once every subscription asked for so far is in place. */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Channels this bus is subscribed to (rooms that exist on this server). */
  get roomCount(): number {
    return this.#listeners.size;
  }

  join(room: string, listener: RoomBusListener): void {
    const had = this.#listeners.has(room);
    this.#listeners.set(room, listener);
    if (!had) this.#track(this.#sub.subscribe(ROOM_CHANNEL + room));
  }

  leave(room: string): void {
    if (!this.#listeners.delete(room)) return;
    this.presence.forget(room);
    this.#track(this.#sub.unsubscribe(ROOM_CHANNEL + room));
  }

  publish(room: string, message: RoomBusMessage): void {
    this.presence.observe(room, message);
    if (this.#down || this.#pub.status !== 'ready') {
      this.stats.droppedWhileDown++;
      return;
    }
    this.stats.published++;
    this.#pub.publish(ROOM_CHANNEL + room, this.#encode(message)).catch(() => this.stats.droppedWhileDown++);
  }

  /** Removes this server's presence and closes both connections. */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#livenessTimer);
    await this.presence.close().catch(() => {});
    this.#sub.disconnect();
    await this.#pub.quit().catch(() => this.#pub.disconnect());
  }

  /**
   * A server that died without a word (SIGKILL, power loss) never says its members left: once its
   * `gamewire:server:ID` key has expired for several checks in a row, its processes are `gone` in
   * every room here.
   */
  async #checkPeers(): Promise<void> {
    if (this.#down || this.#peers.size === 0 || this.#pub.status !== 'ready') return;
    const ids = [...this.#peers.keys()];
    let alive: number[];
    try {
      alive = await Promise.all(ids.map((id) => this.#pub.exists(SERVER_KEY + id)));
    } catch {
      return;
    }
    ids.forEach((id, i) => {
      const peer = this.#peers.get(id);
      if (peer === undefined) return;
      if (alive[i] === 1) {
        peer.misses = 0;
        return;
      }
      if (++peer.misses < LIVENESS_MISSES) return;
      this.#peers.delete(id);
      this.#logger.warn({ server: id }, 'a server sharing the rooms is gone; its members left');
      for (const listener of [...this.#listeners.values()]) {
        for (const origin of peer.origins) listener({ kind: 'gone', origin });
      }
    });
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.#logger.warn({ err: error }, 'redis subscription change failed'));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  #encode(message: RoomBusMessage): Buffer {
    const payload =
      message.kind === 'bytes'
        ? message.bytes
        : message.kind === 'enter' || message.kind === 'leave'
          ? Buffer.from(JSON.stringify(message.members))
          : new Uint8Array(0);
    const out = Buffer.allocUnsafe(HEADER + payload.length);
    out[0] = KINDS.indexOf(message.kind);
    out.writeDoubleLE(this.origin, 1);
    out.writeDoubleLE(message.origin, 9);
    out.set(payload, HEADER);
    return out;
  }

  readonly #onMessage = (channel: Buffer, data: Buffer): void => {
    if (data.length < HEADER) return;
    const sender = data.readDoubleLE(1);
    if (sender === this.origin) return;
    const room = channel.toString('utf8', ROOM_CHANNEL.length);
    const listener = this.#listeners.get(room);
    if (listener === undefined) return;
    this.stats.received++;
    const origin = data.readDoubleLE(9);
    let peer = this.#peers.get(sender);
    if (peer === undefined) this.#peers.set(sender, (peer = { origins: new Set(), misses: 0 }));
    peer.origins.add(origin);
    const kind = KINDS[data[0] as number];
    const payload = data.subarray(HEADER);
    let message: RoomBusMessage;
    switch (kind) {
      case 'bytes':
        message = { kind, origin, bytes: payload };
        break;
      case 'enter':
      case 'leave':
        message = { kind, origin, members: JSON.parse(payload.toString()) as number[] };
        break;
      case 'hello':
      case 'gone':
        message = { kind, origin };
        break;
      default:
        return;
    }
    listener(message);
  };
}
