import { describeType, describeValue, errnoCode, isThenable } from './describe.js';
import { DisconnectCode } from './disconnect-code.js';

/**
 * Every error gamewire raises or reports carries a stable string `code`, so game code can branch on
 * `err.code` without parsing messages. The table of codes is in `docs/errors.md`.
 */

/** The stable error codes of gamewire. New codes may be added; existing ones never change meaning. */
export type GamewireErrorCode =
  | 'GW_ERR_LISTEN'
  | 'GW_ERR_CONNECT'
  | 'GW_ERR_CONNECT_TIMEOUT'
  | 'GW_ERR_CLIENT_START'
  | 'GW_ERR_SERVICE_STATE'
  | 'GW_ERR_RECV_BUFFER_OVERFLOW'
  | 'GW_ERR_BAD_CONSUMED_COUNT'
  | 'GW_ERR_HANDLER'
  | 'GW_ERR_SOCKET'
  | 'GW_ERR_MALFORMED_HEADER'
  | 'GW_ERR_PACKET_TOO_LARGE'
  | 'GW_ERR_MESSAGE_TOO_LARGE'
  | 'GW_ERR_WS_PROTOCOL'
  | 'GW_ERR_UNKNOWN_PACKET'
  | 'GW_ERR_SEND_QUEUE_OVERFLOW'
  | 'GW_ERR_SEND_STALLED'
  | 'GW_ERR_IDLE_TIMEOUT'
  | 'GW_ERR_RATE_LIMITED'
  | 'GW_ERR_BAD_PACKET'
  | 'GW_ERR_INVALID_OPTION'
  | 'GW_ERR_SESSION_FACTORY'
  | 'GW_ERR_RESUME_EXPIRED'
  | 'GW_ERR_REPLAY_OVERFLOW'
  | 'GW_ERR_RESUME_REFUSED'
  | 'GW_ERR_RESUME_PROTOCOL'
  | 'GW_ERR_SERVICE_DRAINED';

/**
 * How each error that ends a session ends it: the {@link DisconnectCode} of its cause (as ws's
 * `err[kStatusCode]`), so that no `instanceof` ladder maps errors to causes. Errors not listed do not
 * end a session by themselves; a hook that throws one ends it with `HANDLER_ERROR`.
 */
const DISCONNECT_CODES: Readonly<Partial<Record<GamewireErrorCode, DisconnectCode>>> = {
  GW_ERR_RECV_BUFFER_OVERFLOW: DisconnectCode.RecvBufferOverflow,
  GW_ERR_BAD_CONSUMED_COUNT: DisconnectCode.HandlerError,
  GW_ERR_HANDLER: DisconnectCode.HandlerError,
  GW_ERR_SOCKET: DisconnectCode.SocketError,
  GW_ERR_MALFORMED_HEADER: DisconnectCode.MalformedHeader,
  GW_ERR_PACKET_TOO_LARGE: DisconnectCode.PacketTooLarge,
  GW_ERR_UNKNOWN_PACKET: DisconnectCode.UnknownPacket,
  GW_ERR_BAD_PACKET: DisconnectCode.BadPacket,
  GW_ERR_SEND_QUEUE_OVERFLOW: DisconnectCode.SendQueueOverflow,
  GW_ERR_SEND_STALLED: DisconnectCode.SendStalled,
  GW_ERR_IDLE_TIMEOUT: DisconnectCode.IdleTimeout,
  GW_ERR_RATE_LIMITED: DisconnectCode.RateLimited,
  GW_ERR_RESUME_EXPIRED: DisconnectCode.ResumeExpired,
  GW_ERR_REPLAY_OVERFLOW: DisconnectCode.ReplayOverflow,
  GW_ERR_RESUME_REFUSED: DisconnectCode.ResumeRefused,
  GW_ERR_RESUME_PROTOCOL: DisconnectCode.BadPacket,
  GW_ERR_SERVICE_DRAINED: DisconnectCode.ServiceDrained,
};

/** Base class of every error gamewire creates. `code` is stable; `message` is for humans. */
export class GamewireError extends Error {
  /** Stable, documented code: branch on this, not on `message`. */
  readonly code: GamewireErrorCode;

  /**
   * The disconnect cause this error ends a session with (`docs/errors.md`), or undefined for errors
   * that do not end sessions (listen, connect, option errors).
   */
  get disconnectCode(): DisconnectCode | undefined {
    return DISCONNECT_CODES[this.code];
  }

  constructor(code: GamewireErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** `ServerService.start()` could not listen: the port is in use, the address is bad, or access was denied. */
export class ListenError extends GamewireError {
  /** The OS error code behind it (`EADDRINUSE`, `EACCES`, `EADDRNOTAVAIL`, `ENOTFOUND` …), when there is one. */
  readonly syscallCode: string | undefined;

  constructor(host: string, port: number, cause: unknown) {
    const syscallCode = errnoCode(cause);
    super('GW_ERR_LISTEN', `cannot listen on ${host}:${port}: ${describe(cause)}`, { cause });
    this.syscallCode = syscallCode;
  }
}

/** A connection attempt of a `ClientService` failed (refused, unreachable, bad address). */
export class ConnectError extends GamewireError {
  /** The OS error code behind it (`ECONNREFUSED`, `EHOSTUNREACH`, `ENOTFOUND` …), when there is one. */
  readonly syscallCode: string | undefined;

  constructor(host: string, port: number, cause: unknown) {
    const syscallCode = errnoCode(cause);
    super('GW_ERR_CONNECT', `cannot connect to ${host}:${port}: ${describe(cause)}`, { cause });
    this.syscallCode = syscallCode;
  }
}

/** A connection attempt did not complete within `connectTimeoutMs`. */
export class ConnectTimeoutError extends GamewireError {
  constructor(host: string, port: number, timeoutMs: number) {
    super(
      'GW_ERR_CONNECT_TIMEOUT',
      `connecting to ${host}:${port} took longer than ${timeoutMs} ms (option connectTimeoutMs)`,
    );
  }
}

/** `ClientService.start()` could not open every session; `failures` says which attempts failed and why. */
export class ClientStartError extends GamewireError {
  /** How many sessions came up. */
  readonly connectedCount: number;
  /** One error per failed attempt ({@link ConnectError} or {@link ConnectTimeoutError}). */
  readonly failures: readonly GamewireError[];

  constructor(wanted: number, connectedCount: number, failures: readonly GamewireError[]) {
    const byCode = new Map<string, number>();
    for (const f of failures) {
      const key = f instanceof ConnectError && f.syscallCode ? f.syscallCode : f.code;
      byCode.set(key, (byCode.get(key) ?? 0) + 1);
    }
    const summary = [...byCode].map(([k, n]) => `${n}x ${k}`).join(', ');
    super(
      'GW_ERR_CLIENT_START',
      `${failures.length} of ${wanted} sessions failed to connect (${summary})` +
        (failures[0] ? `; first: ${failures[0].message}` : ''),
    );
    this.connectedCount = connectedCount;
    this.failures = failures;
  }
}

/** A Service method was called in a state that does not allow it (for example `start()` twice). */
export class ServiceStateError extends GamewireError {
  constructor(message: string) {
    super('GW_ERR_SERVICE_STATE', message);
  }
}

/** An option has a value outside its documented range. */
export class InvalidOptionError extends GamewireError {
  constructor(option: string, value: unknown, expected: string) {
    super('GW_ERR_INVALID_OPTION', `option ${option} must be ${expected}, got ${describeValue(value)} (${describeType(value)})`);
  }
}

/** The peer filled the session's RecvBuffer while `onRecv` consumed nothing. */
export class RecvBufferOverflowError extends GamewireError {
  constructor(capacity: number) {
    super(
      'GW_ERR_RECV_BUFFER_OVERFLOW',
      `receive buffer full (${capacity} bytes) and onRecv consumed nothing; raise option recvBufferSize`,
    );
  }
}

/** `onRecv` returned something other than an integer between 0 and the bytes it was given. */
export class BadConsumedCountError extends GamewireError {
  constructor(returned: unknown, available: number) {
    super(
      'GW_ERR_BAD_CONSUMED_COUNT',
      `onRecv returned ${describeValue(returned)}; it must return an integer from 0 to ${available}` +
        (isThenable(returned) ? ' (an async onRecv cannot return a count: keep onRecv synchronous)' : ''),
    );
  }
}

/**
 * A hook of game code (`onConnected`, `onRecv`, `onSend`, a packet handler) threw, or the promise an
 * `async` hook returned rejected. `cause` is what was thrown (or the rejection reason), whatever it is.
 */
export class HandlerError extends GamewireError {
  /** The hook that threw, e.g. `onRecv`. */
  readonly hook: string;
  /** True when the hook returned a promise that rejected, false when it threw. */
  readonly rejected: boolean;

  constructor(hook: string, cause: unknown, rejected = false) {
    super('GW_ERR_HANDLER', `${hook} ${rejected ? 'rejected' : 'threw'}: ${describeValue(cause)}`, { cause });
    this.hook = hook;
    this.rejected = rejected;
  }
}

/**
 * A `sessionFactory` (or a load-test bot's `createSession`) threw, or returned something that is not a
 * fresh Session of this gamewire installation. The connection is closed and counted in the service's
 * `factoryFailureCount`.
 */
export class SessionFactoryError extends GamewireError {
  constructor(problem: string, cause?: unknown, maker = 'sessionFactory') {
    super('GW_ERR_SESSION_FACTORY', `${maker} ${problem}; it must return a new, unattached Session (a subclass of gamewire's Session, from the same installation)`, cause === undefined ? undefined : { cause });
  }
}

/** An unexpected socket error (anything but ECONNRESET, EPIPE, ECONNABORTED). */
export class SocketError extends GamewireError {
  /** The OS error code (`ETIMEDOUT`, `EHOSTUNREACH` …), when there is one. */
  readonly syscallCode: string | undefined;

  constructor(cause: unknown) {
    super('GW_ERR_SOCKET', `socket error: ${describe(cause)}`, { cause });
    this.syscallCode = errnoCode(cause);
  }
}

/** A packet header's size field is below the 4-byte header itself. */
export class MalformedHeaderError extends GamewireError {
  /** The size field read from the header. */
  readonly size: number;

  constructor(size: number) {
    super('GW_ERR_MALFORMED_HEADER', `packet header size ${size} is below the 4-byte header`);
    this.size = size;
  }
}

/** A packet header's size field is above `maxPacketSize`; decided as soon as the header is read. */
export class PacketTooLargeError extends GamewireError {
  /** The size field read from the header. */
  readonly size: number;
  /** The limit in force. */
  readonly maxPacketSize: number;

  constructor(size: number, maxPacketSize: number) {
    super(
      'GW_ERR_PACKET_TOO_LARGE',
      `packet of ${size} bytes exceeds maxPacketSize ${maxPacketSize}; raise option maxPacketSize (at most 65535)`,
    );
    this.size = size;
    this.maxPacketSize = maxPacketSize;
  }
}

/**
 * A packet to send would not fit the wire format: header and body together exceed 65535 bytes. Thrown
 * by `makeSendBuffer`/`send` of a message type and by `sendPacket`; nothing is queued. Game code that
 * relays what a client sent should bound that input on receipt (the chat sample does).
 */
export class MessageTooLargeError extends GamewireError {
  /** The message (or `packet <id>`) that did not fit. */
  readonly messageName: string;
  /** The packet size it would have had, header included, bytes. */
  readonly size: number;
  /** The largest packet the format can carry: 65535 bytes. */
  readonly maxPacketSize: number;

  constructor(messageName: string, size: number, maxPacketSize: number) {
    super(
      'GW_ERR_MESSAGE_TOO_LARGE',
      `${messageName} would be a packet of ${size} bytes, over the ${maxPacketSize}-byte packet limit; send less in one message`,
    );
    this.messageName = messageName;
    this.size = size;
    this.maxPacketSize = maxPacketSize;
  }
}

/**
 * A WebSocket peer broke the message framing: a text message (close code 1003), a message that ends
 * inside a packet (1002), or a message over the receive limit (1009). `disconnectCode` is the cause the
 * session ends with: `BAD_PACKET`, `MALFORMED_HEADER` or `PACKET_TOO_LARGE`.
 */
export class WebSocketProtocolError extends GamewireError {
  /** The WebSocket close code sent to the peer. */
  readonly closeCode: 1002 | 1003 | 1009;

  constructor(what: string, closeCode: 1002 | 1003 | 1009) {
    super('GW_ERR_WS_PROTOCOL', `WebSocket peer sent ${what} (close code ${closeCode})`);
    this.closeCode = closeCode;
  }

  /** The cause it ends a session with: `BAD_PACKET` (text), `PACKET_TOO_LARGE` (1009) or `MALFORMED_HEADER` (1002). */
  override get disconnectCode(): 'BAD_PACKET' | 'MALFORMED_HEADER' | 'PACKET_TOO_LARGE' {
    return this.closeCode === 1003 ? 'BAD_PACKET' : this.closeCode === 1009 ? 'PACKET_TOO_LARGE' : 'MALFORMED_HEADER';
  }
}

/** A packet arrived whose id has no handler, and the handler table has no fallback. */
export class UnknownPacketError extends GamewireError {
  /** The packet id. */
  readonly packetId: number;

  constructor(packetId: number) {
    super('GW_ERR_UNKNOWN_PACKET', `no handler for packet id ${packetId} (give the handler table an onUnknown fallback)`);
    this.packetId = packetId;
  }
}

/** A packet body failed to decode as the message its id names. */
export class BadPacketError extends GamewireError {
  /** The packet id. */
  readonly packetId: number;
  /** The message name the id maps to. */
  readonly messageName: string;

  constructor(packetId: number, messageName: string, cause: unknown) {
    super('GW_ERR_BAD_PACKET', `packet ${packetId} (${messageName}) failed to decode: ${describe(cause)}`, { cause });
    this.packetId = packetId;
    this.messageName = messageName;
  }
}

/**
 * More bytes were queued for a peer than `maxSendQueueBytes`, with bytes nothing slows down (a source
 * within its share, a timer, a tick) or while the peer took nothing: it does not read fast enough.
 */
export class SendQueueOverflowError extends GamewireError {
  constructor(queued: number, limit: number) {
    super(
      'GW_ERR_SEND_QUEUE_OVERFLOW',
      `${queued} bytes queued for a peer that does not read fast enough for what it is sent (maxSendQueueBytes ${limit}); raise option maxSendQueueBytes`,
    );
  }
}

/** A peer above its high water mark took no byte for `stallTimeoutMs`: it has stopped reading. */
export class SendStalledError extends GamewireError {
  constructor(stallMs: number, queued: number) {
    super(
      'GW_ERR_SEND_STALLED',
      `the peer took no byte for ${stallMs} ms with ${queued} bytes queued: it does not read (option stallTimeoutMs)`,
    );
  }
}

/** Nothing arrived from the peer for `idleTimeoutMs`. */
export class IdleTimeoutError extends GamewireError {
  constructor(idleMs: number) {
    super('GW_ERR_IDLE_TIMEOUT', `nothing received for ${idleMs} ms (option idleTimeoutMs)`);
  }
}

/** The peer sent faster than `maxBytesPerSecond` or `maxPacketsPerSecond`. */
export class RateLimitedError extends GamewireError {
  constructor(what: 'bytes' | 'packets', limit: number) {
    const option = what === 'bytes' ? 'maxBytesPerSecond' : 'maxPacketsPerSecond';
    super('GW_ERR_RATE_LIMITED', `peer sent more than ${limit} ${what} per second (option ${option})`);
  }
}

/** A suspended session's client did not come back within `resume.graceMs`. */
export class ResumeExpiredError extends GamewireError {
  /** The grace period, ms. */
  readonly graceMs: number;

  constructor(graceMs: number, side: 'server' | 'client' = 'server') {
    super(
      'GW_ERR_RESUME_EXPIRED',
      side === 'server'
        ? `the client did not come back within ${graceMs} ms (option resume.graceMs)`
        : `could not resume within the server's grace period of ${graceMs} ms (the server's resume.graceMs)`,
    );
    this.graceMs = graceMs;
  }
}

/** More bytes were sent and not acknowledged by the peer than `resume.maxReplayBytes`. */
export class ReplayOverflowError extends GamewireError {
  /** Bytes held unacknowledged. */
  readonly bytes: number;
  /** The cap. */
  readonly maxReplayBytes: number;

  constructor(bytes: number, maxReplayBytes: number) {
    super(
      'GW_ERR_REPLAY_OVERFLOW',
      `${bytes} bytes sent and not acknowledged by the peer (resume.maxReplayBytes ${maxReplayBytes}); ` +
        'the peer does not acknowledge (ACK) or was away too long; raise option resume.maxReplayBytes',
    );
    this.bytes = bytes;
    this.maxReplayBytes = maxReplayBytes;
  }
}

/** The server refused to resume a client session (`REFUSED`); `reason` says why. */
export class ResumeRefusedError extends GamewireError {
  /** `UNKNOWN_SESSION`, `BAD_POSITION`, `RETRY_LATER`, `NOT_HERE` or `UNSUPPORTED` (docs/protocol.md). */
  readonly reason: string;

  constructor(reason: string, text: string) {
    super('GW_ERR_RESUME_REFUSED', `the server refused to resume the session: ${reason}${text.length > 0 ? ` (${text})` : ''}`);
    this.reason = reason;
  }
}

/** A resume packet broke the protocol (docs/protocol.md, "Resume"): a bad size, an impossible count. */
export class ResumeProtocolError extends GamewireError {
  constructor(message: string) {
    super('GW_ERR_RESUME_PROTOCOL', `resume protocol error: ${message}`);
  }
}

function describe(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.message === 'string') return error.message;
  } catch {
    // a Proxy or a throwing getter: described below
  }
  return describeValue(error);
}

/**
 * The session's server drained (`ServerService.drain()`, SIGTERM, a rolling reload): it was still
 * open at the end of `drainTimeoutMs` and was closed so that its client reconnects at once, to
 * another worker or machine. Ends the session with `SERVICE_DRAINED` (WebSocket close code 1012).
 */
export class ServiceDrainedError extends GamewireError {
  /** The drain's deadline, ms (0 when the drain was cut short by `close()`). */
  readonly drainTimeoutMs: number;

  constructor(drainTimeoutMs: number, cutShort: boolean) {
    super(
      'GW_ERR_SERVICE_DRAINED',
      cutShort
        ? 'the server was draining and closed before its drain deadline; reconnect at once'
        : `the server is draining and its drain deadline (${drainTimeoutMs} ms, option drainTimeoutMs) passed; reconnect at once`,
    );
    this.drainTimeoutMs = drainTimeoutMs;
  }
}
