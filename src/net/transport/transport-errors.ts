import { DisconnectCode, disconnectCause, type DisconnectCause } from '../../core/disconnect-cause.js';
import { errnoCode } from '../../core/describe.js';
import { SocketError } from '../../core/errors.js';

/** Socket errors that are an ordinary end of a connection, as in the seed's `HandleError`. */
const ORDINARY_SOCKET_ERRORS: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * The disconnect cause of a transport error: `CONNECTION_RESET` for an ordinary reset (ECONNRESET,
 * EPIPE, ECONNABORTED), else `SOCKET_ERROR` with the error wrapped in a {@link SocketError}; `unexpected`
 * says the latter is worth a warning.
 */
export function causeOfTransportError(error: Error): { readonly cause: DisconnectCause; readonly unexpected: boolean } {
  const code = errnoCode(error);
  if (code !== undefined && ORDINARY_SOCKET_ERRORS.has(code)) {
    return { cause: disconnectCause(DisconnectCode.ConnectionReset, `connection reset (${code})`), unexpected: false };
  }
  const wrapped = new SocketError(error);
  return { cause: disconnectCause(DisconnectCode.SocketError, wrapped.message, wrapped), unexpected: true };
}
