import { availableParallelism } from 'node:os';
import { DEFAULTS } from '../../core/defaults.js';
import { InvalidOptionError } from '../../core/errors.js';
import { checkInteger, checkNumber } from '../../core/options.js';
import { MAX_TIMER_MS } from '../../core/timer-range.js';
import { MAX_PACKET_SIZE, PACKET_HEADER_SIZE } from '../../packet/packet-header.js';
import type { BotDefinition, BotOptions } from '../bots/bot.js';
import type { ChaosMethod, WorkerConfig } from './ipc-messages.js';

/** Default number of sessions of a load test. */
export const DEFAULT_LOADTEST_SESSIONS = 10;
/** Default run length, ms (ramp-up included). */
export const DEFAULT_LOADTEST_DURATION_MS = 10_000;
/** Default pause between a bot's requests when neither the command line nor the bot sets one, ms. */
export const DEFAULT_BOT_INTERVAL_MS = 1_000;
/** Default message of the bots. */
export const DEFAULT_BOT_MESSAGE = 'Hello World';
/** Default first reconnect delay, ms. */
export const DEFAULT_RECONNECT_DELAY_MS = 250;
/** Default time the end of a run waits for answers in flight, ms. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5_000;

/** What a load test is asked to do; everything but `port` has a default. */
export interface LoadTestOptions {
  /** `echo`, `chat`, or the path (or `file:` URL) of a bot module; relative paths against the cwd. Default `echo`. */
  readonly bot?: string;
  /** Target host. Default 127.0.0.1. */
  readonly host?: string;
  /** Target port (the server's WebSocket port with `transport: 'ws'`). */
  readonly port: number;
  /** How the bots connect: `tcp`, or `ws` (WebSocket at `/ws`, the same packets). Default `tcp`. */
  readonly transport?: 'tcp' | 'ws';
  /** Sessions kept open over all workers. Default 10. */
  readonly sessions?: number;
  /** New sessions per second over all workers; 0 opens them all at once. Default 0. */
  readonly rampPerSecond?: number;
  /** Connection attempts in progress at once, per worker. Default 256. */
  readonly connectConcurrency?: number;
  /** Length of the run from the first connect, ms, ramp-up included; 0 runs until stopped. Default 10000. */
  readonly durationMs?: number;
  /** Worker processes; at most one per session. Default `os.availableParallelism()`. */
  readonly workers?: number;
  /** Pause between a bot's requests, ms. Default: the bot's own, else 1000. */
  readonly intervalMs?: number;
  /** Message of the bots. Default: the bot's own, else "Hello World". */
  readonly message?: string;
  /** Request body size, bytes (4..65535 minus the header). Default: the bot's own choice. */
  readonly size?: number;
  /** Free-form options for user bots (`--bot-option KEY=VALUE`). */
  readonly botExtra?: Readonly<Record<string, string>>;
  /** Reopen sessions that drop or fail to connect, after a backoff. Default true. */
  readonly reconnect?: boolean;
  /** First reconnect delay, ms; doubles on each failure in a row, up to 16×. Default 250. */
  readonly reconnectDelayMs?: number;
  /** Timeout of one connection attempt, ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** How long the end of the run waits for answers in flight, ms. Default 5000. */
  readonly drainTimeoutMs?: number;
  /**
   * Sessions ask the server for resume (docs/resume.md): a session whose connection drops is
   * suspended, reconnects by itself (first delay `reconnectDelayMs`, with backoff and jitter) and
   * resumes, missing nothing. Needs a server with resume on. Default false.
   */
  readonly resume?: boolean;
  /**
   * Chaos: cut this share of the live connections every second, percent (0..100, fractions allowed).
   * Default 0 (off). See docs/load-testing.md.
   */
  readonly chaosCutPercent?: number;
  /** Chaos: `rst`, `silent` or `mixed` (the two in turn). Default `mixed`. */
  readonly chaosMethod?: ChaosMethod;
}

/** A {@link LoadTestOptions} with every default applied and checked; what the report shows. */
export interface LoadTestConfig {
  /** The `--bot` value as given. */
  readonly bot: string;
  /** The bot's own name. */
  readonly botName: string;
  /** Target host. */
  readonly host: string;
  /** Target port. */
  readonly port: number;
  /** `tcp` or `ws`. */
  readonly transport: 'tcp' | 'ws';
  /** Sessions kept open over all workers. */
  readonly sessions: number;
  /** New sessions per second over all workers; 0 = all at once. */
  readonly rampPerSecond: number;
  /** Connection attempts in progress at once, per worker. */
  readonly connectConcurrency: number;
  /** Length of the run, ms; 0 = until stopped. */
  readonly durationMs: number;
  /** Worker processes. */
  readonly workers: number;
  /** What every bot is given. */
  readonly botOptions: BotOptions;
  /** Reopen sessions that drop or fail to connect. */
  readonly reconnect: boolean;
  /** First reconnect delay, ms. */
  readonly reconnectDelayMs: number;
  /** Timeout of one connection attempt, ms. */
  readonly connectTimeoutMs: number;
  /** How long the end of the run waits for answers in flight, ms. */
  readonly drainTimeoutMs: number;
  /** Sessions ask for resume. */
  readonly resume: boolean;
  /** Chaos: percent of the live connections cut every second; 0 = off. */
  readonly chaosCutPercent: number;
  /** Chaos: how connections are cut. */
  readonly chaosMethod: ChaosMethod;
}

/**
 * Applies the defaults (the bot's own ones for interval, message and size) and checks the ranges.
 * @throws InvalidOptionError naming the option out of range.
 */
export function resolveLoadTestConfig(options: LoadTestOptions, bot: BotDefinition): LoadTestConfig {
  const sessions = whole('sessions', options.sessions ?? DEFAULT_LOADTEST_SESSIONS, 1);
  const size = options.size ?? bot.defaults?.size;
  return {
    bot: options.bot ?? 'echo',
    botName: bot.name,
    host: options.host ?? DEFAULTS.host,
    port: whole('port', options.port, 1, 65535),
    transport: transportOf(options.transport),
    sessions,
    rampPerSecond: positive('rampPerSecond', options.rampPerSecond ?? 0),
    connectConcurrency: whole('connectConcurrency', options.connectConcurrency ?? DEFAULTS.connectConcurrency, 1),
    durationMs: whole('durationMs', options.durationMs ?? DEFAULT_LOADTEST_DURATION_MS, 0, MAX_TIMER_MS),
    workers: Math.min(sessions, whole('workers', options.workers ?? availableParallelism(), 1)),
    botOptions: {
      intervalMs: whole('intervalMs', options.intervalMs ?? bot.defaults?.intervalMs ?? DEFAULT_BOT_INTERVAL_MS, 0, MAX_TIMER_MS),
      message: options.message ?? bot.defaults?.message ?? DEFAULT_BOT_MESSAGE,
      size: size === undefined ? undefined : whole('size', size, 0, MAX_PACKET_SIZE - PACKET_HEADER_SIZE),
      extra: { ...(options.botExtra ?? {}) },
    },
    reconnect: options.reconnect ?? true,
    // Timers: within Node's range (a reconnect delay doubles up to 16 times its value).
    reconnectDelayMs: whole('reconnectDelayMs', options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS, 1, Math.floor(MAX_TIMER_MS / 16)),
    connectTimeoutMs: whole('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs, 1, MAX_TIMER_MS),
    drainTimeoutMs: whole('drainTimeoutMs', options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, 0, MAX_TIMER_MS),
    resume: options.resume ?? false,
    chaosCutPercent: percent('chaosCutPercent', options.chaosCutPercent ?? 0),
    chaosMethod: chaosMethodOf(options.chaosMethod),
  };
}

/**
 * Splits the run over the workers: sessions as evenly as possible (the first ones get one more), and
 * the ramp in proportion, so every worker finishes its ramp at the same time. `botSpec` is the
 * resolved bot spec every worker loads.
 */
export function planWorkers(config: LoadTestConfig, botSpec: string): WorkerConfig[] {
  const base = Math.floor(config.sessions / config.workers);
  const extra = config.sessions % config.workers;
  return Array.from({ length: config.workers }, (_, workerIndex): WorkerConfig => {
    const sessions = base + (workerIndex < extra ? 1 : 0);
    return {
      workerIndex,
      bot: botSpec,
      botOptions: config.botOptions,
      host: config.host,
      port: config.port,
      transport: config.transport,
      sessions,
      rampPerSecond: (config.rampPerSecond * sessions) / config.sessions,
      connectConcurrency: config.connectConcurrency,
      connectTimeoutMs: config.connectTimeoutMs,
      reconnect: config.reconnect,
      reconnectDelayMs: config.reconnectDelayMs,
      drainTimeoutMs: config.drainTimeoutMs,
      resume: config.resume,
      chaosCutPercent: config.chaosCutPercent,
      chaosMethod: config.chaosMethod,
    };
  });
}

function chaosMethodOf(value: unknown): ChaosMethod {
  if (value === undefined || value === 'rst' || value === 'silent' || value === 'mixed') return value ?? 'mixed';
  throw new InvalidOptionError('chaosMethod', value, "'rst', 'silent' or 'mixed'");
}

function transportOf(value: unknown): 'tcp' | 'ws' {
  if (value === undefined || value === 'tcp' || value === 'ws') return value ?? 'tcp';
  throw new InvalidOptionError('transport', value, "'tcp' or 'ws'");
}

function whole(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  return checkInteger(name, value, min, max);
}

function percent(name: string, value: number): number {
  const checked = checkNumber(name, value, 0);
  if (checked > 100) throw new InvalidOptionError(name, value, 'a percentage, 0..100');
  return checked;
}

function positive(name: string, value: number): number {
  return checkNumber(name, value, 0);
}
