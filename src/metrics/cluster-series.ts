import { Counter, Gauge, type Registry } from 'prom-client';
import { CLUSTER_BUSES, DROP_REASON_NAMES, droppedCount } from '../cluster/dropped-messages.js';
import type { ClusterStats } from '../cluster/worker-types.js';

/**
 * `gamewire_cluster_messages_dropped_total{bus, reason}`: cross-process messages this process dropped
 * (docs/cluster.md), every bus and reason listed from 0. GamewireMetrics registers it; summed over
 * the workers and the primary by `clusterMetricsSource`.
 */
export function registerClusterSeries(registry: Registry): void {
  new Counter({
    name: 'gamewire_cluster_messages_dropped_total',
    help: 'Messages between processes (Redis, IPC) dropped instead of handled, by bus and reason.',
    labelNames: ['bus', 'reason'],
    registers: [registry],
    collect() {
      this.reset();
      for (const bus of CLUSTER_BUSES) for (const reason of DROP_REASON_NAMES) this.inc({ bus, reason }, droppedCount(bus, reason));
    },
  });
}

/** The cluster primary's own series, read from `stats` (ClusterServer.stats) at each scrape. */
export function registerPrimarySeries(registry: Registry, stats: () => ClusterStats): void {
  const registers = [registry];
  new Counter({
    name: 'gamewire_cluster_workers_lost_total',
    help: 'Worker processes lost, by how: exited (crashed or killed from outside) or unresponsive (killed by the heartbeat).',
    labelNames: ['how'],
    registers,
    collect() {
      this.reset();
      const lost = stats().workersLost;
      this.inc({ how: 'exited' }, lost.exited);
      this.inc({ how: 'unresponsive' }, lost.unresponsive);
    },
  });
  new Counter({
    name: 'gamewire_cluster_worker_replacements_total',
    help: 'Replacement workers that started listening.',
    registers,
    collect() {
      this.reset();
      this.inc(stats().replacements);
    },
  });
  new Gauge({
    name: 'gamewire_cluster_relay_queued_bytes',
    help: 'Bytes of room traffic and control messages queued now in the IPC channels from the primary to the workers.',
    registers,
    collect() {
      this.set(stats().relayQueuedBytes);
    },
  });
  new Counter({
    name: 'gamewire_cluster_session_moves_total',
    help: 'Sessions moved between workers in rolling reloads, by result: ok (the new worker has it), failed (its client was told MOVE but the move failed: it logs in again), declined (it did not move and drained).',
    labelNames: ['result'],
    registers,
    collect() {
      this.reset();
      const moves = stats().sessionMoves;
      this.inc({ result: 'ok' }, moves?.ok ?? 0);
      this.inc({ result: 'failed' }, moves?.failed ?? 0);
      this.inc({ result: 'declined' }, moves?.declined ?? 0);
    },
  });
  new Gauge({
    name: 'gamewire_cluster_held_rooms',
    help: 'Rooms whose feeding sessions are held now because a worker in them cannot keep up.',
    registers,
    collect() {
      this.set(stats().heldRooms);
    },
  });
  new Counter({
    name: 'gamewire_cluster_sender_holds_total',
    help: 'Times a session was held by name on its worker because a member on another worker was behind with what it fed past its share.',
    registers,
    collect() {
      this.reset();
      this.inc(stats().senderHolds);
    },
  });
  new Gauge({
    name: 'gamewire_cluster_held_senders',
    help: 'Sessions held now by name because a member on another worker is behind with what each fed it past its share.',
    registers,
    collect() {
      this.set(stats().heldSenders);
    },
  });
}
