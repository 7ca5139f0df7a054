import { FORCED_EXIT_CODE, type SignalLogger } from './command.js';

/** What the signals ask a server command to do. */
export interface ServerSignalActions {
  /** SIGTERM: drain (stop accepting, let the sessions run until `--drain-timeout-ms`), then close. */
  drain(): void;
  /** SIGINT, or a second SIGTERM/SIGINT while draining: close now (gracefully, `closeGraceMs`). */
  close(): void;
  /** SIGHUP: a rolling reload of the workers; undefined where there is none (one process). */
  readonly reload: (() => void) | undefined;
}

/**
 * The signals of a CLI server (docs/deploying.md, docs/errors.md "Signals"):
 * - SIGTERM drains first (what a Kubernetes pod gets after its `preStop`); SIGINT (Ctrl-C) closes.
 * - While draining, SIGTERM or SIGINT again closes at once (the sessions left end `SERVICE_DRAINED`).
 * - While closing, SIGTERM again is ignored (a supervisor repeating itself) and SIGINT again exits
 *   at once with code 130 (a person who wants out).
 * - SIGHUP, with workers, starts a rolling reload (one at a time); without, Node's default applies.
 * Every handler stays for the life of the process: a signal with no listener kills it.
 */
export function handleServerSignals(logger: SignalLogger, actions: ServerSignalActions): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let state: 'running' | 'draining' | 'closing' = 'running';
    const onSignal = (signal: NodeJS.Signals): void => {
      if (state === 'running') {
        resolve(signal);
        if (signal === 'SIGTERM') {
          state = 'draining';
          actions.drain();
        } else {
          state = 'closing';
          actions.close();
        }
        return;
      }
      if (state === 'draining') {
        state = 'closing';
        report(logger, { signal }, `${signal} while draining: closing now (the sessions left end with SERVICE_DRAINED)`);
        actions.close();
        return;
      }
      if (signal === 'SIGTERM') {
        report(logger, { signal }, 'SIGTERM again while closing: ignored, the graceful close goes on (SIGINT twice forces an exit)');
        return;
      }
      report(logger, { signal, exitCode: FORCED_EXIT_CODE }, 'SIGINT again while closing: exiting now without finishing the close');
      process.exit(FORCED_EXIT_CODE);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const reload = actions.reload;
    if (reload !== undefined) {
      process.on('SIGHUP', () => {
        if (state === 'running') reload();
        else report(logger, { signal: 'SIGHUP' }, `SIGHUP while ${state}: ignored (no reload)`);
      });
    }
  });
}

function report(logger: SignalLogger, fields: object, message: string): void {
  try {
    logger.warn(fields, message);
  } catch {
    // the action happens anyway
  }
}
