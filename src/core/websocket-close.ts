import { DisconnectCode } from './disconnect-cause.js';

/**
 * How a session's end is told over WebSocket: the close frame's code says what kind of end it was
 * (RFC 6455 §7.4), and its reason starts with gamewire's cause code, `CODE` or `CODE: text`, so a client
 * in any language learns the same cause a TCP session's `onDisconnected` sees.
 */
export const WS_CLOSE_CODE: Readonly<Record<DisconnectCode, number>> = Object.freeze({
  PEER_CLOSED: 1000,
  LOCAL_DISCONNECT: 1000,
  SERVICE_CLOSING: 1001,
  // 1012 "service restart" (IANA registry): the client may reconnect at once.
  SERVICE_DRAINED: 1012,
  IDLE_TIMEOUT: 1001,
  CONNECTION_RESET: 1006,
  SOCKET_ERROR: 1006,
  MALFORMED_HEADER: 1002,
  UNKNOWN_PACKET: 1008,
  BAD_PACKET: 1008,
  RATE_LIMITED: 1008,
  SEND_QUEUE_OVERFLOW: 1008,
  SEND_STALLED: 1008,
  PACKET_TOO_LARGE: 1009,
  RECV_BUFFER_OVERFLOW: 1009,
  HANDLER_ERROR: 1011,
  RESUME_EXPIRED: 1001,
  REPLAY_OVERFLOW: 1008,
  RESUME_REFUSED: 1008,
  SESSION_MOVED: 1012,
});

/** Largest close reason RFC 6455 allows, bytes of UTF-8. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * `text` cut, by its UTF-8 bytes, to the 123 a close frame can carry (with `...` when cut): a longer
 * reason makes `close()` throw, in `ws` and in browsers alike.
 */
export function fitCloseReason(text: string): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= MAX_CLOSE_REASON_BYTES) return text;
  let cut = text.slice(0, MAX_CLOSE_REASON_BYTES - 3);
  while (encoder.encode(`${cut}...`).length > MAX_CLOSE_REASON_BYTES) cut = cut.slice(0, -1);
  return `${cut}...`;
}

/** The close reason for a cause: `CODE: reason`, cut to fit the 123 bytes a close frame can carry. */
export function wsCloseReason(code: string, reason: string): string {
  return fitCloseReason(reason.length > 0 ? `${code}: ${reason}` : code);
}

/** Why a WebSocket client's connection ended. */
export interface ClientDisconnectCause {
  /** The server's cause code when it sent one (`SERVICE_CLOSING`, …), else one inferred from `closeCode`. */
  readonly code: string;
  /** The text after the code, or the close reason as sent. */
  readonly reason: string;
  /** The close frame's code (1006 when the connection dropped without one). */
  readonly closeCode: number;
}

const CAUSE_PREFIX = /^([A-Z][A-Z_]+)(?::\s?(.*))?$/s;

/** Reads a close event as a cause: the server's code from the reason, or one that fits the close code. */
export function describeCloseEvent(closeCode: number, closeReason: string): ClientDisconnectCause {
  const match = CAUSE_PREFIX.exec(closeReason);
  if (match !== null) return { code: match[1] as string, reason: match[2] ?? '', closeCode };
  const code =
    closeCode === 1000 ? DisconnectCode.PeerClosed
    : closeCode === 1001 ? DisconnectCode.ServiceClosing
    : closeCode === 1012 ? DisconnectCode.ServiceDrained
    : closeCode === 1009 ? DisconnectCode.PacketTooLarge
    : closeCode === 1011 ? DisconnectCode.HandlerError
    : closeCode === 1002 || closeCode === 1003 || closeCode === 1007 || closeCode === 1008 ? DisconnectCode.BadPacket
    : DisconnectCode.ConnectionReset;
  return { code, reason: closeReason, closeCode };
}
