import type { Socket } from 'node:net';
import { pino } from 'pino';
import { loadBot } from '../bots/bot-loader.js';
import { BotRunner, type DrainResult } from './bot-runner.js';
import { isParentMessage, type ParentMessage, type WorkerConfig, type WorkerMessage } from './ipc-messages.js';

/** How often a worker reports its metrics to the parent, ms. */
export const WORKER_TICK_MS = 1_000;

/**
 * The body of a load test worker process (forked by the parent with an IPC channel): follows the
 * protocol of `ipc-messages.ts`. Ignores SIGINT/SIGTERM (a terminal's Ctrl-C reaches the whole process
 * group: the parent decides when the run ends) and stops at once if the parent goes away.
 */
export function runWorkerProcess(): void {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('the load test worker must be started by the load test (no IPC channel)');
  const post = (message: WorkerMessage, then?: () => void): void => {
    if (!process.connected) return;
    send(message, undefined, undefined, (error: Error | null) => {
      if (error === null) then?.();
    });
  };
  let runner: BotRunner | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let stopping = false;

  // A fatal error and the end of the run can both come: disconnect once.
  const disconnect = (): void => {
    if (process.connected) process.disconnect();
  };
  const fail = (error: unknown): void => {
    post({ type: 'fatal', message: error instanceof Error ? error.message : String(error) }, disconnect);
    process.exitCode = 1;
  };

  const finish = (result: DrainResult): void => {
    if (ticker !== undefined) clearInterval(ticker);
    ticker = undefined;
    const active = runner as BotRunner;
    const snapshot = active.snapshot();
    active.destroy();
    post({ type: 'final', snapshot, drained: result.drained, drainMs: result.drainMs }, disconnect);
  };

  const stop = (abort: boolean): void => {
    if (stopping) return;
    stopping = true;
    if (runner === undefined) {
      if (process.connected) process.disconnect();
      return;
    }
    (abort ? runner.abort() : runner.stop()).then(finish, fail);
  };

  const init = async (config: WorkerConfig): Promise<void> => {
    const bot = await loadBot(config.bot);
    // stdout belongs to the parent's live view: log to stderr, by default only errors (a bot hook that
    // threw, a session factory that failed), which are bugs worth seeing.
    const logger = pino(
      { name: `loadtest-worker-${config.workerIndex}`, level: process.env['GAMEWIRE_LOG_LEVEL'] ?? 'error' },
      pino.destination(2),
    );
    runner = new BotRunner(
      config,
      bot,
      logger,
      (error) => {
        fail(error);
        stop(true);
      },
      holdInParent,
    );
    post({ type: 'ready' });
  };

  const onMessage = (message: ParentMessage): void => {
    switch (message.type) {
      case 'init':
        init(message.config).catch(fail);
        return;
      case 'start':
        if (runner === undefined || stopping) return;
        runner.start();
        ticker = setInterval(() => post({ type: 'tick', snapshot: (runner as BotRunner).snapshot() }), WORKER_TICK_MS);
        return;
      case 'stop':
        stop(false);
        return;
    }
  };

  process.on('message', (message: unknown) => {
    if (isParentMessage(message)) onMessage(message);
  });
  process.on('disconnect', () => stop(true));
  process.on('SIGINT', ignoreSignal);
  process.on('SIGTERM', ignoreSignal);
}

function ignoreSignal(): void {}

/**
 * Chaos's silent drop: the socket goes to the parent, which holds it open (keepOpen leaves this
 * process's copy for the caller to close: with the parent's copy open, closing it sends nothing).
 */
function holdInParent(socket: Socket): Promise<boolean> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected || socket.destroyed) {
      resolve(false);
      return;
    }
    const message: WorkerMessage = { type: 'hold' };
    process.send(message, socket, { keepOpen: true }, (error: Error | null) => resolve(error === null));
  });
}
