/**
 * Test-only node:cluster program (run by cluster-metrics.test.ts, not a test itself), wired as a CLI
 * server with workers would be: the primary forks 2 workers that each run an echo ServerService with
 * `shareWorkerObservation`, and connect 3 clients to the shared port; the primary runs
 * `startPrimaryObservation` (the endpoint serves the sum, the stats line on stderr shows it) and
 * prints `metrics on 127.0.0.1:PORT`. SIGTERM closes the workers, then the endpoint; exit 0.
 */
import cluster from 'node:cluster';
import { once } from 'node:events';
import { pino } from 'pino';
import { shareWorkerObservation, startPrimaryObservation, type ObserveSettings } from '../../src/cli/server-observe.js';
import { ClientService } from '../../src/net/client-service.js';
import { ServerService } from '../../src/net/server-service.js';
import { Session } from '../../src/net/session.js';
import { EchoSession } from '../../src/samples/echo-session.js';

const WORKERS = 2;
const CLIENTS_PER_WORKER = 3;
const OBSERVE: ObserveSettings = { metricsPort: 0, metricsHost: '127.0.0.1', stats: true };

async function primary(): Promise<void> {
  const workers = Array.from({ length: WORKERS }, () => cluster.fork());
  await Promise.all(workers.map((worker) => once(worker, 'message')));
  const observation = await startPrimaryObservation(pino({ level: 'silent' }), OBSERVE);
  process.stdout.write(`metrics on ${observation.metricsAddress ?? '?'}\n`);
  process.once('SIGTERM', () => {
    observation.closing();
    const exited = workers.map((worker) => once(worker, 'exit'));
    for (const worker of workers) worker.send('stop');
    void Promise.all(exited).then(() => observation.close());
  });
}

async function worker(): Promise<void> {
  const server = new ServerService({ port: 0, sessionFactory: () => new EchoSession() });
  shareWorkerObservation(server, OBSERVE);
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
