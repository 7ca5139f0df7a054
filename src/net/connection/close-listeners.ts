import type { DisconnectCause } from '../../core/disconnect-cause.js';
import { logSafely, type Logger } from '../../core/logger.js';
import type { CloseListener } from '../session-owner.js';

/** Removes `listener` from `list` (nothing when it is not there). */
export function removeCloseListener(list: CloseListener[] | undefined, listener: CloseListener): void {
  const index = list === undefined ? -1 : list.indexOf(listener);
  if (index >= 0) list?.splice(index, 1);
}

/**
 * Runs each listener once with `session` and `cause`, in the order they were added. A throwing listener
 * is logged and the rest still run: a room's bookkeeping must not stop another's.
 */
export function runCloseListeners(listeners: readonly CloseListener[], session: object, cause: DisconnectCause, logger: Logger): void {
  for (const listener of listeners) {
    try {
      listener(session, cause);
    } catch (error) {
      logSafely(logger, 'error', { err: error }, 'close listener threw');
    }
  }
}
