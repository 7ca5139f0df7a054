import type { Worker } from 'node:cluster';
import { silentLogger, type Logger } from '../core/logger.js';
import { WarningThrottle } from '../core/warning-throttle.js';
import { DEFAULTS } from '../core/defaults.js';
import { SENDER_FLOW_VERSION, toWorker, type ToWorker, type ToWorkerBody } from './cluster-messages.js';
import { PROTOCOL_VERSION } from './cluster-protocol.js';
import { countDropped } from './dropped-messages.js';
import { RELAY_MESSAGE_OVERHEAD, RelayChannel, resolveRelayLimits, type ResolvedRelayLimits } from './relay-channel.js';
import { encodeRoomFrame } from './room-frame.js';
import type { RoomBus, RoomBusMessage } from '../room/room-bus.js';

/** A worker as the hub sees it. */
interface HubWorker {
  readonly worker: Worker;
  readonly origin: number;
  /** The IPC channel to it, counted in bytes. */
  readonly channel: RelayChannel;
  readonly rooms: Set<string>;
  /** Rooms whose relayed traffic its members hold (it said so with `flow`). */
  readonly holding: Set<string>;
  /** Rooms it was told to hold its feeders of. */
  readonly told: Set<string>;
  /** The protocol version of its last message (this release's until it says). */
  version: number;
  /** As a holder: by room, the remote senders its members hold (session id → the sender's worker). */
  readonly holdsSenders: Map<string, Map<number, HubWorker>>;
  /** As an origin: by room, its sessions held by name, with how many workers hold each. */
  readonly sendersHeld: Map<string, Map<number, number>>;
}

/**
 * The cluster primary's relay for rooms: a frame a worker publishes for a room goes to every other
 * worker in that room, in the order received, and (with Redis) to the other servers. One IPC message
 * per worker per broadcast. When a worker dies, the others are told its members are gone.
 *
 * Flow (docs/cluster.md, "Flow between workers"): each channel to a worker is counted in bytes
 * ({@link RelayChannel}). A room is held while one of its workers cannot keep up — its channel is
 * above the relay high water mark, or its members hold the room's relayed traffic — and then every
 * other worker in the room is told to hold the sessions that feed it, until it drains to the low
 * mark. Beyond `maxQueueBytes` broadcasts to that worker are dropped and counted, so the primary's
 * memory stays bounded whatever the workers do.
 *
 * A worker whose members are behind with what one remote session fed them past its share says so
 * with `sender-flow`; the hub tells that session's worker to hold that session only (while any
 * worker holds it), or, for a worker too old for `sender-flow`, to hold the whole room. A worker
 * names at most `DEFAULTS.relaySendersPerRoom` senders per room (as many as its rooms charge apart);
 * more is a confused peer, counted as malformed and dropped.
 */
export class RoomHub {
  readonly #rooms = new Map<string, Set<HubWorker>>();
  readonly #workers = new Map<Worker, HubWorker>();
  readonly #upstream: RoomBus | undefined;
  readonly #logger: Logger;
  readonly #limits: ResolvedRelayLimits;
  readonly #congestionWarnings = new WarningThrottle();
  /** Rooms to update once the update running now is done (a flow message can congest another channel). */
  readonly #toUpdate = new Set<string>();
  #updating = false;
  #senderHolds = 0;

  /** `upstream`: the Redis bus to the other servers, if any; `limits`: the relay bounds (relay-channel.ts). */
  constructor(upstream: RoomBus | undefined, logger: Logger = silentLogger, limits: ResolvedRelayLimits = resolveRelayLimits()) {
    this.#upstream = upstream;
    this.#logger = logger;
    this.#limits = limits;
  }

  /** Rooms at least one worker is in. */
  get roomCount(): number {
    return this.#rooms.size;
  }

  /** Bytes queued now in the IPC channels to the workers. */
  get queuedBytes(): number {
    let sum = 0;
    for (const hub of this.#workers.values()) sum += hub.channel.queuedBytes;
    return sum;
  }

  /** Bytes queued now in the IPC channel to `worker`. */
  queuedBytesOf(worker: Worker): number {
    return this.#workers.get(worker)?.channel.queuedBytes ?? 0;
  }

  /** Rooms whose feeders are held now (some worker in them was told to hold all of them). */
  get heldRoomCount(): number {
    let held = 0;
    for (const [room, set] of this.#rooms) {
      for (const hub of set) {
        if (!hub.told.has(room)) continue;
        held++;
        break;
      }
    }
    return held;
  }

  /** Sessions held now by name (a member on another worker is behind with what each fed it past its share). */
  get heldSenderCount(): number {
    let held = 0;
    for (const hub of this.#workers.values()) for (const sessions of hub.sendersHeld.values()) held += sessions.size;
    return held;
  }

  /** Times a session was held by name on its worker since the start (each hold, not each release). */
  get senderHoldCount(): number {
    return this.#senderHolds;
  }

  /** `worker` wrote a message of protocol `version`: what it can read (an older one is never sent `sender-flow`). */
  heard(worker: Worker, version: number): void {
    const hub = this.#workers.get(worker);
    if (hub !== undefined) hub.version = version;
  }

  /** Registers a worker and its bus origin. */
  addWorker(worker: Worker, origin: number): void {
    const hub: HubWorker = {
      worker,
      origin,
      channel: new RelayChannel(
        (message, written) => {
          worker.send(message as ToWorker, undefined, {}, written);
        },
        this.#limits,
        (congested) => this.#congestion(hub, congested),
      ),
      rooms: new Set(),
      holding: new Set(),
      told: new Set(),
      version: PROTOCOL_VERSION,
      holdsSenders: new Map(),
      sendersHeld: new Map(),
    };
    this.#workers.set(worker, hub);
  }

  /** Sends a control message (close, ping) to `worker` through its counted channel. */
  send(worker: Worker, body: ToWorkerBody): void {
    this.#workers.get(worker)?.channel.send(toWorker(body), RELAY_MESSAGE_OVERHEAD, false);
  }

  /** Worker `worker` is in `room` now. */
  join(worker: Worker, room: string): void {
    const hub = this.#workers.get(worker);
    if (hub === undefined) return;
    let set = this.#rooms.get(room);
    if (set === undefined) {
      this.#rooms.set(room, (set = new Set()));
      this.#upstream?.join(room, (message) => this.#toWorkers(room, encodeRoomFrame(message, 0), message.kind === 'bytes', undefined, false));
    }
    set.add(hub);
    hub.rooms.add(room);
    this.#update(room);
  }

  /** Worker `worker` left `room`. */
  leave(worker: Worker, room: string): void {
    const hub = this.#workers.get(worker);
    const set = this.#rooms.get(room);
    if (hub === undefined || set === undefined || !set.delete(hub)) return;
    hub.rooms.delete(room);
    hub.holding.delete(room);
    hub.told.delete(room);
    // What it held by name is released; what others held of its sessions is forgotten (they are gone from the room).
    const holds = hub.holdsSenders.get(room);
    hub.holdsSenders.delete(room);
    if (holds !== undefined) for (const [session, origin] of holds) this.#unhold(origin, room, session);
    hub.sendersHeld.delete(room);
    for (const other of set) {
      const theirs = other.holdsSenders.get(room);
      if (theirs === undefined) continue;
      for (const [session, origin] of theirs) if (origin === hub) theirs.delete(session);
      if (theirs.size === 0) other.holdsSenders.delete(room);
    }
    if (set.size === 0) {
      this.#rooms.delete(room);
      this.#upstream?.leave(room);
    } else {
      this.#update(room);
    }
  }

  /** Relays `frame` (already checked: it holds `message`) from `worker` to the others in `room`, and upstream. */
  publish(worker: Worker, room: string, frame: Uint8Array, message: RoomBusMessage): void {
    this.#toWorkers(room, frame, message.kind === 'bytes', this.#workers.get(worker), true);
    this.#upstream?.publish(room, message);
  }

  /** `worker`'s members hold (`held`) or no longer hold the relayed traffic of `room`. */
  flow(worker: Worker, room: string, held: boolean): void {
    const hub = this.#workers.get(worker);
    if (hub === undefined || !hub.rooms.has(room)) return;
    if (held) hub.holding.add(room);
    else hub.holding.delete(room);
    this.#update(room);
  }

  /**
   * `worker`'s members hold (`held`) or no longer hold what session `session` of the worker with bus
   * origin `origin` fed them in `room`. False when the message makes no sense from an honest worker
   * (more senders named than a room charges apart): the caller counts it as malformed.
   */
  senderFlow(worker: Worker, room: string, origin: number, session: number, held: boolean): boolean {
    const holder = this.#workers.get(worker);
    const set = this.#rooms.get(room);
    if (holder === undefined || set === undefined || !holder.rooms.has(room)) return true;
    let holds = holder.holdsSenders.get(room);
    if (!held) {
      const from = holds?.get(session);
      if (holds === undefined || from === undefined) return true;
      holds.delete(session);
      if (holds.size === 0) holder.holdsSenders.delete(room);
      this.#unhold(from, room, session);
      return true;
    }
    if (holds?.has(session) === true) return true;
    let from: HubWorker | undefined;
    for (const hub of set) if (hub.origin === origin && hub !== holder) from = hub;
    if (from === undefined) return true; // that worker left the room (or died): nothing to hold
    if (holds === undefined) holder.holdsSenders.set(room, (holds = new Map()));
    if (holds.size >= DEFAULTS.relaySendersPerRoom) return false;
    holds.set(session, from);
    let counts = from.sendersHeld.get(room);
    if (counts === undefined) from.sendersHeld.set(room, (counts = new Map()));
    const before = counts.get(session) ?? 0;
    counts.set(session, before + 1);
    if (before === 0) {
      this.#senderHolds++;
      this.#tellSender(from, room, session, true);
    }
    return true;
  }

  /** `worker` exited: it leaves every room, and everyone else hears its members are gone. */
  removeWorker(worker: Worker): void {
    const hub = this.#workers.get(worker);
    if (hub === undefined) return;
    for (const room of [...hub.rooms]) {
      this.leave(worker, room);
      const gone: RoomBusMessage = { kind: 'gone', origin: hub.origin };
      this.#toWorkers(room, encodeRoomFrame(gone, 0), false, undefined, false);
      this.#upstream?.publish(room, gone);
    }
    this.#workers.delete(worker);
  }

  #toWorkers(room: string, frame: Uint8Array, droppable: boolean, except: HubWorker | undefined, holdable: boolean): void {
    const set = this.#rooms.get(room);
    if (set === undefined) return;
    const size = frame.length + room.length + RELAY_MESSAGE_OVERHEAD;
    let out: ToWorker | undefined;
    for (const hub of set) {
      if (hub === except || !hub.worker.isConnected()) continue;
      out ??= toWorker({ type: 'room', room, frame, holdable });
      if (!hub.channel.send(out, size, droppable)) {
        countDropped('ipc', 'relay_overflow', this.#logger, { room, workerPid: hub.worker.process.pid, queuedBytes: hub.channel.queuedBytes });
      }
    }
  }

  /** One holder less for session `session` of `origin` in `room`: released when it was the last. */
  #unhold(origin: HubWorker, room: string, session: number): void {
    const held = origin.sendersHeld.get(room);
    const count = held?.get(session);
    if (held === undefined || count === undefined) return;
    if (count > 1) {
      held.set(session, count - 1);
      return;
    }
    held.delete(session);
    if (held.size === 0) origin.sendersHeld.delete(room);
    this.#tellSender(origin, room, session, false);
  }

  /** Tells `origin` to hold or release one of its sessions; a worker too old for that holds or releases the room. */
  #tellSender(origin: HubWorker, room: string, session: number, held: boolean): void {
    if (origin.version >= SENDER_FLOW_VERSION) {
      origin.channel.send(toWorker({ type: 'sender-flow', room, session, held }), RELAY_MESSAGE_OVERHEAD, false);
    } else {
      this.#update(room);
    }
  }

  #congestion(hub: HubWorker, congested: boolean): void {
    if (congested) {
      const warnings = this.#congestionWarnings.count(performance.now());
      if (warnings > 0) {
        this.#logger.warn(
          { workerPid: hub.worker.process.pid, queuedBytes: hub.channel.queuedBytes, highWaterMark: this.#limits.highWaterMark, times: warnings },
          'room traffic is queueing in the primary for a worker that reads slower than its rooms send; holding the sessions that feed its rooms until it catches up',
        );
      }
    }
    for (const room of hub.rooms) this.#update(room);
  }

  /**
   * Tells each worker of `room` whether to hold its feeders: yes while another worker in the room
   * cannot keep up (its channel congested, or its members holding the room's traffic).
   */
  #update(room: string): void {
    this.#toUpdate.add(room);
    if (this.#updating) return;
    this.#updating = true;
    try {
      for (const next of this.#toUpdate) {
        this.#toUpdate.delete(next);
        this.#updateNow(next);
      }
    } finally {
      this.#updating = false;
    }
  }

  #updateNow(room: string): void {
    const set = this.#rooms.get(room);
    if (set === undefined) return;
    let holders = 0;
    let holder: HubWorker | undefined;
    for (const hub of set) {
      if (hub.channel.congested || hub.holding.has(room)) {
        holders++;
        holder = hub;
      }
    }
    for (const hub of set) {
      const hold = holders > 1 || (holders === 1 && holder !== hub) || (hub.version < SENDER_FLOW_VERSION && hub.sendersHeld.has(room));
      if (hold === hub.told.has(room)) continue;
      if (hold) hub.told.add(room);
      else hub.told.delete(room);
      hub.channel.send(toWorker({ type: 'flow', room, held: hold }), RELAY_MESSAGE_OVERHEAD, false);
    }
  }
}
