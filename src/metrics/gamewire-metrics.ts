import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DisconnectCode } from '../core/disconnect-cause.js';
import { REFUSAL_REASONS } from '../net/listen/refusal.js';
import type { Service } from '../net/service.js';
import type { Session } from '../net/session.js';
import type { Room } from '../room/room.js';
import { registerClusterSeries } from './cluster-series.js';
import { registerResumeSeries } from './resume-series.js';
import {
  EVICTION_CAUSES,
  snapshotRooms,
  snapshotServices,
  type RoomSnapshot,
  type TransportSnapshot,
} from './metrics-snapshot.js';

/** Buckets of `gamewire_send_queue_depth_bytes`: bytes queued for one peer. */
export const QUEUE_DEPTH_BUCKETS: readonly number[] = [0, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];
/** Buckets of `gamewire_heartbeat_rtt_seconds`. */
export const HEARTBEAT_RTT_BUCKETS: readonly number[] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Options of {@link GamewireMetrics}. */
export interface GamewireMetricsOptions {
  /** The registry to register into; game code adds its own metrics to the same one. Default: a new Registry. */
  readonly registry?: Registry;
  /** Also register prom-client's default Node metrics (event-loop lag, GC, heap, CPU). Default true. */
  readonly defaultMetrics?: boolean;
  /** Services whose sessions are counted (more with `addService`). */
  readonly services?: Iterable<Service<Session>>;
  /** Rooms counted in `gamewire_rooms` and `gamewire_room_members` (more with `addRoom`). */
  readonly rooms?: Iterable<Room<Session>>;
}

type Labels = Record<string, string>;

/**
 * gamewire's Prometheus series over a prom-client {@link Registry}. Nothing here runs per packet:
 * services and sessions keep plain-number counters, and each series reads them in its `collect()`
 * when the registry is scraped. Every session, packet and byte series has a `transport` label.
 *
 * Game code adds its own metrics to {@link registry}:
 * ```ts
 * const metrics = new GamewireMetrics({ services: [service], rooms: [room] });
 * const logins = new Counter({ name: 'game_logins_total', help: 'Logins', registers: [metrics.registry] });
 * ```
 * The series are listed in `docs/metrics.md`.
 */
export class GamewireMetrics {
  /** The registry holding gamewire's series (and yours). */
  readonly registry: Registry;
  readonly #services = new Set<Service<Session>>();
  readonly #rooms = new Set<Room<Session>>();
  #cached: Map<string, TransportSnapshot> | undefined;
  #cachedRooms: RoomSnapshot | undefined;

  /**
   * Registers gamewire's series (and, unless `defaultMetrics: false`, prom-client's default Node
   * metrics) in `options.registry` or a new Registry.
   * @throws Error from prom-client when the registry already holds a series of the same name.
   */
  constructor(options: GamewireMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry();
    for (const service of options.services ?? []) this.#services.add(service);
    for (const room of options.rooms ?? []) this.#rooms.add(room);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#register();
    registerClusterSeries(this.registry);
    registerResumeSeries(this.registry, () => this.#services);
  }

  /** The services counted. */
  get services(): readonly Service<Session>[] {
    return [...this.#services];
  }

  /** Counts `service`'s sessions and counters from now on (a service is counted once however often added). */
  addService(service: Service<Session>): void {
    this.#services.add(service);
  }

  /** Stops counting `service` (its totals leave the counters: use it only for a service that is gone). */
  removeService(service: Service<Session>): void {
    this.#services.delete(service);
  }

  /** Counts `room` in the room series. */
  addRoom(room: Room<Session>): void {
    this.#rooms.add(room);
  }

  /** Stops counting `room` (call it when the room is closed). */
  removeRoom(room: Room<Session>): void {
    this.#rooms.delete(room);
  }

  /**
   * One pass over the sessions per scrape: the first series of a scrape (`gamewire_sessions`, collected
   * first as it is registered first) reads afresh with `fresh`; the others reuse that read until the
   * event loop turns.
   */
  #snapshot(fresh = false): Map<string, TransportSnapshot> {
    if (fresh || this.#cached === undefined) {
      this.#cached = snapshotServices(this.#services);
      setImmediate(this.#forget).unref();
    }
    return this.#cached;
  }

  #roomSnapshot(fresh = false): RoomSnapshot {
    if (fresh || this.#cachedRooms === undefined) {
      this.#cachedRooms = snapshotRooms(this.#rooms);
      setImmediate(this.#forget).unref();
    }
    return this.#cachedRooms;
  }

  readonly #forget = (): void => {
    this.#cached = undefined;
    this.#cachedRooms = undefined;
  };

  #register(): void {
    const registers = [this.registry];
    const metrics = this;
    const perTransport = (name: string, help: string, read: (snap: TransportSnapshot) => number, fresh = false): void => {
      new Gauge({
        name,
        help,
        labelNames: ['transport'],
        registers,
        collect() {
          this.reset();
          for (const [transport, snap] of metrics.#snapshot(fresh)) this.set({ transport }, read(snap));
        },
      });
    };
    const totalPerTransport = (name: string, help: string, read: (snap: TransportSnapshot) => number): void => {
      new Counter({
        name,
        help,
        labelNames: ['transport'],
        registers,
        collect() {
          this.reset();
          for (const [transport, snap] of metrics.#snapshot()) this.inc({ transport }, read(snap));
        },
      });
    };
    const byLabel = (
      name: string,
      help: string,
      label: string,
      read: (snap: TransportSnapshot) => Iterable<[string, number]>,
    ): void => {
      new Counter({
        name,
        help,
        labelNames: ['transport', label],
        registers,
        collect() {
          this.reset();
          for (const [transport, snap] of metrics.#snapshot()) {
            for (const [value, count] of read(snap)) this.inc({ transport, [label]: value } as Labels, count);
          }
        },
      });
    };
    const distribution = (name: string, help: string, buckets: readonly number[], read: (snap: TransportSnapshot) => number[]): void => {
      new Histogram({
        name,
        help,
        labelNames: ['transport'],
        buckets: [...buckets],
        registers,
        collect() {
          this.reset();
          for (const [transport, snap] of metrics.#snapshot()) {
            this.zero({ transport }); // the buckets stay, at 0, when no session has a value
            for (const value of read(snap)) this.observe({ transport }, value);
          }
        },
      });
    };

    perTransport('gamewire_sessions', 'Sessions open now.', (s) => s.sessions, true);
    perTransport('gamewire_sessions_limit', 'Most sessions the services keep open at once (maxSessionCount, summed).', (s) => s.sessionLimit);
    totalPerTransport('gamewire_sessions_accepted_total', 'Connections accepted into sessions.', (s) => s.accepted);
    byLabel('gamewire_sessions_refused_total', 'Connections refused, by reason.', 'reason', (s) =>
      REFUSAL_REASONS.map((reason): [string, number] => [reason, s.refused[reason]]),
    );
    byLabel('gamewire_disconnects_total', 'Sessions ended, by disconnect cause.', 'cause', (s) => withAllCauses(s.disconnects));
    byLabel('gamewire_evictions_total', 'Slow consumers cut off (SEND_QUEUE_OVERFLOW, SEND_STALLED), by cause.', 'cause', (s) =>
      [...EVICTION_CAUSES].map((cause): [string, number] => [cause, s.disconnects.get(cause) ?? 0]),
    );
    totalPerTransport('gamewire_packets_received_total', 'Packets received from peers.', (s) => s.packetsReceived);
    totalPerTransport('gamewire_packets_sent_total', 'Packets queued for peers.', (s) => s.packetsSent);
    totalPerTransport('gamewire_bytes_received_total', 'Bytes read from peers.', (s) => s.bytesReceived);
    totalPerTransport('gamewire_bytes_sent_total', 'Bytes queued for peers.', (s) => s.bytesSent);
    perTransport('gamewire_send_queue_bytes', 'Bytes queued for peers now (gamewire queues and socket buffers).', (s) => s.sendQueueBytes);
    perTransport('gamewire_sessions_unwritable', 'Sessions over sendHighWaterMark now (their peer is behind).', (s) => s.unwritable);
    distribution(
      'gamewire_send_queue_depth_bytes',
      'Bytes queued per session, a snapshot at scrape time (use histogram_quantile on the buckets, not rate).',
      QUEUE_DEPTH_BUCKETS,
      (s) => s.queueDepths,
    );
    distribution(
      'gamewire_heartbeat_rtt_seconds',
      "Sessions' last heartbeat round trip, a snapshot at scrape time (PacketSessions with heartbeatIntervalMs).",
      HEARTBEAT_RTT_BUCKETS,
      (s) => s.heartbeatRtts,
    );
    new Gauge({
      name: 'gamewire_draining',
      help: 'Services draining now (drain(), SIGTERM, a worker replaced by a rolling reload): 1 while this process drains; summed over workers by a cluster primary.',
      registers,
      collect() {
        let draining = 0;
        for (const service of metrics.#services) if (service.draining) draining = 1;
        this.set(draining);
      },
    });
    new Gauge({
      name: 'gamewire_rooms',
      help: 'Rooms counted.',
      registers,
      collect() {
        this.set(metrics.#roomSnapshot(true).rooms);
      },
    });
    new Gauge({
      name: 'gamewire_room_members',
      help: 'Members of the rooms counted, summed.',
      registers,
      collect() {
        this.set(metrics.#roomSnapshot().members);
      },
    });
  }
}

/** Every known cause, at 0 when none happened, so that `rate()` works from the first scrape. */
function withAllCauses(disconnects: ReadonlyMap<string, number>): Map<string, number> {
  const all = new Map<string, number>();
  for (const code of Object.values(DisconnectCode)) all.set(code, 0);
  for (const [cause, count] of disconnects) all.set(cause, count);
  return all;
}
