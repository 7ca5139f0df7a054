import { logSafely, type Logger } from '../core/logger.js';
import { WarningThrottle } from '../core/warning-throttle.js';

/** The link a cross-process message travels: Redis pub/sub, or the IPC channel of a primary and its worker. */
export type ClusterBus = 'redis' | 'ipc';

/** Every bus, for metrics that list each from 0. */
export const CLUSTER_BUSES: readonly ClusterBus[] = ['redis', 'ipc'];

/**
 * Why a cross-process message was dropped instead of being handled: what it means and what an
 * operator does about it (the `reason` label of `gamewire_cluster_messages_dropped_total`).
 */
export const DROP_REASONS = {
  malformed: {
    text: 'a message that does not parse (no gamewire header, cut short, a field of the wrong type or range)',
    advice: 'something other than gamewire writes to the room channels, or two deployments share a prefix: check who may publish to this Redis and --redis-prefix',
  },
  version: {
    text: 'a message from a protocol version this release cannot read',
    advice: 'servers or workers more than one protocol version apart share the rooms: finish the rolling update (docs/cluster.md, "Versions")',
  },
  unknown: {
    text: 'a message kind or type this release does not know, from a newer release that it can otherwise read',
    advice: 'expected while a rolling update runs; update the older servers',
  },
  not_packets: {
    text: 'a broadcast whose bytes are not whole packets (u16 size, u16 id, body)',
    advice: 'a ClusterRoom carries whole packets between processes: a game that broadcasts other bytes reaches only its own process',
  },
  relay_overflow: {
    text: 'a broadcast not relayed: the IPC channel to that process held more than maxRelayQueueBytes',
    advice: 'a worker cannot keep up even with the sessions that feed it held; traffic nothing can hold (ticks, timers, other servers) is too much for it: add workers, or send less',
  },
} as const;

/** A key of {@link DROP_REASONS}. */
export type DropReason = keyof typeof DROP_REASONS;

/** Every reason, for metrics that list each from 0. */
export const DROP_REASON_NAMES = Object.keys(DROP_REASONS) as DropReason[];

const counts = new Map<string, number>();
const throttles = new Map<string, WarningThrottle>();

/** Messages this process dropped over `bus` for `reason` since it started. */
export function droppedCount(bus: ClusterBus, reason: DropReason): number {
  return counts.get(`${bus}:${reason}`) ?? 0;
}

/**
 * Counts one dropped message and warns, at most once per 10 s for each bus and reason, with how many
 * were dropped since the last warning. `fields` say where it came from (never its content: it may
 * be anything).
 */
export function countDropped(bus: ClusterBus, reason: DropReason, logger: Logger, fields: Readonly<Record<string, unknown>> = {}): void {
  const key = `${bus}:${reason}`;
  counts.set(key, (counts.get(key) ?? 0) + 1);
  let throttle = throttles.get(key);
  if (throttle === undefined) throttles.set(key, (throttle = new WarningThrottle()));
  const dropped = throttle.count(performance.now());
  if (dropped === 0) return;
  const { text, advice } = DROP_REASONS[reason];
  logSafely(logger, 'warn', { bus, reason, dropped, ...fields }, `dropped ${dropped} cluster message(s) from ${bus}: ${text}; ${advice}`);
}
