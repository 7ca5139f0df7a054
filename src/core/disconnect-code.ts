/**
 * Why a session ended: the closed set of causes `onDisconnected` can see. Codes are stable strings;
 * `docs/errors.md` lists when each happens, the option that governs it and what the peer sees.
 */
export const DisconnectCode = {
  /** The peer closed its side in an orderly way (FIN). */
  PeerClosed: 'PEER_CLOSED',
  /** The connection was reset or aborted (ECONNRESET, EPIPE, ECONNABORTED): an ordinary disconnect. */
  ConnectionReset: 'CONNECTION_RESET',
  /** Game code called `session.disconnect(reason)`; `reason` holds its text. */
  LocalDisconnect: 'LOCAL_DISCONNECT',
  /** The peer filled the RecvBuffer (`recvBufferSize`) while `onRecv` consumed nothing. */
  RecvBufferOverflow: 'RECV_BUFFER_OVERFLOW',
  /** The owning service is closing (`service.close()`). */
  ServiceClosing: 'SERVICE_CLOSING',
  /**
   * The server is draining (`ServerService.drain()`, SIGTERM, a rolling reload): it stopped accepting
   * and ended what was left at its `drainTimeoutMs`. The game goes on elsewhere: reconnect at once.
   */
  ServiceDrained: 'SERVICE_DRAINED',
  /** Any other socket error; logged once at warn level. */
  SocketError: 'SOCKET_ERROR',
  /** A hook of game code threw, or `onRecv` returned an impossible count. */
  HandlerError: 'HANDLER_ERROR',
  /** PacketSession: a header's size field is below 4. */
  MalformedHeader: 'MALFORMED_HEADER',
  /** PacketSession: a header's size field is above `maxPacketSize`. */
  PacketTooLarge: 'PACKET_TOO_LARGE',
  /** A packet id with no handler and no fallback in the session's handler table. */
  UnknownPacket: 'UNKNOWN_PACKET',
  /** A packet body that does not decode as the message of its id. */
  BadPacket: 'BAD_PACKET',
  /** More than `maxSendQueueBytes` were queued for a peer too slow for what nobody holds back; the socket is destroyed. */
  SendQueueOverflow: 'SEND_QUEUE_OVERFLOW',
  /** A peer above its high water mark took no byte for `stallTimeoutMs`; the socket is destroyed. */
  SendStalled: 'SEND_STALLED',
  /** Nothing arrived for `idleTimeoutMs` (a dead or half-open peer). */
  IdleTimeout: 'IDLE_TIMEOUT',
  /** The peer exceeded `maxBytesPerSecond` or `maxPacketsPerSecond` (with `rateLimitAction: 'disconnect'`). */
  RateLimited: 'RATE_LIMITED',
  /** A resumable session stayed suspended for `resume.graceMs`: its client did not come back. */
  ResumeExpired: 'RESUME_EXPIRED',
  /** More than `resume.maxReplayBytes` sent and not acknowledged by the peer. */
  ReplayOverflow: 'REPLAY_OVERFLOW',
  /** Client side: the server refused to resume the session. */
  ResumeRefused: 'RESUME_REFUSED',
  /**
   * The session moved to another process of the server (docs/deploying.md, "Sessions that move"): on
   * the old process, the cause of `onDisconnected` of the object left behind (the game must not
   * announce a leave: the player goes on over there); on a client, the cause of `onConnectionLost`
   * before it resumes on the new process at once.
   */
  SessionMoved: 'SESSION_MOVED',
} as const;

/** One of the {@link DisconnectCode} values. */
export type DisconnectCode = (typeof DisconnectCode)[keyof typeof DisconnectCode];
