/**
 * Write water marks (Netty's `WriteBufferWaterMark`): a connection stops being `writable` once more
 * than `high` bytes are queued for its peer (in gamewire and in the transport) and is writable again
 * once they drain to `low`. Send pressure (send-pressure.ts) applies them, with the send cap on top
 * (`maxSendQueueBytes`, and `maxSendQueuePieces` in the SendQueue) and the stall check; fanout-flow.ts
 * says whom to slow and whom to cut off. Pure: no sockets, no timers; called after each send and
 * write completion.
 */

/** The water marks of one connection, bytes. */
export interface WaterMarks {
  /** Bytes queued above which the connection is not writable. */
  readonly sendHighWaterMark: number;
  /** Bytes queued at or below which it is writable again. */
  readonly sendLowWaterMark: number;
}

/**
 * The writability a connection has with `queued` bytes pending, given that it is `writable` now:
 * `undefined` when it does not change (between the marks nothing changes: hysteresis).
 */
export function writabilityChange(writable: boolean, queued: number, marks: WaterMarks): boolean | undefined {
  if (writable) return queued > marks.sendHighWaterMark ? false : undefined;
  return queued <= marks.sendLowWaterMark ? true : undefined;
}
