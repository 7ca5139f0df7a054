import { snapshotServices, type TransportSnapshot } from '../metrics/metrics-snapshot.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';

/** Where the stats line goes: a stream, a TTY or not. */
export interface StatsOutput {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** The totals one stats line compares with the previous second's. */
interface Totals {
  readonly sessions: number;
  readonly packetsReceived: number;
  readonly packetsSent: number;
  readonly refused: number;
  readonly disconnects: ReadonlyMap<string, number>;
}

function totals(services: readonly Service<Session>[]): Totals {
  const sum = { sessions: 0, packetsReceived: 0, packetsSent: 0, refused: 0, disconnects: new Map<string, number>() };
  for (const snap of snapshotServices(services).values()) addSnapshot(sum, snap);
  return sum;
}

function addSnapshot(sum: { sessions: number; packetsReceived: number; packetsSent: number; refused: number; disconnects: Map<string, number> }, snap: TransportSnapshot): void {
  sum.sessions += snap.sessions;
  sum.packetsReceived += snap.packetsReceived;
  sum.packetsSent += snap.packetsSent;
  for (const count of Object.values(snap.refused)) sum.refused += count;
  for (const [cause, count] of snap.disconnects) sum.disconnects.set(cause, (sum.disconnects.get(cause) ?? 0) + count);
}

/** One stats line (no newline) from two totals `seconds` apart. */
function formatLine(before: Totals, now: Totals, seconds: number): string {
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
  readonly #services: readonly Service<Session>[];
  readonly #out: StatsOutput;
  readonly #tty: boolean;
  #last: Totals;
  #lastAt = performance.now();
  #timer: NodeJS.Timeout | undefined;

  constructor(services: readonly Service<Session>[], out: StatsOutput, intervalMs = 1_000) {
    this.#services = services;
    this.#out = out;
    this.#tty = out.isTTY === true;
    this.#last = totals(services);
    this.#timer = setInterval(this.#tick, intervalMs);
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    const now = totals(this.#services);
    const at = performance.now();
    const line = `[stats] ${formatLine(this.#last, now, Math.max(0.001, (at - this.#lastAt) / 1000))}`;
    this.#last = now;
    this.#lastAt = at;
    // On a TTY: clear, write, return to column 0, so a log line printed meanwhile starts on a clean line.
    this.#out.write(this.#tty ? `\x1b[K${line}\r` : `${line}\n`);
  };

  /** Stops the line (and clears it on a TTY). */
  stop(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#tty) this.#out.write('\x1b[K');
  }
}
