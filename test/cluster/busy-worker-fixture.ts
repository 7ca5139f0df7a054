/**
 * Test-only program (run by worker-watch.test.ts, not a test itself): runWorkers with 2 workers whose
 * sessions echo packets, except packet id 666, which makes that worker spin in a busy loop forever (a
 * game bug). The primary prints one JSON line per log record and `ready <port>`; SIGTERM closes it.
 */
import { runWorkers } from '../../src/cluster/run-workers.js';
import type { Logger } from '../../src/core/logger.js';
import { ServerService } from '../../src/net/server-service.js';
import { PacketSession } from '../../src/packet/packet-session.js';

class Echo extends PacketSession {
  protected override onRecvPacket(id: number, body: Buffer): void {
    if (id === 666) for (;;);
    const packet = Buffer.alloc(4 + body.length);
    packet.writeUInt16LE(packet.length, 0);
    packet.writeUInt16LE(id, 2);
    body.copy(packet, 4);
    this.send(packet);
  }
}

const line = (level: string) => (fields: object, msg: string) => process.stdout.write(`${JSON.stringify({ level, time: Date.now(), ...fields, msg })}\n`);
const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') };
const server = await runWorkers({
  workers: 2,
  workerTimeoutMs: Number(process.env.WORKER_TIMEOUT_MS ?? 1000),
  logger,
  setup: () => ({ service: new ServerService({ port: 0, sessionFactory: () => new Echo() }) }),
});
if (server.role === 'primary') {
  process.stdout.write(`ready ${server.port} ${JSON.stringify(server.workerPids())}\n`);
  process.once('SIGTERM', () => void server.close());
}
