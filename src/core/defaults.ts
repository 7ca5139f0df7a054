/**
 * Every default of gamewire's services, sessions, rooms and job queues in one place (ioredis's
 * `DEFAULT_REDIS_OPTIONS`). Each `DEFAULT_*` constant exported elsewhere is read from here, and the
 * options' TSDoc and `docs/errors.md` state the same values.
 */
const values = {
  /** Host a service listens on or connects to. @default '127.0.0.1' */
  host: '127.0.0.1',
  /** ServerService `maxSessionCount`. @default 100 */
  maxSessionCount: 100,
  /** ServerService listen `backlog`. @default 511 */
  backlog: 511,
  /** `packet.maxPacketSize`, bytes, header included (the u16 size field's largest). @default 65535 */
  maxPacketSize: 65535,
  /** `recvBufferSize`, bytes (enough for the largest packet). @default 65536 */
  recvBufferSize: 64 * 1024,
  /** `disconnectTimeoutMs`: how long a graceful disconnect waits for the peer. @default 5000 */
  disconnectTimeoutMs: 5_000,
  /** `closeGraceMs`: how long `close()` lets sessions flush before destroying them. @default 5000 */
  closeGraceMs: 5_000,
  /** `sendHighWaterMark`, bytes (Netty's). @default 65536 */
  sendHighWaterMark: 64 * 1024,
  /** `sendLowWaterMark`, bytes (Netty's). @default 32768 */
  sendLowWaterMark: 32 * 1024,
  /** `maxSendQueueBytes`, bytes. @default 1048576 */
  maxSendQueueBytes: 1024 * 1024,
  /** `maxSendQueuePieces`: separate buffers a send queue holds before joining them. @default 1024 */
  maxSendQueuePieces: 1024,
  /**
   * `stallTimeoutMs`: above the high mark with no byte taken by the peer this long is `SEND_STALLED`.
   * Long, because the kernel shows a slow reader's progress in steps (docs/flow-control.md). @default 60000
   */
  stallTimeoutMs: 60_000,
  /**
   * `fanoutShareBytesPerSecond`: bytes per second one source may feed each member above its high mark
   * without being held (plus a burst of 4 s' worth). @default 4096
   */
  fanoutShareBytesPerSecond: 4 * 1024,
  /** `readBudgetBytes`: bytes a session reads per event-loop turn. @default 65536 */
  readBudgetBytes: 64 * 1024,
  /** `maxPendingHandshakes`: TLS handshakes at once. @default 128 */
  maxPendingHandshakes: 128,
  /** `maxPendingHandshakesPerAddress`: TLS handshakes at once from one address. @default 16 */
  maxPendingHandshakesPerAddress: 16,
  /** TLS `handshakeTimeout`, ms (Node's own is 120 s). @default 10000 */
  tlsHandshakeTimeoutMs: 10_000,
  /** ClientService `connectTimeoutMs`. @default 5000 */
  connectTimeoutMs: 5_000,
  /** ClientService `connectConcurrency`. @default 256 */
  connectConcurrency: 256,
  /** Room `maxMembers`. @default 1000 */
  roomMaxMembers: 1000,
  /** JobQueue `budgetMs`: longest a drain runs before yielding. @default 64 */
  jobBudgetMs: 64,
};

/** The defaults, frozen; see each field. */
export const DEFAULTS: { readonly [K in keyof typeof values]: (typeof values)[K] } = Object.freeze(values);
