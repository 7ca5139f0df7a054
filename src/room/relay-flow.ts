import { currentReadSource, type ReadSource } from '../core/read-source.js';
import { FanoutFlow, type FlowParty } from '../net/limits/fanout-flow.js';
import { kFanoutPaused, kFlowState } from '../net/symbols.js';
import type { RoomBus } from './room-bus.js';

/**
 * A room's stand-in, in fan-out flow control, for the processes on the other side of its bus
 * (src/net/fanout-flow.ts). It plays both parts of a session there:
 *
 * - **as a source**: bytes relayed from another worker are broadcast here with it as the current input
 *   source, so a member that falls behind holds it like any local sender; being held (paused) asks
 *   the bus to hold the feeders of the room on the other processes, and being released lets them go;
 * - **as a member**: when the bus says a process in the room cannot keep up, every local session whose
 *   input broadcasts to the room is held by it (its reading pauses) until the bus releases the room.
 *
 * One per ClusterRoom on a bus with flow control, made on first use.
 */
export class RelayFlow implements FlowParty {
  readonly flow: FanoutFlow;
  readonly #room: string;
  readonly #bus: RoomBus;
  #open = true;
  /** The bus asked to hold this room's feeders. */
  #holding = false;

  constructor(room: string, bus: RoomBus) {
    this.#room = room;
    this.#bus = bus;
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

  [kFlowState](): FanoutFlow {
    return this.flow;
  }

  /** Members here hold the relayed traffic (true) or no longer do: tell the other processes. */
  [kFanoutPaused](paused: boolean): void {
    if (this.#open) this.#bus.holdFeeders?.(this.#room, paused);
  }

  /** The bus: hold (true) or release (false) the local sessions that feed the room. */
  setHolding(held: boolean): void {
    this.#holding = held;
    if (!held) this.flow.releaseAll();
  }

  /** A broadcast of the room is being published: while holding, the session whose input made it is held. */
  holdCurrentSource(): void {
    const source = currentReadSource();
    if (source !== this && isOpenParty(source)) this.flow.hold(source[kFlowState]());
  }

  /** The room closed: whoever it holds reads again, and nothing more goes to the bus. */
  close(): void {
    this.#open = false;
    this.#holding = false;
    this.flow.releaseAll();
  }
}

/** A session that can be held: what send pressure holds (an open party of fan-out flow control). */
function isOpenParty(source: ReadSource | undefined): source is FlowParty & { readonly connected: boolean } {
  const party = source as Partial<FlowParty> & { readonly connected?: unknown };
  return typeof party?.[kFlowState] === 'function' && party.connected === true;
}
