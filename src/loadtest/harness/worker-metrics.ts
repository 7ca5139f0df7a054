import { performance } from 'node:perf_hooks';
import { RESILIENCE_KEYS, zeroResilienceCounts, type ResilienceCounts, type WorkerSnapshot } from './ipc-messages.js';
import { encodeLatency, newLatencyHistogram, recordLatency, type LatencyHistogram } from './latency-histogram.js';

/** Gauges read when a snapshot is taken. */
export interface WorkerGauges {
  readonly sessions: number;
  readonly connecting: number;
  readonly inFlight: number;
}

/**
 * The metrics of one worker process for the current interval: plain counters and an HDR histogram,
 * turned into a {@link WorkerSnapshot} (and reset) once per second.
 */
export class WorkerMetrics {
  /** Packets sent this interval (requests included). */
  packetsSent = 0;
  /** Packets received this interval. */
  packetsReceived = 0;
  /** Bytes sent this interval, headers included. */
  bytesSent = 0;
  /** Bytes received this interval, headers included. */
  bytesReceived = 0;
  /** Requests sent this interval. */
  requests = 0;
  /** Round trips recorded this interval. */
  roundTrips = 0;
  /** Requests abandoned this interval (their session ended before the answer). */
  unanswered = 0;
  /** Sessions connected this interval. */
  connects = 0;
  /** Reconnects scheduled this interval. */
  reconnects = 0;
  /** Cuts, resumes and message order this interval (see ResilienceCounts). */
  readonly resilience: { -readonly [K in keyof ResilienceCounts]: number } = zeroResilienceCounts();
  #connectFailures: Record<string, number> = {};
  #disconnects: Record<string, number> = {};
  #unexpected: Record<string, number> = {};
  #counters: Record<string, number> = {};
  readonly #histogram: LatencyHistogram = newLatencyHistogram();
  readonly #startedAt: number;
  #intervalStart: number;
  #seq = 0;

  /** Starts the clock: snapshot times are ms since now. */
  constructor() {
    this.#startedAt = performance.now();
    this.#intervalStart = this.#startedAt;
  }

  /** Records one round trip of `micros` µs. */
  recordRoundTrip(micros: number): void {
    this.roundTrips++;
    recordLatency(this.#histogram, micros);
  }

  /** Counts a failed connection attempt by its error code. */
  connectFailed(code: string): void {
    this.#connectFailures[code] = (this.#connectFailures[code] ?? 0) + 1;
  }

  /** Counts a session that ended, by cause code; `unexpected` when the harness did not close it. */
  disconnected(code: string, unexpected: boolean): void {
    this.#disconnects[code] = (this.#disconnects[code] ?? 0) + 1;
    if (unexpected) this.#unexpected[code] = (this.#unexpected[code] ?? 0) + 1;
  }

  /** Adds `n` to the custom counter `name`. */
  count(name: string, n: number): void {
    this.#counters[name] = (this.#counters[name] ?? 0) + n;
  }

  /** The interval since the last snapshot, with `gauges`; resets the counters and the histogram. */
  snapshot(gauges: WorkerGauges): WorkerSnapshot {
    const now = performance.now();
    const snapshot: WorkerSnapshot = {
      seq: ++this.#seq,
      endMs: Math.round(now - this.#startedAt),
      durationMs: Math.round(now - this.#intervalStart),
      ...this.resilience,
      connects: this.connects,
      connectFailures: this.#connectFailures,
      reconnects: this.reconnects,
      disconnects: this.#disconnects,
      unexpectedDisconnects: this.#unexpected,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      requests: this.requests,
      roundTrips: this.roundTrips,
      unanswered: this.unanswered,
      counters: this.#counters,
      latency: encodeLatency(this.#histogram),
      sessions: gauges.sessions,
      connecting: gauges.connecting,
      inFlight: gauges.inFlight,
    };
    this.#intervalStart = now;
    this.packetsSent = this.packetsReceived = this.bytesSent = this.bytesReceived = 0;
    this.requests = this.roundTrips = this.unanswered = this.connects = this.reconnects = 0;
    for (const key of RESILIENCE_KEYS) this.resilience[key] = 0;
    this.#connectFailures = {};
    this.#disconnects = {};
    this.#unexpected = {};
    this.#counters = {};
    this.#histogram.reset();
    return snapshot;
  }

  /** Frees the histogram. */
  destroy(): void {
    this.#histogram.destroy();
  }
}
