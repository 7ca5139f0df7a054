/**
 * What crosses a process boundary for a room: the bytes of a broadcast, once per process (never per
 * member), and membership changes. A bus delivers the messages of one room from one process in the
 * order they were published (per-sender order); it never hands a process its own messages back.
 */
export type RoomBusMessage =
  /** A broadcast: every member of the receiving process gets these bytes. */
  | { readonly kind: 'bytes'; readonly origin: number; readonly bytes: Uint8Array }
  /** Members of process `origin` entered. */
  | { readonly kind: 'enter'; readonly origin: number; readonly members: readonly number[] }
  /** Members of process `origin` left. */
  | { readonly kind: 'leave'; readonly origin: number; readonly members: readonly number[] }
  /** Process `origin` joined the room: every other process answers with an `enter` of its members. */
  | { readonly kind: 'hello'; readonly origin: number }
  /** Process `origin` is gone (it died or stopped): its members left. */
  | { readonly kind: 'gone'; readonly origin: number };

/** Receives a room's messages from other processes. */
export type RoomBusListener = (message: RoomBusMessage) => void;

/**
 * The link between the processes that have members in the same rooms: the cluster primary over IPC
 * (`IpcRoomBus`), or Redis pub/sub ({@link RedisRoomBus}).
 */
export interface RoomBus {
  /** This process's id on the bus (unique across workers and servers). */
  readonly origin: number;
  /** Starts receiving `room`'s messages (the first local member entered). */
  join(room: string, listener: RoomBusListener): void;
  /** Stops receiving them (the last local member left, or the room closed). */
  leave(room: string): void;
  /** Sends `message` to every other process that joined `room`. */
  publish(room: string, message: RoomBusMessage): void;
}
