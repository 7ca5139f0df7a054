import { catchRejection } from '../core/describe.js';
import { DEFAULTS } from '../core/defaults.js';
import { InvalidOptionError } from '../core/errors.js';
import { checkInteger } from '../core/options.js';
import { MAX_TIMER_MS } from '../core/timer-range.js';
import { JobQueue, type JobQueueOptions } from '../jobs/job-queue.js';
import type { Session } from '../net/session.js';
import type { CloseListener } from '../net/session-owner.js';
import type { MessageInit, MessageType } from '../packet/message-type.js';
import { kAddCloseListener, kRemoveCloseListener } from '../net/symbols.js';

/** Room: enters a moved-in session without onEnter. */
export const kEnterSilently: unique symbol = Symbol('gamewire.enterSilently');
/** Room: removes a moving-out session without onLeave. */
export const kLeaveSilently: unique symbol = Symbol('gamewire.leaveSilently');

/** Options of a {@link Room}. */
export interface RoomOptions extends JobQueueOptions {
  /** Most members at once; `enter` refuses more. Default 1000. */
  readonly maxMembers?: number;
  /** Runs `onTick` every this many ms as a job of the room (50 = 20 Hz); 0 for no tick. Default 0. */
  readonly tickIntervalMs?: number;
}

/** Options of a broadcast. */
export interface BroadcastOptions<S> {
  /** A member that does not get this packet (usually the sender). */
  readonly except?: S;
  /** How many packets the bytes hold, for each member's `traffic.packetsSent` and the metrics. Default 1. */
  readonly packetCount?: number;
}

/**
 * The C++ `Room : JobQueue`: a set of member sessions with a job queue for its game logic. A broadcast
 * hands the same immutable bytes to every member (a message is encoded once), and sends to one member
 * in one turn leave in one write. A member that disconnects is removed exactly once, on its own.
 *
 * Game code that changes a room from outside its jobs should go through `doAsync`, so that all of the
 * room's work runs in order: `room.doAsync(() => room.enter(session))`.
 */
export class Room<S extends Session = Session> extends JobQueue {
  /** Most members at once. */
  readonly maxMembers: number;
  readonly #memberSet = new Set<S>();
  #tickTimer: NodeJS.Timeout | undefined;
  #lastTick = 0;
  #closed = false;
  readonly #handleMemberClosed: CloseListener = (session) => {
    if (this.#memberSet.delete(session as S)) this.#notifyLeave(session as S);
  };

  /** @throws InvalidOptionError when an option is out of range. */
  constructor(options: RoomOptions = {}) {
    super(options);
    this.maxMembers = checkInteger('maxMembers', options.maxMembers ?? DEFAULTS.roomMaxMembers, 1);
    const tick = options.tickIntervalMs ?? 0;
    if (typeof tick !== 'number' || !(tick >= 0) || tick > MAX_TIMER_MS) {
      throw new InvalidOptionError('tickIntervalMs', tick, `a number of ms from 0 (no tick) to ${MAX_TIMER_MS}`);
    }
    if (tick > 0) {
      this.#lastTick = performance.now();
      this.#tickTimer = setInterval(() => this.doAsync(this.#runTick), tick);
      this.#tickTimer.unref();
    }
  }

  /** The members, live. Copy before awaiting. */
  get members(): ReadonlySet<S> {
    return this.#memberSet;
  }

  /** How many members. */
  get memberCount(): number {
    return this.#memberSet.size;
  }

  /**
   * Adds `session`. Refused (false) when the room is full or closed, the session is not open, or it is
   * already a member.
   */
  enter(session: S): boolean {
    if (this.#closed || !session.connected || this.#memberSet.has(session)) return false;
    if (this.#memberSet.size >= this.maxMembers) return false;
    this.#memberSet.add(session);
    session[kAddCloseListener](this.#handleMemberClosed);
    const result: unknown = this.onEnter(session);
    if (result !== undefined) catchRejection(result, this.#reportHookRejection);
    return true;
  }

  /**
   * Internal (a session that moves between processes, docs/deploying.md): adds `session` without
   * onEnter, as the member it already was on the process it came from. Refused as `enter` is.
   */
  [kEnterSilently](session: S): boolean {
    if (this.#closed || !session.connected || this.#memberSet.has(session)) return false;
    if (this.#memberSet.size >= this.maxMembers) return false;
    this.#memberSet.add(session);
    session[kAddCloseListener](this.#handleMemberClosed);
    return true;
  }

  /** Internal: removes `session` without onLeave (it moves to another process, where it stays a member). */
  [kLeaveSilently](session: S): boolean {
    if (!this.#memberSet.delete(session)) return false;
    session[kRemoveCloseListener](this.#handleMemberClosed);
    return true;
  }

  /** Removes `session`; false if it was not a member. */
  leave(session: S): boolean {
    if (!this.#memberSet.delete(session)) return false;
    session[kRemoveCloseListener](this.#handleMemberClosed);
    this.#notifyLeave(session);
    return true;
  }

  /**
   * Sends the same bytes to every member (but `options.except`). The bytes are not copied and must not
   * change afterwards.
   * @returns how many members it was queued for.
   */
  broadcast(bytes: Uint8Array, options?: BroadcastOptions<S>): number {
    const except = options?.except;
    const packetCount = options?.packetCount ?? 1;
    let count = 0;
    for (const member of this.#memberSet) {
      if (member !== except && member.send(bytes, packetCount)) count++;
    }
    return count;
  }

  /** Encodes `message` once into a SendBuffer and broadcasts it. @returns members it was queued for. */
  broadcastMessage<T>(type: MessageType<T>, message: MessageInit<T>, options?: BroadcastOptions<S>): number {
    if (this.#memberSet.size === 0) return 0;
    return this.broadcast(type.makeSendBuffer(message), options);
  }

  /** Stops the tick, drops queued jobs and timers, and removes every member (onLeave runs for each). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tickTimer !== undefined) clearInterval(this.#tickTimer);
    this.clearJobs();
    for (const member of [...this.#memberSet]) this.leave(member);
  }

  /** Hook: `session` entered. May be async (not awaited); a throw or rejection is reported like a job error. */
  protected onEnter(session: S): void {
    void session;
  }

  /**
   * Hook: `session` left, by `leave`, by disconnecting, or because the room closed. Runs once per enter.
   * May be async (not awaited); a throw or rejection is reported like a job error.
   */
  protected onLeave(session: S): void {
    void session;
  }

  /** Hook: a tick, with the ms since the previous one (only with `tickIntervalMs`). Runs as a job (may be async). */
  protected onTick(elapsedMs: number): void {
    void elapsedMs;
  }

  readonly #runTick = (): unknown => {
    const now = performance.now();
    const elapsed = now - this.#lastTick;
    this.#lastTick = now;
    return this.onTick(elapsed); // a promise (async onTick) is watched by the job queue
  };

  #notifyLeave(session: S): void {
    try {
      const result: unknown = this.onLeave(session);
      if (result !== undefined) catchRejection(result, this.#reportHookRejection);
    } catch (error) {
      this.#reportHookRejection(error);
    }
  }

  /** A hook outside a job threw or rejected: reported like any job error, as a job of the room. */
  readonly #reportHookRejection = (error: unknown): void => {
    this.doAsync(() => {
      throw error;
    });
  };
}
