import { RESILIENCE_KEYS, zeroResilienceCounts, type ResilienceCounts, type TrafficCounts, type WorkerSnapshot } from './ipc-messages.js';
import { LatencyAccumulator, type LatencySummary } from './latency-histogram.js';

/** One second of the run (one tick of every worker), all workers added up. Counts are per interval. */
export interface LoadTestPoint extends TrafficCounts, ResilienceCounts {
  /** Interval number, from 1. */
  readonly seq: number;
  /** End of the interval, seconds since the run started. */
  readonly t: number;
  /** Length of the interval, ms (about 1000; the last one may be shorter). */
  readonly durationMs: number;
  /** Gauge: sessions open at the end of the interval. */
  readonly sessions: number;
  /** Gauge: connection attempts in progress. */
  readonly connecting: number;
  /** Gauge: requests in flight. */
  readonly inFlight: number;
  /** Sessions that connected. */
  readonly connects: number;
  /** Connection attempts that failed. */
  readonly connectFailures: number;
  /** Reconnects scheduled. */
  readonly reconnects: number;
  /** Sessions that ended, whatever the cause. */
  readonly disconnects: number;
  /** Sessions that ended before the harness closed them. */
  readonly unexpectedDisconnects: number;
  /** Round-trip latency of the interval, µs. */
  readonly latency: LatencySummary;
}

/** Everything counted over the whole run, all workers added up. */
export interface LoadTestTotals extends Mutable<ResilienceCounts> {
  /** Sessions that connected (first connects and reconnects). */
  connects: number;
  /** Connection attempts that failed. */
  connectFailures: number;
  /** Failed attempts by error code. */
  connectFailuresByCode: Record<string, number>;
  /** Reconnect attempts scheduled. */
  reconnects: number;
  /** Sessions that ended, whatever the cause. */
  disconnects: number;
  /** Sessions that ended, by cause code. */
  disconnectsByCause: Record<string, number>;
  /** Sessions that ended before the harness closed them. */
  unexpectedDisconnects: number;
  /** The same, by cause code. */
  unexpectedDisconnectsByCause: Record<string, number>;
  /** Packets sent (requests included). */
  packetsSent: number;
  /** Packets received. */
  packetsReceived: number;
  /** Bytes sent, headers included. */
  bytesSent: number;
  /** Bytes received, headers included. */
  bytesReceived: number;
  /** Requests sent (`recordRequest`). */
  requests: number;
  /** Round trips recorded (`recordRoundTrip`). */
  roundTrips: number;
  /** Requests whose answer never came. */
  unanswered: number;
  /** Custom counters of the bots. */
  counters: Record<string, number>;
  /** Most sessions open at once (sum of the workers' gauges in one interval). */
  peakSessions: number;
  /** Worker processes that failed (crashed, or exited without their final report). */
  workerFailures: number;
}

interface PendingPoint {
  readonly seq: number;
  endMs: number;
  durationMs: number;
  readonly sums: Record<NumericKey, number>;
  readonly counters: Record<string, number>;
  readonly latency: LatencyAccumulator;
}

const SUMMED_KEYS = [
  'sessions',
  'connecting',
  'inFlight',
  'connects',
  'reconnects',
  'packetsSent',
  'packetsReceived',
  'bytesSent',
  'bytesReceived',
  'requests',
  'roundTrips',
  'unanswered',
  ...RESILIENCE_KEYS,
] as const;
type NumericKey = (typeof SUMMED_KEYS)[number] | 'connectFailures' | 'disconnects' | 'unexpectedDisconnects';

/** A new, all-zero {@link LoadTestTotals}. */
export function emptyTotals(): LoadTestTotals {
  return {
    connects: 0,
    connectFailures: 0,
    connectFailuresByCode: {},
    reconnects: 0,
    disconnects: 0,
    disconnectsByCause: {},
    unexpectedDisconnects: 0,
    unexpectedDisconnectsByCause: {},
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    requests: 0,
    roundTrips: 0,
    unanswered: 0,
    counters: {},
    peakSessions: 0,
    workerFailures: 0,
    ...zeroResilienceCounts(),
  };
}

/** The same fields, writable. */
type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The errors of a run: failed connects + unexpected disconnects + unanswered requests + failed
 * workers + messages the bots found lost, duplicated or out of order. A run passes when this is 0.
 * Cuts and resumes are not errors: a resumed connection lost nothing.
 */
export function errorCount(totals: LoadTestTotals): number {
  return (
    totals.connectFailures +
    totals.unexpectedDisconnects +
    totals.unanswered +
    totals.workerFailures +
    totals.messagesLost +
    totals.messagesDuplicated +
    totals.messagesOutOfOrder
  );
}

/**
 * Adds up the snapshots of the workers: into the run's totals and latency histogram at once, and into
 * one {@link LoadTestPoint} per interval number, released (in order) once every worker has reported
 * that interval or finished.
 */
export class RunAggregator {
  readonly totals: LoadTestTotals = emptyTotals();
  readonly #latency = new LatencyAccumulator();
  readonly #lastSeq: number[];
  readonly #finished: boolean[];
  readonly #pending = new Map<number, PendingPoint>();
  readonly #series: LoadTestPoint[] = [];
  #nextSeq = 1;
  /** End of the last released point, ms: workers start a little apart, so a later interval of one may end before an earlier one of another. */
  #lastEndMs = 0;

  constructor(workerCount: number) {
    this.#lastSeq = new Array<number>(workerCount).fill(0);
    this.#finished = new Array<boolean>(workerCount).fill(false);
  }

  /** The points released so far, in order. */
  get series(): readonly LoadTestPoint[] {
    return this.#series;
  }

  /** The latencies of the whole run (read them, do not keep them past {@link destroy}). */
  get latency(): LatencyAccumulator {
    return this.#latency;
  }

  /** Adds a snapshot of worker `worker`; returns the points this completes, in order. */
  add(worker: number, snapshot: WorkerSnapshot): LoadTestPoint[] {
    const totals = this.totals;
    for (const key of SUMMED_KEYS) {
      if (key !== 'sessions' && key !== 'connecting' && key !== 'inFlight') totals[key] += snapshot[key];
    }
    totals.connectFailures += addInto(totals.connectFailuresByCode, snapshot.connectFailures);
    totals.disconnects += addInto(totals.disconnectsByCause, snapshot.disconnects);
    totals.unexpectedDisconnects += addInto(totals.unexpectedDisconnectsByCause, snapshot.unexpectedDisconnects);
    addInto(totals.counters, snapshot.counters);
    this.#latency.add(snapshot.latency);

    if (snapshot.seq >= this.#nextSeq) {
      const point = this.#pendingPoint(snapshot.seq);
      point.endMs = Math.max(point.endMs, snapshot.endMs);
      point.durationMs = Math.max(point.durationMs, snapshot.durationMs);
      for (const key of SUMMED_KEYS) point.sums[key] += snapshot[key];
      point.sums.connectFailures += sumOf(snapshot.connectFailures);
      point.sums.disconnects += sumOf(snapshot.disconnects);
      point.sums.unexpectedDisconnects += sumOf(snapshot.unexpectedDisconnects);
      addInto(point.counters, snapshot.counters);
      point.latency.add(snapshot.latency);
    }
    this.#lastSeq[worker] = Math.max(this.#lastSeq[worker] ?? 0, snapshot.seq);
    return this.#release(false);
  }

  /** Worker `worker` will send nothing more; returns the points this completes. */
  finishWorker(worker: number): LoadTestPoint[] {
    this.#finished[worker] = true;
    return this.#release(false);
  }

  /** Releases every point still pending (the run is over); returns them. */
  flush(): LoadTestPoint[] {
    return this.#release(true);
  }

  /** Frees the histograms. */
  destroy(): void {
    for (const point of this.#pending.values()) point.latency.destroy();
    this.#pending.clear();
    this.#latency.destroy();
  }

  #pendingPoint(seq: number): PendingPoint {
    let point = this.#pending.get(seq);
    if (point === undefined) {
      const sums = { connectFailures: 0, disconnects: 0, unexpectedDisconnects: 0 } as Record<NumericKey, number>;
      for (const key of SUMMED_KEYS) sums[key] = 0;
      point = { seq, endMs: 0, durationMs: 0, sums, counters: {}, latency: new LatencyAccumulator() };
      this.#pending.set(seq, point);
    }
    return point;
  }

  #complete(seq: number): boolean {
    return this.#lastSeq.every((last, worker) => last >= seq || this.#finished[worker] === true);
  }

  #release(all: boolean): LoadTestPoint[] {
    const released: LoadTestPoint[] = [];
    while (this.#pending.size > 0 && (all || this.#complete(this.#nextSeq))) {
      const pending = this.#pending.get(this.#nextSeq);
      this.#nextSeq++;
      if (pending === undefined) continue;
      this.#pending.delete(pending.seq);
      const { sums } = pending;
      this.#lastEndMs = Math.max(this.#lastEndMs, pending.endMs);
      const point: LoadTestPoint = {
        seq: pending.seq,
        t: this.#lastEndMs / 1000,
        durationMs: pending.durationMs,
        sessions: sums.sessions,
        connecting: sums.connecting,
        inFlight: sums.inFlight,
        connects: sums.connects,
        connectFailures: sums.connectFailures,
        reconnects: sums.reconnects,
        disconnects: sums.disconnects,
        unexpectedDisconnects: sums.unexpectedDisconnects,
        packetsSent: sums.packetsSent,
        packetsReceived: sums.packetsReceived,
        bytesSent: sums.bytesSent,
        bytesReceived: sums.bytesReceived,
        requests: sums.requests,
        roundTrips: sums.roundTrips,
        unanswered: sums.unanswered,
        cutsRst: sums.cutsRst,
        cutsSilent: sums.cutsSilent,
        connectionsLost: sums.connectionsLost,
        reconnectAttempts: sums.reconnectAttempts,
        resumes: sums.resumes,
        resumesExpired: sums.resumesExpired,
        resumesRefused: sums.resumesRefused,
        messagesLost: sums.messagesLost,
        messagesDuplicated: sums.messagesDuplicated,
        messagesOutOfOrder: sums.messagesOutOfOrder,
        counters: pending.counters,
        latency: pending.latency.summary(),
      };
      pending.latency.destroy();
      this.totals.peakSessions = Math.max(this.totals.peakSessions, point.sessions);
      this.#series.push(point);
      released.push(point);
    }
    return released;
  }
}

/** Adds each count of `from` into `into`; returns their sum. */
function addInto(into: Record<string, number>, from: Readonly<Record<string, number>>): number {
  let sum = 0;
  for (const [key, value] of Object.entries(from)) {
    into[key] = (into[key] ?? 0) + value;
    sum += value;
  }
  return sum;
}

function sumOf(counts: Readonly<Record<string, number>>): number {
  let sum = 0;
  for (const value of Object.values(counts)) sum += value;
  return sum;
}
