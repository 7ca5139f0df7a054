// A game server on every core that reloads its code without dropping a player. Deploy the new
// files, then `kill -HUP <pid>` (or call `server.reload()` as below): new workers start from the code
// on disk, and once all listen the old ones drain one at a time, their players playing on in the
// same rooms until they leave or the drain deadline (then they reconnect, to a new worker).
// SIGTERM drains the whole server first (docs/deploying.md, the Kubernetes recipe).
import { readFileSync } from 'node:fs';
import { PacketSession, ServerService } from 'gamewire';
import { runWorkers, type ClusterRoom } from 'gamewire/cluster';

class Player extends PacketSession {
  constructor(private readonly lobby: ClusterRoom<Player>) {
    super();
  }
  protected override onConnected(): void {
    this.lobby.enter(this);
  }
  protected override onRecvPacket(id: number, body: Buffer): void {
    const packet = Buffer.allocUnsafe(4 + body.length);
    packet.writeUInt16LE(4 + body.length, 0);
    packet.writeUInt16LE(id, 2);
    body.copy(packet, 4);
    this.lobby.broadcast(packet); // old and new workers share the lobby during a reload
  }
}

/** The game's version, read by each worker when it starts: a reload shows the new one. */
function gameVersion(): string {
  try {
    return readFileSync(new URL('./VERSION', import.meta.url), 'utf8').trim();
  } catch {
    return 'dev';
  }
}

const server = await runWorkers({
  workers: 2,
  drainTimeoutMs: 30_000, // how long an old worker's players may play on
  setup: ({ rooms, maxSessionCount }) => {
    const lobby = rooms.room<Player>('lobby');
    const service = new ServerService({ port: 7777, maxSessionCount, sessionFactory: () => new Player(lobby) });
    return { service, version: gameVersion(), beforeClose: () => lobby.close() };
  },
});
if (server.role === 'primary') {
  console.log(`listening on ${server.host}:${server.port}:`, server.workers?.());
  process.on('SIGHUP', () => {
    void server.reload?.().then((result) => {
      // ok false: a new worker failed to start (result.error says why); the old ones still serve.
      console.log(result.ok ? 'reloaded:' : `reload failed (${result.error}); still serving:`, result.workers);
    });
  });
  process.once('SIGTERM', () => void server.drain()); // stop accepting, let the players finish
  process.once('SIGINT', () => void server.close());
}
