import { InvalidOptionError, UnknownPacketError } from '../core/errors.js';
import { kWatchHook } from '../core/watch-hook.js';
import type { MessageOf, MessageType } from './message-type.js';
import type { PacketPeer } from './packet-peer.js';

/** Handles one decoded message for the session it came from. */
export type PacketHandler<S extends PacketPeer, T> = (session: S, message: T) => void;

/** Handlers keyed by message name, each typed by its own message: the compiler rejects a mismatch. */
export type HandlersFor<S extends PacketPeer, M extends Record<string, MessageType<unknown>>> = {
  readonly [K in keyof M]: PacketHandler<S, MessageOf<M[K]>>;
};

/** Options of a {@link PacketHandlerTable}. */
export interface PacketHandlerTableOptions<S extends PacketPeer> {
  /**
   * Called for a packet id with no handler. Without it, an unknown id throws UnknownPacketError, which a
   * PacketSession turns into a disconnect with cause `UNKNOWN_PACKET`.
   */
  readonly onUnknown?: (session: S, id: number, body: Uint8Array) => void;
}

interface Entry<S extends PacketPeer> {
  readonly type: MessageType<unknown>;
  readonly handler: PacketHandler<S, unknown>;
  /** The hook name a failure of the handler is reported under, e.g. `handler C_CHAT`. */
  readonly hook: string;
}

/**
 * The C++ `ServerPacketHandler`/`ClientPacketHandler`: one handler per packet id, each receiving the
 * decoded, typed message and its session. Generated code builds one table per side
 * (`createServerHandlers` for `C_*`, `createClientHandlers` for `S_*`).
 */
export class PacketHandlerTable<S extends PacketPeer> {
  private readonly entries = new Map<number, Entry<S>>();
  private readonly onUnknown: ((session: S, id: number, body: Uint8Array) => void) | undefined;

  /** @throws InvalidOptionError when two messages share an id or a handler is missing. */
  constructor(
    types: Record<string, MessageType<unknown>>,
    handlers: Record<string, PacketHandler<S, never>>,
    options: PacketHandlerTableOptions<S> = {},
  ) {
    for (const [name, type] of Object.entries(types)) {
      const handler = handlers[name];
      if (typeof handler !== 'function') throw new InvalidOptionError(`handler ${name}`, handler, 'a function');
      if (this.entries.has(type.id)) throw new InvalidOptionError(`packet id of ${name}`, type.id, 'unique');
      this.entries.set(type.id, { type, handler: handler as PacketHandler<S, unknown>, hook: `handler ${name}` });
    }
    this.onUnknown = options.onUnknown;
  }

  /** The packet ids this table handles. */
  get ids(): readonly number[] {
    return [...this.entries.keys()];
  }

  /**
   * Decodes `body` as the message of `id` and runs its handler. A handler may be `async`: it is not
   * awaited, and a rejection ends `session` with `HANDLER_ERROR` (hook `handler NAME`), as a throw does.
   * @throws UnknownPacketError for an id with no handler and no `onUnknown`.
   * @throws BadPacketError when the body does not decode.
   */
  dispatch(session: S, id: number, body: Uint8Array): void {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      if (this.onUnknown === undefined) throw new UnknownPacketError(id);
      const unknownResult: unknown = this.onUnknown(session, id, body);
      if (unknownResult !== undefined) watch(session, 'onUnknown', unknownResult);
      return;
    }
    const result: unknown = entry.handler(session, entry.type.decode(body));
    if (result !== undefined) watch(session, entry.hook, result);
  }
}

/** A peer that can watch what a handler returned (a Session can; the browser client need not). */
interface HookWatcher {
  [kWatchHook]?(hook: string, result: unknown): void;
}

function watch(session: PacketPeer, hook: string, result: unknown): void {
  (session as HookWatcher)[kWatchHook]?.(hook, result);
}

/** Builds a {@link PacketHandlerTable} from message types and handlers typed by them. */
export function createHandlerTable<S extends PacketPeer, M extends Record<string, MessageType<unknown>>>(
  types: M,
  handlers: HandlersFor<S, M>,
  options?: PacketHandlerTableOptions<S>,
): PacketHandlerTable<S> {
  return new PacketHandlerTable<S>(types, handlers as Record<string, PacketHandler<S, never>>, options);
}
