/**
 * Test-only program (run by hostile-ipc.test.ts, not a test itself): runWorkers with 2 workers whose
 * sessions broadcast every packet to one ClusterRoom. Each worker, once it listens, sends the primary
 * the junk of `JUNK_TO_PRIMARY`; the primary, once all listen, sends each worker `JUNK_TO_WORKER`.
 * Each process prints its drop counts as a JSON line when it closes (SIGTERM to the primary).
 */
import cluster from 'node:cluster';
import { CLUSTER_BUSES, DROP_REASON_NAMES, droppedCount } from '../../src/cluster/dropped-messages.js';
import { runWorkers } from '../../src/cluster/run-workers.js';
import { ServerService } from '../../src/net/server-service.js';

import { RoomEchoMember } from '../helpers/room-echo-member.js';
import { JUNK_TO_PRIMARY, JUNK_TO_WORKER } from './ipc-junk.js';

function counts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const bus of CLUSTER_BUSES) for (const reason of DROP_REASON_NAMES) if (droppedCount(bus, reason) > 0) out[`${bus}:${reason}`] = droppedCount(bus, reason);
  return out;
}

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const server = await runWorkers({
  workers: 2,
  logger: silent,
  setup: ({ rooms }) => {
    const room = rooms.room<RoomEchoMember>('r');
    setImmediate(() => {
      for (const [junk] of JUNK_TO_PRIMARY) process.send?.(junk);
    });
    return {
      service: new ServerService({ port: 0, sessionFactory: () => new RoomEchoMember(room) }),
      beforeClose: () => {
        process.stdout.write(`${JSON.stringify({ role: 'worker', pid: process.pid, dropped: counts() })}\n`);
        room.close();
      },
    };
  },
});
if (server.role === 'primary') {
  for (const worker of Object.values(cluster.workers ?? {})) for (const [junk] of JUNK_TO_WORKER) worker?.send(junk as object);
  process.stdout.write(`ready ${server.port} ${JSON.stringify(server.workerPids())}\n`);
  process.once('SIGTERM', () => {
    void server.close().then(() => process.stdout.write(`${JSON.stringify({ role: 'primary', pid: process.pid, dropped: counts() })}\n`));
  });
}
