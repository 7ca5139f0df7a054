import { DEFAULTS } from '../core/defaults.js';
import { currentReadSource, type ReadSource } from '../core/read-source.js';
import { FanoutFlow, type FlowParty } from '../net/limits/fanout-flow.js';
import { kFanoutPaused, kFlowState } from '../net/symbols.js';
import type { RoomBus } from './room-bus.js';

/** A remote sender not seen and not held over this long may be forgotten when its room needs the slot, ms. */
const SENDER_SWEEP_MS = 10_000;

/** Local sessions held by name in one room, at most, per remote-sender slot (several workers may name different ones). */
const NAMED_HOLDS_PER_SENDER_SLOT = 4;

/** Bounds of a {@link RelayFlow}'s remote senders (the defaults outside tests). */
export interface RelayFlowBounds {
  /** Remote senders charged apart at once. Default `DEFAULTS.relaySendersPerRoom` (256). */
  readonly maxSenders?: number;
  /** How often, at most, idle senders are forgotten to make room, ms. Default 10000. */
  readonly sweepMs?: number;
}

/**
 * A room's stand-in, in fan-out flow control (src/net/limits/fanout-flow.ts), for the processes on
 * the other side of its bus. It plays both parts of a session there:
 *
 * - **as a source**: bytes relayed from another worker are broadcast here with their sender as the
 *   current read source — a {@link RemoteSender} per session of another process, so each has its own
 *   share exactly as a local sender: a member that falls behind holds only the senders past their
 *   share, and holding one asks the bus to hold that session on its process. Bytes with no sender
 *   (a tick there, or a release that does not name it), or from a sender past the bound of remote
 *   senders, are charged to this room party: its hold asks the bus to hold *every* feeder of the room
 *   on the other processes;
 * - **as a member**: when the bus says a process in the room cannot keep up, every local session whose
 *   input broadcasts to the room is held by it (its reading pauses) until the bus releases the room;
 *   when the bus names one session, only that one is held.
 *
 * One per ClusterRoom on a bus with flow control, made on first use.
 */
export class RelayFlow implements FlowParty {
  readonly flow: FanoutFlow;
  readonly #room: string;
  readonly #bus: RoomBus;
  readonly #maxSenders: number;
  readonly #sweepMs: number;
  #open = true;
  /** The bus asked to hold this room's feeders. */
  #holding = false;
  /** Senders on other processes, by session id: bounded by #maxSenders. */
  readonly #senders = new Map<number, RemoteSender>();
  #sweptAt = -Infinity;
  /** Local sessions the bus asked to hold, by id: their flow state once seen broadcasting (made on first use). */
  #heldSenders: Map<number, FanoutFlow | undefined> | undefined;

  constructor(room: string, bus: RoomBus, bounds: RelayFlowBounds = {}) {
    this.#room = room;
    this.#bus = bus;
    this.#maxSenders = bounds.maxSenders ?? DEFAULTS.relaySendersPerRoom;
    this.#sweepMs = bounds.sweepMs ?? SENDER_SWEEP_MS;
    this.flow = new FanoutFlow(this);
  }

  /** Open until its room closes; a closed one is held by no one (send pressure checks it). */
  get connected(): boolean {
    return this.#open;
  }

  /** True while the bus holds this room's local feeders. */
  get holding(): boolean {
    return this.#holding;
  }

  /** True while the bus holds all or some of this room's local feeders: broadcasts must call {@link holdCurrentSource}. */
  get holdingAny(): boolean {
    return this.#holding || (this.#heldSenders !== undefined && this.#heldSenders.size > 0);
  }

  /** Local sessions held by name now (asked by the bus; held at their next broadcast). */
  get namedHoldCount(): number {
    return this.#heldSenders?.size ?? 0;
  }

  /** Remote senders charged apart now. */
  get senderCount(): number {
    return this.#senders.size;
  }

  [kFlowState](): FanoutFlow {
    return this.flow;
  }

  /** Members here hold the relayed traffic nobody is named for (true) or no longer do: tell the other processes. */
  [kFanoutPaused](paused: boolean): void {
    if (this.#open) this.#bus.holdFeeders?.(this.#room, paused);
  }

  /**
   * The party to charge bytes relayed from session `session` of process `origin` to: its own
   * {@link RemoteSender}, or this room party when no sender is named, when the id is already a sender of
   * another process (a confused peer), or when the room has as many remote senders as it may keep
   * and none can be forgotten (idle: not seen in the last sweep interval and not held).
   */
  partyFor(origin: number, session: number | undefined): FlowParty {
    if (session === undefined || !this.#open) return this;
    const known = this.#senders.get(session);
    if (known !== undefined) {
      if (known.origin !== origin) return this;
      known.seen = true;
      return known;
    }
    if (this.#senders.size >= this.#maxSenders && !this.#sweep()) return this;
    const sender = new RemoteSender(this, origin, session);
    this.#senders.set(session, sender);
    return sender;
  }

  /** A remote sender was held (true) by members here, or released by all of them. */
  senderPaused(sender: RemoteSender, paused: boolean): void {
    if (this.#open) this.#bus.holdSender?.(this.#room, sender.origin, sender.session, paused);
  }

  /** The bus: hold (true) or release (false) the local sessions that feed the room. */
  setHolding(held: boolean): void {
    this.#holding = held;
    if (held) return;
    this.flow.releaseAll();
    // Sessions held by name were released with the rest: caught again at their next broadcast.
    const named = this.#heldSenders;
    if (named !== undefined) for (const id of named.keys()) named.set(id, undefined);
  }

  /** The bus: hold (true) or release (false) local session `session` only, at its next broadcast to the room. */
  setSenderHeld(session: number, held: boolean): void {
    if (held) {
      const named = (this.#heldSenders ??= new Map());
      // Bounded against a confused primary: an honest one names only sessions of this process that
      // feed the room, at most maxSenders for each other worker in it.
      if (this.#open && !named.has(session) && named.size < NAMED_HOLDS_PER_SENDER_SLOT * this.#maxSenders) named.set(session, undefined);
      return;
    }
    const named = this.#heldSenders;
    if (named === undefined || !named.has(session)) return;
    const flow = named.get(session);
    named.delete(session);
    if (flow !== undefined && !this.#holding) this.flow.release(flow);
  }

  /**
   * A broadcast of the room is being published: while holding, the session whose input made it is
   * held; while some sessions are held by name, it is held when it is one of them.
   */
  holdCurrentSource(): void {
    const source = currentReadSource();
    if (source === this || !isOpenParty(source)) return;
    if (this.#holding) {
      this.flow.hold(source[kFlowState]());
      return;
    }
    const named = this.#heldSenders;
    const id = sessionIdOf(source);
    if (named === undefined || id === undefined || !named.has(id)) return;
    const flow = source[kFlowState]();
    named.set(id, flow);
    this.flow.hold(flow);
  }

  /** The room closed: whoever it holds reads again, and nothing more goes to the bus. */
  close(): void {
    this.#open = false;
    this.#holding = false;
    this.#heldSenders = undefined;
    this.#senders.clear();
    this.flow.releaseAll();
  }

  /** Forgets the senders idle since the last sweep, at most once per sweep interval. True when there is room now. */
  #sweep(): boolean {
    const now = performance.now();
    if (now - this.#sweptAt < this.#sweepMs) return false;
    this.#sweptAt = now;
    for (const [id, sender] of this.#senders) {
      if (sender.seen || sender.flow.waitingOn > 0) sender.seen = false;
      else this.#senders.delete(id);
    }
    return this.#senders.size < this.#maxSenders;
  }
}

/**
 * One session of another process, as a source in this process's fan-out flow control: the bytes it
 * broadcast to the room, relayed here, are charged to it. Held by a member here, it asks the bus to
 * hold that session on its process; released by all, to let it go.
 */
export class RemoteSender implements FlowParty {
  readonly flow: FanoutFlow;
  /** The process it is on (its bus origin). */
  readonly origin: number;
  /** Its session id there. */
  readonly session: number;
  /** Fed bytes since the last sweep (see RelayFlow#sweep). */
  seen = true;
  readonly #relay: RelayFlow;

  constructor(relay: RelayFlow, origin: number, session: number) {
    this.#relay = relay;
    this.origin = origin;
    this.session = session;
    this.flow = new FanoutFlow(this);
  }

  /** Open while its room is: a closed room's senders are held by no one. */
  get connected(): boolean {
    return this.#relay.connected;
  }

  [kFlowState](): FanoutFlow {
    return this.flow;
  }

  [kFanoutPaused](paused: boolean): void {
    this.#relay.senderPaused(this, paused);
  }
}

/** A session that can be held: what send pressure holds (an open party of fan-out flow control). */
function isOpenParty(source: ReadSource | undefined): source is FlowParty & { readonly connected: boolean } {
  const party = source as Partial<FlowParty> & { readonly connected?: unknown };
  return typeof party?.[kFlowState] === 'function' && party.connected === true;
}

/** The session id of a read source that is a session (sessions have a numeric `id`, never 0). */
export function sessionIdOf(source: ReadSource | undefined): number | undefined {
  const id = (source as { readonly id?: unknown } | undefined)?.id;
  return typeof id === 'number' && id > 0 ? id : undefined;
}
