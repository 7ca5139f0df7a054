/**
 * Test-only program (run by rolling-reload.test.ts, not a test itself): runWorkers with 2 workers
 * whose game code is the module at GAME_MODULE, which the test rewrites between reloads; each
 * fresh worker imports it again. A session says `pid version` (packet id 2) when it connects and
 * echoes packets. The primary prints JSON lines: `{"ready":…}` and, on SIGHUP, `{"reload":…}`
 * with what `server.reload()` resolved with; SIGUSR2 asks two reloads at once; SIGTERM drains.
 */
import { pathToFileURL } from 'node:url';
import { runWorkers } from '../../src/cluster/run-workers.js';
import type { Logger } from '../../src/core/logger.js';
import { ServerService } from '../../src/net/server-service.js';
import { PacketSession } from '../../src/packet/packet-session.js';

interface GameModule {
  readonly version: string;
  /** When set, the setup throws it: new code that cannot start. */
  readonly failWith?: string;
}

function packetOf(id: number, body: Buffer): Buffer {
  const packet = Buffer.alloc(4 + body.length);
  packet.writeUInt16LE(packet.length, 0);
  packet.writeUInt16LE(id, 2);
  body.copy(packet, 4);
  return packet;
}

class Echo extends PacketSession {
  constructor(private readonly version: string) {
    super();
  }
  protected override onConnected(): void {
    this.send(packetOf(2, Buffer.from(`${process.pid} ${this.version}`)));
  }
  protected override onRecvPacket(id: number, body: Buffer): void {
    this.send(packetOf(id, body));
  }
}

const line = (level: string) => (fields: object, msg: string) => process.stdout.write(`${JSON.stringify({ level, ...fields, msg })}\n`);
const logger: Logger = { debug: () => {}, info: line('info'), warn: line('warn'), error: line('error') };
const server = await runWorkers({
  workers: 2,
  logger,
  drainTimeoutMs: Number(process.env.DRAIN_TIMEOUT_MS ?? 500),
  workerStartTimeoutMs: 10_000,
  setup: async () => {
    const game = (await import(pathToFileURL(process.env.GAME_MODULE ?? '').href)) as GameModule;
    if (game.failWith !== undefined) throw new Error(game.failWith);
    return { service: new ServerService({ port: 0, sessionFactory: () => new Echo(game.version) }), version: game.version };
  },
});
if (server.role === 'primary') {
  const print = (key: string, value: unknown): void => void process.stdout.write(`${JSON.stringify({ [key]: value })}\n`);
  print('ready', { port: server.port, workers: server.workers?.() });
  process.on('SIGHUP', () => void server.reload?.().then((result) => print('reload', result)));
  process.on('SIGUSR2', () => {
    void server.reload?.().then((result) => print('reload', result));
    void server.reload?.().then((result) => print('second', result));
  });
  process.once('SIGTERM', () => void server.drain().then(() => print('drained', true)));
}
