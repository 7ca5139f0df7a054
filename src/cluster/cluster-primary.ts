import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../core/logger.js';
import { GW, isGamewireMessage, WORKER_ENV, type ToPrimary, type ToWorker } from './cluster-messages.js';
import type { RoomHub } from './room-hub.js';
import type { ClusterTotals } from './worker-types.js';

/** A worker that ran this long before dying is replaced at once; one that dies sooner, after a growing delay. */
const HEALTHY_AFTER_MS = 10_000;
const MAX_RESPAWN_DELAY_MS = 10_000;


/** What the primary needs to run its workers. */
/** Where the workers serve: the TCP port and, with `ws`, the WebSocket port. */
export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly wsPort?: number | undefined;
}

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
}

interface Slot {
  worker: Worker | undefined;
  startedAt: number;
  failures: number;
}

/**
 * The primary of `runWorkers`: forks the workers (node:cluster, round-robin accept), waits until all
 * listen, relays room messages through the {@link RoomHub}, replaces a worker that dies, and closes
 * them all gracefully.
 */
export class ClusterPrimary {
  readonly #options: ClusterPrimaryOptions;
  readonly #slots: Slot[] = [];
  #closing = false;
  #accepted = 0;
  #refused = 0;
  #replacements = 0;
  #address: ServerAddress | undefined;

  constructor(options: ClusterPrimaryOptions) {
    this.#options = options;
    cluster.setupPrimary({ serialization: 'advanced' });
  }

  /** Workers started to replace dead ones. */
  get replacementCount(): number {
    return this.#replacements;
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
      this.#slots.push({ worker: undefined, startedAt: 0, failures: 0 });
      started.push(this.#fork(index));
    }
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
  async close(): Promise<ClusterTotals> {
    this.#closing = true;
    const { closeTimeoutMs, logger } = this.#options;
    const exits = this.#slots.map((slot, index) => {
      const worker = slot.worker;
      if (worker === undefined || worker.isDead()) return Promise.resolve();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      if (worker.isConnected()) worker.send({ gw: GW, type: 'close' } satisfies ToWorker);
      else worker.process.kill('SIGTERM');
      const deadline = setTimeout(() => {
        logger.error(
          { worker: index, pid: worker.process.pid, closeTimeoutMs },
          `worker ${index} did not close within ${closeTimeoutMs} ms; killing it (what its sessions had queued is lost)`,
        );
        worker.process.kill('SIGKILL');
      }, closeTimeoutMs);
      return exited.finally(() => clearTimeout(deadline));
    });
    await Promise.all(exits);
    return { accepted: this.#accepted, refused: this.#refused };
  }

  async #fork(index: number): Promise<ServerAddress> {
    const block = await this.#options.nextIdBlock();
    if (this.#closing) throw new Error('closing');
    const slot = this.#slots[index] as Slot;
    const share = this.shareOf(index);
    const worker = cluster.fork({
      [WORKER_ENV.index]: String(index),
      [WORKER_ENV.count]: String(this.#options.workers),
      [WORKER_ENV.idBlock]: String(block),
      ...(share === undefined ? {} : { [WORKER_ENV.maxSessions]: String(share) }),
      ...this.#options.workerEnv,
    });
    slot.worker = worker;
    slot.startedAt = performance.now();
    const hub = this.#options.hub;
    hub.addWorker(worker, block);
    // A send racing the worker's exit fails with EPIPE / ERR_IPC_CHANNEL_CLOSED: the exit handles it.
    worker.on('error', (error: Error) => this.#options.logger.debug({ worker: index, err: error }, 'worker IPC error'));
    return new Promise((resolve, reject) => {
      let ready = false;
      worker.on('message', (raw: unknown) => {
        if (!isGamewireMessage(raw)) return;
        const message = raw as ToPrimary;
        switch (message.type) {
          case 'join':
            hub.join(worker, message.room);
            return;
          case 'leave':
            hub.leave(worker, message.room);
            return;
          case 'publish':
            hub.publish(worker, message.room, message.message);
            return;
          case 'ready':
            ready = true;
            resolve({ host: message.host, port: message.port, wsPort: message.wsPort });
            return;
          case 'failed':
            reject(new Error(message.message));
            return;
          case 'closed':
            this.#accepted += message.accepted;
            this.#refused += message.refused;
            return;
        }
      });
      worker.on('exit', (code, signal) => {
        hub.removeWorker(worker);
        if (slot.worker === worker) slot.worker = undefined;
        if (!ready) reject(new Error(`worker ${index} exited (${signal ?? code}) before listening`));
        // A worker that fails at the first start fails the start; a replacement that fails is retried.
        if (this.#closing || (!ready && this.#address === undefined)) return;
        this.#replace(index, slot, code, signal);
      });
    });
  }

  #replace(index: number, slot: Slot, code: number | null, signal: string | null): void {
    const ranMs = performance.now() - slot.startedAt;
    slot.failures = ranMs >= HEALTHY_AFTER_MS ? 0 : slot.failures + 1;
    const delayMs = slot.failures === 0 ? 0 : Math.min(MAX_RESPAWN_DELAY_MS, 100 * 2 ** (slot.failures - 1));
    const logger = this.#options.logger;
    logger.error(
      { worker: index, exitCode: code, signal, delayMs },
      `worker ${index} died (${signal ?? `exit code ${code}`}); its sessions are lost, starting a replacement`,
    );
    const timer = setTimeout(() => {
      if (this.#closing) return;
      this.#fork(index).then(
        () => {
          this.#replacements++;
          logger.info({ worker: index, pid: slot.worker?.process.pid }, `worker ${index} replaced`);
        },
        (error: unknown) => logger.error({ worker: index, err: error }, `worker ${index} replacement failed`),
      );
    }, delayMs);
    timer.unref();
  }
}
