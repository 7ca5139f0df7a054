/**
 * Idle detection (Netty's `IdleStateHandler`) with one timer per timeout value for the whole process
 * instead of one per connection: a watch ticks {@link IDLE_CHECKS} times per `idleTimeoutMs` and asks
 * each watched connection whether anything showed the peer alive since the last tick. One that stays
 * silent for more than `IDLE_CHECKS` ticks in a row is idle: silence is noticed within 1 to 1.25
 * timeouts of the last sign of life. What counts as a sign of life (bytes read, write progress) and
 * what excuses silence (the connection paused its own reading) is the connection's to say.
 */

/** Ticks per idle timeout. */
export const IDLE_CHECKS = 4;

/** Internal: one tick of the idle watch. */
export const kIdleTick: unique symbol = Symbol('gamewire.idleTick');

/** A connection under watch. */
export interface IdleWatched {
  /** Called once per tick: counts silence ({@link nextSilentTicks}) and ends the connection when {@link isIdle}. */
  [kIdleTick](): void;
}

/** The silence count after one tick: 0 when there was activity (or silence is excused), else one more. */
export function nextSilentTicks(silentTicks: number, active: boolean): number {
  return active ? 0 : silentTicks + 1;
}

/** True when `silentTicks` ticks of silence in a row make the peer idle. */
export function isIdle(silentTicks: number): boolean {
  return silentTicks > IDLE_CHECKS;
}

const watches = new Map<number, Set<IdleWatched>>();
const timers = new Map<number, NodeJS.Timeout>();

function tick(timeoutMs: number): void {
  const members = watches.get(timeoutMs);
  if (members === undefined) return;
  for (const member of members) member[kIdleTick]();
}

/** Starts watching `member` with `timeoutMs` (> 0). */
export function watchIdle(member: IdleWatched, timeoutMs: number): void {
  let members = watches.get(timeoutMs);
  if (members === undefined) {
    watches.set(timeoutMs, (members = new Set()));
    const timer = setInterval(tick, Math.max(1, timeoutMs / IDLE_CHECKS), timeoutMs);
    timer.unref();
    timers.set(timeoutMs, timer);
  }
  members.add(member);
}

/** Stops watching `member`; the timer stops with its last member. */
export function unwatchIdle(member: IdleWatched, timeoutMs: number): void {
  const members = watches.get(timeoutMs);
  if (members === undefined || !members.delete(member) || members.size > 0) return;
  watches.delete(timeoutMs);
  clearInterval(timers.get(timeoutMs));
  timers.delete(timeoutMs);
}
