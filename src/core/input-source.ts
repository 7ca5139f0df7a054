/**
 * The session whose input is being handled right now: set by a session around its `onRecv`, and by a
 * JobQueue around each job queued while some input was being handled. Fan-out flow control charges
 * the bytes queued for other sessions to it (`src/net/limits/fanout-flow.ts`). An opaque token here, so
 * that the job layer needs nothing from the net layer.
 */
export type InputSource = object;

let current: InputSource | undefined;

/** The session whose input is being handled, or undefined (timers, ticks, anything else). */
export function currentInputSource(): InputSource | undefined {
  return current;
}

/** Makes `source` the current input source; returns the one it replaces, to be put back after. */
export function swapInputSource(source: InputSource | undefined): InputSource | undefined {
  const previous = current;
  current = source;
  return previous;
}
