import { currentReadSource, swapReadSource } from '../core/read-source.js';
import type { Session } from '../net/session.js';
import type { CloseListener } from '../net/session-owner.js';
import type { MessageInit, MessageType } from '../packet/message-type.js';
import { kEnterSilently, kLeaveSilently, Room, type BroadcastOptions, type RoomOptions } from './room.js';
import { RelayFlow, sessionIdOf } from './relay-flow.js';
import type { RoomBus, RoomBusMessage } from './room-bus.js';
import { kAddCloseListener, kRemoveCloseListener } from '../net/symbols.js';

/** ClusterRoom: a member leaves for another process, silently (internal: cluster/worker-moves.ts). */
export const kMoveOutMember: unique symbol = Symbol('gamewire.moveOutMember');
/** ClusterRoom: a member arrives from another process, silently. */
export const kMoveInMember: unique symbol = Symbol('gamewire.moveInMember');

/**
 * The ClusterRooms each resumable session is in (only those: a session that can never move costs
 * nothing here), so that a session moving to another process knows which rooms to take with it.
 */
const roomsOfSession = new WeakMap<Session, Set<ClusterRoom>>();

function trackRoom(session: Session, room: ClusterRoom): void {
  let rooms = roomsOfSession.get(session);
  if (rooms === undefined) roomsOfSession.set(session, (rooms = new Set()));
  rooms.add(room);
}

function untrackRoom(session: Session, room: ClusterRoom): void {
  roomsOfSession.get(session)?.delete(room);
}

/** The ClusterRooms (spanning processes) that resumable `session` is a member of here. */
export function clusterRoomsOf(session: Session): ClusterRoom[] {
  return [...(roomsOfSession.get(session) ?? [])];
}

/**
 * A {@link Room} whose members may be on several processes (the workers of one server, or servers
 * sharing a Redis), and that is one room to all of them. Sessions never move: each process keeps its
 * own members, and a broadcast is delivered to the local members at once and handed to the
 * {@link RoomBus} once per other process, which delivers it to its members. So every member gets a
 * broadcast exactly once, each sender's broadcasts in order; enter and leave are seen everywhere
 * ({@link remoteMemberCount}, {@link onRemoteEnter}, {@link onRemoteLeave}).
 *
 * Jobs (`doAsync`, `doTimer`) are closures and run in the process that queued them, in order, one at
 * a time. Logic that must run in one place for the whole room (a tick that moves monsters) should
 * check {@link isHome}: exactly one process with members is the room's home at a time (the one with
 * the lowest bus origin), and it changes only when that process's members all leave.
 *
 * The room is on the bus from when it is made until it is closed (a Redis channel per room, so a
 * closed room leaves no subscription behind). Without a bus (one process) it is a plain Room.
 *
 * What crosses a process boundary must be whole packets (u16 size, u16 id, body: the framing every
 * gamewire session speaks): a broadcast of other bytes reaches only this process's members, and is
 * counted as dropped (`not_packets`, docs/cluster.md).
 *
 * Flow control holds across workers: bytes relayed from another worker are charged to the session
 * that sent them there, so a member here that falls behind holds that sender on its worker once it is
 * past its share, exactly as a local sender, and a worker that cannot keep up holds the senders here
 * (relay-flow.ts, docs/cluster.md).
 */
export class ClusterRoom<S extends Session = Session> extends Room<S> {
  /** The room's name: the same name on every process is the same room. */
  readonly name: string;
  readonly #bus: RoomBus | undefined;
  /** Members on other processes, by the process (bus origin) they are on. */
  readonly #remote = new Map<number, Set<number>>();
  #remoteCount = 0;
  #closed = false;
  readonly #onMemberClosed: CloseListener = (session) => this.#memberLeft((session as S).id);
  readonly #onBusMessage = (message: RoomBusMessage, paced?: boolean): void => this.#receive(message, paced === true);
  readonly #onFlow = (held: boolean, session?: number): void => {
    if (session === undefined) this.#relayFlow().setHolding(held);
    else this.#relayFlow().setSenderHeld(session, held);
  };
  #relay: RelayFlow | undefined;
  /** Ids of members that moved from here to another process, until their `enter` there is heard. */
  #movedOut: Set<number> | undefined;

  constructor(name: string, bus: RoomBus | undefined, options: RoomOptions = {}) {
    super(options);
    this.name = name;
    this.#bus = bus;
    // Joined from the start (not at the first member), so a member that enters hears everything from
    // then on, and Redis subscribes before the server says it is ready.
    if (bus !== undefined) {
      bus.join(name, this.#onBusMessage, this.#onFlow);
      bus.publish(name, { kind: 'hello', origin: bus.origin });
    }
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the room here (its local members leave; other processes see them leave). */
  override close(): void {
    if (this.#closed) return;
    this.#closed = true;
    super.close();
    this.#relay?.close();
    this.#bus?.leave(this.name);
    for (const origin of [...this.#remote.keys()]) this.#dropOrigin(origin);
  }

  /** Members on other processes (as far as this process has heard). */
  get remoteMemberCount(): number {
    return this.#remoteCount;
  }

  /** Members on every process: local and remote. */
  get totalMemberCount(): number {
    return this.memberCount + this.#remoteCount;
  }

  /** True on the one process that runs the room's once-per-room logic (see the class comment). */
  get isHome(): boolean {
    const bus = this.#bus;
    if (bus === undefined) return true;
    if (this.memberCount === 0) return false;
    for (const origin of this.#remote.keys()) if (origin < bus.origin) return false;
    return true;
  }

  override enter(session: S): boolean {
    if (!super.enter(session)) return false;
    if (this.#bus !== undefined) {
      session[kAddCloseListener](this.#onMemberClosed);
      this.#memberEntered(this.#bus, session.id);
      if (session.resumable) trackRoom(session, this as unknown as ClusterRoom);
    }
    return true;
  }

  override leave(session: S): boolean {
    if (!super.leave(session)) return false;
    if (this.#bus !== undefined) {
      session[kRemoveCloseListener](this.#onMemberClosed);
      this.#memberLeft(session.id);
      untrackRoom(session, this as unknown as ClusterRoom);
    }
    return true;
  }

  /**
   * Internal (a session moving to another process, docs/deploying.md): `session` leaves this process's
   * part of the room with no onLeave here and no `leave` told to the others: it stays a member, over
   * there, which says so with an `enter` that every process reads as the member moving.
   */
  [kMoveOutMember](session: S): boolean {
    if (!this[kLeaveSilently](session)) return false;
    if (this.#bus !== undefined) session[kRemoveCloseListener](this.#onMemberClosed);
    untrackRoom(session, this as unknown as ClusterRoom);
    (this.#movedOut ??= new Set()).add(session.id);
    return true;
  }

  /** Internal: `session` moved in from another process: a member here now, with no onEnter; the others re-home it. */
  [kMoveInMember](session: S): boolean {
    if (!this[kEnterSilently](session)) return false;
    const bus = this.#bus;
    if (bus === undefined) return true;
    session[kAddCloseListener](this.#onMemberClosed);
    if (session.resumable) trackRoom(session, this as unknown as ClusterRoom);
    // It was a remote member here (on the process it came from): it is a local one now.
    for (const [origin, set] of this.#remote) {
      if (!set.delete(session.id)) continue;
      this.#remoteCount--;
      if (set.size === 0) this.#remote.delete(origin);
    }
    this.#memberEntered(bus, session.id);
    return true;
  }

  /** Sends `bytes` to every member on every process (but `options.except`). @returns local members it was queued for. */
  override broadcast(bytes: Uint8Array, options?: BroadcastOptions<S>): number {
    const count = super.broadcast(bytes, options);
    const bus = this.#bus;
    if (bus !== undefined && !this.#closed) {
      const source = sessionIdOf(currentReadSource());
      bus.publish(this.name, source === undefined ? { kind: 'bytes', origin: bus.origin, bytes } : { kind: 'bytes', origin: bus.origin, bytes, source });
      const relay = this.#relay;
      if (relay !== undefined && relay.holdingAny) relay.holdCurrentSource();
    }
    return count;
  }

  /** Encodes `message` once and broadcasts it everywhere, also from a process with no members of its own. */
  override broadcastMessage<T>(type: MessageType<T>, message: MessageInit<T>, options?: BroadcastOptions<S>): number {
    if (this.#bus === undefined || this.memberCount > 0) return super.broadcastMessage(type, message, options);
    if (this.#closed) return 0;
    return this.broadcast(type.makeSendBuffer(message), options);
  }

  /** Hook: member `memberId` (a session id) entered on process `origin`. */
  protected onRemoteEnter(memberId: number, origin: number): void {
    void memberId;
    void origin;
  }

  /** Hook: remote member `memberId` left (or its process went away). */
  protected onRemoteLeave(memberId: number, origin: number): void {
    void memberId;
    void origin;
  }

  #memberEntered(bus: RoomBus, id: number): void {
    bus.publish(this.name, { kind: 'enter', origin: bus.origin, members: [id] });
  }

  #memberLeft(id: number): void {
    const bus = this.#bus as RoomBus;
    bus.publish(this.name, { kind: 'leave', origin: bus.origin, members: [id] });
  }

  #relayFlow(): RelayFlow {
    return (this.#relay ??= new RelayFlow(this.name, this.#bus as RoomBus));
  }

  #receive(message: RoomBusMessage, paced: boolean): void {
    switch (message.kind) {
      case 'bytes': {
        if (!paced || this.#closed) {
          super.broadcast(message.bytes);
          return;
        }
        // Charged to its sender there (or, with none named, to the room's relay source): a member that
        // falls behind holds it once past its share, and so that session on the other worker.
        const previous = swapReadSource(this.#relayFlow().partyFor(message.origin, message.source));
        try {
          super.broadcast(message.bytes);
        } finally {
          swapReadSource(previous);
        }
        return;
      }
      case 'enter': {
        let set = this.#remote.get(message.origin);
        if (set === undefined) this.#remote.set(message.origin, (set = new Set()));
        for (const id of message.members) {
          if (set.has(id)) continue;
          set.add(id);
          this.#remoteCount++;
          // Session ids are unique across processes: a member known elsewhere (or that left here by
          // moving) entering on another process is the same member, moved there: no hooks.
          if (this.#rehomed(id, message.origin)) continue;
          this.#hook(() => this.onRemoteEnter(id, message.origin));
        }
        return;
      }
      case 'leave': {
        const set = this.#remote.get(message.origin);
        if (set === undefined) return;
        for (const id of message.members) {
          if (!set.delete(id)) continue;
          this.#remoteCount--;
          this.#hook(() => this.onRemoteLeave(id, message.origin));
        }
        if (set.size === 0) this.#remote.delete(message.origin);
        return;
      }
      case 'hello': {
        const bus = this.#bus as RoomBus;
        const members = [...this.members].map((member) => member.id);
        if (members.length > 0) bus.publish(this.name, { kind: 'enter', origin: bus.origin, members });
        return;
      }
      case 'gone':
        this.#dropOrigin(message.origin);
        return;
    }
  }

  /** True when `id`, now entering on `origin`, was a member elsewhere already (it moved): forgotten there. */
  #rehomed(id: number, origin: number): boolean {
    if (this.#movedOut?.delete(id) === true) return true;
    for (const [other, set] of this.#remote) {
      if (other === origin || !set.delete(id)) continue;
      this.#remoteCount--;
      if (set.size === 0) this.#remote.delete(other);
      return true;
    }
    return false;
  }

  #dropOrigin(origin: number): void {
    const set = this.#remote.get(origin);
    if (set === undefined) return;
    this.#remote.delete(origin);
    for (const id of set) {
      this.#remoteCount--;
      this.#hook(() => this.onRemoteLeave(id, origin));
    }
  }

  /** Runs a hook as a job of the room, so a throw is reported like any job error and never escapes a bus callback. */
  #hook(run: () => void): void {
    this.doAsync(run);
  }
}
