import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { redisErrorFields } from './redis-target.js';
import type { RoomBusMessage } from '../room/room-bus.js';

/** `PREFIX` + `presence:ROOM:SERVER`: that server's member count in ROOM, with the presence TTL. */
const PRESENCE = 'presence:';
/** `PREFIX` + `server:ID`: a live server's pid, with the presence TTL. */
export const SERVER_KEY = 'server:';
/** Presence keys live this long unless refreshed, so a dead server's rooms and members vanish. */
export const PRESENCE_TTL_MS = 15_000;
const FLUSH_MS = 1_000;
const REFRESH_EVERY = 5; // flushes

/** One server's part of a room, as Redis knows it. */
export interface RoomPresence {
  readonly room: string;
  /** The server's id (its `INCR gamewire:id-block`). */
  readonly server: number;
  readonly members: number;
}

/**
 * This server's presence in Redis: `PREFIX` + `presence:ROOM:SERVER` = its member count in ROOM, and
 * `PREFIX` + `server:SERVER` = its pid, each with a 15 s TTL refreshed every 5 s (changes are written
 * within 1 s). Counts come from the enter/leave messages the server publishes. PREFIX is the
 * deployment's (redis-target.ts).
 */
export class RedisPresence {
  readonly #redis: Redis;
  readonly #server: number;
  readonly #presence: string;
  readonly #serverKey: string;
  readonly #logger: Logger;
  readonly #rooms = new Map<string, Map<number, Set<number>>>();
  readonly #dirty = new Set<string>();
  readonly #timer: NodeJS.Timeout;
  #ticks = 0;

  constructor(redis: Redis, server: number, logger: Logger, prefix: string) {
    this.#redis = redis;
    this.#server = server;
    this.#presence = prefix + PRESENCE;
    this.#serverKey = prefix + SERVER_KEY + server;
    this.#logger = logger;
    this.#timer = setInterval(() => void this.#flush(), FLUSH_MS);
    this.#timer.unref();
    redis.set(this.#serverKey, String(process.pid), 'PX', PRESENCE_TTL_MS).catch(() => {});
  }

  /** Members of `room` on this server. */
  count(room: string): number {
    let n = 0;
    for (const set of this.#rooms.get(room)?.values() ?? []) n += set.size;
    return n;
  }

  /** Counts an enter, leave or gone that this server publishes. */
  observe(room: string, message: RoomBusMessage): void {
    if (message.kind === 'bytes' || message.kind === 'hello') return;
    let origins = this.#rooms.get(room);
    if (message.kind === 'gone') {
      if (origins?.delete(message.origin) === true) this.#dirty.add(room);
      return;
    }
    if (origins === undefined) this.#rooms.set(room, (origins = new Map()));
    let set = origins.get(message.origin);
    if (set === undefined) origins.set(message.origin, (set = new Set()));
    for (const id of message.members) {
      if (message.kind === 'enter') set.add(id);
      else set.delete(id);
    }
    if (set.size === 0) origins.delete(message.origin);
    this.#dirty.add(room);
  }

  /** The room is gone from this server. */
  forget(room: string): void {
    if (!this.#rooms.delete(room)) return;
    this.#dirty.delete(room);
    this.#redis.del(this.#presence + room + ':' + this.#server).catch(() => {});
  }

  /** Every server's part of every room (or of `room`), from Redis. */
  async list(room?: string): Promise<RoomPresence[]> {
    const presence = this.#presence;
    const pattern = room === undefined ? `${presence}*` : `${presence}${room}:*`;
    const out: RoomPresence[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.#redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      const values = keys.length === 0 ? [] : await this.#redis.mget(...keys);
      keys.forEach((key, i) => {
        const rest = key.slice(presence.length);
        const cut = rest.lastIndexOf(':');
        out.push({ room: rest.slice(0, cut), server: Number(rest.slice(cut + 1)), members: Number(values[i] ?? 0) });
      });
    } while (cursor !== '0');
    return out;
  }

  /** Stops refreshing and deletes this server's keys. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const keys = [...this.#rooms.keys()].map((room) => this.#presence + room + ':' + this.#server);
    this.#rooms.clear();
    await this.#redis.del(this.#serverKey, ...keys);
  }

  async #flush(): Promise<void> {
    const refresh = this.#ticks++ % REFRESH_EVERY === 0;
    const rooms = refresh ? [...this.#rooms.keys(), ...this.#dirty] : [...this.#dirty];
    this.#dirty.clear();
    if (this.#redis.status !== 'ready') {
      for (const room of rooms) this.#dirty.add(room);
      return;
    }
    const batch = this.#redis.multi();
    if (refresh) batch.set(this.#serverKey, String(process.pid), 'PX', PRESENCE_TTL_MS);
    for (const room of new Set(rooms)) {
      const count = this.count(room);
      const key = this.#presence + room + ':' + this.#server;
      if (count > 0) batch.set(key, String(count), 'PX', PRESENCE_TTL_MS);
      else batch.del(key);
    }
    try {
      await batch.exec();
    } catch (error) {
      for (const room of rooms) this.#dirty.add(room);
      this.#logger.debug({ err: redisErrorFields(error) }, 'presence not written; retrying');
    }
  }
}
