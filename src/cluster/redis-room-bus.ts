import { Redis } from 'ioredis';
import { logSafely, silentLogger, type Logger } from '../core/logger.js';
import { countDropped } from './dropped-messages.js';
import { PRESENCE_TTL_MS, RedisPresence, SERVER_KEY } from './redis-presence.js';
import { redactUrl, redisErrorFields, resolveRedisTarget, type RedisOptions, type RedisTarget } from './redis-target.js';
import { decodeRoomFrame, encodeRoomFrame, isWholePackets } from './room-frame.js';
import type { RoomBus, RoomBusListener, RoomBusMessage } from '../room/room-bus.js';

/**
 * Root of gamewire's names in Redis: the default prefix is `gamewire:DB:` (redis-target.ts), and the
 * one key kept outside any prefix is `gamewire:id-block`, in database 0.
 */
export const REDIS_PREFIX = 'gamewire:';
/**
 * The id-block counter: one for every deployment on this Redis server (database 0, no prefix), so
 * that session ids never collide across databases and prefixes.
 */
const ID_BLOCK = `${REDIS_PREFIX}id-block`;
/** The counter that numbers servers for resume tokens, in database 0 like the id blocks. */
const SERVER_NUMBER = `${REDIS_PREFIX}server-number`;
const ROOM = 'room:';
/** How often the servers heard from are checked for being alive (their `server:ID` key). */
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
  /** Messages received from other servers (well-formed ones; the rest are counted as dropped, docs/cluster.md). */
  received: number;
  /** Messages not published because Redis was unreachable: lost for the other servers (local members got them). */
  droppedWhileDown: number;
  /** Times the connection to Redis came back. */
  reconnects: number;
}

/**
 * A {@link RoomBus} over Redis pub/sub (ioredis): one channel per room, `PREFIX` + `room:NAME`,
 * subscribed while the room exists on this server and unsubscribed when it closes. Messages are room
 * frames (room-frame.ts): versioned, checked field by field, and a malformed one is counted and
 * dropped, never thrown. Each carries the sending server's id, so a server ignores its own. While
 * Redis is down, publishing fails at once (no offline queue: a late chat is worse than a lost one) and
 * is counted in `droppedWhileDown`; ioredis reconnects (every 100 to 500 ms) and resubscribes by
 * itself. Nothing logged or thrown carries the URL's password.
 */
export class RedisRoomBus implements RoomBus {
  readonly origin: number;
  readonly stats: RedisBusStats = { published: 0, received: 0, droppedWhileDown: 0, reconnects: 0 };
  /** Who is in which room on this server, written to Redis with a TTL. */
  readonly presence: RedisPresence;
  /** The key and channel prefix of this deployment. */
  readonly prefix: string;
  readonly #pub: Redis;
  readonly #sub: Redis;
  readonly #db: number;
  readonly #logger: Logger;
  readonly #roomChannel: string;
  readonly #roomChannelBytes: number;
  readonly #listeners = new Map<string, RoomBusListener>();
  readonly #pending = new Set<Promise<unknown>>();
  #down = false;
  #closing = false;
  #highestBlock: number;
  /** The processes (bus origins) each other server spoke for, and how many liveness checks missed it. */
  readonly #peers = new Map<number, { origins: Set<number>; misses: number }>();
  readonly #livenessTimer: NodeJS.Timeout;

  private constructor(pub: Redis, sub: Redis, origin: number, target: RedisTarget, logger: Logger, livenessCheckMs: number) {
    this.#pub = pub;
    this.#sub = sub;
    this.origin = origin;
    this.prefix = target.prefix;
    this.#db = target.db;
    this.#roomChannel = target.prefix + ROOM;
    this.#roomChannelBytes = Buffer.byteLength(this.#roomChannel);
    this.#highestBlock = origin;
    this.#logger = logger;
    this.presence = new RedisPresence(pub, origin, logger, target.prefix);
    sub.on('messageBuffer', this.#onMessage);
    this.#livenessTimer = setInterval(() => void this.#checkPeers(), livenessCheckMs);
    this.#livenessTimer.unref();
    let pubLost = false;
    pub.on('close', () => (pubLost = true));
    pub.on('ready', () => {
      if (!pubLost) return;
      pubLost = false;
      idBlockCommand(pub, target.db, (batch) => batch.eval(RAISE_ID_BLOCK, 1, ID_BLOCK, this.#highestBlock)).catch(() => {});
    });
    for (const client of [pub, sub]) {
      client.on('error', (error: Error) => logger.debug({ err: redisErrorFields(error) }, 'redis error'));
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
   * gamewire:id-block` in database 0, also its first id block) and resolves once both are ready.
   * `redis`: the URL, or the URL and the deployment's prefix (default `gamewire:DB:`).
   * @throws InvalidOptionError for a bad URL or prefix; Error `cannot reach Redis at URL` (password
   * redacted) when it cannot connect.
   */
  static async connect(redis: string | RedisOptions, logger: Logger = silentLogger, tuning: RedisBusTuning = {}): Promise<RedisRoomBus> {
    const target = resolveRedisTarget(redis);
    const options = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number): number => Math.min(100 * times, 500),
    };
    const pub = new Redis(target.url, options);
    const sub = new Redis(target.url, { ...options, enableOfflineQueue: true, maxRetriesPerRequest: null });
    let lastError: Error | undefined;
    const onError = (error: Error): void => {
      lastError = error;
    };
    pub.on('error', onError);
    sub.on('error', onError);
    try {
      await pub.connect();
      await sub.connect();
      const origin = await nextBlock(pub, target.db);
      pub.off('error', onError);
      sub.off('error', onError);
      return new RedisRoomBus(pub, sub, origin, target, logger, tuning.livenessCheckMs ?? LIVENESS_CHECK_MS);
    } catch (error) {
      pub.disconnect();
      sub.disconnect();
      const why = redisErrorFields(lastError ?? error).message;
      throw new Error(`cannot reach Redis at ${redactUrl(target.url)}: ${why}`);
    }
  }

  /** A fresh id block (and bus origin) for a worker of this server. */
  async nextIdBlock(): Promise<number> {
    const block = await nextBlock(this.#pub, this.#db);
    this.#highestBlock = Math.max(this.#highestBlock, block);
    return block;
  }

  /**
   * A number for this server in resume tokens, 1..65535, from one counter of the Redis server
   * (`gamewire:server-number` in database 0): servers sharing a Redis get different numbers until
   * 65535 more have started, so a token of one is never taken for another's (docs/resume.md).
   */
  async nextServerNumber(): Promise<number> {
    const count = Number(await idBlockCommand(this.#pub, this.#db, (batch) => batch.incr(SERVER_NUMBER)));
    if (!Number.isSafeInteger(count) || count < 1) throw new Error(`the server-number counter ${SERVER_NUMBER} holds ${count}, not a positive integer`);
    return ((count - 1) % 0xffff) + 1;
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
    if (!had) this.#track(this.#sub.subscribe(this.#roomChannel + room));
  }

  leave(room: string): void {
    if (!this.#listeners.delete(room)) return;
    this.presence.forget(room);
    this.#track(this.#sub.unsubscribe(this.#roomChannel + room));
  }

  publish(room: string, message: RoomBusMessage): void {
    if (message.kind === 'bytes' && !isWholePackets(message.bytes)) {
      countDropped('redis', 'not_packets', this.#logger, { room, bytes: message.bytes.length });
      return;
    }
    this.presence.observe(room, message);
    if (this.#down || this.#pub.status !== 'ready') {
      this.stats.droppedWhileDown++;
      return;
    }
    this.stats.published++;
    this.#pub.publish(this.#roomChannel + room, encodeRoomFrame(message, this.origin)).catch(() => this.stats.droppedWhileDown++);
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
   * `server:ID` key has expired for several checks in a row, its processes are `gone` in every room
   * here.
   */
  async #checkPeers(): Promise<void> {
    if (this.#down || this.#peers.size === 0 || this.#pub.status !== 'ready') return;
    const ids = [...this.#peers.keys()];
    let alive: number[];
    try {
      alive = await Promise.all(ids.map((id) => this.#pub.exists(this.prefix + SERVER_KEY + id)));
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
        for (const origin of peer.origins) this.#deliver(listener, { kind: 'gone', origin });
      }
    });
  }

  #track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => this.#logger.warn({ err: redisErrorFields(error) }, 'redis subscription change failed'));
    this.#pending.add(tracked);
    void tracked.finally(() => this.#pending.delete(tracked));
  }

  /** Hands a message to a room; a throw there (a bug) is logged, never left to ioredis's data handler, which would end the process. */
  #deliver(listener: RoomBusListener, message: RoomBusMessage): void {
    try {
      listener(message);
    } catch (error) {
      logSafely(this.#logger, 'error', { err: error }, 'a room failed to take a message from redis');
    }
  }

  readonly #onMessage = (channel: Buffer, data: Buffer): void => {
    const room = channel.toString('utf8', this.#roomChannelBytes);
    const listener = this.#listeners.get(room);
    if (listener === undefined) return;
    const frame = decodeRoomFrame(data);
    if (typeof frame === 'string' || frame.sender === 0) {
      countDropped('redis', typeof frame === 'string' ? frame : 'malformed', this.#logger, { room, bytes: data.length });
      return;
    }
    const { sender, message } = frame;
    if (sender === this.origin) return;
    this.stats.received++;
    let peer = this.#peers.get(sender);
    if (peer === undefined) this.#peers.set(sender, (peer = { origins: new Set(), misses: 0 }));
    peer.origins.add(message.origin);
    this.#deliver(listener, message);
  };
}

type Batch = ReturnType<Redis['multi']>;

/**
 * Runs the id-block command `add` in database 0, wherever the connection is (`MULTI SELECT 0 …
 * SELECT db EXEC`, atomic, so the connection is back on its database whatever happens).
 */
async function idBlockCommand(redis: Redis, db: number, add: (batch: Batch) => Batch): Promise<unknown> {
  const batch = db === 0 ? add(redis.multi()) : add(redis.multi().select(0)).select(db);
  const results = await batch.exec();
  if (results === null) throw new Error('the id-block transaction was discarded');
  const reply = results[db === 0 ? 0 : 1];
  if (reply === undefined) throw new Error('the id-block transaction returned nothing');
  if (reply[0] !== null) throw reply[0];
  return reply[1];
}

async function nextBlock(redis: Redis, db: number): Promise<number> {
  const block = Number(await idBlockCommand(redis, db, (batch) => batch.incr(ID_BLOCK)));
  if (!Number.isSafeInteger(block) || block < 1) throw new Error(`the id-block counter ${ID_BLOCK} holds ${block}, not a positive integer`);
  return block;
}
