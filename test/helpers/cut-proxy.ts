/**
 * A TCP proxy between a client and a server that can cut its connections the way a network does:
 * `reset()` sends an RST both ways (a NAT or a middlebox giving up), `blackhole()` stops carrying
 * bytes and says nothing to either side (a phone that left Wi-Fi, a peer that vanished: the server
 * learns it only from silence). It carries TCP and WebSocket alike (bytes are bytes).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Condition, type Cleanup } from './wait.js';

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /** No longer carried: held (blackhole) or reset. */
  cut: boolean;
  reset: boolean;
}

export class CutProxy {
  readonly #pairs: Pair[] = [];
  readonly changed = new Condition();
  /** Where new connections go (`retarget` changes it: a load balancer sending to another server process). */
  targetPort = 0;

  private constructor(
    private readonly listener: Server,
    readonly port: number,
  ) {}

  /** A proxy on 127.0.0.1 port 0 to `targetPort`; closed (and every connection destroyed) by `cleanup`. */
  static async start(targetPort: number, cleanup: Cleanup): Promise<CutProxy> {
    let proxy: CutProxy | undefined;
    const listener = createServer((client) => {
      if (proxy?.refusing === true) {
        client.resetAndDestroy();
        proxy.refused++;
        proxy.changed.notify();
        return;
      }
      const server = connect({ host: '127.0.0.1', port: (proxy as CutProxy).targetPort });
      const pair: Pair = { client, server, cut: false, reset: false };
      (proxy as CutProxy).#pairs.push(pair);
      client.setNoDelay(true);
      server.setNoDelay(true);
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        from.on('data', (chunk: Buffer) => {
          if (!pair.cut) to.write(chunk);
        });
        from.on('end', () => {
          if (!pair.cut) to.end();
        });
        from.on('error', () => undefined);
        from.on('close', () => {
          if (!pair.cut) to.destroy();
          proxy?.changed.notify();
        });
      }
      proxy?.changed.notify();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    proxy = new CutProxy(listener, (listener.address() as { port: number }).port);
    proxy.targetPort = targetPort;
    cleanup.add(() => proxy?.close());
    return proxy;
  }

  /** While true, a new connection is reset at once (the network is still down); the client retries. */
  refusing = false;
  /** Connections reset at once while `refusing`. */
  refused = 0;

  /** Connections carried so far (cut ones included). */
  get connectionCount(): number {
    return this.#pairs.length;
  }

  /** Resolves once `count` connections have come through. */
  untilConnections(count: number): Promise<void> {
    return this.changed.until(() => this.#pairs.length >= count, `${count} proxied connections`);
  }

  /** RST both ways on every connection not reset yet (a held one too: the network gave up on it). */
  reset(): void {
    for (const pair of this.#pairs) {
      if (pair.reset || pair.client.destroyed) continue;
      pair.cut = true;
      pair.reset = true;
      pair.server.resetAndDestroy();
      pair.client.resetAndDestroy();
    }
  }

  /** Stops carrying bytes on every live connection, telling neither side; the sockets stay open (held until close). */
  blackhole(): void {
    for (const pair of this.#pairs) {
      if (pair.cut) continue;
      pair.cut = true;
      pair.server.pause();
      pair.client.pause();
    }
  }

  /** Destroys every connection and stops listening. */
  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.cut = true;
      pair.client.destroy();
      pair.server.destroy();
    }
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}
