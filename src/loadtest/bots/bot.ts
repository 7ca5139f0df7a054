import type { Session } from '../../net/session.js';

/**
 * The options every bot of a run is given. The harness fills them from the command line
 * (`--interval-ms`, `--message`, `--size`, `--bot-option`), falling back to the bot's own
 * {@link BotDefinition.defaults}, then to the harness defaults.
 */
export interface BotOptions {
  /** Pause between one answer and the bot's next request, ms; 0 sends the next one as soon as the answer is in. */
  readonly intervalMs: number;
  /** Text the bot sends (echo: padding of each packet; chat: the chat line). */
  readonly message: string;
  /** Body size of each request in bytes, when the bot supports it; undefined for the bot's own choice. */
  readonly size: number | undefined;
  /** Free-form `--bot-option KEY=VALUE` pairs, for bots written by users. */
  readonly extra: Readonly<Record<string, string>>;
}

/**
 * What the harness gives one bot session: its options, its name in the run, whether the run is ending,
 * and the metrics recorder. One context per session: a new session (the harness reconnecting) gets a
 * fresh one, a resumed session (`--resume`) keeps its own.
 *
 * Accounting contract, which the end-of-run drain relies on:
 * - every packet the bot sends is reported with {@link recordSent} or, when the bot will wait for
 *   and time its answer, {@link recordRequest};
 * - every answer to a request is reported with {@link recordRoundTrip}, which ends that request;
 * - every packet received is reported with {@link recordReceived}.
 *
 * A bot that knows what it should receive (its own echoes, numbered chats) checks that each message
 * came exactly once and in order, and reports what did not with {@link recordLost},
 * {@link recordDuplicate} and {@link recordOutOfOrder}: each counts as an error of the run. That is
 * how a run with chaos cuts shows that resumed connections lost nothing.
 */
export interface BotContext {
  /** Options of the run; see {@link BotOptions}. */
  readonly options: BotOptions;
  /** Unique name of this session in the run, `w<worker>-s<n>` (worker index, its n-th session from 1). */
  readonly name: string;
  /** Index of the worker process running this bot, from 0. */
  readonly workerIndex: number;
  /**
   * True once the run is ending: send no new requests. Answers to requests in flight are still awaited
   * (up to `drainTimeoutMs`) before the harness closes the session.
   */
  readonly stopping: boolean;
  /** Requests of this session whose answer has not arrived yet. */
  readonly inFlight: number;
  /** A packet of `bytes` bytes (header included) went out and no answer is awaited. */
  recordSent(bytes: number): void;
  /** A request of `bytes` bytes went out and its answer is awaited: counted as sent and in flight. */
  recordRequest(bytes: number): void;
  /** A packet of `bytes` bytes (header included) arrived. */
  recordReceived(bytes: number): void;
  /**
   * The answer to a request arrived after `micros` microseconds: recorded in the latency histogram
   * (values below 1 count as 1) and the oldest request in flight ends.
   */
  recordRoundTrip(micros: number): void;
  /** Adds `n` (default 1) to the custom counter `name`; counters are summed over the run and reported. */
  count(name: string, n?: number): void;
  /**
   * `n` (default 1) messages the bot expected never came: a gap in a sequence that did not fill before
   * the session ended. (A request never answered is counted by the harness as unanswered: do not
   * report it here too.)
   */
  recordLost(n?: number): void;
  /** `n` (default 1) messages arrived a second time. */
  recordDuplicate(n?: number): void;
  /** `n` (default 1) messages arrived after one that was sent later. */
  recordOutOfOrder(n?: number): void;
}

/**
 * A bot: what one client of a load test does. A bot module default-exports one (see {@link defineBot}).
 * The harness (how many, how fast, for how long, metrics, reconnects) is not the bot's business.
 */
export interface BotDefinition<S extends Session = Session> {
  /** Short name shown in the output and the report. */
  readonly name: string;
  /** One line saying what the bot does. */
  readonly summary?: string;
  /** The bot's own defaults for options not given on the command line. */
  readonly defaults?: Partial<Pick<BotOptions, 'intervalMs' | 'message' | 'size'>>;
  /**
   * Makes the session of one client: usually a `PacketSession` subclass the bot writes. Called once per
   * connection, before it is attached; the session must not send before its `onConnected`.
   */
  createSession(context: BotContext): S;
}

/** Identity helper that types a bot module's default export. */
export function defineBot<S extends Session>(definition: BotDefinition<S>): BotDefinition<S> {
  return definition;
}
