import { logSafely, type Logger } from '../core/logger.js';
import type { ServerService } from '../net/server-service.js';
import type { Session } from '../net/session.js';
import { whyNotMovable, type MovedSession } from '../net/session-move.js';
import { kCancelMove, kMoveIn, kMoveOut, kReserveMove } from '../net/symbols.js';
import { clusterRoomsOf, kMoveInMember, kMoveOutMember } from '../room/cluster-room.js';
import type { RoomDirectory } from '../room/room-directory.js';
import type { MovedSessionState, ToWorker } from './cluster-messages.js';
import type { IpcRoomBus, MoveRecorder } from './ipc-room-bus.js';

/** A broadcast noted while a session moves in: kept for it or not, decided at move-in. */
interface Noted {
  readonly bytes: Uint8Array;
  /** `own`: this worker's publish number; else undefined. */
  readonly seq: number | undefined;
  /** A relayed one: its bus origin, and whether the cut had come when it arrived. */
  readonly origin: number;
  readonly afterCut: boolean;
}

/** A session this worker is taking in: its reserved key, its rooms, and the room traffic since prepare. */
interface Incoming {
  readonly key: number;
  readonly from: number;
  readonly rooms: ReadonlySet<string>;
  readonly noted: Noted[];
  /** The cut: this worker's last publish the primary had when it told the old worker to let go. */
  cutSeq: number | undefined;
  readonly timer: NodeJS.Timeout;
}

/** A session this worker asked to move out: resolved once it left or stays. */
interface Outgoing {
  readonly done: () => void;
}

/** Counts of moves, for the log and metrics. */
export interface MoveCounts {
  /** Sessions taken out of this worker (their client told MOVE). */
  movedOut: number;
  /** Sessions made here from another worker. */
  movedIn: number;
  /** Moves that did not happen or failed on this side (the session drained, or its client logs in again). */
  failed: number;
}

/** How long a reservation waits for its session, ms: a move takes a few IPC messages. */
const INCOMING_TIMEOUT_MS = 10_000;

/**
 * A worker's side of sessions that move (docs/cluster.md, "Sessions that move"). On the old worker,
 * a drain asks the primary to move each movable session, and on `move-out` takes it out (MOVE to its
 * client, silently out of its ClusterRooms) and sends its state. On the new worker, `move-prepare`
 * reserves the session's resume key and notes every broadcast for its rooms; `move-cut` tells which
 * of those the old worker had not delivered to it; `move-in` makes the session, gives it those, in
 * order, and puts it in its rooms (the others re-home it without a leave or an enter).
 *
 * Exactly once and in order: the primary relays every frame and is the sequencer. A frame it relayed
 * before `move-out` reached the old worker before it let go (so the session had it): frames noted
 * before the cut are dropped, after it kept. The old worker's own broadcasts before it let go reached
 * the session there, and they all reach this worker before `move-in` (one ordered channel): dropped.
 * This worker's own broadcasts are numbered; those the primary had before the cut had reached the
 * old worker before `move-out`: dropped, later ones kept.
 */
export class WorkerMoves implements MoveRecorder {
  readonly #service: ServerService;
  readonly #rooms: RoomDirectory;
  readonly #bus: IpcRoomBus;
  readonly #logger: Logger;
  readonly #incoming = new Map<number, Incoming>();
  readonly #outgoing = new Map<number, Outgoing>();
  readonly counts: MoveCounts = { movedOut: 0, movedIn: 0, failed: 0 };

  constructor(service: ServerService, rooms: RoomDirectory, bus: IpcRoomBus, logger: Logger) {
    this.#service = service;
    this.#rooms = rooms;
    this.#bus = bus;
    this.#logger = logger;
  }

  /**
   * The old worker, draining: asks the primary to move every session that can move, and resolves once
   * each has left or stays (at most `timeoutMs`). Returns how many left.
   */
  moveAll(timeoutMs: number): Promise<number> {
    const before = this.counts.movedOut;
    const asks: Promise<void>[] = [];
    for (const session of this.#service.sessions) {
      if (whyNotMovable(session) !== undefined || this.#outgoing.has(session.id)) continue;
      const rooms = clusterRoomsOf(session).map((room) => room.name);
      asks.push(new Promise<void>((resolve) => this.#outgoing.set(session.id, { done: resolve })));
      this.#bus.sendInOrder({ type: 'move-ask', session: session.id, rooms });
    }
    if (asks.length === 0) return Promise.resolve(0);
    return new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        // Moves not done by now stay: their sessions drain with the rest.
        for (const outgoing of this.#outgoing.values()) outgoing.done();
        this.#outgoing.clear();
        resolve(this.counts.movedOut - before);
      }, timeoutMs);
      timer.unref();
      void Promise.all(asks).then(() => {
        clearTimeout(timer);
        resolve(this.counts.movedOut - before);
      });
    });
  }

  /** A move message from the primary (the worker's one listener parsed it). */
  receive(message: ToWorker): void {
    switch (message.type) {
      case 'move-prepare':
        return this.#prepare(message.session, message.from, message.rooms);
      case 'move-cut': {
        const incoming = this.#incoming.get(message.session);
        if (incoming !== undefined) incoming.cutSeq = message.seq;
        return;
      }
      case 'move-in':
        return this.#moveIn(message.session, message.state);
      case 'move-out':
        return this.#moveOut(message.session, message.token);
      case 'move-cancel':
        return this.#cancel(message.session);
      default:
        return;
    }
  }

  own(room: string, bytes: Uint8Array, seq: number): void {
    for (const incoming of this.#incoming.values()) {
      if (incoming.rooms.has(room)) incoming.noted.push({ bytes, seq, origin: this.#bus.origin, afterCut: false });
    }
  }

  relayed(room: string, bytes: Uint8Array, origin: number): void {
    for (const incoming of this.#incoming.values()) {
      if (incoming.rooms.has(room)) incoming.noted.push({ bytes, seq: undefined, origin, afterCut: incoming.cutSeq !== undefined });
    }
  }

  #prepare(session: number, from: number, rooms: readonly string[]): void {
    const reserved = this.#service[kReserveMove]();
    if (reserved === undefined || this.#incoming.has(session)) {
      this.#bus.sendInOrder({ type: 'move-refused', session, reason: reserved === undefined ? 'the new worker is closing, or resume is off' : 'already moving here' });
      if (reserved !== undefined) this.#service[kCancelMove](reserved.key);
      return;
    }
    const timer = setTimeout(() => this.#cancel(session), INCOMING_TIMEOUT_MS);
    timer.unref();
    this.#incoming.set(session, { key: reserved.key, from, rooms: new Set(rooms), noted: [], cutSeq: undefined, timer });
    this.#bus.recorder = this;
    this.#bus.sendInOrder({ type: 'move-prepared', session, key: reserved.key, token: reserved.token });
  }

  #moveOut(id: number, token: Uint8Array): void {
    const outgoing = this.#outgoing.get(id);
    this.#outgoing.delete(id);
    let session: Session | undefined;
    for (const candidate of this.#service.sessions) if (candidate.id === id) session = candidate;
    const rooms = session === undefined ? [] : clusterRoomsOf(session);
    const moved = this.#service[kMoveOut](id, token);
    if (typeof moved === 'string') {
      this.counts.failed++;
      this.#bus.sendInOrder({ type: 'move-failed', session: id, reason: moved });
    } else {
      // Out of its rooms here at the moment it left, silently: it stays a member, on the new worker.
      for (const room of rooms) room[kMoveOutMember](session as Session);
      this.counts.movedOut++;
      const state: MovedSessionState = { ...moved, rooms: rooms.map((room) => room.name) };
      this.#bus.sendInOrder({ type: 'moved', session: id, state });
    }
    outgoing?.done();
  }

  #moveIn(id: number, state: MovedSessionState): void {
    const incoming = this.#incoming.get(id);
    if (incoming === undefined) {
      this.counts.failed++;
      logSafely(this.#logger, 'warn', { sessionId: id }, 'a session moved in after its reservation was given up (timeout); its client will log in again');
      this.#bus.sendInOrder({ type: 'move-done', session: id, reason: 'its reservation was given up' });
      return;
    }
    this.#forget(id, incoming);
    const moved: MovedSession = state;
    const session = this.#service[kMoveIn](incoming.key, moved);
    if (typeof session === 'string') {
      this.counts.failed++;
      logSafely(this.#logger, 'warn', { sessionId: id, reason: session }, `a session could not move in (${session}); its client will log in again`);
      this.#bus.sendInOrder({ type: 'move-done', session: id, reason: session.slice(0, 1000) });
      return;
    }
    const cutSeq = incoming.cutSeq ?? 0;
    for (const noted of incoming.noted) {
      const keep = noted.seq !== undefined ? seqAfter(noted.seq, cutSeq) : noted.origin !== incoming.from && noted.afterCut;
      if (keep) session.send(noted.bytes);
    }
    for (const name of state.rooms) {
      const room = this.#rooms.find(name);
      if (room === undefined || !room[kMoveInMember](session)) {
        logSafely(this.#logger, 'warn', { sessionId: id, room: name }, `a session moved in is not in room ${name} here: this worker has not made that room (rooms.room(name)), or it is full`);
      }
    }
    this.counts.movedIn++;
    this.#bus.sendInOrder({ type: 'move-done', session: id });
  }

  #cancel(id: number): void {
    const outgoing = this.#outgoing.get(id);
    if (outgoing !== undefined) {
      this.#outgoing.delete(id);
      outgoing.done();
    }
    const incoming = this.#incoming.get(id);
    if (incoming !== undefined) {
      this.#forget(id, incoming);
      this.#service[kCancelMove](incoming.key);
    }
  }

  #forget(id: number, incoming: Incoming): void {
    clearTimeout(incoming.timer);
    this.#incoming.delete(id);
    if (this.#incoming.size === 0) this.#bus.recorder = undefined;
  }
}

/** True when publish number `seq` came after `cut` (u32 numbers that wrap). */
function seqAfter(seq: number, cut: number): boolean {
  return ((seq - cut) >>> 0) - 1 < 0x7fff_ffff;
}
