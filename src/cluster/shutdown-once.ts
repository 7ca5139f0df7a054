import type { ServerService } from '../net/server-service.js';
import type { Session } from '../net/session.js';

/**
 * The one shutdown of a process's service, as a function called with a drain deadline (drain first)
 * or without (close now). Every call returns the same promise: a drain ends in the close it began,
 * and a close asked during a drain cuts the drain short (the sessions left end `SERVICE_DRAINED`).
 * `finish` runs once, after the service has drained (if asked) and before it closes: what the process
 * tears down around the service, ending with its own close.
 */
export function shutdownOnce<T>(service: ServerService<Session>, finish: () => Promise<T>): (drainTimeoutMs?: number) => Promise<T> {
  let closing: Promise<T> | undefined;
  return (drainTimeoutMs) => {
    if (closing !== undefined) {
      if (drainTimeoutMs === undefined) void service.close();
      return closing;
    }
    return (closing = (async () => {
      if (drainTimeoutMs !== undefined) await service.drain({ timeoutMs: drainTimeoutMs });
      return finish();
    })());
  };
}
