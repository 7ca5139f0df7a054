import { performance } from 'node:perf_hooks';
import { AggregatorRegistry, Gauge, type Registry } from 'prom-client';
import type { MetricsSource } from './metrics-server.js';

/**
 * In a node:cluster worker: answers the primary's scrape requests (over the cluster IPC channel) with
 * the series of `registries`, usually `[metrics.registry]`. Call it once per worker.
 */
export function shareWorkerMetrics(registries: readonly Registry[]): void {
  AggregatorRegistry.setRegistries([...registries]);
  new AggregatorRegistry(); // installs the worker's answer to the primary's requests
}

/**
 * In the node:cluster primary: a {@link MetricsSource} for `serveMetrics({ source })` whose text is the
 * sum over every live worker that called {@link shareWorkerMetrics} (prom-client's AggregatorRegistry:
 * series with the same labels are added up; default metrics use their own aggregators, e.g. the
 * average of event-loop lag). A scrape fails (HTTP 500) when a worker does not answer within 5 s.
 */
export function clusterMetricsSource(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return {
    contentType: aggregator.contentType,
    metrics: () => aggregator.clusterMetrics(),
  };
}

/**
 * In a node:cluster worker: series told apart by a `worker` label (the worker's id), so that the
 * primary's sum still shows which worker is full or busy: `gamewire_worker_sessions{worker}` (sessions
 * open in that worker) and `gamewire_worker_event_loop_utilization{worker}` (the share of time its event
 * loop was busy since the previous scrape, 0..1). Summed by the primary like every series, they stay
 * one series per worker because their labels differ.
 */
export function registerWorkerSeries(registry: Registry, worker: string, sessions: () => number): void {
  new Gauge({
    name: 'gamewire_worker_sessions',
    help: 'Sessions open now in one worker process.',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      this.set({ worker }, sessions());
    },
  });
  let last = performance.eventLoopUtilization();
  new Gauge({
    name: 'gamewire_worker_event_loop_utilization',
    help: "Share of time one worker's event loop was busy since the previous scrape (0..1).",
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      const now = performance.eventLoopUtilization();
      this.set({ worker }, performance.eventLoopUtilization(now, last).utilization);
      last = now;
    },
  });
}
