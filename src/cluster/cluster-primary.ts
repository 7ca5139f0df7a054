import cluster, { type Worker } from 'node:cluster';
import { DEFAULTS } from '../core/defaults.js';
import type { Logger } from '../core/logger.js';
import { parseToPrimary, WORKER_ENV } from './cluster-messages.js';
import { countDropped } from './dropped-messages.js';
import { redisErrorFields } from './redis-target.js';
import { decodeRoomFrame } from './room-frame.js';
import { ResumeRoutes } from './resume-routes.js';
import { MoveCoordinator } from './move-coordinator.js';
import type { RoomHub } from './room-hub.js';
import type { ClusterStats, ClusterTotals, WorkerInfo } from './worker-types.js';

/** A worker that ran this long before dying is replaced at once; one that dies sooner, after a growing delay. */
const HEALTHY_AFTER_MS = 10_000;
/** The first delay before trying again, doubled at each failure in a row. */
const FIRST_RESPAWN_DELAY_MS = 100;
/** The longest delay between two tries to start a replacement. */
const MAX_RESPAWN_DELAY_MS = 10_000;
/** Heartbeat pings per `workerTimeoutMs`. */
const PINGS_PER_TIMEOUT = 5;

/** Default `workerTimeoutMs` of runWorkers. */
export const DEFAULT_WORKER_TIMEOUT_MS = DEFAULTS.workerTimeoutMs;

/** Where the workers serve: the TCP port and, with `ws`, the WebSocket port. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly wsPort?: number | undefined;
}

/** What the primary needs to run its workers. */
export interface ClusterPrimaryOptions {
  readonly workers: number;
  /** The whole server's session limit, split over the workers; undefined leaves it to the workers. */
  readonly maxSessionCount: number | undefined;
  /** How long close() waits for a worker before it kills it, ms. */
  readonly closeTimeoutMs: number;
  readonly logger: Logger;
  readonly hub: RoomHub;
  /** More environment for every worker. */
  readonly workerEnv?: Readonly<Record<string, string>>;
  /** A fresh id block for each worker started (see IdSequence). */
  readonly nextIdBlock: () => Promise<number>;
  /** A worker silent to the heartbeat this long is killed and replaced, ms. Default 5000. */
  readonly workerTimeoutMs?: number;
  /** This server's number in resume tokens (resume-routes.ts); default random. */
  readonly resumeServer?: number;
}

/**
 * One worker place. `serving`: watched and replaced when it dies. A rolling reload (rolling-reload.ts)
 * starts a `standby` beside each (not replaced: its failure fails the reload), swaps it in, and
 * drains the old one as `retired` (not replaced when it exits).
 */
export interface Slot {
  readonly index: number;
  role: 'serving' | 'standby' | 'retired';
  /** Its worker said it can take sessions that move (move-coordinator.ts). */
  moves: boolean;
  /** 0 for the first workers; each standby of a reload a higher one: sessions move only to a newer generation. */
  readonly generation: number;
  /** What the worker said it runs, in its ready message. */
  gamewireVersion: string | undefined;
  appVersion: string | undefined;
  worker: Worker | undefined;
  startedAt: number;
  /** Failed starts or short runs in a row: the exponent of the delay before the next try. */
  failures: number;
  ready: boolean;
  lastPongAt: number;
  /** The heartbeat found it unresponsive and killed it. */
  unresponsive: boolean;
  retry: NodeJS.Timeout | undefined;
}

/**
 * The primary of `runWorkers`: forks the workers (node:cluster, round-robin accept), waits until all
 * listen, relays room messages through the {@link RoomHub}, watches each worker with a heartbeat,
 * replaces a worker that dies or stops answering, and closes them all gracefully.
 *
 * Every message from a worker is checked (cluster-messages.ts, room-frame.ts): a malformed one, or
 * one of a version this release cannot read, is counted and dropped. The heartbeat: a ping over IPC
 * every fifth of `workerTimeoutMs`; a worker with no answer for `workerTimeoutMs` (stopped, or its
 * event loop blocked) is logged, killed (SIGKILL) and replaced, so it is found within
 * `workerTimeoutMs` plus one ping interval. A replacement that cannot start (no id block while Redis
 * is down, a worker that fails before listening) is tried again after 100 ms, doubling up to 10 s,
 * until one starts.
 */
export class ClusterPrimary {
  readonly #options: ClusterPrimaryOptions;
  readonly #timeoutMs: number;
  readonly #slots: Slot[] = [];
  /** Standby and retired slots of a rolling reload, closed with the rest. */
  readonly #others = new Set<Slot>();
  #closing = false;
  #accepted = 0;
  #refused = 0;
  #replacements = 0;
  readonly #lost = { exited: 0, unresponsive: 0 };
  #address: ServerAddress | undefined;
  #closePromise: Promise<ClusterTotals> | undefined;
  #watch: NodeJS.Timeout | undefined;
  #lastWatchAt = 0;
  #pingSeq = 0;
  /** Each worker's resume route, and the connections handed between workers. */
  readonly #routes: ResumeRoutes;
  /** Sessions moving from a draining worker to a new one. */
  readonly #moves: MoveCoordinator;
  /** Each live worker's bus origin (its id block). */
  readonly #origins = new Map<Worker, number>();
  /** Standbys started so far (their generations). */
  #generations = 0;

  constructor(options: ClusterPrimaryOptions) {
    this.#options = options;
    this.#moves = new MoveCoordinator(
      {
        targets: (from) => this.#moveTargets(from),
        originOf: (worker) => this.#origins.get(worker),
        send: (worker, body) => options.hub.send(worker, body),
      },
      options.logger,
    );
    this.#routes = new ResumeRoutes(options.logger, (worker, body) => options.hub.send(worker, body), options.resumeServer);
    this.#timeoutMs = options.workerTimeoutMs ?? DEFAULT_WORKER_TIMEOUT_MS;
    cluster.setupPrimary({ serialization: 'advanced' });
  }

  /** Workers started to replace dead ones. */
  get replacementCount(): number {
    return this.#replacements;
  }

  /** What the primary counted: workers lost and replaced, and the relay's state now. */
  get stats(): ClusterStats {
    const hub = this.#options.hub;
    return {
      workersLost: { ...this.#lost },
      replacements: this.#replacements,
      relayQueuedBytes: hub.queuedBytes,
      heldRooms: hub.heldRoomCount,
      heldSenders: hub.heldSenderCount,
      senderHolds: hub.senderHoldCount,
      sessionMoves: this.#moves.stats,
    };
  }

  /** Live worker processes' pids, by worker index. */
  get workerPids(): readonly (number | undefined)[] {
    return this.#slots.map((slot) => slot.worker?.process.pid);
  }

  /** This worker's share of the server's session limit. */
  shareOf(index: number): number | undefined {
    const total = this.#options.maxSessionCount;
    if (total === undefined) return undefined;
    const n = this.#options.workers;
    return Math.max(1, Math.floor(total / n) + (index < total % n ? 1 : 0));
  }

  /** Starts every worker; resolves with the address once all listen, rejects if one fails first. */
  async start(): Promise<ServerAddress> {
    const started: Promise<ServerAddress>[] = [];
    for (let index = 0; index < this.#options.workers; index++) {
      const slot: Slot = { index, role: 'serving', gamewireVersion: undefined, appVersion: undefined, worker: undefined, startedAt: 0, failures: 0, ready: false, lastPongAt: 0, unresponsive: false, retry: undefined, moves: false, generation: 0 };
      this.#slots.push(slot);
      started.push(this.#options.nextIdBlock().then((block) => this.#spawn(slot, block)));
    }
    const interval = Math.max(1, Math.floor(this.#timeoutMs / PINGS_PER_TIMEOUT));
    this.#lastWatchAt = performance.now();
    this.#watch = setInterval(() => this.#heartbeat(interval), interval);
    this.#watch.unref();
    try {
      const addresses = await Promise.all(started);
      this.#address = addresses[0];
      return addresses[0] as ServerAddress;
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /**
   * Tells every worker to close gracefully and resolves once all have exited; a worker still running
   * `closeTimeoutMs` later (stopped, stuck in a loop) is killed, so the server exits in its grace period.
   */
  async close(drainMs = 0): Promise<ClusterTotals> {
    if (this.#closePromise !== undefined) {
      // A close during a drain cuts the drain short in every worker.
      if (drainMs === 0) for (const slot of [...this.#slots, ...this.#others]) if (slot.worker?.isConnected() === true) this.#options.hub.send(slot.worker, { type: 'close' });
      return this.#closePromise;
    }
    this.#closePromise = this.#closeOnce(drainMs);
    return this.#closePromise;
  }

  async #closeOnce(drainMs: number): Promise<ClusterTotals> {
    this.#closing = true;
    const { closeTimeoutMs, logger } = this.#options;
    const exits = [...this.#slots, ...this.#others].map((slot) => {
      const index = slot.index;
      clearTimeout(slot.retry);
      const worker = slot.worker;
      if (worker === undefined || worker.isDead()) return Promise.resolve();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      if (drainMs > 0) {
        // drain() told it already
      } else if (worker.isConnected()) this.#options.hub.send(worker, { type: 'close' });
      else worker.process.kill('SIGTERM');
      const deadline = setTimeout(() => {
        logger.error(
          { worker: index, pid: worker.process.pid, closeTimeoutMs },
          `worker ${index} did not close within ${closeTimeoutMs} ms; killing it (what its sessions had queued is lost)`,
        );
        worker.process.kill('SIGKILL');
      }, drainMs + closeTimeoutMs);
      return exited.finally(() => clearTimeout(deadline));
    });
    await Promise.all(exits);
    clearInterval(this.#watch);
    return { accepted: this.#accepted, refused: this.#refused };
  }

  /** Forks the worker of `slot` with id block `block`; resolves once it listens. */
  #spawn(slot: Slot, block: number): Promise<ServerAddress> {
    if (this.#closing) return Promise.reject(new Error('closing'));
    const index = slot.index;
    const share = this.shareOf(index);
    const route = this.#routes.next();
    const worker = cluster.fork({
      [WORKER_ENV.route]: String(route),
      [WORKER_ENV.server]: String(this.#routes.server),
      [WORKER_ENV.index]: String(index),
      [WORKER_ENV.count]: String(this.#options.workers),
      [WORKER_ENV.idBlock]: String(block),
      ...(share === undefined ? {} : { [WORKER_ENV.maxSessions]: String(share) }),
      ...this.#options.workerEnv,
    });
    this.#routes.bind(route, worker);
    slot.worker = worker;
    slot.startedAt = performance.now();
    slot.ready = false;
    slot.unresponsive = false;
    const { hub, logger } = this.#options;
    hub.addWorker(worker, block);
    this.#origins.set(worker, block);
    // A send racing the worker's exit fails with EPIPE / ERR_IPC_CHANNEL_CLOSED: the exit handles it.
    worker.on('error', (error: Error) => logger.debug({ worker: index, err: error }, 'worker IPC error'));
    return new Promise((resolve, reject) => {
      worker.on('message', (raw: unknown, handle: unknown) => {
        const message = parseToPrimary(raw);
        if (message === undefined) return;
        if (typeof message === 'string' || (handle !== undefined && message.type !== 'resume-route')) {
          countDropped('ipc', typeof message === 'string' ? message : 'malformed', logger, { worker: index });
          ResumeRoutes.dropHandle(handle);
          return;
        }
        hub.heard(worker, message.v);
        switch (message.type) {
          case 'resume-route':
            this.#routes.pass(worker, message, handle);
            return;
          case 'join':
            hub.join(worker, message.room);
            return;
          case 'leave':
            hub.leave(worker, message.room);
            return;
          case 'move-ask':
          case 'move-prepared':
          case 'move-refused':
          case 'moved':
          case 'move-failed':
          case 'move-done':
            this.#moves.receive(worker, message);
            return;
          case 'publish': {
            this.#moves.published(worker, message.seq);
            const frame = decodeRoomFrame(message.frame);
            if (typeof frame === 'string') countDropped('ipc', frame, logger, { worker: index, room: message.room, bytes: message.frame.length });
            else hub.publish(worker, message.room, message.frame, frame.message);
            return;
          }
          case 'flow':
            hub.flow(worker, message.room, message.held);
            return;
          case 'sender-flow':
            if (!hub.senderFlow(worker, message.room, message.origin, message.session, message.held)) {
              countDropped('ipc', 'malformed', logger, { worker: index, room: message.room, type: message.type });
            }
            return;
          case 'pong':
            slot.lastPongAt = performance.now();
            return;
          case 'ready':
            slot.ready = true;
            slot.lastPongAt = performance.now();
            this.#routes.listening(route);
            slot.gamewireVersion = message.gamewireVersion;
            slot.appVersion = message.appVersion;
            slot.moves = message.moves === true;
            resolve({ host: message.host, port: message.port, wsPort: message.wsPort });
            return;
          case 'failed':
            reject(new Error(message.message));
            return;
          case 'closed':
            this.#accepted += message.accepted;
            this.#refused += message.refused;
            return;
          case 'metrics-reply':
            return; // read by the metrics layer's own listener (metrics/cluster-metrics.ts)
        }
      });
      worker.on('exit', (code, signal) => {
        this.#routes.exited(route, worker);
        this.#moves.workerGone(worker);
        this.#origins.delete(worker);
        hub.removeWorker(worker);
        if (slot.worker === worker) slot.worker = undefined;
        const wasReady = slot.ready;
        slot.ready = false;
        if (!wasReady) reject(new Error(`worker ${index} exited (${signal ?? code}) before listening`));
        // A worker that fails at the first start fails the start; one that dies later is replaced
        // (not one a reload started or retired: the reload decides about those).
        if (this.#closing || this.#address === undefined || slot.role !== 'serving') return;
        if (!slot.unresponsive) this.#lost.exited++;
        const ranMs = performance.now() - slot.startedAt;
        slot.failures = wasReady && ranMs >= HEALTHY_AFTER_MS ? 0 : slot.failures + 1;
        const delayMs = respawnDelay(slot.failures);
        const what = wasReady ? 'died' : 'exited before listening';
        logger.error(
          { worker: index, workerPid: worker.process.pid, exitCode: code, signal, delayMs },
          `worker ${index} ${what} (${signal ?? `exit code ${code}`}); its sessions are lost, starting a replacement${delayMs > 0 ? ` in ${delayMs} ms` : ''}`,
        );
        this.#retryLater(slot, delayMs);
      });
    });
  }

  /**
   * Where the sessions of draining worker `from` may move: listening workers of a newer generation
   * (the new code of a reload, not an old worker about to drain in turn) that can take sessions.
   */
  #moveTargets(from: Worker): Worker[] {
    const all = [...this.#slots, ...this.#others];
    const generation = all.find((slot) => slot.worker === from)?.generation ?? Number.POSITIVE_INFINITY;
    return all
      .filter((slot) => slot.role !== 'retired' && slot.ready && slot.moves && slot.generation > generation && slot.worker?.isConnected() === true)
      .sort((a, b) => a.index - b.index)
      .map((slot) => slot.worker as Worker);
  }

  /** True once close() began. */
  get closing(): boolean {
    return this.#closing;
  }

  /** The serving workers that listen, with what they run. */
  get workers(): WorkerInfo[] {
    const infos: WorkerInfo[] = [];
    for (const slot of this.#slots) {
      const pid = slot.worker?.process.pid;
      if (pid === undefined || !slot.ready) continue;
      infos.push({ index: slot.index, pid, gamewireVersion: slot.gamewireVersion, appVersion: slot.appVersion });
    }
    return infos;
  }

  /** How many worker places there are. */
  get slotCount(): number {
    return this.#slots.length;
  }

  /**
   * For a rolling reload: forks a standby worker for place `index` beside the serving one, from the
   * code on disk; resolves with its slot once it listens, rejects if it fails first or does not listen
   * within `timeoutMs` (it is killed then). It is not watched or replaced until {@link swapIn}.
   */
  async startStandby(index: number, timeoutMs: number): Promise<Slot> {
    if (this.#closing) throw new Error('the server is closing');
    const generation = ++this.#generations;
    const slot: Slot = { index, role: 'standby', gamewireVersion: undefined, appVersion: undefined, worker: undefined, startedAt: 0, failures: 0, ready: false, lastPongAt: 0, unresponsive: false, retry: undefined, moves: false, generation };
    this.#others.add(slot);
    const block = await this.#options.nextIdBlock();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker ${index} of the new code did not listen within ${timeoutMs} ms (workerStartTimeoutMs)`)), timeoutMs);
    });
    try {
      await Promise.race([this.#spawn(slot, block), late]);
      return slot;
    } catch (error) {
      this.discardStandby(slot);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A standby that will not serve: killed (it has no sessions). */
  discardStandby(slot: Slot): void {
    slot.role = 'retired';
    const worker = slot.worker;
    if (worker === undefined || worker.isDead()) {
      this.#others.delete(slot);
      return;
    }
    worker.once('exit', () => this.#others.delete(slot));
    worker.process.kill('SIGKILL');
  }

  /** Makes `standby` the serving worker of its place; returns the slot it replaces (now retired). */
  /**
   * Tells a worker to stop accepting (its sessions go on): node:cluster then hands it no more
   * connections. A worker of a release that does not know the message drops it (counted) and keeps
   * accepting until its drain.
   */
  stopAccepting(slot: Slot): void {
    const worker = slot.worker;
    if (worker !== undefined && worker.isConnected()) this.#options.hub.send(worker, { type: 'stop-accepting' });
  }

  swapIn(standby: Slot): Slot {
    const old = this.#slots[standby.index] as Slot;
    old.role = 'retired';
    clearTimeout(old.retry);
    standby.role = 'serving';
    this.#others.delete(standby);
    this.#others.add(old);
    this.#slots[standby.index] = standby;
    return old;
  }

  /**
   * Drains a retired worker: it stops accepting (node:cluster then hands it no more connections), its
   * sessions run at most `timeoutMs`, then it closes and exits; resolves once it exited. One not gone
   * `closeTimeoutMs` after the deadline is killed.
   */
  drainRetired(slot: Slot, timeoutMs: number): Promise<void> {
    const worker = slot.worker;
    if (worker === undefined || worker.isDead()) {
      this.#others.delete(slot);
      return Promise.resolve();
    }
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Its resumable sessions move to the new workers (those that can take them) instead of waiting.
    this.#options.hub.send(worker, { type: 'drain', timeoutMs, moveResumable: slot.moves });
    const closeTimeoutMs = this.#options.closeTimeoutMs;
    // A worker of a release that does not know `drain` dropped it: it is told to close a little
    // after the deadline (one that drains closes by itself first), and killed if still there later.
    const nudge = setTimeout(() => {
      if (worker.isConnected()) this.#options.hub.send(worker, { type: 'close' });
    }, timeoutMs + Math.min(1000, closeTimeoutMs / 2));
    const killAfterMs = timeoutMs + closeTimeoutMs;
    const deadline = setTimeout(() => {
      this.#options.logger.error(
        { worker: slot.index, workerPid: worker.process.pid, drainTimeoutMs: timeoutMs },
        `old worker ${slot.index} did not exit within ${killAfterMs} ms of its drain; killing it`,
      );
      worker.process.kill('SIGKILL');
    }, killAfterMs);
    return exited.finally(() => {
      clearTimeout(nudge);
      clearTimeout(deadline);
      this.#others.delete(slot);
    });
  }

  /**
   * Drains every worker at once, then resolves as close() does: each stops accepting, its sessions
   * run at most `timeoutMs`, the rest end with `SERVICE_DRAINED`. A close() meanwhile cuts it short.
   */
  async drain(timeoutMs: number): Promise<ClusterTotals> {
    if (this.#closing) return this.close();
    for (const slot of [...this.#slots, ...this.#others]) {
      const worker = slot.worker;
      if (worker !== undefined && worker.isConnected()) this.#options.hub.send(worker, { type: 'drain', timeoutMs });
    }
    // Workers that drain must not be replaced when they exit, and close() bounds the wait.
    return this.close(timeoutMs);
  }

  #retryLater(slot: Slot, delayMs: number): void {
    clearTimeout(slot.retry);
    slot.retry = setTimeout(() => void this.#replace(slot), delayMs);
    slot.retry.unref();
  }

  /** One try at starting the replacement of `slot`; a failure schedules the next (the worker's exit, or here). */
  async #replace(slot: Slot): Promise<void> {
    slot.retry = undefined;
    if (this.#closing) return;
    const logger = this.#options.logger;
    let block: number;
    try {
      block = await this.#options.nextIdBlock();
    } catch (error) {
      if (this.#closing) return;
      slot.failures++;
      const delayMs = respawnDelay(slot.failures);
      const err = redisErrorFields(error);
      logger.warn({ worker: slot.index, err, attempt: slot.failures, delayMs }, `worker ${slot.index} cannot be replaced yet (no id block: ${err.message}); trying again in ${delayMs} ms`);
      this.#retryLater(slot, delayMs);
      return;
    }
    this.#spawn(slot, block).then(
      () => {
        this.#replacements++;
        logger.info({ worker: slot.index, workerPid: slot.worker?.process.pid }, `worker ${slot.index} replaced`);
      },
      () => {}, // its exit logs it and schedules the next try
    );
  }

  /** Each tick: judge the workers' silence, and ping those that listen. */
  #heartbeat(intervalMs: number): void {
    const now = performance.now();
    // The primary itself was blocked: the workers' answers wait unread in its pipes, so nobody is judged on this window.
    const stalled = now - this.#lastWatchAt > 2 * intervalMs + 50;
    this.#lastWatchAt = now;
    for (const slot of this.#slots) {
      const worker = slot.worker;
      if (worker === undefined || !slot.ready || slot.unresponsive) continue;
      if (stalled) slot.lastPongAt = now;
      const silentMs = now - slot.lastPongAt;
      if (silentMs > this.#timeoutMs) this.#kill(slot, worker, silentMs);
      else this.#options.hub.send(worker, { type: 'ping', seq: ++this.#pingSeq });
    }
  }

  #kill(slot: Slot, worker: Worker, silentMs: number): void {
    slot.unresponsive = true;
    this.#lost.unresponsive++;
    const pid = worker.process.pid;
    this.#options.logger.error(
      { worker: slot.index, workerPid: pid, silentMs: Math.round(silentMs), workerTimeoutMs: this.#timeoutMs, queuedBytes: this.#options.hub.queuedBytesOf(worker) },
      `worker ${slot.index} (pid ${pid}) has not answered the primary for ${Math.round(silentMs)} ms (workerTimeoutMs ${this.#timeoutMs}): ` +
        `it is stopped or its event loop is blocked (a busy loop, a long synchronous task); killing it${this.#closing ? '' : ' and starting a replacement'}`,
    );
    worker.process.kill('SIGKILL');
  }
}

function respawnDelay(failures: number): number {
  return failures === 0 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, FIRST_RESPAWN_DELAY_MS * 2 ** (failures - 1));
}
