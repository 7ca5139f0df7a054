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
export interface WorkerSnapshot extends TrafficCounts {
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
  | { readonly type: 'fatal'; readonly message: string };

const PARENT_TYPES: ReadonlySet<string> = new Set(['init', 'start', 'stop']);
const WORKER_TYPES: ReadonlySet<string> = new Set(['ready', 'tick', 'final', 'fatal']);

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
