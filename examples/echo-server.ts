import { ServerService, Session, type DisconnectCause } from 'gamewire';

class GameSession extends Session {
  protected override onConnected(): void {
    console.log(`connected: ${this.remoteAddress}:${this.remotePort}`);
  }
  protected override onRecv(buffer: Buffer): number {
    this.send(Buffer.from(buffer)); // copy: the RecvBuffer's memory is reused
    return buffer.length; // bytes consumed; an unconsumed tail comes back next time
  }
  protected override onDisconnected(cause: DisconnectCause): void {
    console.log(`disconnected: ${cause.code} ${cause.reason}`);
  }
}

const service = new ServerService({ port: 7777, maxSessionCount: 100, sessionFactory: () => new GameSession() });
await service.start();
process.once('SIGINT', () => void service.close());
