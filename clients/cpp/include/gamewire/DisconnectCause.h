#pragma once

#include <cstdint>
#include <string>

namespace gamewire {

/**
 * Why a session ended: the closed set of causes OnDisconnected can see, with the same codes as the
 * TypeScript side (src/core/disconnect-code.ts; docs/errors.md says when each happens).
 */
enum class DisconnectCode : std::uint8_t {
  /// The server closed its side in an orderly way (FIN).
  PeerClosed,
  /// The connection was reset or aborted (ECONNRESET, EPIPE, ECONNABORTED): an ordinary disconnect.
  ConnectionReset,
  /// Game code called Session::Disconnect(reason); the cause's reason holds its text.
  LocalDisconnect,
  /// Session::OnRecv consumed nothing while the receive buffer (recvBufferSize) was full.
  RecvBufferOverflow,
  /// The ClientService is closing (ClientService::Close or its destructor).
  ServiceClosing,
  /// Any other socket error; the reason carries the system's message.
  SocketError,
  /// A hook threw, or OnRecv returned more than it was given.
  HandlerError,
  /// PacketSession: a header's size field is below 4.
  MalformedHeader,
  /// PacketSession: a header's size field is above maxPacketSize (decided as soon as the 2 size bytes arrive).
  PacketTooLarge,
  /// A packet id the handler table has no method for.
  UnknownPacket,
  /// A packet body that does not decode as the message of its id.
  BadPacket,
  /// More than maxSendQueueBytes were given to Send and not yet written; the socket is closed at once.
  SendQueueOverflow,
  /// Nothing arrived from the server for idleTimeoutMs.
  IdleTimeout,
};

/// The stable name of a cause, as on the TypeScript side: "PEER_CLOSED", "MALFORMED_HEADER" …
const char* DisconnectCodeName(DisconnectCode code) noexcept;

/**
 * The stable error codes of the client library, named as gamewire's (`GW_ERR_*`, docs/errors.md):
 * the typed error behind a disconnect cause or a failed connection attempt.
 */
enum class ErrorCode : std::uint8_t {
  /// No error: the cause needs none (PEER_CLOSED, LOCAL_DISCONNECT, SERVICE_CLOSING).
  None,
  /// GW_ERR_CONNECT: a connection attempt failed (refused, unreachable).
  Connect,
  /// GW_ERR_CONNECT_TIMEOUT: a connection attempt took longer than connectTimeoutMs.
  ConnectTimeout,
  /// GW_ERR_SESSION_FACTORY: the session factory returned no session.
  SessionFactory,
  /// GW_ERR_SOCKET: a socket error other than a reset.
  Socket,
  /// GW_ERR_MALFORMED_HEADER.
  MalformedHeader,
  /// GW_ERR_PACKET_TOO_LARGE.
  PacketTooLarge,
  /// GW_ERR_MESSAGE_TOO_LARGE: a packet to send would exceed 65535 bytes; nothing was sent.
  MessageTooLarge,
  /// GW_ERR_UNKNOWN_PACKET.
  UnknownPacket,
  /// GW_ERR_BAD_PACKET.
  BadPacket,
  /// GW_ERR_RECV_BUFFER_OVERFLOW.
  RecvBufferOverflow,
  /// GW_ERR_BAD_CONSUMED_COUNT: OnRecv returned more bytes than it was given.
  BadConsumedCount,
  /// GW_ERR_HANDLER: a hook threw.
  Handler,
  /// GW_ERR_SEND_QUEUE_OVERFLOW.
  SendQueueOverflow,
  /// GW_ERR_IDLE_TIMEOUT.
  IdleTimeout,
};

/// The stable name of an error code: "GW_ERR_CONNECT" …; "" for ErrorCode::None.
const char* ErrorCodeName(ErrorCode code) noexcept;

/// What OnDisconnected receives: a stable code, a human reason, and the typed error behind it if any.
struct DisconnectCause {
  /// Stable code.
  DisconnectCode code = DisconnectCode::PeerClosed;
  /// Human-readable text: the text given to Disconnect, or a description of what happened.
  std::string reason;
  /// The typed error behind the cause, ErrorCode::None when there is none.
  ErrorCode error = ErrorCode::None;
};

}  // namespace gamewire
