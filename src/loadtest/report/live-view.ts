import { byteSize, compactCount, latency } from './format.js';
import type { LoadTestProgress } from '../harness/run-load-test.js';
import type { LoadTestPoint } from '../harness/run-aggregator.js';

/** Where the live view writes: a stream, a TTY or not. */
export interface LiveViewOutput {
  write(text: string): unknown;
  /** True on a terminal: the status line is rewritten in place. */
  readonly isTTY?: boolean;
}

/** Shortest time between two renders on a TTY, ms. */
const TTY_REFRESH_MS = 1_000;

/** One status line for a point of the run (no newline). */
export function statusLine(point: LoadTestPoint, progress: LoadTestProgress): string {
  const seconds = Math.max(0.001, point.durationMs / 1000);
  const rate = (count: number): string => compactCount(count / seconds);
  const bytes = (count: number): string => `${byteSize(count / seconds)}/s`;
  const parts = [
    `sessions ${point.sessions}/${progress.config.sessions}${point.connecting > 0 ? ` (+${point.connecting} connecting)` : ''}`,
    `out ${rate(point.packetsSent)} pkt/s ${bytes(point.bytesSent)}`,
    `in ${rate(point.packetsReceived)} pkt/s ${bytes(point.bytesReceived)}`,
    point.latency.count === 0
      ? 'rtt -'
      : `rtt p50 ${latency(point.latency.p50)} p99 ${latency(point.latency.p99)} max ${latency(point.latency.max)}`,
  ];
  for (const [name, count] of Object.entries(point.counters).sort(([a], [b]) => a.localeCompare(b))) {
    parts.push(`${name} ${rate(count)}/s`);
  }
  const { config, totals } = progress;
  if (config.chaosCutPercent > 0) parts.push(`cuts ${point.cutsRst + point.cutsSilent}`);
  if (config.resume || config.chaosCutPercent > 0) {
    parts.push(`lost conns ${point.connectionsLost}${config.resume ? ` resumed ${point.resumes}` : ''}`);
  }
  const disorder = totals.messagesLost + totals.messagesDuplicated + totals.messagesOutOfOrder;
  if (disorder > 0) parts.push(`msgs lost/dup/ooo ${totals.messagesLost}/${totals.messagesDuplicated}/${totals.messagesOutOfOrder}`);
  parts.push(`errors ${progress.errors}${progress.stopping ? ' (ending)' : ''}`);
  return `[${point.t.toFixed(0).padStart(4)}s] ${parts.join(' | ')}`;
}

/**
 * The live view of a run. On a TTY one status line is rewritten in place (`\r`), at most once a
 * second; otherwise each point is a plain line, so logs and pipes get one line per second.
 */
export class LiveView {
  readonly #out: LiveViewOutput;
  readonly #tty: boolean;
  #lastRender = Number.NEGATIVE_INFINITY;
  #pending: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lineOpen = false;

  constructor(out: LiveViewOutput, tty: boolean = out.isTTY === true) {
    this.#out = out;
    this.#tty = tty;
  }

  /** Shows a new point. */
  update(point: LoadTestPoint, progress: LoadTestProgress): void {
    const line = statusLine(point, progress);
    if (!this.#tty) {
      this.#out.write(`${line}\n`);
      return;
    }
    this.#pending = line;
    const wait = this.#lastRender + TTY_REFRESH_MS - Date.now();
    if (wait <= 0) this.#render();
    else this.#timer ??= setTimeout(() => this.#render(), wait).unref();
  }

  /** Prints a message on a line of its own (closing the status line first on a TTY). */
  note(text: string): void {
    this.#closeLine();
    this.#out.write(`${text}\n`);
  }

  /** Renders what is pending and ends the status line; call before printing the summary. */
  finish(): void {
    if (this.#pending !== undefined) this.#render();
    this.#closeLine();
  }

  #render(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const line = this.#pending;
    this.#pending = undefined;
    if (line === undefined) return;
    this.#lastRender = Date.now();
    this.#out.write(`\r${line}\x1b[K`);
    this.#lineOpen = true;
  }

  #closeLine(): void {
    if (!this.#lineOpen) return;
    this.#out.write('\n');
    this.#lineOpen = false;
  }
}
