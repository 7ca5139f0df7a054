import { performance } from 'node:perf_hooks';
import { DisconnectCode } from '../../core/disconnect-cause.js';
import { describeType, describeValue, isInstance } from '../../core/describe.js';
import { ConnectError, GamewireError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { ClientService, type ClientServiceOptions } from '../../net/client-service.js';
import { Session } from '../../net/session.js';
import { BotLoadError } from '../bots/bot-loader.js';
import type { BotDefinition } from '../bots/bot.js';
import { BotSessionContext, type BotRunState } from './bot-session-context.js';
import type { WorkerConfig, WorkerSnapshot } from './ipc-messages.js';
import { WorkerMetrics } from './worker-metrics.js';

/** How often the ramp releases the sessions that are due, ms. */
const RAMP_TICK_MS = 20;
/** A session that lived at least this long before dropping reconnects after the first delay again. */
const STABLE_SESSION_MS = 1_000;
/** The reconnect delay doubles at most this many times (16 × the first delay). */
const MAX_BACKOFF_DOUBLINGS = 4;

/** One of the worker's sessions, kept open across reconnects. */
interface Slot {
  session: Session | undefined;
  connectedAt: number;
  /** Failed connects or short-lived sessions in a row: the reconnect delay doubles with each. */
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

/** How the end of a run went in one worker. */
export interface DrainResult {
  /** True when every request in flight was answered before the drain timeout. */
  readonly drained: boolean;
  /** How long the wait for answers took, ms. */
  readonly drainMs: number;
}

/**
 * A ClientService that tells its owner whenever one of its sessions has left (after its onDisconnected).
 * The session is passed when the service names it; the base hook does nothing, so it is not called.
 */
class BotClientService extends ClientService<Session> {
  readonly #onSessionLeft: (session?: Session) => void;

  constructor(options: ClientServiceOptions<Session>, onSessionLeft: (session?: Session) => void) {
    super(options);
    this.#onSessionLeft = onSessionLeft;
  }

  protected override sessionLeft(session?: Session): void {
    this.#onSessionLeft(session);
  }
}

/**
 * The harness inside one worker process: keeps `config.sessions` bot sessions open to the target with
 * one ClientService, opened at the ramp rate, reopened after a backoff when they drop (if
 * `reconnect`), and counts everything in a {@link WorkerMetrics}.
 *
 * End of a run ({@link stop}): bots are told to stop (`context.stopping`), nothing new is opened,
 * answers in flight are awaited up to `drainTimeoutMs`, then the ClientService closes every session
 * (cause `SERVICE_CLOSING`, expected). A session that ends any other way before that is unexpected,
 * but for `SERVICE_DRAINED` (the server drained for a deploy: the game goes on on another worker or
 * machine), which is expected and reconnected at once, without backoff (with `reconnect`).
 */
export class BotRunner {
  readonly #config: WorkerConfig;
  readonly #bot: BotDefinition;
  readonly #state: BotRunState;
  readonly #service: BotClientService;
  readonly #slots: Slot[];
  readonly #contexts = new Map<Session, BotSessionContext>();
  readonly #slotOf = new Map<Session, Slot>();
  /** Sessions made and not yet seen closed. */
  readonly #open = new Set<Session>();
  readonly #ready: Slot[] = [];
  #released = 0;
  #connecting = 0;
  #sessionNumber = 0;
  #startedAt = 0;
  #rampTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #drainWaiter: (() => void) | undefined;
  #stopPromise: Promise<DrainResult> | undefined;
  readonly #onFatal: ((error: Error) => void) | undefined;
  #fatal: Error | undefined;

  /** `onFatal` hears, once, of a bot that cannot run at all (its createSession returns no Session). */
  constructor(config: WorkerConfig, bot: BotDefinition, logger?: Logger, onFatal?: (error: Error) => void) {
    this.#config = config;
    this.#bot = bot;
    this.#onFatal = onFatal;
    this.#state = {
      metrics: new WorkerMetrics(),
      workerIndex: config.workerIndex,
      options: config.botOptions,
      stopping: false,
      inFlight: 0,
      onRequestEnded: () => {
        if (this.#state.inFlight === 0) this.#drainWaiter?.();
      },
    };
    this.#slots = Array.from({ length: config.sessions }, () => ({
      session: undefined,
      connectedAt: 0,
      failures: 0,
      timer: undefined,
    }));
    const options: ClientServiceOptions<Session> = {
      host: config.host,
      port: config.port,
      maxSessionCount: Math.max(1, config.sessions),
      connectTimeoutMs: config.connectTimeoutMs,
      ...(config.transport === 'ws' ? { ws: {} } : {}),
      sessionFactory: this.#makeSession,
    };
    this.#service = new BotClientService(logger === undefined ? options : { ...options, logger }, this.#sessionLeft);
  }

  /** Sessions open now. */
  get sessionCount(): number {
    return this.#service.sessionCount;
  }

  /** Requests in flight now. */
  get inFlight(): number {
    return this.#state.inFlight;
  }

  /** Begins opening sessions: at the ramp rate, or all at once within `connectConcurrency`. */
  start(): void {
    this.#startedAt = performance.now();
    if (this.#config.rampPerSecond > 0 && this.#slots.length > 1) {
      this.#rampTimer = setInterval(this.#release, RAMP_TICK_MS);
    }
    this.#release();
  }

  /** What happened since the last snapshot; resets the interval counters. */
  snapshot(): WorkerSnapshot {
    return this.#state.metrics.snapshot({
      sessions: this.#service.sessionCount,
      connecting: this.#connecting,
      inFlight: this.#state.inFlight,
    });
  }

  /**
   * Ends the run: stops the bots and the reconnects, waits (at most `drainTimeoutMs`) for the answers
   * in flight, then closes every session. Calling it again returns the same promise.
   */
  stop(): Promise<DrainResult> {
    this.#stopPromise ??= this.#stopOnce(this.#config.drainTimeoutMs);
    return this.#stopPromise;
  }

  /** Ends the run without waiting for answers (the parent is gone). */
  abort(): Promise<DrainResult> {
    this.#stopPromise ??= this.#stopOnce(0);
    return this.#stopPromise;
  }

  /** Frees the metrics' histogram; call after the last snapshot. */
  destroy(): void {
    this.#state.metrics.destroy();
  }

  async #stopOnce(drainTimeoutMs: number): Promise<DrainResult> {
    this.#state.stopping = true;
    if (this.#rampTimer !== undefined) clearInterval(this.#rampTimer);
    this.#rampTimer = undefined;
    this.#ready.length = 0;
    for (const slot of this.#slots) {
      if (slot.timer !== undefined) clearTimeout(slot.timer);
      slot.timer = undefined;
    }
    const began = performance.now();
    const drained = await this.#waitForAnswers(drainTimeoutMs);
    const drainMs = Math.round(performance.now() - began);
    this.#closing = true;
    await this.#service.close();
    return { drained, drainMs };
  }

  #waitForAnswers(timeoutMs: number): Promise<boolean> {
    if (this.#state.inFlight === 0) return Promise.resolve(true);
    if (timeoutMs === 0) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#drainWaiter = undefined;
        resolve(false);
      }, timeoutMs);
      this.#drainWaiter = () => {
        this.#drainWaiter = undefined;
        clearTimeout(timer);
        resolve(true);
      };
    });
  }

  readonly #release = (): void => {
    const total = this.#slots.length;
    const rate = this.#config.rampPerSecond;
    const elapsedS = (performance.now() - this.#startedAt) / 1000;
    const due = rate > 0 ? Math.min(total, Math.floor(elapsedS * rate) + 1) : total;
    while (this.#released < due) this.#ready.push(this.#slots[this.#released++] as Slot);
    if (this.#released === total && this.#rampTimer !== undefined) {
      clearInterval(this.#rampTimer);
      this.#rampTimer = undefined;
    }
    this.#pump();
  };

  #pump(): void {
    while (!this.#state.stopping && this.#ready.length > 0 && this.#connecting < this.#config.connectConcurrency) {
      this.#connect(this.#ready.shift() as Slot);
    }
  }

  #connect(slot: Slot): void {
    this.#connecting++;
    this.#service.connect().then(
      (session) => {
        this.#connecting--;
        this.#state.metrics.connects++;
        slot.session = session;
        slot.connectedAt = performance.now();
        this.#slotOf.set(session, slot);
        // It may have closed already (a hook threw in onConnected, then the socket closed).
        if (!this.#open.has(session)) this.#slotSessionEnded(slot, session);
        this.#pump();
      },
      (error: unknown) => {
        this.#connecting--;
        if (!this.#closing) {
          this.#state.metrics.connectFailed(failureCode(error));
          slot.failures++;
          this.#scheduleReconnect(slot);
        }
        this.#pump();
      },
    );
  }

  #reconnectNow(slot: Slot): void {
    if (!this.#config.reconnect || this.#state.stopping) return;
    this.#state.metrics.reconnects++;
    this.#ready.push(slot);
    this.#pump();
  }

  #scheduleReconnect(slot: Slot): void {
    if (!this.#config.reconnect || this.#state.stopping) return;
    const doublings = Math.min(MAX_BACKOFF_DOUBLINGS, Math.max(0, slot.failures - 1));
    const delay = this.#config.reconnectDelayMs * 2 ** doublings;
    this.#state.metrics.reconnects++;
    slot.timer = setTimeout(() => {
      slot.timer = undefined;
      this.#ready.push(slot);
      this.#pump();
    }, delay);
  }

  readonly #makeSession = (): Session => {
    const context = new BotSessionContext(this.#state, ++this.#sessionNumber);
    const made: unknown = this.#bot.createSession(context);
    if (!isInstance(made, Session)) throw this.#notASession(made);
    const session = made;
    this.#contexts.set(session, context);
    this.#open.add(session);
    return session;
  };

  #notASession(value: unknown): Error {
    if (this.#fatal === undefined) {
      // Thrown into the ClientService too, which drops the connection and fails this attempt with it.
      this.#fatal = new BotLoadError(
        `bot '${this.#bot.name}': createSession returned ${describeValue(value)} (${describeType(value)}), ` +
          `not a Session of this gamewire installation. ` +
          `Return a subclass of Session or PacketSession imported from 'gamewire'; if it is one, the bot ` +
          `imports a second copy of gamewire (check 'npm ls gamewire').`,
      );
      this.#state.stopping = true;
      this.#onFatal?.(this.#fatal);
    }
    return this.#fatal;
  }

  /**
   * A session left the service: account for it. When the service does not name it, it is the open
   * session that is now closed (sessions close one at a time, each telling the service at once).
   */
  readonly #sessionLeft = (left?: Session): void => {
    if (left !== undefined) {
      if (this.#open.has(left)) this.#sessionEnded(left);
      return;
    }
    for (const session of this.#open) {
      if (session.state === 'closed') this.#sessionEnded(session);
    }
  };

  #sessionEnded(session: Session): void {
    this.#open.delete(session);
    const context = this.#contexts.get(session);
    this.#contexts.delete(session);
    const code = session.disconnectCause?.code ?? DisconnectCode.PeerClosed;
    const drained = code === DisconnectCode.ServiceDrained;
    this.#state.metrics.disconnected(code, !this.#closing && !drained);
    context?.close();
    const slot = this.#slotOf.get(session);
    if (slot !== undefined) this.#slotSessionEnded(slot, session, drained);
  }

  #slotSessionEnded(slot: Slot, session: Session, drained = false): void {
    this.#slotOf.delete(session);
    slot.session = undefined;
    if (this.#closing) return;
    if (drained) {
      // The server drained: reconnect now, another worker or machine takes the player.
      slot.failures = 0;
      this.#reconnectNow(slot);
      return;
    }
    if (performance.now() - slot.connectedAt >= STABLE_SESSION_MS) slot.failures = 0;
    slot.failures++;
    this.#scheduleReconnect(slot);
  }
}

/** The code a failed connection attempt is counted under: the OS error code when there is one. */
function failureCode(error: unknown): string {
  if (error instanceof ConnectError) return error.syscallCode ?? error.code;
  if (error instanceof GamewireError) return error.code;
  return 'UNKNOWN';
}
