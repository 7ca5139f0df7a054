/**
 * gamewire/internals: the byte-level building blocks under Session and PacketSession, for code that
 * frames or buffers bytes itself (a custom Session's `onRecv`, a relay, a benchmark). They are
 * documented and tested, but they are not the everyday API and may change between minor versions
 * more freely than the root export.
 * @packageDocumentation
 * @module gamewire/internals
 */
export { MIN_RECV_BUFFER_SIZE, RecvBuffer } from './core/recv-buffer.js';
export {
  HEARTBEAT_PING_ID,
  HEARTBEAT_PONG_ID,
  MAX_MESSAGE_ID,
  MAX_PACKET_ID,
  MAX_PACKET_SIZE,
  PACKET_HEADER_SIZE,
  readPacketId,
  readPacketSize,
  writePacketHeader,
} from './packet/packet-header.js';
export { PacketScanner, type PacketSink } from './packet/packet-scanner.js';
export {
  DEFAULT_SEND_BUFFER_CHUNK_SIZE,
  SendBufferManager,
  sendBufferManager,
  type SendBufferCursor,
} from './packet/send-buffer.js';
