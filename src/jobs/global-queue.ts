/**
 * The C++ GlobalQueue on one event loop: job queues with work are drained here, in the order they got
 * work. A drain starts in a microtask, right after the I/O callback that queued the work, so replies
 * leave in the same loop turn. A queue that overruns its time budget is put back and resumed from
 * `setImmediate`, after pending I/O, so one busy room never starves the others or the sockets.
 */
export interface Drainable {
  /** Runs jobs until empty or until `deadline` (performance.now() ms) passes; true when empty. */
  drain(deadline: number): boolean;
  /** Time budget per drain, ms. */
  readonly budgetMs: number;
}

let ready: Drainable[] = [];
let microtaskScheduled = false;
let deferred: Drainable[] = [];
let immediateScheduled = false;

function drainReady(): void {
  microtaskScheduled = false;
  const batch = ready;
  ready = [];
  runBatch(batch);
}

function drainDeferred(): void {
  immediateScheduled = false;
  const batch = deferred;
  deferred = [];
  runBatch(batch);
}

function runBatch(batch: readonly Drainable[]): void {
  for (const queue of batch) {
    if (!queue.drain(performance.now() + queue.budgetMs)) defer(queue);
  }
}

function defer(queue: Drainable): void {
  deferred.push(queue);
  if (!immediateScheduled) {
    immediateScheduled = true;
    setImmediate(drainDeferred);
  }
}

/** Puts `queue` in line to be drained soon. The caller ensures a queue is in line at most once. */
export function scheduleDrain(queue: Drainable): void {
  ready.push(queue);
  if (!microtaskScheduled) {
    microtaskScheduled = true;
    queueMicrotask(drainReady);
  }
}
