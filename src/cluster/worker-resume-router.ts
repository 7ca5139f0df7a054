import { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';
import type { HandedConnectionSink, HandedKind, ResumeRouter } from '../net/resume/resume-router.js';
import { toPrimary, WORKER_ENV, type ToWorker } from './cluster-messages.js';
import { countDropped } from './dropped-messages.js';

type HandedMessage = Extract<ToWorker, { type: 'resume-socket' }>;

/**
 * A worker's side of resume across workers (docs/resume.md, "Workers and machines"): its route and
 * its server's number from the primary, the routes that listen now, and the connections it hands
 * over (through the primary, with `process.send(message, socket)`) or is handed. Installed as the
 * process's ResumeRouter before the game's setup, so the ServerService it makes takes part.
 */
export class WorkerResumeRouter implements ResumeRouter {
  readonly route: number;
  readonly server: number;
  readonly #logger: Logger;
  #live: ReadonlySet<number> = new Set();
  readonly #sinks = new Map<number, HandedConnectionSink>();

  constructor(route: number, server: number, logger: Logger) {
    this.route = route;
    this.server = server;
    this.#logger = logger;
  }

  /** The router the primary's environment describes, or undefined (a primary of an older release gives no route). */
  static fromEnv(logger: Logger): WorkerResumeRouter | undefined {
    const route = Number(process.env[WORKER_ENV.route]);
    const server = Number(process.env[WORKER_ENV.server]);
    const valid = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= 0xffff;
    return valid(route) && valid(server) ? new WorkerResumeRouter(route, server, logger) : undefined;
  }

  serves(route: number): boolean {
    return route !== this.route && this.#live.has(route);
  }

  handOver(route: number, kind: HandedKind, socket: Socket, bytes: Buffer): boolean {
    if (!this.serves(route) || process.send === undefined || !process.connected) return false;
    const port = socket.localPort ?? 0;
    const message = toPrimary({ type: 'resume-route', route, kind, port, bytes });
    // Sent, this socket object has no descriptor left (Node closes it here once the primary has it); a
    // failed send leaves it: closed either way.
    process.send(message, socket, { keepOpen: false }, () => socket.destroy());
    return true;
  }

  attach(port: number, sink: HandedConnectionSink): () => void {
    this.#sinks.set(port, sink);
    return () => {
      if (this.#sinks.get(port) === sink) this.#sinks.delete(port);
    };
  }

  /** The primary's list of the routes that listen now. */
  routes(routes: readonly number[]): void {
    this.#live = new Set(routes);
  }

  /** Closes a handle that came with a message this worker does not take. */
  static drop(handle: unknown): void {
    if (handle instanceof Socket) {
      handle.on('error', ignoreError);
      handle.destroy();
    }
  }

  /** A connection handed here (`handle`, checked now): to the service listening on its port, else closed. */
  handed(message: HandedMessage, handle: unknown): void {
    if (!(handle instanceof Socket)) {
      countDropped('ipc', 'malformed', this.#logger, { from: 'primary', type: 'resume-socket', handle: typeof handle });
      return;
    }
    handle.on('error', ignoreError);
    const sink = this.#sinks.get(message.port);
    if (sink === undefined) {
      this.#logger.debug({ port: message.port }, 'a resumed connection for a port no resumable service here listens on: closed');
      handle.destroy();
      return;
    }
    sink(handle, message.kind, Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.length));
  }
}

function ignoreError(): void {}
