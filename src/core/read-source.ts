/**
 * The read source: the session whose read is being handled right now. Set by a session around its
 * `onRecv`, and by a JobQueue around each job queued while some read was being handled. Fan-out flow
 * control charges the bytes queued for other sessions to it (`src/net/limits/fanout-flow.ts`). An opaque token here, so
 * that the job layer needs nothing from the net layer.
 */
export type ReadSource = object;

let current: ReadSource | undefined;

/** The session whose read is being handled, or undefined (timers, ticks, anything else). */
export function currentReadSource(): ReadSource | undefined {
  return current;
}

/** Makes `source` the current read source; returns the one it replaces, to be put back after. */
export function swapReadSource(source: ReadSource | undefined): ReadSource | undefined {
  const previous = current;
  current = source;
  return previous;
}
