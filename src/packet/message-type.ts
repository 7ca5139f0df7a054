import protobuf from 'protobufjs';
import type Long from 'long';
import { BadPacketError, InvalidOptionError, MessageTooLargeError } from '../core/errors.js';
import { MAX_MESSAGE_ID, MAX_PACKET_SIZE, PACKET_HEADER_SIZE, writePacketHeader } from './packet-header.js';
import type { PacketPeer } from './packet-peer.js';
import { sendBufferManager } from './send-buffer.js';

/** A 64-bit protobuf integer as protobufjs gives it: a `Long` when it does not fit a JS number safely. */
export type Int64 = number | Long;

/** What `send`/`makeSendBuffer` accept: every field optional (proto3 defaults), nested messages too. */
export type MessageInit<T> = {
  [K in keyof T]?: [T[K]] extends [Uint8Array | readonly []]
    ? Uint8Array
    : T[K] extends ReadonlyArray<infer E>
    ? E extends object
      ? ReadonlyArray<MessageInit<E>>
      : T[K]
    : T[K] extends Uint8Array
      ? Uint8Array
      : NonNullable<T[K]> extends Long
        ? T[K]
        : NonNullable<T[K]> extends object
          ? MessageInit<NonNullable<T[K]>> | null
          : T[K];
};

/** The compiled schema of one protocol: the protobufjs Root built from the generated descriptor. */
export interface ProtocolSchema {
  /** Finds a message type by its fully qualified name, e.g. `protocol.C_CHAT`. */
  lookupType(fullName: string): protobuf.Type;
}

/** Builds a {@link ProtocolSchema} from the JSON descriptor written by `gamewire gen-packets`. */
export function loadProtocolSchema(descriptor: object): ProtocolSchema {
  return protobuf.Root.fromJSON(descriptor as protobuf.INamespace);
}

// One writer for the whole process: encoding runs to completion on the event loop, so it is never shared.
let writer = protobuf.Writer.create();
const EMPTY = new Uint8Array(0);
/** Room an encode starts with in the current chunk; a larger message moves to a buffer of its own. */
const MIN_ENCODE_SPACE = 1024;

/**
 * One packet type of a protocol: its stable id, its name and its protobuf codec (protobufjs).
 * Generated code makes one per `C_*`/`S_*` message; `T` is the decoded message type.
 */
export interface MessageType<T, N extends string = string> {
  /** The packet id, from the `.proto` `MsgId` enum. */
  readonly id: number;
  /** The message name, e.g. `S_CHAT`. */
  readonly name: N;
  /**
   * Decodes a packet body.
   * @throws BadPacketError (code `GW_ERR_BAD_PACKET`) naming the id when the bytes are not a valid message.
   */
  decode(body: Uint8Array): T;
  /** Encodes only the body, into a new buffer (for tools and tests; the hot path uses makeSendBuffer). */
  encodeBody(message: MessageInit<T>): Uint8Array;
  /**
   * Encodes the whole packet (header and body) straight into a pooled SendBuffer and returns it. The
   * result is immutable and may be sent to any number of sessions.
   * @throws MessageTooLargeError (code `GW_ERR_MESSAGE_TOO_LARGE`) when the packet would exceed 65535 bytes.
   */
  makeSendBuffer(message: MessageInit<T>): Uint8Array;
  /**
   * `session.send(makeSendBuffer(message))`; false when the session is not open.
   * @throws MessageTooLargeError when the packet would exceed 65535 bytes.
   */
  send(session: PacketPeer, message: MessageInit<T>): boolean;
}

/** The decoded message type of a {@link MessageType}. */
export type MessageOf<M> = M extends MessageType<infer T> ? T : never;

/**
 * Makes the {@link MessageType} of message `fullName` with packet id `id`. Called by generated code.
 * @throws InvalidOptionError when `id` is outside 1..65519 (65520..65535 are gamewire's own packets).
 */
export function defineMessage<T, N extends string>(
  schema: ProtocolSchema,
  fullName: string,
  id: number,
  name: N,
): MessageType<T, N> {
  if (!Number.isInteger(id) || id < 1 || id > MAX_MESSAGE_ID) {
    throw new InvalidOptionError(`packet id of ${name}`, id, `an integer 1..${MAX_MESSAGE_ID}`);
  }
  const type = schema.lookupType(fullName);
  // protobufjs decodes bytes fields as views of its input; a body lives in reused receive memory, so
  // messages with bytes fields are decoded from a copy and stay valid after the handler returns.
  const copyBody = hasBytesField(type, new Set());
  const makeSendBuffer = (message: MessageInit<T>): Uint8Array => {
    // Encode straight into the SendBuffer chunk, after room for the header: no copy. protobufjs 8's
    // writer has public `buf`/`pos`; if the message outgrows the chunk the writer moves to a buffer
    // of its own, which is then copied into a SendBuffer of the right size.
    const at = sendBufferManager.openRest(MIN_ENCODE_SPACE);
    const chunk = at.bytes;
    const start = at.offset;
    writer.buf = chunk;
    writer.view = null;
    writer.pos = start + PACKET_HEADER_SIZE;
    try {
      type.encode(message as protobuf.Message, writer);
    } catch (error) {
      sendBufferManager.close(0);
      writer = protobuf.Writer.create(); // a throw can leave forked states behind
      throw error;
    }
    const size = writer.pos - start;
    const encodedIn = writer.buf;
    writer.buf = EMPTY; // do not keep the chunk alive from here
    if (size > MAX_PACKET_SIZE) {
      sendBufferManager.close(0);
      throw new MessageTooLargeError(name, size, MAX_PACKET_SIZE);
    }
    if (encodedIn === chunk) {
      writePacketHeader(chunk, start, size, id);
      return sendBufferManager.close(size);
    }
    sendBufferManager.close(0);
    const own = sendBufferManager.open(size);
    writePacketHeader(own.bytes, own.offset, size, id);
    own.bytes.set(encodedIn.subarray(start + PACKET_HEADER_SIZE, start + size), own.offset + PACKET_HEADER_SIZE);
    return sendBufferManager.close(size);
  };
  return Object.freeze({
    id,
    name,
    decode(body: Uint8Array): T {
      try {
        return type.decode(copyBody ? Uint8Array.prototype.slice.call(body) : body) as unknown as T;
      } catch (error) {
        throw new BadPacketError(id, name, error);
      }
    },
    encodeBody(message: MessageInit<T>): Uint8Array {
      return type.encode(message as protobuf.Message).finish();
    },
    makeSendBuffer,
    send(session: PacketPeer, message: MessageInit<T>): boolean {
      return session.connected && session.send(makeSendBuffer(message));
    },
  });
}

function hasBytesField(type: protobuf.Type, seen: Set<protobuf.Type>): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  return type.fieldsArray.some((field) => {
    field.resolve();
    if (field.type === 'bytes') return true;
    return field.resolvedType instanceof protobuf.Type && hasBytesField(field.resolvedType, seen);
  });
}
