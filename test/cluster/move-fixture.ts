/**
 * Test-only program (run by move-failure.test.ts, not a test itself): runWorkers with 2 resumable
 * workers whose sessions can move (they implement the state hooks) and enter room `r`; with
 * DIE_ON_RESTORE=1 a worker that takes a session in dies in `restoreState` (a new worker dying in
 * the middle of a move). The primary prints `{"ready":…}`, `{"reload":…}` after SIGHUP, and
 * `{"stats":…}` (its ClusterStats) on SIGUSR2.
 */
import { runWorkers } from '../../src/cluster/run-workers.js';
import type { Logger } from '../../src/core/logger.js';
import { ServerService } from '../../src/net/server-service.js';
import type { SessionStateHooks } from '../../src/net/session-state-hooks.js';
import { PacketSession } from '../../src/packet/packet-session.js';
import type { ClusterRoom } from '../../src/room/cluster-room.js';

class Mover extends PacketSession implements SessionStateHooks {
  constructor(private readonly room: ClusterRoom<Mover>) {
    super();
  }
  serializeState(): Uint8Array {
    return new Uint8Array([1]);
  }
  restoreState(): void {
    if (process.env.DIE_ON_RESTORE === '1') process.exit(3);
  }
  protected override onConnected(): void {
    this.room.enter(this);
  }
  protected override onRecvPacket(id: number, body: Buffer): void {
    void id;
    void body;
  }
}

const line = (level: string) => (fields: object, msg: string) => process.stdout.write(`${JSON.stringify({ level, ...fields, msg })}\n`);
const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') };
const server = await runWorkers({
  workers: 2,
  logger,
  drainTimeoutMs: 20_000,
  workerStartTimeoutMs: 10_000,
  setup: (context) => {
    const room = context.rooms.room<Mover>('r');
    return { service: new ServerService({ port: 0, resume: {}, sessionFactory: () => new Mover(room) }) };
  },
});
if (server.role === 'primary') {
  const print = (key: string, value: unknown): void => void process.stdout.write(`${JSON.stringify({ [key]: value })}\n`);
  print('ready', { port: server.port });
  process.on('SIGHUP', () => void server.reload?.().then((result) => print('reload', result)));
  process.on('SIGUSR2', () => print('stats', server.stats?.()));
  process.once('SIGTERM', () => void server.close().then(() => print('closed', true)));
}
