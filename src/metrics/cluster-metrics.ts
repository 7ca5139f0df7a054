import { AggregatorRegistry, type Registry } from 'prom-client';
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
