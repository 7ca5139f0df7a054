import { InvalidOptionError } from '../core/errors.js';

/** Where rooms meet in Redis: the server's URL and the namespace of this deployment in it. */
export interface RedisOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
  readonly url: string;
  /**
   * Prefix of every key and channel gamewire uses (`PREFIX` + `room:NAME`, `presence:…`, `server:…`).
   * Servers share rooms only when they share the Redis, the database and the prefix. Default
   * `gamewire:DB:` (DB: the URL's database number, 0 when none), so deployments on different
   * databases never meet (pub/sub channels ignore the database); give each deployment on one
   * database its own prefix. 1..100 characters, no whitespace, none of `*?[]\`.
   */
  readonly prefix?: string;
}

/** {@link RedisOptions} resolved. */
export interface RedisTarget {
  readonly url: string;
  readonly prefix: string;
  /** The database number of the URL (0 when none). */
  readonly db: number;
}

const MAX_PREFIX_LENGTH = 100;

/** The default prefix for database `db`. */
export function defaultRedisPrefix(db: number): string {
  return `gamewire:${db}:`;
}

/**
 * `url` with its password (and any user name) replaced by `***`, for logs and errors: a Redis URL
 * carries its credentials. Text that is not a URL is cut at its last `@` the same way.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username === '' && parsed.password === '') return url;
    parsed.username = parsed.username === '' ? '' : '***';
    parsed.password = parsed.password === '' ? '' : '***';
    return parsed.href;
  } catch {
    return url.replace(/\/\/[^/]*@/, '//***@');
  }
}

/** Replaces every credential-bearing `redis://`/`rediss://` URL inside `text` (an error message) with its redacted form. */
export function redactUrls(text: string): string {
  return text.replace(/rediss?:\/\/[^\s'"]+/g, (url) => redactUrl(url));
}

/**
 * Resolves `redis` (a URL, or the URL and a prefix) with the default prefix.
 * @throws InvalidOptionError (with the URL redacted) for a URL that is not `redis://`/`rediss://`, a
 * database that is not a number, or a bad prefix.
 */
export function resolveRedisTarget(redis: string | RedisOptions): RedisTarget {
  const { url, prefix } = typeof redis === 'string' ? { url: redis, prefix: undefined } : redis;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || !/^rediss?:$/.test(parsed.protocol)) {
    throw new InvalidOptionError('redis', redactUrl(String(url)), 'a redis://host:port or rediss://host:port URL');
  }
  const fromPath = parsed.pathname.length > 1 ? parsed.pathname.slice(1) : undefined;
  const dbText = fromPath ?? parsed.searchParams.get('db') ?? '0';
  const db = Number(dbText);
  if (!/^\d+$/.test(dbText) || !Number.isSafeInteger(db)) {
    throw new InvalidOptionError('redis', redactUrl(url), 'a URL whose database (the path, e.g. /1) is a number');
  }
  const resolved = prefix ?? defaultRedisPrefix(db);
  if (typeof resolved !== 'string' || resolved.length === 0 || resolved.length > MAX_PREFIX_LENGTH || /[\s*?[\]\\]/.test(resolved)) {
    throw new InvalidOptionError('redis.prefix', prefix, `1..${MAX_PREFIX_LENGTH} characters, no whitespace and none of *?[]\\`);
  }
  return { url, prefix: resolved, db };
}

/**
 * A Redis client's error as it may be logged or thrown: the same name, code and message (URLs in it
 * redacted), nothing else. ioredis attaches the failed command to its errors, and for `AUTH` its
 * arguments are the password, so the original error never goes to a logger.
 */
export function redisErrorFields(error: unknown): Error & { readonly code?: string } {
  const safe = new Error(redactUrls(error instanceof Error ? error.message : String(error)));
  if (error instanceof Error) safe.name = error.name;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') Object.assign(safe, { code });
  safe.stack = `${safe.name}: ${safe.message}`; // where the copy was made says nothing
  return safe;
}
