import type { BotContext, BotOptions } from '../bots/bot.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** What the contexts of one worker share: the metrics, the stopping flag and the worker's in-flight total. */
export interface BotRunState {
  readonly metrics: WorkerMetrics;
  readonly workerIndex: number;
  readonly options: BotOptions;
  /** True once the run is ending. */
  stopping: boolean;
  /** Requests in flight over all live sessions of the worker. */
  inFlight: number;
  /** Called whenever a request ends (answered or abandoned), so the drain can check for zero. */
  onRequestEnded(): void;
}

/** The {@link BotContext} of one session: forwards to the worker's metrics and tracks its own requests. */
export class BotSessionContext implements BotContext {
  readonly name: string;
  readonly #state: BotRunState;
  #inFlight = 0;
  #closed = false;

  constructor(state: BotRunState, sessionNumber: number) {
    this.#state = state;
    this.name = `w${state.workerIndex}-s${sessionNumber}`;
  }

  get options(): BotOptions {
    return this.#state.options;
  }

  get workerIndex(): number {
    return this.#state.workerIndex;
  }

  get stopping(): boolean {
    return this.#state.stopping;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  recordSent(bytes: number): void {
    const metrics = this.#state.metrics;
    metrics.packetsSent++;
    metrics.bytesSent += bytes;
  }

  recordRequest(bytes: number): void {
    this.recordSent(bytes);
    this.#state.metrics.requests++;
    if (this.#closed) return;
    this.#inFlight++;
    this.#state.inFlight++;
  }

  recordReceived(bytes: number): void {
    const metrics = this.#state.metrics;
    metrics.packetsReceived++;
    metrics.bytesReceived += bytes;
  }

  recordRoundTrip(micros: number): void {
    this.#state.metrics.recordRoundTrip(micros);
    if (this.#inFlight === 0) return;
    this.#inFlight--;
    this.#state.inFlight--;
    this.#state.onRequestEnded();
  }

  count(name: string, n = 1): void {
    this.#state.metrics.count(name, n);
  }

  recordLost(n = 1): void {
    this.#state.metrics.resilience.messagesLost += n;
  }

  recordDuplicate(n = 1): void {
    this.#state.metrics.resilience.messagesDuplicated += n;
  }

  recordOutOfOrder(n = 1): void {
    this.#state.metrics.resilience.messagesOutOfOrder += n;
  }

  /**
   * The session ended: its requests in flight will never be answered. Counts them as unanswered,
   * removes them from the worker's total and returns how many there were.
   */
  close(): number {
    this.#closed = true;
    const lost = this.#inFlight;
    if (lost === 0) return 0;
    this.#inFlight = 0;
    this.#state.inFlight -= lost;
    this.#state.metrics.unanswered += lost;
    this.#state.onRequestEnded();
    return lost;
  }
}
