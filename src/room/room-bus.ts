/**
 * What crosses a process boundary for a room: the bytes of a broadcast, once per process (never per
 * member), and membership changes. A bus delivers the messages of one room from one process in the
 * order they were published (per-sender order); it never hands a process its own messages back.
 */
export type RoomBusMessage =
  /**
   * A broadcast: every member of the receiving process gets these bytes. `source` is the id of the
   * session whose input made it, when one did (absent for a tick or a timer, and from a release that
   * did not send it): the receiving process charges the bytes to that sender.
   */
  | { readonly kind: 'bytes'; readonly origin: number; readonly bytes: Uint8Array; readonly source?: number }
  /** Members of process `origin` entered. */
  | { readonly kind: 'enter'; readonly origin: number; readonly members: readonly number[] }
  /** Members of process `origin` left. */
  | { readonly kind: 'leave'; readonly origin: number; readonly members: readonly number[] }
  /** Process `origin` joined the room: every other process answers with an `enter` of its members. */
  | { readonly kind: 'hello'; readonly origin: number }
  /** Process `origin` is gone (it died or stopped): its members left. */
  | { readonly kind: 'gone'; readonly origin: number };

/**
 * Receives a room's messages from other processes. `paced` is true when the bytes come from a process
 * that holds its feeders when asked ({@link RoomBus.holdFeeders}): the room may then charge them to
 * the sender each names (or, with none, its relay source), so that a slow member holds the senders
 * past their share instead of being cut off.
 */
export type RoomBusListener = (message: RoomBusMessage, paced?: boolean) => void;

/**
 * Told by a bus to hold (true) or release (false) the sessions of this process that feed the room:
 * every one of them when `session` is undefined, or only the session with that id (a member on
 * another process is behind with what that sender fed it past its share).
 */
export type RoomFlowListener = (held: boolean, session?: number) => void;

/**
 * The link between the processes that have members in the same rooms: the cluster primary over IPC
 * (`IpcRoomBus`), or Redis pub/sub ({@link RedisRoomBus}).
 */
export interface RoomBus {
  /** This process's id on the bus (unique across workers and servers). */
  readonly origin: number;
  /** Starts receiving `room`'s messages (and, on a bus that has flow control, its hold requests in `flow`). */
  join(room: string, listener: RoomBusListener, flow?: RoomFlowListener): void;
  /** Stops receiving them (the last local member left, or the room closed). */
  leave(room: string): void;
  /** Sends `message` to every other process that joined `room`. */
  publish(room: string, message: RoomBusMessage): void;
  /**
   * Members here are backed up with `room`'s paced traffic from other processes (true), or no longer
   * (false): the bus asks the processes that feed the room to hold their feeders. Optional: a bus
   * without flow control (Redis) never delivers paced bytes.
   */
  holdFeeders?(room: string, held: boolean): void;
  /**
   * Members here are backed up with what session `session` of process `origin` fed them past its
   * share (true), or no longer (false): the bus asks that process to hold that session only. Optional,
   * as {@link holdFeeders}; a bus without it is never asked (its bytes are never paced).
   */
  holdSender?(room: string, origin: number, session: number, held: boolean): void;
}
