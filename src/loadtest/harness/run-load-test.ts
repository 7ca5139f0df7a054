import { fork, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../core/defaults.js';
import { loadBot, resolveBotSpec } from '../bots/bot-loader.js';
import { isWorkerMessage, type ParentMessage, type WorkerConfig, type WorkerMessage } from './ipc-messages.js';
import { planWorkers, resolveLoadTestConfig, type LoadTestConfig, type LoadTestOptions } from './load-test-config.js';
import { buildReport, type LoadTestReport } from './load-test-report.js';
import { errorCount, RunAggregator, type LoadTestPoint, type LoadTestTotals } from './run-aggregator.js';

/** The compiled worker entry this module forks (next to this file in dist/). */
const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.js', import.meta.url));
/** How long the workers may take to start and load the bot, ms. */
const READY_TIMEOUT_MS = 30_000;
/** Beyond the drain timeout, how long the workers may take to close their sessions before being killed, ms. */
const EXIT_MARGIN_MS = DEFAULTS.closeGraceMs + 10_000;

/** The run so far, as the live view sees it with each point. */
export interface LoadTestProgress {
  readonly config: LoadTestConfig;
  /** Totals so far (a live object: read it during the call). */
  readonly totals: Readonly<LoadTestTotals>;
  /** Errors so far (see `errorCount`). */
  readonly errors: number;
  /** True once the run is ending (draining and closing). */
  readonly stopping: boolean;
}

/** Ways to follow and steer a run. */
export interface LoadTestHooks {
  /** Ends the run early; it still drains and reports as usual. */
  readonly signal?: AbortSignal;
  /** Called once the workers are ready, as the sessions begin to open. */
  readonly onStart?: (config: LoadTestConfig) => void;
  /** Called with each second of the run once every worker has reported it. */
  readonly onPoint?: (point: LoadTestPoint, progress: LoadTestProgress) => void;
}

/** The run could not start: a worker failed to start or to load the bot. */
export class LoadTestError extends Error {
  override readonly name = 'LoadTestError';
}

/** The parent's view of one worker process. */
class WorkerHandle {
  ready = false;
  finalReceived = false;
  closed = false;
  drained = true;
  drainMs = 0;
  error: string | undefined;
  readonly closedPromise: Promise<void>;

  constructor(
    readonly index: number,
    readonly child: ChildProcess,
  ) {
    this.closedPromise = new Promise((resolve) => {
      // 'close' comes after the exit and after the IPC channel closed, so every message was read.
      child.once('close', (code, signal) => {
        this.closed = true;
        if (!this.finalReceived && this.error === undefined) {
          this.error = `worker ${index} exited (${signal ?? `code ${String(code)}`}) without its final report`;
        }
        resolve();
      });
    });
    child.once('error', (error) => {
      this.error ??= `worker ${index}: ${error.message}`;
    });
  }

  post(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message, (error) => void error);
  }
}

/**
 * Runs a load test: loads the bot, forks `workers` worker processes (each with 1/N of the sessions
 * and its own ClientService), starts them together, adds up their metrics once per second, ends the
 * run after `durationMs` (or on `hooks.signal`) by letting the answers in flight drain, and resolves
 * with the report once every worker has exited.
 * @throws InvalidOptionError for an option out of range; BotLoadError for a bad bot; LoadTestError
 * when a worker cannot start.
 */
export async function runLoadTest(options: LoadTestOptions, hooks: LoadTestHooks = {}): Promise<LoadTestReport> {
  const botSpec = resolveBotSpec(options.bot ?? 'echo');
  const config = resolveLoadTestConfig(options, await loadBot(botSpec));
  const plans = planWorkers(config, botSpec);
  const aggregator = new RunAggregator(plans.length);
  try {
    return await run(config, plans, aggregator, hooks);
  } finally {
    aggregator.destroy();
  }
}

async function run(
  config: LoadTestConfig,
  plans: readonly WorkerConfig[],
  aggregator: RunAggregator,
  hooks: LoadTestHooks,
): Promise<LoadTestReport> {
  let stopping = false;
  const emit = (points: readonly LoadTestPoint[]): void => {
    if (hooks.onPoint === undefined) return;
    const totals = aggregator.totals;
    for (const point of points) hooks.onPoint(point, { config, totals, errors: errorCount(totals), stopping });
  };
  let readyCheck = (): void => {};
  // Connections chaos dropped silently: held open, unread and unwritten, until the run is over.
  const held = new Set<Socket>();
  const hold = (socket: Socket): void => {
    socket.pause();
    socket.on('error', ignore);
    socket.once('close', () => held.delete(socket));
    held.add(socket);
  };
  const handles = plans.map((plan) => {
    const child = fork(WORKER_ENTRY, [], {
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    const handle = new WorkerHandle(plan.workerIndex, child);
    child.on('message', (message: unknown, sent: unknown) => {
      if (!isWorkerMessage(message)) return;
      if (message.type === 'hold') {
        if (sent instanceof Socket) hold(sent);
        return;
      }
      onWorkerMessage(handle, message);
      readyCheck();
    });
    void handle.closedPromise.then(() => {
      if (handle.ready) emit(aggregator.finishWorker(handle.index));
      readyCheck();
    });
    return handle;
  });
  const onWorkerMessage = (handle: WorkerHandle, message: WorkerMessage): void => {
    switch (message.type) {
      case 'ready':
        handle.ready = true;
        return;
      case 'tick':
        emit(aggregator.add(handle.index, message.snapshot));
        return;
      case 'final':
        handle.finalReceived = true;
        handle.drained = message.drained;
        handle.drainMs = message.drainMs;
        emit(aggregator.add(handle.index, message.snapshot));
        emit(aggregator.finishWorker(handle.index));
        return;
      case 'fatal':
        handle.error = `worker ${handle.index}: ${message.message}`;
        return;
      case 'hold':
        return;
    }
  };
  const allClosed = (): Promise<void[]> => Promise.all(handles.map((handle) => handle.closedPromise));

  // Phase 1: every worker loads the bot and says it is ready.
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LoadTestError(`workers not ready after ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    readyCheck = () => {
      const failed = handles.find((handle) => handle.error !== undefined || (handle.closed && !handle.ready));
      if (failed !== undefined || handles.every((handle) => handle.ready)) {
        clearTimeout(timer);
        readyCheck = () => {};
        if (failed === undefined) resolve();
        else reject(new LoadTestError(failed.error ?? `worker ${failed.index} exited before it was ready`));
      }
    };
  });
  plans.forEach((plan, index) => handles[index]?.post({ type: 'init', config: plan }));
  try {
    await ready;
  } catch (error) {
    for (const handle of handles) if (!handle.closed) handle.child.kill('SIGKILL');
    await allClosed();
    throw error;
  }

  // Phase 2: run for the duration (or until stopped).
  const startedAt = new Date();
  for (const handle of handles) handle.post({ type: 'start' });
  hooks.onStart?.(config);
  let durationTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    if (durationTimer !== undefined) clearTimeout(durationTimer);
    for (const handle of handles) handle.post({ type: 'stop' });
    killTimer = setTimeout(() => {
      for (const handle of handles) {
        if (handle.closed) continue;
        handle.error ??= `worker ${handle.index} did not finish within ${config.drainTimeoutMs + EXIT_MARGIN_MS} ms; killed`;
        handle.child.kill('SIGKILL');
      }
    }, config.drainTimeoutMs + EXIT_MARGIN_MS);
  };
  if (config.durationMs > 0) durationTimer = setTimeout(stop, config.durationMs);
  const signal = hooks.signal;
  if (signal?.aborted === true) stop();
  signal?.addEventListener('abort', stop, { once: true });

  // Phase 3: the workers drain, close, send their final report and exit.
  await allClosed();
  // The silently dropped connections end as a host that comes back does: with an RST.
  for (const socket of held) socket.resetAndDestroy();
  held.clear();
  if (durationTimer !== undefined) clearTimeout(durationTimer);
  if (killTimer !== undefined) clearTimeout(killTimer);
  signal?.removeEventListener('abort', stop);
  stopping = true;
  emit(aggregator.flush());

  const workerErrors = handles.flatMap((handle) => (handle.error === undefined ? [] : [handle.error]));
  aggregator.totals.workerFailures = handles.filter((handle) => !handle.finalReceived).length;
  return buildReport({
    config,
    startedAt,
    endedAt: new Date(),
    totals: aggregator.totals,
    latency: aggregator.latency,
    series: aggregator.series,
    drained: handles.every((handle) => handle.drained),
    maxDrainMs: Math.max(0, ...handles.map((handle) => handle.drainMs)),
    workerErrors,
  });
}

function ignore(): void {}
