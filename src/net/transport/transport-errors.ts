import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { errnoCode } from '../../core/describe.js';
import { GamewireError, SocketError } from '../../core/errors.js';

/** Socket errors that are an ordinary end of a connection, as in the C++ ServerCore's `HandleError`. */
const ORDINARY_SOCKET_ERRORS: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * The disconnect cause of a transport error: a protocol error the transport found (a WebSocket text
 * message, an invalid frame: a GamewireError that knows its cause) ends with that cause;
 * `CONNECTION_RESET` for an ordinary reset (ECONNRESET, EPIPE, ECONNABORTED), else `SOCKET_ERROR` with
 * the error wrapped in a {@link SocketError}; `unexpected` says only the latter is worth a warning (a
 * peer's bad bytes are the peer's problem, not the operator's).
 */
export function causeOfTransportError(error: Error): { readonly cause: DisconnectCause; readonly unexpected: boolean } {
  if (error instanceof GamewireError) {
    const disconnectCode = error.disconnectCode;
    if (disconnectCode !== undefined) return { cause: disconnectCause(disconnectCode, error.message, error), unexpected: false };
  }
  const code = errnoCode(error);
  if (code !== undefined && ORDINARY_SOCKET_ERRORS.has(code)) {
    return { cause: disconnectCause(DisconnectCode.ConnectionReset, `connection reset (${code})`), unexpected: false };
  }
  const wrapped = new SocketError(error);
  return { cause: disconnectCause(DisconnectCode.SocketError, wrapped.message, wrapped), unexpected: true };
}
