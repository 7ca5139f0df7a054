import { kIdleTick } from '../symbols.js';
/**
 * Idle detection (Netty's `IdleStateHandler`) with one timer per timeout value for the whole process
 * instead of one per connection: a watch ticks {@link IDLE_CHECKS} times per `idleTimeoutMs` over
 * groups of connections (a service watches its live set, so a connection costs the watch nothing) and
 * asks each connection whether the peer showed a sign of life since. What counts as a sign of life
 * (bytes read, write progress) and what excuses silence (the connection paused its own reading) is the
 * connection's to say.
 *
 * With a timeout T, ticking every T/4:
 * - after 1/4 to 1/2 T of silence the connection is asked to prompt the peer ({@link isKeepaliveDue}:
 *   a PacketSession sends a heartbeat ping, which a live peer answers), so a peer that only listens
 *   but answers pings is never idle, and a quiet connection costs one ping per T/4 to T/2;
 * - after 1 to 1.25 T of silence it is idle ({@link isIdle}) and ends with `IDLE_TIMEOUT`: the peer
 *   had at least 3/4 T to answer the ping.
 */

/** Ticks per idle timeout. */
export const IDLE_CHECKS = 4;

/** The tick after a sign of life at which the peer is prompted: the first that follows a whole tick period of silence. */
export const KEEPALIVE_TICK = 2;

/** A connection under watch. */
export interface IdleWatched {
  /**
   * Called once per tick: counts silence ({@link nextSilentTicks}), prompts the peer when
   * {@link isKeepaliveDue} and ends the connection when {@link isIdle}.
   */
  [kIdleTick](): void;
}

/**
 * The silence count after one tick. A sign of life sets the count to 0 (one store per read); each tick
 * adds one, and a tick while silence is excused counts as the first tick after a sign of life.
 */
export function nextSilentTicks(silentTicks: number, excused: boolean): number {
  return excused ? 1 : silentTicks + 1;
}

/**
 * True when `silentTicks` make the peer idle: at least {@link IDLE_CHECKS} whole tick periods (one
 * timeout) of silence. The first tick after a sign of life comes up to a period later (or at once), so
 * it starts the count and the timeout is over {@link IDLE_CHECKS} ticks after it: 1 to 1.25 timeouts
 * after the sign of life.
 */
export function isIdle(silentTicks: number): boolean {
  return silentTicks > IDLE_CHECKS;
}

/**
 * True when `silentTicks` call for a keepalive prompt: once per silence, at the tick that follows a
 * whole tick period of it (1/4 to 1/2 of the timeout), never for a peer heard from since the last tick.
 */
export function isKeepaliveDue(silentTicks: number): boolean {
  return silentTicks === KEEPALIVE_TICK;
}

const watches = new Map<number, Set<Iterable<IdleWatched>>>();
const timers = new Map<number, NodeJS.Timeout>();

function tick(timeoutMs: number): void {
  const groups = watches.get(timeoutMs);
  if (groups === undefined) return;
  for (const group of groups) for (const member of group) member[kIdleTick]();
}

/** Starts watching every connection of `group` (a live set: members come and go) with `timeoutMs` (> 0). */
export function watchIdle(group: Iterable<IdleWatched>, timeoutMs: number): void {
  let groups = watches.get(timeoutMs);
  if (groups === undefined) {
    watches.set(timeoutMs, (groups = new Set()));
    const timer = setInterval(tick, Math.max(1, timeoutMs / IDLE_CHECKS), timeoutMs);
    timer.unref();
    timers.set(timeoutMs, timer);
  }
  groups.add(group);
}

/** Stops watching `group`; the timer stops with its last group. */
export function unwatchIdle(group: Iterable<IdleWatched>, timeoutMs: number): void {
  const groups = watches.get(timeoutMs);
  if (groups === undefined || !groups.delete(group) || groups.size > 0) return;
  watches.delete(timeoutMs);
  clearInterval(timers.get(timeoutMs));
  timers.delete(timeoutMs);
}
