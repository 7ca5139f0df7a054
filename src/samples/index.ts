/**
 * gamewire/samples: the sessions behind the sample servers of the CLI, to read, run in your own
 * service, or extend: the echo GameServer (`echo-server`), the broadcast server (`broadcast-server`)
 * and the chat game (`chat-server`) with its generated protocol.
 * @packageDocumentation
 * @module gamewire/samples
 */
export { EchoSession, PacketEchoSession, RawEchoSession } from './echo-session.js';
export { BroadcastSession } from './broadcast-session.js';
export { ChatSession } from './chat/chat-session.js';
export { CHAT_MAX_BYTES, CHAT_ROOM_ID, chatServerHandlers } from './chat/chat-server-handlers.js';
export * as protocol from './protocol/packets.js';
