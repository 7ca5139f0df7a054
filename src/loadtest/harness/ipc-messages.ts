/**
 * The messages between the load test parent and its worker processes (Node's IPC channel, JSON).
 *
 * ```text
 * parent                          worker
 *   fork ───────────────────────▶
 *   init {config} ──────────────▶  loads the bot
 *                 ◀──────────────  ready            (or fatal {message})
 *   start ──────────────────────▶  opens sessions (ramp), runs the bots
 *                 ◀──────────────  tick {snapshot}  once per second, seq 1, 2, ...
 *   stop ───────────────────────▶  stopping: no new requests, no reconnects; waits for answers in
 *                                  flight (at most drainTimeoutMs), then closes its ClientService
 *                 ◀──────────────  final {snapshot, drained, drainMs}; then the worker exits
 * ```
 * With chaos on, a worker also sends `hold` with a socket handle (a silent drop): the parent keeps the
 * connection open, unread and unwritten, so the server sees neither FIN nor RST (harness/chaos.ts).
 * A worker whose IPC channel closes (the parent died) stops at once and exits.
 */
import type { BotOptions } from '../bots/bot.js';
import type { EncodedLatency } from './latency-histogram.js';

/** What one worker runs: its share of the sessions and the rest of the run's settings. */
export interface WorkerConfig {
  /** Index of this worker, from 0. */
  readonly workerIndex: number;
  /** Resolved bot spec: a built-in name or a module `file:` URL. */
  readonly bot: string;
  /** Bot options, with the bot's defaults applied. */
  readonly botOptions: BotOptions;
  /** Target host. */
  readonly host: string;
  /** Target port. */
  readonly port: number;
  /** `tcp`, or `ws` for WebSocket sessions. */
  readonly transport: 'tcp' | 'ws';
  /** Sessions this worker keeps open. */
  readonly sessions: number;
  /** New sessions per second for this worker; 0 opens them all at once (within `connectConcurrency`). */
  readonly rampPerSecond: number;
  /** Connection attempts in progress at once in this worker. */
  readonly connectConcurrency: number;
  /** Timeout of one connection attempt, ms. */
  readonly connectTimeoutMs: number;
  /** Reopen sessions that drop or fail to connect. */
  readonly reconnect: boolean;
  /** First reconnect delay, ms; doubles on each failure in a row, up to 16 times this. */
  readonly reconnectDelayMs: number;
  /** How long the end of the run waits for answers in flight, ms. */
  readonly drainTimeoutMs: number;
  /** Sessions ask the server for resume (`ClientService` option `resume`): a dropped connection is resumed. */
  readonly resume: boolean;
  /** Chaos: the share of this worker's live connections cut every second, percent; 0 = off. */
  readonly chaosCutPercent: number;
  /** Chaos: how connections are cut: RST, silent drop, or both in turn. */
  readonly chaosMethod: ChaosMethod;
}

/**
 * How chaos cuts a connection: `rst` resets it (`socket.resetAndDestroy()`: the server reads
 * ECONNRESET), `silent` drops it without a word (the bot's side closes, the server sees nothing: no
 * FIN, no RST, no more bytes), `mixed` alternates the two.
 */
export type ChaosMethod = 'rst' | 'silent' | 'mixed';

/**
 * What happened to connections and to the order of messages: chaos cuts, resumes, and what the bots
 * found missing, twice or out of order. The same fields in a worker's snapshot, a point and the totals.
 */
export interface ResilienceCounts {
  /** Connections chaos cut with an RST. */
  readonly cutsRst: number;
  /** Connections chaos dropped silently. */
  readonly cutsSilent: number;
  /**
   * Connections that dropped before the harness closed them: a resumable session suspended
   * (`onConnectionLost`), or a plain session that ended.
   */
  readonly connectionsLost: number;
  /** Reconnect attempts of suspended sessions (`onReconnecting`). */
  readonly reconnectAttempts: number;
  /** Suspended sessions that came back (`onResumed`). */
  readonly resumes: number;
  /** Suspended sessions that could not come back in the grace period (`RESUME_EXPIRED`). */
  readonly resumesExpired: number;
  /** Suspended sessions whose resume the server refused (`RESUME_REFUSED`). */
  readonly resumesRefused: number;
  /** Messages the bots found missing: a gap in a sequence that never filled (`recordLost`). */
  readonly messagesLost: number;
  /** Messages the bots received twice (`recordDuplicate`). */
  readonly messagesDuplicated: number;
  /** Messages the bots received after a later one (`recordOutOfOrder`). */
  readonly messagesOutOfOrder: number;
}

/** The keys of {@link ResilienceCounts}, in report order. */
export const RESILIENCE_KEYS = [
  'cutsRst',
  'cutsSilent',
  'connectionsLost',
  'reconnectAttempts',
  'resumes',
  'resumesExpired',
  'resumesRefused',
  'messagesLost',
  'messagesDuplicated',
  'messagesOutOfOrder',
] as const satisfies ReadonlyArray<keyof ResilienceCounts>;

/** A new all-zero {@link ResilienceCounts}, writable. */
export function zeroResilienceCounts(): { -readonly [K in keyof ResilienceCounts]: number } {
  const counts = {} as { -readonly [K in keyof ResilienceCounts]: number };
  for (const key of RESILIENCE_KEYS) counts[key] = 0;
  return counts;
}

/** Traffic the bots counted over an interval: the same fields in a worker's snapshot and a run's point. */
export interface TrafficCounts {
  /** Packets sent (requests included). */
  readonly packetsSent: number;
  /** Packets received. */
  readonly packetsReceived: number;
  /** Bytes sent, headers included. */
  readonly bytesSent: number;
  /** Bytes received, headers included. */
  readonly bytesReceived: number;
  /** Requests sent (`recordRequest`); also counted in packetsSent. */
  readonly requests: number;
  /** Round trips recorded (`recordRoundTrip`). */
  readonly roundTrips: number;
  /** Requests whose answer never came: their session ended first. */
  readonly unanswered: number;
  /** Custom counters (`count(name)`). */
  readonly counters: Readonly<Record<string, number>>;
}

/**
 * What happened in one worker during one interval (counts are deltas; gauges are values at its end).
 * The parent adds the snapshots of all workers up.
 */
export interface WorkerSnapshot extends TrafficCounts, ResilienceCounts {
  /** 1, 2, ... for the ticks; the final snapshot has the next number. */
  readonly seq: number;
  /** End of the interval, ms since the worker started its sessions. */
  readonly endMs: number;
  /** Length of the interval, ms. */
  readonly durationMs: number;
  /** Sessions that connected (first connects and reconnects). */
  readonly connects: number;
  /** Connection attempts that failed, by error code (e.g. `ECONNREFUSED`, `GW_ERR_CONNECT_TIMEOUT`). */
  readonly connectFailures: Readonly<Record<string, number>>;
  /** Reconnect attempts scheduled after a drop or a failed connect. */
  readonly reconnects: number;
  /** Sessions that ended, by disconnect cause code (expected and unexpected). */
  readonly disconnects: Readonly<Record<string, number>>;
  /** Sessions that ended before the harness closed them, by cause code. */
  readonly unexpectedDisconnects: Readonly<Record<string, number>>;
  /** The interval's round-trip latencies: HdrHistogram compressed base64, exact min and max. */
  readonly latency: EncodedLatency;
  /** Gauge: sessions open. */
  readonly sessions: number;
  /** Gauge: connection attempts in progress. */
  readonly connecting: number;
  /** Gauge: requests in flight. */
  readonly inFlight: number;
}

/** Parent → worker. */
export type ParentMessage =
  | { readonly type: 'init'; readonly config: WorkerConfig }
  | { readonly type: 'start' }
  | { readonly type: 'stop' };

/** Worker → parent. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'tick'; readonly snapshot: WorkerSnapshot }
  | {
      readonly type: 'final';
      readonly snapshot: WorkerSnapshot;
      /** True when every request in flight was answered before the drain timeout. */
      readonly drained: boolean;
      /** How long the drain took, ms. */
      readonly drainMs: number;
    }
  | { readonly type: 'fatal'; readonly message: string }
  /** Sent with a socket handle: hold this connection open, silent, until the run ends (chaos). */
  | { readonly type: 'hold' };

const PARENT_TYPES: ReadonlySet<string> = new Set(['init', 'start', 'stop']);
const WORKER_TYPES: ReadonlySet<string> = new Set(['ready', 'tick', 'final', 'fatal', 'hold']);

/** True when `value` has the shape of a {@link ParentMessage} (by its `type`). */
export function isParentMessage(value: unknown): value is ParentMessage {
  return hasType(value, PARENT_TYPES);
}

/** True when `value` has the shape of a {@link WorkerMessage} (by its `type`). */
export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return hasType(value, WORKER_TYPES);
}

function hasType(value: unknown, types: ReadonlySet<string>): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const type: unknown = (value as { type?: unknown }).type;
  return typeof type === 'string' && types.has(type);
}
