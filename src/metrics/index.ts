/**
 * gamewire/metrics: Prometheus metrics for gamewire servers (prom-client). Services and sessions keep
 * plain-number counters; the series read them when scraped. See `docs/metrics.md`.
 * @packageDocumentation
 * @module gamewire/metrics
 */
export {
  GamewireMetrics,
  HEARTBEAT_RTT_BUCKETS,
  QUEUE_DEPTH_BUCKETS,
  type GamewireMetricsOptions,
} from './gamewire-metrics.js';
export { serveMetrics, type MetricsServer, type MetricsSource, type ServeMetricsOptions } from './metrics-server.js';
export { clusterMetricsSource, registerWorkerSeries, shareWorkerMetrics } from './cluster-metrics.js';
export { registerClusterSeries, registerPrimarySeries } from './cluster-series.js';
export { EVICTION_CAUSES } from './metrics-snapshot.js';
/** prom-client's classes, from the same installation as gamewire's series: use them for your own. */
export { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
