import { snapshotServices } from '../metrics/metrics-snapshot.js';
import type { MetricsSource } from '../metrics/metrics-server.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';

/** Where the stats line goes: a stream, a TTY or not. */
export interface StatsOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** The totals one stats line compares with the previous second's. */
export interface StatsTotals {
  sessions: number;
  packetsReceived: number;
  packetsSent: number;
  refused: number;
  readonly disconnects: Map<string, number>;
}

/** Where the stats line reads its totals: the services of this process, or a cluster's metrics. */
export type StatsSource = () => StatsTotals | Promise<StatsTotals>;

function emptyTotals(): StatsTotals {
  return { sessions: 0, packetsReceived: 0, packetsSent: 0, refused: 0, disconnects: new Map() };
}

/** Totals of the services of this process, read from their counters. */
export function localStatsSource(services: readonly Service<Session>[]): StatsSource {
  return () => {
    const sum = emptyTotals();
    for (const snap of snapshotServices(services).values()) {
      sum.sessions += snap.sessions;
      sum.packetsReceived += snap.packetsReceived;
      sum.packetsSent += snap.packetsSent;
      for (const count of Object.values(snap.refused)) sum.refused += count;
      for (const [cause, count] of snap.disconnects) sum.disconnects.set(cause, (sum.disconnects.get(cause) ?? 0) + count);
    }
    return sum;
  };
}

const SAMPLE = /^(\w+)(?:\{([^}]*)\})? (\S+)$/;

/** Totals read from Prometheus text (a cluster primary's sum over its workers). */
export function totalsFromExposition(text: string): StatsTotals {
  const sum = emptyTotals();
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    const [, name, labels = '', raw] = match as unknown as [string, string, string | undefined, string];
    const value = Number(raw);
    if (name === 'gamewire_sessions') sum.sessions += value;
    else if (name === 'gamewire_packets_received_total') sum.packetsReceived += value;
    else if (name === 'gamewire_packets_sent_total') sum.packetsSent += value;
    else if (name === 'gamewire_sessions_refused_total') sum.refused += value;
    else if (name === 'gamewire_disconnects_total') {
      const cause = /cause="([^"]*)"/.exec(labels)?.[1] ?? '';
      sum.disconnects.set(cause, (sum.disconnects.get(cause) ?? 0) + value);
    }
  }
  return sum;
}

/** Totals of a metrics source (e.g. `clusterMetricsSource()`), scraped once per line. */
export function exposedStatsSource(source: MetricsSource): StatsSource {
  return async () => totalsFromExposition(await source.metrics());
}

/** One stats line (no newline) from two totals `seconds` apart. */
function formatLine(before: StatsTotals, now: StatsTotals, seconds: number): string {
  const rate = (a: number, b: number): string => String(Math.round((b - a) / seconds));
  const causes: string[] = [];
  for (const [cause, count] of now.disconnects) {
    const delta = count - (before.disconnects.get(cause) ?? 0);
    if (delta > 0) causes.push(`${cause} ${delta}`);
  }
  return [
    `sessions ${now.sessions}`,
    `in ${rate(before.packetsReceived, now.packetsReceived)} pkt/s`,
    `out ${rate(before.packetsSent, now.packetsSent)} pkt/s`,
    `refused ${now.refused - before.refused}`,
    `disconnects ${causes.length === 0 ? 0 : causes.join(', ')}`,
  ].join(' | ');
}

/**
 * The CLI servers' live stats line: once a second, sessions, packets per second each way, and the
 * refusals and disconnects (by cause) of the last second. On a TTY it is one line rewritten in
 * place; otherwise one plain line per second.
 */
export class ServerStatsLine {
  readonly #read: StatsSource;
  readonly #out: StatsOutput;
  readonly #tty: boolean;
  #last: StatsTotals | undefined;
  #lastAt = 0;
  #reading = false;
  #timer: NodeJS.Timeout | undefined;

  /** Starts reading `source` every `intervalMs` (default 1000) and writing a line to `out` from the second read on. */
  constructor(source: StatsSource, out: StatsOutput, intervalMs = 1_000) {
    this.#read = source;
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#timer = setInterval(this.#tick, intervalMs);
    this.#timer.unref();
    this.#tick();
  }

  readonly #tick = (): void => {
    if (this.#reading) return; // a slow source (a cluster scrape) skips a second rather than piling up
    this.#reading = true;
    Promise.resolve()
      .then(this.#read)
      .then(
        (now) => this.#show(now),
        () => undefined, // no line this second; the next one compares with the last good read
      )
      .finally(() => {
        this.#reading = false;
      });
  };

  #show(now: StatsTotals): void {
    const at = performance.now();
    const last = this.#last;
    this.#last = now;
    const seconds = Math.max(0.001, (at - this.#lastAt) / 1000);
    this.#lastAt = at;
    if (last === undefined || this.#timer === undefined) return;
    const line = `[stats] ${formatLine(last, now, seconds)}`;
    // On a TTY: clear, write, return to column 0, so a log line printed meanwhile starts on a clean line.
    this.#out.write(this.#tty ? `\x1b[K${line}\r` : `${line}\n`);
  }

  /** Stops the line (and clears it on a TTY). */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#tty) this.#out.write('\x1b[K');
  }
}
