/** Starting services on loopback port 0 with their sessions collected, and closed after the test. */
import { createServer } from 'node:net';
import { ClientService, type ClientServiceOptions } from '../../src/net/client-service.js';
import { ServerService, type ServerServiceOptions } from '../../src/net/server-service.js';
import type { Session } from '../../src/net/session.js';
import { Condition, DEFAULT_TIMEOUT_MS, type Cleanup } from './wait.js';

/** Wraps a session maker: remembers every session made, in order, and lets a test await the n-th. */
export class SessionCollector<S extends Session> {
  readonly sessions: S[] = [];
  private readonly changed = new Condition();

  constructor(private readonly make: () => S) {}

  /** Pass this as `sessionFactory`. */
  readonly factory = (): S => {
    const session = this.make();
    this.sessions.push(session);
    // Waiters continue in a microtask, after the service has attached the session (onConnected ran).
    this.changed.notify();
    return session;
  };

  /** Resolves with the `index`-th session made (0-based), once it exists and is attached. */
  async nth(index: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<S> {
    await this.changed.until(() => this.sessions.length > index, `session #${index} to be made`, timeoutMs);
    return this.sessions[index] as S;
  }
}

type ServerOptions<S extends Session> = Omit<ServerServiceOptions<S>, 'sessionFactory' | 'port'> & { port?: number };

/** A started ServerService on 127.0.0.1 port 0 whose sessions come from `make`; closed by `cleanup`. */
export async function startServer<S extends Session>(
  cleanup: Cleanup,
  make: () => S,
  options: ServerOptions<S> = {},
): Promise<{ service: ServerService<S>; collector: SessionCollector<S> }> {
  const collector = new SessionCollector(make);
  const service = new ServerService<S>({ port: 0, ...options, sessionFactory: collector.factory });
  await service.start();
  cleanup.add(() => service.close());
  return { service, collector };
}

type ClientOptions<S extends Session> = Omit<ClientServiceOptions<S>, 'sessionFactory'>;

/** A ClientService (not started) whose sessions come from `make`; closed by `cleanup`. */
export function makeClient<S extends Session>(
  cleanup: Cleanup,
  make: () => S,
  options: ClientOptions<S>,
): { service: ClientService<S>; collector: SessionCollector<S> } {
  const collector = new SessionCollector(make);
  const service = new ClientService<S>({ ...options, sessionFactory: collector.factory });
  cleanup.add(() => service.close());
  return { service, collector };
}

/** A port on 127.0.0.1 with nothing listening: listen on 0, note the port, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
