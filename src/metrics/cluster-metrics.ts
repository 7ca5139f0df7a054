import cluster, { type Worker } from 'node:cluster';
import { performance } from 'node:perf_hooks';
import { AggregatorRegistry, Gauge, prometheusContentType, type Registry } from 'prom-client';
import { isGamewireType, parseToWorker, toPrimary, toWorker } from '../cluster/cluster-messages.js';
import type { MetricsSource } from './metrics-server.js';

/** How long a scrape of the primary waits for every worker's answer. */
const SCRAPE_TIMEOUT_MS = 5_000;

/**
 * In a node:cluster worker: answers the primary's scrape requests (over the cluster IPC channel) with
 * the series of `registries`, usually `[metrics.registry]`. Call it once per worker. It answers
 * {@link clusterMetricsSource} and, as before, prom-client's own `AggregatorRegistry.clusterMetrics()`.
 */
export function shareWorkerMetrics(registries: readonly Registry[]): void {
  AggregatorRegistry.setRegistries([...registries]);
  new AggregatorRegistry(); // installs prom-client's answer to its own requests
  process.on('message', (raw: unknown) => {
    const request = parseToWorker(raw);
    if (typeof request !== 'object' || request.type !== 'metrics-request') return;
    const reply = (body: { metrics: unknown } | { error: string }): void => {
      if (process.send !== undefined && process.connected) process.send(toPrimary({ type: 'metrics-reply', id: request.id, ...body }), undefined, {}, ignore);
    };
    Promise.all(registries.map((registry) => registry.getMetricsAsJSON())).then(
      (metrics) => reply({ metrics }),
      (error: unknown) => reply({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

interface Scrape {
  readonly waiting: Set<Worker>;
  readonly responses: object[];
  readonly done: (error: Error | undefined) => void;
}

const scrapes = new Map<number, Scrape>();
let nextScrape = 0;
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  cluster.on('message', (worker: Worker, raw: unknown) => {
    if (!isGamewireType(raw, 'metrics-reply')) return;
    const scrape = scrapes.get(raw.id as number);
    if (scrape === undefined || !scrape.waiting.delete(worker)) return;
    const metrics = raw.metrics;
    if (typeof raw.error === 'string' || !Array.isArray(metrics) || !metrics.every(Array.isArray)) {
      scrape.done(new Error(`worker ${worker.process.pid} could not collect its metrics: ${String(raw.error ?? 'a malformed reply')}`));
      return;
    }
    scrape.responses.push(...(metrics as object[]));
    if (scrape.waiting.size === 0) scrape.done(undefined);
  });
  // A worker that exits during a scrape is not waited for: its sessions are gone.
  cluster.on('exit', (worker: Worker) => {
    for (const scrape of scrapes.values()) {
      if (scrape.waiting.delete(worker) && scrape.waiting.size === 0) scrape.done(undefined);
    }
  });
}

/**
 * In the node:cluster primary: a {@link MetricsSource} for `serveMetrics({ source })` whose text is the
 * sum over every live worker that called {@link shareWorkerMetrics}, and over the primary's own
 * `registries` (prom-client's aggregation: series with the same labels are added up; default metrics
 * use their own aggregators, e.g. the average of event-loop lag). A scrape fails (HTTP 500) when a
 * worker does not answer within 5 s.
 */
export function clusterMetricsSource(registries: readonly Registry[] = []): MetricsSource {
  listen();
  return {
    contentType: prometheusContentType,
    metrics: async () => {
      const own = await Promise.all(registries.map((registry) => registry.getMetricsAsJSON()));
      const responses = await collectWorkers();
      return AggregatorRegistry.aggregate([...responses, ...own]).metrics();
    },
  };
}

function collectWorkers(): Promise<object[]> {
  const id = nextScrape++;
  const workers = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
  return new Promise((resolve, reject) => {
    const scrape: Scrape = {
      waiting: new Set(workers),
      responses: [],
      done: (error) => {
        clearTimeout(timer);
        scrapes.delete(id);
        if (error === undefined) resolve(scrape.responses);
        else reject(error);
      },
    };
    const timer = setTimeout(() => {
      const silent = [...scrape.waiting].map((worker) => worker.process.pid).join(', ');
      scrape.done(new Error(`worker(s) ${silent} did not answer the metrics request within ${SCRAPE_TIMEOUT_MS} ms`));
    }, SCRAPE_TIMEOUT_MS);
    scrapes.set(id, scrape);
    if (workers.length === 0) {
      scrape.done(undefined);
      return;
    }
    for (const worker of workers) worker.send(toWorker({ type: 'metrics-request', id }), undefined, {}, ignore);
  });
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

function ignore(): void {}
