import { DEFAULTS } from '../defaults.js';
import { InvalidOptionError } from '../errors.js';
import { checkInteger } from '../options.js';

/**
 * The `resume` option of a ServerService: sessions whose client asks for it survive a dropped
 * connection for `graceMs` (docs/resume.md). Every field is optional.
 */
export interface ServerResumeOptions {
  /** How long a suspended session waits for its client before it ends with `RESUME_EXPIRED`, ms. 1000..600000. Default 30000. */
  readonly graceMs?: number;
  /** Bytes sent to a client and not yet acknowledged; past it the session ends with `REPLAY_OVERFLOW`. 4096..67108864. Default 1048576. */
  readonly maxReplayBytes?: number;
  /**
   * With resume on, a session is made when the client's first packet arrives (a HELLO makes it
   * resumable); a connection that sends nothing gets a plain session after this long, ms. 1..60000.
   * Default 5000.
   */
  readonly helloTimeoutMs?: number;
  /** Resumes admitted per second (1 s burst); more are refused `RETRY_LATER` with a delay. 1..1000000. Default 1000. */
  readonly maxResumesPerSecond?: number;
}

/** The `resume` option of a ClientService (and the GameClient): reconnect by itself and resume. */
export interface ClientResumeOptions {
  /** The first wait before reconnecting, ms; it doubles at each attempt, with jitter. 1..60000. Default 250. */
  readonly reconnectDelayMs?: number;
  /** The longest wait before reconnecting, ms. 1..600000. Default 5000. */
  readonly maxReconnectDelayMs?: number;
  /** Bytes sent and not yet acknowledged by the server; past it the session ends with `REPLAY_OVERFLOW`. 4096..67108864. Default 1048576. */
  readonly maxReplayBytes?: number;
}

/** Internal: a server's resume settings, checked, one frozen object per service. */
export interface ServerResumeSettings {
  readonly graceMs: number;
  readonly maxReplayBytes: number;
  readonly helloTimeoutMs: number;
  readonly maxResumesPerSecond: number;
}

/** Internal: a client's resume settings, checked. */
export interface ClientResumeSettings {
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
  readonly maxReplayBytes: number;
}

const MAX_REPLAY_BYTES = 64 * 1024 * 1024;

/**
 * Internal: the range, `[least, most]`, of each field of a server's `resume` option: the option
 * check and the CLI flags that set them (`--resume-grace-ms` and the others) say the same.
 */
export const SERVER_RESUME_RANGES = Object.freeze({
  graceMs: [1_000, 600_000],
  maxReplayBytes: [4096, MAX_REPLAY_BYTES],
  helloTimeoutMs: [1, 60_000],
  maxResumesPerSecond: [1, 1_000_000],
} as const);

function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError(name, value, 'an object (or undefined for off)');
  return value as Record<string, unknown>;
}

/**
 * Checks a server's `resume` option; undefined when resume is off.
 * @throws InvalidOptionError naming the field out of range.
 */
export function resolveServerResume(option: ServerResumeOptions | undefined): ServerResumeSettings | undefined {
  if (option === undefined) return undefined;
  const o = checkObject('resume', option);
  const r = SERVER_RESUME_RANGES;
  return Object.freeze({
    graceMs: checkInteger('resume.graceMs', o['graceMs'] ?? DEFAULTS.resumeGraceMs, ...r.graceMs),
    maxReplayBytes: checkInteger('resume.maxReplayBytes', o['maxReplayBytes'] ?? DEFAULTS.resumeMaxReplayBytes, ...r.maxReplayBytes),
    helloTimeoutMs: checkInteger('resume.helloTimeoutMs', o['helloTimeoutMs'] ?? DEFAULTS.resumeHelloTimeoutMs, ...r.helloTimeoutMs),
    maxResumesPerSecond: checkInteger('resume.maxResumesPerSecond', o['maxResumesPerSecond'] ?? DEFAULTS.resumeMaxPerSecond, ...r.maxResumesPerSecond),
  });
}

/**
 * Checks a client's `resume` option; undefined when resume is off.
 * @throws InvalidOptionError naming the field out of range.
 */
export function resolveClientResume(option: ClientResumeOptions | undefined): ClientResumeSettings | undefined {
  if (option === undefined) return undefined;
  const o = checkObject('resume', option);
  const reconnectDelayMs = checkInteger('resume.reconnectDelayMs', o['reconnectDelayMs'] ?? DEFAULTS.resumeReconnectDelayMs, 1, 60_000);
  return Object.freeze({
    reconnectDelayMs,
    maxReconnectDelayMs: checkInteger(
      'resume.maxReconnectDelayMs',
      o['maxReconnectDelayMs'] ?? Math.max(DEFAULTS.resumeMaxReconnectDelayMs, reconnectDelayMs),
      reconnectDelayMs,
      600_000,
    ),
    maxReplayBytes: checkInteger('resume.maxReplayBytes', o['maxReplayBytes'] ?? DEFAULTS.resumeMaxReplayBytes, 4096, MAX_REPLAY_BYTES),
  });
}

/**
 * The wait before reconnect attempt `attempt` (from 0): exponential, capped, with jitter between half
 * and all of it, so that clients cut at the same moment do not come back at the same moment.
 * `random` is a number in [0, 1).
 */
export function reconnectDelay(settings: ClientResumeSettings, attempt: number, random: number): number {
  const ceiling = Math.min(settings.maxReconnectDelayMs, settings.reconnectDelayMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling / 2 + (ceiling / 2) * random));
}
