import type { GamewireError } from './errors.js';

import { DisconnectCode } from './disconnect-code.js';

export { DisconnectCode };

/** What `onDisconnected` receives: a stable `code`, a human `reason`, and the error behind it if any. */
export interface DisconnectCause {
  /** Stable code from {@link DisconnectCode}. */
  readonly code: DisconnectCode;
  /** Human-readable text: the text passed to `disconnect()`, or a description of what happened. */
  readonly reason: string;
  /** The typed error behind the cause (socket error, handler error, limit crossed), when there is one. */
  readonly error?: GamewireError | undefined;
}

/** Builds a frozen {@link DisconnectCause}. */
export function disconnectCause(
  code: DisconnectCode,
  reason: string,
  error?: GamewireError,
): DisconnectCause {
  return Object.freeze(error === undefined ? { code, reason } : { code, reason, error });
}
