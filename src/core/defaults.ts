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
  /**
   * `ws.upgradeTimeoutMs`: how long a connection to the WebSocket port may take, from its first byte,
   * to finish its upgrade (and, for `wss://`, its TLS handshake). @default 5000
   */
  wsUpgradeTimeoutMs: 5_000,
  /** ClientService `connectTimeoutMs`. @default 5000 */
  connectTimeoutMs: 5_000,
  /** ClientService `connectConcurrency`. @default 256 */
  connectConcurrency: 256,
  /**
   * GameClient `keepaliveIntervalMs`: a browser client that has sent nothing this long pings the
   * server (well inside the CLI servers' 60 s idle timeout). @default 15000
   */
  clientKeepaliveIntervalMs: 15_000,
  /** `ws.path`: the path of WebSocket upgrade requests. @default '/ws' */
  wsPath: '/ws',
  /** `ws.maxMessageBytes`: the largest WebSocket message, bytes (it may carry several packets). @default 262144 */
  wsMaxMessageBytes: 256 * 1024,
  /**
   * `runWorkers` `workerCloseTimeoutMs`: how long the primary waits for a worker to close (its
   * `closeGraceMs`, then its rooms and Redis) before it kills the worker. @default 10000
   */
  workerCloseTimeoutMs: 10_000,
  /**
   * `drainTimeoutMs`: how long a draining server (`drain()`, SIGTERM, a rolling reload) lets its
   * sessions run before it ends the rest with `SERVICE_DRAINED`, 0..2^31-1 ms. Below Kubernetes'
   * default 30 s `terminationGracePeriodSeconds` with room for the close. @default 20000
   */
  drainTimeoutMs: 20_000,
  /**
   * runWorkers `workerStartTimeoutMs`: how long a rolling reload waits for each new worker to listen
   * before it gives up the reload (the old workers keep serving). @default 30000
   */
  workerStartTimeoutMs: 30_000,
  /** `resume.graceMs`: how long a suspended session waits for its client, ms. @default 30000 */
  resumeGraceMs: 30_000,
  /** `resume.maxReplayBytes`: bytes sent and not acknowledged a resumable session keeps. @default 1048576 */
  resumeMaxReplayBytes: 1024 * 1024,
  /** `resume.helloTimeoutMs`: with resume on, how long a silent new connection waits for a session, ms. @default 5000 */
  resumeHelloTimeoutMs: 5_000,
  /** `resume.maxResumesPerSecond`: resumes a server admits per second (1 s burst). @default 1000 */
  resumeMaxPerSecond: 1_000,
  /** Client `resume.reconnectDelayMs`: the first wait before reconnecting, ms. @default 250 */
  resumeReconnectDelayMs: 250,
  /** Client `resume.maxReconnectDelayMs`: the longest wait before reconnecting, ms. @default 5000 */
  resumeMaxReconnectDelayMs: 5_000,
  /** How often a resumable peer acknowledges what it received when it has not done so, ms. @default 250 */
  resumeAckIntervalMs: 250,
  /** Room `maxMembers`. @default 1000 */
  roomMaxMembers: 1000,
  /** JobQueue `budgetMs`: longest a drain runs before yielding. @default 64 */
  jobBudgetMs: 64,
  /**
   * runWorkers `workerTimeoutMs`: a worker that has not answered the primary's heartbeat (a ping over
   * IPC every fifth of it) for this long is killed and replaced. @default 5000
   */
  workerTimeoutMs: 5_000,
  /** runWorkers `relay.highWaterMark`, bytes queued in one IPC channel above which the sessions feeding its rooms are held. @default 1048576 */
  relayHighWaterMark: 1024 * 1024,
  /** runWorkers `relay.lowWaterMark`, bytes: a held channel that drains to this releases them. @default 262144 */
  relayLowWaterMark: 256 * 1024,
  /** runWorkers `relay.maxQueueBytes`, bytes queued in one IPC channel beyond which broadcasts to it are dropped. @default 8388608 */
  maxRelayQueueBytes: 8 * 1024 * 1024,
};

/**
 * Every default of gamewire's services, sessions, rooms and job queues in one place, frozen (as
 * ioredis's `DEFAULT_REDIS_OPTIONS`): the one public way to read a default. The modules that apply
 * one read it from here, and the options' TSDoc and `docs/limits.md` state the same values.
 * @namespace
 */
export const DEFAULTS = Object.freeze(values);
