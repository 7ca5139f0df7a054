import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { logSafely, silentLogger, type Logger } from '../../core/logger.js';
import { TokenBucket } from '../../core/token-bucket.js';
import { WarningThrottle } from '../../core/warning-throttle.js';
import type { ServerResumeSettings } from '../../core/resume/resume-options.js';
import { TOKEN_BYTES, TOKEN_SECRET_BYTES, tokenRoute, tokenServer, type ResumeRefusal } from '../../core/resume/resume-wire.js';

/** Resume counts of a server, plain numbers as things happen (the metrics layer reads them). */
export interface ResumeCountersView {
  /** Resumable sessions now suspended (their connection lost, their client not back yet). */
  readonly suspended: number;
  /** Resumes that succeeded. */
  readonly resumed: number;
  /** Suspended sessions whose grace period ended (`RESUME_EXPIRED`). */
  readonly expired: number;
  /** Resumes handed to the process of this server that holds the session (docs/resume.md, "Workers and machines"). */
  readonly routed: number;
  /** Resumes refused, by reason (`UNKNOWN_SESSION`, `BAD_POSITION`, `RETRY_LATER`, `NOT_HERE`, `UNSUPPORTED`). */
  readonly refused: Readonly<Record<ResumeRefusal, number>>;
  /** Packets and bytes sent again to resumed clients. */
  readonly replayedPackets: number;
  readonly replayedBytes: number;
  /** Bytes held for clients, sent and not acknowledged, over every resumable session now. */
  readonly replayBufferBytes: number;
  /** Resumable sessions now (connected or suspended). */
  readonly resumableSessions: number;
}

/** What the registry holds of a resumable session. */
export interface RegisteredSession {
  readonly suspended: boolean;
  readonly replayBytes: number;
}

/**
 * The resumable sessions of one server, by the key in their token: issues tokens (a key, and 16
 * bytes of `crypto.randomBytes` compared in constant time), finds the session a RESUME names, admits
 * resumes at a bounded rate (`maxResumesPerSecond`), and counts. A token is
 * `[u16 route][u16 server][u32 key][16 random bytes]`: the route is this process's (0 alone; with
 * workers, the one the cluster primary gave it), the server is this server's number (random, or the
 * one every worker of the server shares), docs/resume.md "Workers and machines".
 */
export class ResumeRegistry<T extends RegisteredSession = RegisteredSession> {
  readonly settings: ServerResumeSettings;
  readonly route: number;
  /** This server's number in its tokens (1..65535). */
  readonly server: number;
  /** By key; a reserved key has no session yet (a session moving in from another process). */
  readonly #sessions = new Map<number, { session: T | undefined; secret: Uint8Array }>();
  #nextKey = 1;
  readonly #bucket: TokenBucket;
  readonly counters = {
    resumed: 0,
    routed: 0,
    expired: 0,
    refused: { UNKNOWN_SESSION: 0, BAD_POSITION: 0, RETRY_LATER: 0, NOT_HERE: 0, UNSUPPORTED: 0 } as Record<ResumeRefusal, number>,
    replayedPackets: 0,
    replayedBytes: 0,
  };

  readonly #logger: Logger;
  readonly #overflowWarning = new WarningThrottle();
  readonly #stormWarning = new WarningThrottle();

  /** `server`: this server's number; by default a random one (1..65535), so that tokens of two servers differ. */
  constructor(settings: ServerResumeSettings, route = 0, logger: Logger = silentLogger, server = randomInt(1, 0x1_0000)) {
    this.settings = settings;
    this.route = route;
    this.server = server;
    this.#logger = logger;
    this.#bucket = new TokenBucket(settings.maxResumesPerSecond, settings.maxResumesPerSecond, performance.now());
  }

  /** The counters, with the gauges computed now (one pass over the resumable sessions). */
  get view(): ResumeCountersView {
    let suspended = 0;
    let replayBufferBytes = 0;
    for (const { session } of this.#sessions.values()) {
      if (session === undefined) continue;
      if (session.suspended) suspended++;
      replayBufferBytes += session.replayBytes;
    }
    return { ...this.counters, refused: { ...this.counters.refused }, suspended, replayBufferBytes, resumableSessions: this.#sessions.size };
  }

  /** Registers `session` and returns its first token. */
  add(session: T): { key: number; token: Uint8Array } {
    const key = this.#nextKey;
    this.#nextKey = this.#nextKey >= 0xffff_ffff ? 1 : this.#nextKey + 1;
    const secret = randomBytes(TOKEN_SECRET_BYTES);
    this.#sessions.set(key, { session, secret });
    return { key, token: this.#token(key, secret) };
  }

  /**
   * Reserves a key and a token for a session that will move in from another process (`fill` then
   * gives it its session); until then a RESUME with the token is answered `RETRY_LATER`.
   */
  reserve(): { key: number; token: Uint8Array } {
    const key = this.#nextKey;
    this.#nextKey = this.#nextKey >= 0xffff_ffff ? 1 : this.#nextKey + 1;
    const secret = randomBytes(TOKEN_SECRET_BYTES);
    this.#sessions.set(key, { session: undefined, secret });
    return { key, token: this.#token(key, secret) };
  }

  /** Gives the reserved `key` its session; false when the key is not reserved (released, or taken). */
  fill(key: number, session: T): boolean {
    const entry = this.#sessions.get(key);
    if (entry === undefined || entry.session !== undefined) return false;
    entry.session = session;
    return true;
  }

  /** Releases `key` if it is still only reserved (its session never came). */
  release(key: number): void {
    if (this.#sessions.get(key)?.session === undefined) this.#sessions.delete(key);
  }

  /** A new token for `key` (the old one stops working: a token works once). */
  rotate(key: number): Uint8Array {
    const entry = this.#sessions.get(key);
    if (entry === undefined) throw new Error(`no resumable session ${key}`);
    entry.secret = randomBytes(TOKEN_SECRET_BYTES);
    return this.#token(key, entry.secret);
  }

  /** Forgets `key` (the session ended): its token is refused from now on. */
  remove(key: number): void {
    this.#sessions.delete(key);
  }

  /**
   * Where `token` belongs: `here` (this process), `process` (another process of this server: its route
   * is `tokenRoute(token)`), `server` (another server, or a token no server of this one issued).
   */
  whose(token: Uint8Array): 'here' | 'process' | 'server' {
    if (token.length !== TOKEN_BYTES || tokenServer(token) !== this.server) return 'server';
    return tokenRoute(token) === this.route ? 'here' : 'process';
  }

  /**
   * The session `token` names, or why there is none (`NOT_HERE`: another process or server issued it;
   * `RETRY_LATER`: the session is moving in and is not here yet).
   */
  find(token: Uint8Array): T | ResumeRefusal {
    if (token.length !== TOKEN_BYTES) return 'UNKNOWN_SESSION';
    const view = new DataView(token.buffer, token.byteOffset, TOKEN_BYTES);
    if (this.whose(token) !== 'here') return 'NOT_HERE';
    const entry = this.#sessions.get(view.getUint32(4, true));
    if (entry === undefined) return 'UNKNOWN_SESSION';
    if (!timingSafeEqual(entry.secret, token.subarray(TOKEN_BYTES - TOKEN_SECRET_BYTES))) return 'UNKNOWN_SESSION';
    return entry.session ?? 'RETRY_LATER';
  }

  /** 0 when a resume may go ahead now, else how long to wait, ms (`maxResumesPerSecond`); a storm is warned about. */
  admit(nowMs: number): number {
    if (this.#bucket.take(1, nowMs)) return 0;
    const count = this.#stormWarning.count(nowMs);
    if (count > 0) {
      logSafely(
        this.#logger,
        'warn',
        { deferredSinceLastWarning: count, maxResumesPerSecond: this.settings.maxResumesPerSecond },
        `resumes over resume.maxResumesPerSecond (${this.settings.maxResumesPerSecond}): ${count} told to retry later since the last warning; ` +
          'the sessions stay suspended and their clients come back in turn; raise the option if the server has CPU to spare',
      );
    }
    return Math.max(1, Math.ceil(this.#bucket.msUntil(1)));
  }

  /** A resumable session ended with REPLAY_OVERFLOW: warned about (at once, then at most every 10 s). */
  overflowed(bytes: number): void {
    const count = this.#overflowWarning.count(performance.now());
    if (count === 0) return;
    logSafely(
      this.#logger,
      'warn',
      { endedSinceLastWarning: count, bytes, maxReplayBytes: this.settings.maxReplayBytes },
      `${count} resumable session(s) ended with REPLAY_OVERFLOW since the last warning: more than resume.maxReplayBytes ` +
        `(${this.settings.maxReplayBytes}) sent and not acknowledged; clients that do not send ACK, or sessions sent much while ` +
        'suspended; raise resume.maxReplayBytes, or send less to suspended sessions (onConnectionLost)',
    );
  }

  #token(key: number, secret: Uint8Array): Uint8Array {
    const token = new Uint8Array(TOKEN_BYTES);
    const view = new DataView(token.buffer);
    view.setUint16(0, this.route, true);
    view.setUint16(2, this.server, true);
    view.setUint32(4, key, true);
    token.set(secret, TOKEN_BYTES - TOKEN_SECRET_BYTES);
    return token;
  }
}
