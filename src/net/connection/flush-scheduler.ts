import { kFlush } from '../symbols.js';
/**
 * The C++ ServerCore's gather-send (`_sendRegistered`), on one event loop: a session that is sent to registers
 * itself here once, and all registered sessions flush together in one `setImmediate` callback, after
 * every I/O callback of the current loop turn has run. Whatever game code sends to one session during
 * one turn therefore leaves in one write.
 */

export interface Flushable {
  /** Writes everything queued for the peer. Called at most once per registration. */
  [kFlush](): void;
}

let pending: Flushable[] = [];
let spare: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // Swap lists so that sessions re-registering during a flush (from onSend) land in the next turn.
  const batch = pending;
  pending = spare;
  spare = batch;
  for (let i = 0; i < batch.length; i++) {
    (batch[i] as Flushable)[kFlush]();
  }
  batch.length = 0;
}

/** Registers `target` to be flushed at the end of this event-loop turn. The caller ensures once per turn. */
export function scheduleFlush(target: Flushable): void {
  pending.push(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}
