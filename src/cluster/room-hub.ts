import type { Worker } from 'node:cluster';
import { silentLogger, type Logger } from '../core/logger.js';
import { GW, type ToWorker } from './cluster-messages.js';
import type { RoomBus, RoomBusMessage } from './room-bus.js';

/**
 * The cluster primary's relay for rooms: a message a worker publishes for a room goes to every other
 * worker in that room, in the order received, and (with Redis) to the other servers. One IPC message
 * per worker per broadcast. When a worker dies, the others are told its members are gone.
 */
export class RoomHub {
  readonly #rooms = new Map<string, Set<Worker>>();
  readonly #origins = new Map<Worker, number>();
  readonly #upstream: RoomBus | undefined;
  readonly #logger: Logger;
  readonly #congested = new WeakSet<Worker>();
  #backlogged = 0;

  /** `upstream`: the Redis bus to the other servers, if any. */
  constructor(upstream: RoomBus | undefined, logger: Logger = silentLogger) {
    this.#upstream = upstream;
    this.#logger = logger;
  }

  /**
   * Relayed messages that Node queued behind a full IPC channel (the worker reads slower than the
   * room sends). Nothing is dropped, but the queue is in the primary's memory.
   */
  get backloggedCount(): number {
    return this.#backlogged;
  }

  /** Rooms at least one worker is in. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Registers a worker and its bus origin. */
  addWorker(worker: Worker, origin: number): void {
    this.#origins.set(worker, origin);
  }

  /** Worker `worker` is in `room` now. */
  join(worker: Worker, room: string): void {
    let set = this.#rooms.get(room);
    if (set === undefined) {
      this.#rooms.set(room, (set = new Set()));
      this.#upstream?.join(room, (message) => this.#toWorkers(room, message, undefined));
    }
    set.add(worker);
  }

  /** Worker `worker` left `room`. */
  leave(worker: Worker, room: string): void {
    const set = this.#rooms.get(room);
    if (set === undefined || !set.delete(worker)) return;
    if (set.size === 0) {
      this.#rooms.delete(room);
      this.#upstream?.leave(room);
    }
  }

  /** Relays `message` from `worker` to the others in `room`. */
  publish(worker: Worker, room: string, message: RoomBusMessage): void {
    this.#toWorkers(room, message, worker);
    this.#upstream?.publish(room, message);
  }

  /** `worker` exited: it leaves every room, and everyone else hears its members are gone. */
  removeWorker(worker: Worker): void {
    const origin = this.#origins.get(worker);
    this.#origins.delete(worker);
    for (const [room, set] of [...this.#rooms]) {
      if (!set.has(worker)) continue;
      this.leave(worker, room);
      if (origin !== undefined) {
        const gone: RoomBusMessage = { kind: 'gone', origin };
        this.#toWorkers(room, gone, undefined);
        this.#upstream?.publish(room, gone);
      }
    }
  }

  #toWorkers(room: string, message: RoomBusMessage, except: Worker | undefined): void {
    const set = this.#rooms.get(room);
    if (set === undefined) return;
    const out: ToWorker = { gw: GW, type: 'room', room, message };
    for (const worker of set) {
      if (worker === except || !worker.isConnected() || worker.send(out)) continue;
      this.#backlogged++;
      if (!this.#congested.has(worker)) {
        this.#congested.add(worker);
        this.#logger.warn({ pid: worker.process.pid }, 'room traffic is queueing in the primary for a worker that reads slower than it');
      }
    }
  }
}
