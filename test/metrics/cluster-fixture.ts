/**
 * Test-only node:cluster program (run by cluster-metrics.test.ts, not a test itself): the primary
 * forks 2 workers that each run an echo ServerService with GamewireMetrics shared with the primary,
 * and connect 3 clients to the shared port; the primary serves the sum on a metrics endpoint and
 * prints `metrics on 127.0.0.1:PORT`. SIGTERM closes the workers, then the endpoint; exit 0.
 */
import cluster from 'node:cluster';
import { once } from 'node:events';
import { clusterMetricsSource, shareWorkerMetrics } from '../../src/metrics/cluster-metrics.js';
import { GamewireMetrics } from '../../src/metrics/gamewire-metrics.js';
import { serveMetrics } from '../../src/metrics/metrics-server.js';
import { ClientService } from '../../src/net/client-service.js';
import { ServerService } from '../../src/net/server-service.js';
import { Session } from '../../src/net/session.js';
import { EchoSession } from '../../src/samples/echo-session.js';

const WORKERS = 2;
const CLIENTS_PER_WORKER = 3;

async function primary(): Promise<void> {
  const workers = Array.from({ length: WORKERS }, () => cluster.fork());
  await Promise.all(workers.map((worker) => once(worker, 'message')));
  const endpoint = await serveMetrics({ port: 0, source: clusterMetricsSource() });
  process.stdout.write(`metrics on 127.0.0.1:${endpoint.port}\n`);
  process.once('SIGTERM', () => {
    endpoint.markClosing();
    const exited = workers.map((worker) => once(worker, 'exit'));
    for (const worker of workers) worker.send('stop');
    void Promise.all(exited).then(() => endpoint.close());
  });
}

async function worker(): Promise<void> {
  const server = new ServerService({ port: 0, sessionFactory: () => new EchoSession() });
  const metrics = new GamewireMetrics({ services: [server] });
  shareWorkerMetrics([metrics.registry]);
  await server.start();
  const clients = new ClientService({ port: server.port, maxSessionCount: CLIENTS_PER_WORKER, sessionFactory: () => new Session() });
  await clients.start();
  process.on('message', (message) => {
    if (message !== 'stop') return;
    void clients
      .close()
      .then(() => server.close())
      .then(() => process.disconnect());
  });
  process.send?.({ ready: true });
}

await (cluster.isPrimary ? primary() : worker());
