import type { Session } from '../net/session.js';
import type { RoomOptions } from './room.js';
import { ClusterRoom } from './cluster-room.js';
import type { RoomBus } from './room-bus.js';

/**
 * The rooms of one process, by name. The same name on every worker (and every server of a Redis) is
 * the same room: `rooms.room('lobby')` in each worker gives that worker's part of the one lobby.
 */
export class RoomDirectory {
  readonly #bus: RoomBus | undefined;
  readonly #rooms = new Map<string, ClusterRoom>();

  /** `bus`: how this process reaches the others; undefined for a lone process. */
  constructor(bus: RoomBus | undefined) {
    this.#bus = bus;
  }

  /** True when rooms span processes (workers or Redis). */
  get linked(): boolean {
    return this.#bus !== undefined;
  }

  /**
   * The room `name`, made with `options` (or `create`, for a ClusterRoom subclass) the first time.
   * A closed room is forgotten, so the name can be used again.
   */
  room<S extends Session = Session>(
    name: string,
    options: RoomOptions = {},
    create: (name: string, bus: RoomBus | undefined, options: RoomOptions) => ClusterRoom<S> = (n, b, o) => new ClusterRoom<S>(n, b, o),
  ): ClusterRoom<S> {
    const existing = this.#rooms.get(name);
    if (existing !== undefined && !existing.closed) return existing as unknown as ClusterRoom<S>;
    const room = create(name, this.#bus, options);
    this.#rooms.set(name, room as unknown as ClusterRoom);
    return room;
  }

  /** The open room `name` of this process, if it was made (a session moving in re-enters only rooms made here). */
  find(name: string): ClusterRoom | undefined {
    const room = this.#rooms.get(name);
    return room === undefined || room.closed ? undefined : room;
  }

  /** Closes every room. */
  closeAll(): void {
    for (const room of this.#rooms.values()) room.close();
    this.#rooms.clear();
  }
}
