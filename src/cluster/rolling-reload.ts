import type { Logger } from '../core/logger.js';
import type { ClusterPrimary, Slot } from './cluster-primary.js';
import type { ReloadResult, WorkerInfo } from './worker-types.js';

/** What a rolling reload needs besides the primary. */
export interface RollingReloadOptions {
  /** How long each old worker's sessions may run once it drains, ms. */
  readonly drainTimeoutMs: number;
  /** How long each new worker may take to listen, ms. */
  readonly startTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * Rolling reloads of a cluster primary, one at a time: a reload asked while one runs is refused
 * (resolves at once with `ok: false`): the running one already loads the newest code on disk.
 *
 * The order keeps the server serving throughout: every new worker is started and listening first
 * (node:cluster's round-robin then hands new connections to old and new alike), so a new code that
 * fails to start costs nothing; only then is each old worker drained, one at a time, so that at
 * most one worker's players are reconnecting at once. A draining worker closes its listeners,
 * which takes it out of the round-robin: from then on new connections go only to workers that
 * listen, never to one that drains. Rooms span old and new workers meanwhile (the IPC messages
 * are versioned: cluster-protocol.ts).
 */
export class RollingReload {
  readonly #primary: ClusterPrimary;
  readonly #options: RollingReloadOptions;
  #running = false;

  constructor(primary: ClusterPrimary, options: RollingReloadOptions) {
    this.#primary = primary;
    this.#options = options;
  }

  /** True while a reload runs. */
  get running(): boolean {
    return this.#running;
  }

  /** One rolling reload; never rejects. */
  async reload(): Promise<ReloadResult> {
    const startedAt = performance.now();
    const primary = this.#primary;
    const result = (ok: boolean, error?: string): ReloadResult => ({
      ok,
      error,
      workers: primary.workers,
      durationMs: Math.round(performance.now() - startedAt),
    });
    if (this.#running) return result(false, 'a reload is already running');
    if (primary.closing) return result(false, 'the server is closing');
    this.#running = true;
    try {
      return await this.#run(result);
    } finally {
      this.#running = false;
    }
  }

  async #run(result: (ok: boolean, error?: string) => ReloadResult): Promise<ReloadResult> {
    const primary = this.#primary;
    const { logger, drainTimeoutMs, startTimeoutMs } = this.#options;
    const before = primary.workers;
    logger.info({ workers: before.map(describe) }, `reload: starting ${primary.slotCount} workers of the code on disk`);
    // Started one after the other: a new worker that fails stops the reload before the next one forks.
    const standbys: Slot[] = [];
    for (let index = 0; index < primary.slotCount; index++) {
      try {
        standbys.push(await primary.startStandby(index, startTimeoutMs));
      } catch (error) {
        for (const standby of standbys) primary.discardStandby(standby);
        const reason = error instanceof Error ? error.message : String(error);
        logger.error(
          { worker: index, err: reason },
          `reload aborted: new worker ${index} failed to start (${reason}); the old workers keep serving; fix the code and reload again`,
        );
        return result(false, `new worker ${index} failed to start: ${reason}`);
      }
      if (primary.closing) {
        for (const standby of standbys) primary.discardStandby(standby);
        return result(false, 'the server is closing');
      }
    }
    logger.info({ workers: standbys.map((slot) => describe(infoOf(slot))) }, 'reload: every new worker listens; draining the old ones one at a time');
    // Every old worker stops accepting now, not when its turn to drain comes: a client that
    // connects (or reconnects, drained from the first old worker) meanwhile lands on new code only.
    const olds = standbys.map((standby) => primary.swapIn(standby));
    for (const old of olds) primary.stopAccepting(old);
    for (const old of olds) {
      const pid = old.worker?.process.pid;
      logger.info({ worker: old.index, workerPid: pid, drainTimeoutMs }, `reload: draining old worker ${old.index} (pid ${pid})`);
      await primary.drainRetired(old, drainTimeoutMs);
    }
    const done = result(true);
    logger.info({ workers: done.workers.map(describe), durationMs: done.durationMs }, `reload done: ${done.workers.map(describe).join(', ')}`);
    return done;
  }
}

function infoOf(slot: Slot): WorkerInfo {
  return { index: slot.index, pid: slot.worker?.process.pid ?? 0, gamewireVersion: slot.gamewireVersion, appVersion: slot.appVersion };
}

/** `worker 0 pid 123 gamewire 0.1.0 app v2`, for the log. */
function describe(info: WorkerInfo): string {
  return `worker ${info.index} pid ${info.pid} gamewire ${info.gamewireVersion ?? '?'}${info.appVersion === undefined ? '' : ` app ${info.appVersion}`}`;
}
