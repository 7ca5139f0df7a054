import type { Logger } from '../core/logger.js';
import { SENDER_FLOW_VERSION, toPrimary, type ToPrimary, type ToPrimaryBody, type ToWorker } from './cluster-messages.js';
import { PROTOCOL_VERSION } from './cluster-protocol.js';
import { countDropped } from './dropped-messages.js';
import { RELAY_MESSAGE_OVERHEAD, RelayChannel, type ResolvedRelayLimits } from './relay-channel.js';
import { decodeRoomFrame, encodeRoomFrame, isWholePackets } from './room-frame.js';
import type { RoomBus, RoomBusListener, RoomBusMessage, RoomFlowListener } from '../room/room-bus.js';

/** What a worker taking sessions in notes of the room traffic meanwhile (worker-moves.ts). */
export interface MoveRecorder {
  /** A broadcast of this worker's own to `room`, published as number `seq`. */
  own(room: string, bytes: Uint8Array, seq: number): void;
  /** A broadcast from bus origin `origin` relayed to this worker for `room`. */
  relayed(room: string, bytes: Uint8Array, origin: number): void;
}

interface JoinedRoom {
  readonly listener: RoomBusListener;
  readonly flow: RoomFlowListener | undefined;
  /** The primary asked to hold this room's feeders. */
  heldByPrimary: boolean;
  /** What the room was last told (held by the primary or by a congested uplink). */
  held: boolean;
  /** What the primary was last told: members here hold the room's relayed traffic. */
  holding: boolean;
  /** Members here hold the relayed traffic that names no sender (the room's relay source is held). */
  holdingUnnamed: boolean;
  /** Remote senders members here hold, for a primary too old for `sender-flow` (it is told `flow` instead). */
  namedHeld: number;
}

/**
 * A worker's {@link RoomBus}: room frames (room-frame.ts) go to the cluster primary over the IPC
 * channel, which relays them to the other workers in the room (and to Redis with `--redis`). One IPC
 * message per broadcast per worker, whatever the number of members.
 *
 * Flow: the channel to the primary is a {@link RelayChannel}; while it is above its high mark, every
 * room holds its local feeders, and beyond its cap broadcasts are dropped and counted. The primary
 * asks a room to hold its feeders when another worker in it cannot keep up (`flow` messages), or one
 * feeder only (`sender-flow`), and is told when members here hold the room's relayed traffic
 * ({@link holdFeeders}) or one sender's ({@link holdSender}). A primary of protocol version 1, which
 * knows no `sender-flow`, is told `flow` while any sender is held: everything is held, never less.
 */
export class IpcRoomBus implements RoomBus {
  readonly origin: number;
  readonly #rooms = new Map<string, JoinedRoom>();
  readonly #uplink: RelayChannel;
  readonly #logger: Logger;
  #closed = false;
  /** The protocol version of the primary's last message (this release's until one arrives). */
  #primaryVersion = PROTOCOL_VERSION;
  /** Publishes sent so far (u32, wraps): each publish carries its number, the cut of a move is told in them. */
  #publishSeq = 0;
  /** Set while sessions are moving in (worker-moves.ts): sees every room frame that reaches this worker. */
  recorder: MoveRecorder | undefined;

  constructor(origin: number, logger: Logger, limits: ResolvedRelayLimits) {
    this.origin = origin;
    this.#logger = logger;
    this.#uplink = new RelayChannel(sendToPrimary, limits, (congested) => {
      for (const room of this.#rooms.values()) this.#tell(room, room.heldByPrimary || congested);
    });
  }

  /** Bytes queued to the primary now. */
  get queuedBytes(): number {
    return this.#uplink.queuedBytes;
  }

  join(room: string, listener: RoomBusListener, flow?: RoomFlowListener): void {
    const had = this.#rooms.get(room);
    this.#rooms.set(room, {
      listener,
      flow,
      heldByPrimary: had?.heldByPrimary ?? false,
      held: false,
      holding: had?.holding ?? false,
      holdingUnnamed: had?.holdingUnnamed ?? false,
      namedHeld: had?.namedHeld ?? 0,
    });
    if (had === undefined) this.#send({ type: 'join', room });
    const joined = this.#rooms.get(room) as JoinedRoom;
    if (this.#uplink.congested || joined.heldByPrimary) this.#tell(joined, true);
  }

  leave(room: string): void {
    if (this.#rooms.delete(room)) this.#send({ type: 'leave', room });
  }

  publish(room: string, message: RoomBusMessage): void {
    if (this.#closed) return;
    if (message.kind === 'bytes' && !isWholePackets(message.bytes)) {
      countDropped('ipc', 'not_packets', this.#logger, { room, bytes: message.bytes.length });
      return;
    }
    const frame = encodeRoomFrame(message, 0);
    const seq = (this.#publishSeq = (this.#publishSeq + 1) >>> 0);
    if (this.recorder !== undefined && message.kind === 'bytes') this.recorder.own(room, message.bytes, seq);
    const sent = this.#uplink.send(toPrimary({ type: 'publish', room, frame, seq }), frame.length + room.length + RELAY_MESSAGE_OVERHEAD, message.kind === 'bytes');
    if (!sent) countDropped('ipc', 'relay_overflow', this.#logger, { room, queuedBytes: this.#uplink.queuedBytes });
  }

  holdFeeders(room: string, held: boolean): void {
    const joined = this.#rooms.get(room);
    if (joined === undefined) return;
    joined.holdingUnnamed = held;
    this.#tellPrimary(room, joined);
  }

  holdSender(room: string, origin: number, session: number, held: boolean): void {
    const joined = this.#rooms.get(room);
    if (joined === undefined) return;
    if (this.#primaryVersion >= SENDER_FLOW_VERSION) {
      this.#send({ type: 'sender-flow', room, origin, session, held });
      return;
    }
    joined.namedHeld = Math.max(0, joined.namedHeld + (held ? 1 : -1));
    this.#tellPrimary(room, joined);
  }

  /** Any message from the primary: its protocol version, to know whether it reads `sender-flow`. */
  heard(version: number): void {
    this.#primaryVersion = version;
  }

  /** A `room`, `flow` or `sender-flow` message from the primary (the worker's one listener parsed it). */
  receive(message: ToWorker): void {
    if (message.type === 'sender-flow') {
      const joined = this.#rooms.get(message.room);
      try {
        joined?.flow?.(message.held, message.session);
      } catch (error) {
        this.#logger.error({ err: error }, 'a room failed to take a hold from the primary');
      }
      return;
    }
    if (message.type === 'flow') {
      const joined = this.#rooms.get(message.room);
      if (joined === undefined) return;
      joined.heldByPrimary = message.held;
      this.#tell(joined, message.held || this.#uplink.congested);
      return;
    }
    if (message.type !== 'room') return;
    const joined = this.#rooms.get(message.room);
    if (joined === undefined) return;
    const frame = decodeRoomFrame(message.frame);
    if (typeof frame === 'string') {
      countDropped('ipc', frame, this.#logger, { room: message.room, bytes: message.frame.length });
      return;
    }
    if (this.recorder !== undefined && frame.message.kind === 'bytes') this.recorder.relayed(message.room, frame.message.bytes, frame.message.origin);
    try {
      joined.listener(frame.message, message.holdable);
    } catch (error) {
      this.#logger.error({ err: error }, 'a room failed to take a message from the primary');
    }
  }

  /**
   * Sends a control message to the primary in the same channel as the room frames, so that it reaches
   * the primary after every frame published before it (the order a move relies on).
   */
  sendInOrder(body: ToPrimaryBody): void {
    this.#send(body);
  }

  /** Stops: later publishes are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
  }

  /** Tells the primary whether members here hold `room`'s relayed traffic (with an old primary, any of it). */
  #tellPrimary(room: string, joined: JoinedRoom): void {
    const held = joined.holdingUnnamed || (this.#primaryVersion < SENDER_FLOW_VERSION && joined.namedHeld > 0);
    if (joined.holding === held) return;
    joined.holding = held;
    this.#send({ type: 'flow', room, held });
  }

  #tell(room: JoinedRoom, held: boolean): void {
    if (room.held === held) return;
    room.held = held;
    room.flow?.(held);
  }

  #send(body: ToPrimaryBody): void {
    if (this.#closed) return;
    this.#uplink.send(toPrimary(body), RELAY_MESSAGE_OVERHEAD, false);
  }
}

/** The primary going away is handled by the 'disconnect' event; a send that races it is dropped. */
function sendToPrimary(message: object, written: (error: Error | null) => void): void {
  if (process.send === undefined || !process.connected) {
    written(null);
    return;
  }
  process.send(message as ToPrimary, undefined, {}, written);
}
