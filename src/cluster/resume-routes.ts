import type { Worker } from 'node:cluster';
import { randomInt } from 'node:crypto';
import { Socket } from 'node:net';
import type { Logger } from '../core/logger.js';
import { stopReading } from '../net/resume/resume-router.js';
import { toWorker, type ToPrimary, type ToWorkerBody } from './cluster-messages.js';
import { countDropped } from './dropped-messages.js';

type RouteMessage = Extract<ToPrimary, { type: 'resume-route' }>;

/**
 * The primary's side of resume across workers (docs/resume.md, "Workers and machines"): gives each
 * worker it starts a route, tells every worker which routes listen, and passes on the connections a
 * worker hands over to the worker of their route.
 *
 * Routes are 1..65535 (0 is a single process's), given in turn from 1, so a route comes back only
 * after 65535 more worker starts, and never while its worker lives: a replacement, or a new worker
 * beside old ones during a reload, never takes a route that a live session's token names. A token of a
 * dead worker's route is refused `NOT_HERE` while no worker has it (and, should the route come back
 * much later, its key and 128-bit secret match nothing there: `UNKNOWN_SESSION`). `server` is this
 * server's number in every token (shared by its workers; with Redis, unique among the servers sharing
 * it, else random), so another server's token is not taken for one of this server's.
 */
export class ResumeRoutes {
  /** This server's number in tokens, 1..65535. */
  readonly server: number;
  readonly #logger: Logger;
  readonly #send: (worker: Worker, body: ToWorkerBody) => void;
  /** Routes given to workers alive now, listening or not. */
  readonly #workers = new Map<number, Worker>();
  /** Routes whose worker listens: the ones connections may be handed to. */
  readonly #listening = new Set<number>();
  #last = 0;
  #handed = 0;
  #lost = 0;

  /**
   * `send`: a control message to one worker (the room hub's counted channel); `server`: this server's
   * number (from Redis with `redis`, unique among the servers sharing it), else a random one.
   */
  constructor(logger: Logger, send: (worker: Worker, body: ToWorkerBody) => void, server = randomInt(1, 0x1_0000)) {
    this.server = server;
    this.#logger = logger;
    this.#send = send;
  }

  /** Connections passed on to the worker of their route. */
  get handedCount(): number {
    return this.#handed;
  }

  /** Connections that could not be passed on (their route's worker gone meanwhile, or a bad message): closed. */
  get lostCount(): number {
    return this.#lost;
  }

  /** The next free route, for a worker about to start. */
  next(): number {
    for (let i = 0; i < 0xffff; i++) {
      this.#last = this.#last >= 0xffff ? 1 : this.#last + 1;
      if (!this.#workers.has(this.#last)) return this.#last;
    }
    throw new Error('no free resume route: 65535 workers alive');
  }

  /** `worker` has `route` from now until its exit. */
  bind(route: number, worker: Worker): void {
    this.#workers.set(route, worker);
  }

  /** The worker of `route` listens: connections may be handed to it; every worker hears it. */
  listening(route: number): void {
    this.#listening.add(route);
    this.#announce();
  }

  /** The worker of `route` exited: its route has no worker now; every worker hears it. */
  exited(route: number, worker: Worker): void {
    if (this.#workers.get(route) !== worker) return;
    this.#workers.delete(route);
    if (this.#listening.delete(route)) this.#announce();
  }

  /**
   * A worker handed over `handle` (checked by the caller's parse: `message` is well-formed): passed to
   * the worker of `message.route`, or closed when that worker is gone or the handle is not a socket.
   */
  pass(from: Worker, message: RouteMessage, handle: unknown): void {
    if (!(handle instanceof Socket)) {
      this.#lost++;
      countDropped('ipc', 'malformed', this.#logger, { type: 'resume-route', workerPid: from.process.pid, handle: typeof handle });
      closeHandle(handle);
      return;
    }
    // Node made this socket reading: only the worker it goes to may read it, or it could take the client's bytes.
    stopReading(handle);
    handle.on('error', ignoreError); // a reset while it is here must not take the primary down
    const target = this.#listening.has(message.route) ? this.#workers.get(message.route) : undefined;
    if (target === undefined || target === from || !target.isConnected()) {
      this.#lost++;
      this.#logger.debug({ route: message.route }, 'a resumed connection for a worker that is gone: closed (its client logs in again)');
      handle.destroy();
      return;
    }
    const body = toWorker({ type: 'resume-socket', kind: message.kind, port: message.port, bytes: message.bytes });
    // The socket object here only carries the descriptor: once sent it is closed here, whatever happened.
    target.send(body, handle, { keepOpen: false }, () => handle.destroy());
    this.#handed++;
  }

  /** A message that should have come with a socket did not parse: its socket, if any, is closed. */
  static dropHandle(handle: unknown): void {
    closeHandle(handle);
  }

  #announce(): void {
    const routes = [...this.#listening];
    for (const route of routes) {
      const worker = this.#workers.get(route);
      if (worker !== undefined && worker.isConnected()) this.#send(worker, { type: 'routes', routes });
    }
  }
}

function closeHandle(handle: unknown): void {
  if (handle instanceof Socket) {
    handle.on('error', ignoreError);
    handle.destroy();
  } else if (typeof handle === 'object' && handle !== null && typeof (handle as { close?: unknown }).close === 'function') {
    try {
      (handle as { close(): void }).close();
    } catch {
      // already closed
    }
  }
}

function ignoreError(): void {}
