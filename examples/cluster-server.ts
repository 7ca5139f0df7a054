// A game server on every core, with one lobby over all of them (and over every server sharing a
// Redis with REDIS_URL=redis://host:6379). The same file runs as the primary and as each worker.
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
    // Every player in the lobby gets it once, on whichever worker or server it is.
    this.lobby.broadcast(this.makePacket(id, body));
  }
  private makePacket(id: number, body: Buffer): Buffer {
    const packet = Buffer.allocUnsafe(4 + body.length);
    packet.writeUInt16LE(4 + body.length, 0);
    packet.writeUInt16LE(id, 2);
    body.copy(packet, 4);
    return packet;
  }
}

const server = await runWorkers({
  workers: 0, // one per core
  maxSessionCount: 10_000, // the whole server; each worker gets its share
  ...(process.env.REDIS_URL === undefined ? {} : { redis: process.env.REDIS_URL }),
  setup: ({ rooms, maxSessionCount }) => {
    const lobby = rooms.room<Player>('lobby', { maxMembers: 10_000 });
    const service = new ServerService({ port: 7777, maxSessionCount, sessionFactory: () => new Player(lobby) });
    return { service, beforeClose: () => lobby.close() };
  },
});
if (server.role !== 'worker') {
  console.log(`listening on ${server.host}:${server.port} with ${server.workerCount} workers`);
  process.once('SIGTERM', () => void server.close());
  process.once('SIGINT', () => void server.close());
}
