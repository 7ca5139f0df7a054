import { GW, isGamewireMessage, type ToPrimary, type ToWorker } from './cluster-messages.js';
import type { RoomBus, RoomBusListener, RoomBusMessage } from './room-bus.js';

/**
 * A worker's {@link RoomBus}: room messages go to the cluster primary over the IPC channel, which
 * relays them to the other workers in the room (and to Redis with `--redis`). One IPC message per
 * broadcast per worker, whatever the number of members.
 */
export class IpcRoomBus implements RoomBus {
  readonly origin: number;
  readonly #listeners = new Map<string, RoomBusListener>();
  #closed = false;

  constructor(origin: number) {
    this.origin = origin;
    process.on('message', this.#onMessage);
  }

  join(room: string, listener: RoomBusListener): void {
    const had = this.#listeners.has(room);
    this.#listeners.set(room, listener);
    if (!had) this.#send({ gw: GW, type: 'join', room });
  }

  leave(room: string): void {
    if (this.#listeners.delete(room)) this.#send({ gw: GW, type: 'leave', room });
  }

  publish(room: string, message: RoomBusMessage): void {
    this.#send({ gw: GW, type: 'publish', room, message });
  }

  /** Stops listening; later publishes are dropped. */
  async close(): Promise<void> {
    this.#closed = true;
    process.off('message', this.#onMessage);
  }

  #send(message: ToPrimary): void {
    // The primary going away ends the worker (see WorkerRuntime); until then nothing can be sent.
    if (this.#closed || process.send === undefined || !process.connected) return;
    process.send(message, undefined, {}, ignoreSendError);
  }

  readonly #onMessage = (raw: unknown): void => {
    if (!isGamewireMessage(raw)) return;
    const message = raw as ToWorker;
    if (message.type !== 'room') return;
    const inner = message.message;
    // Advanced IPC serialization turns a Buffer into a plain Uint8Array; sessions send either.
    this.#listeners.get(message.room)?.(inner);
  };
}

/** The primary going away is handled by the 'disconnect' event; a send that races it is dropped. */
function ignoreSendError(): void {}
