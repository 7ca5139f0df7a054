#include "gamewire/DisconnectCause.h"

namespace gamewire {

const char* DisconnectCodeName(DisconnectCode code) noexcept {
  switch (code) {
    case DisconnectCode::PeerClosed: return "PEER_CLOSED";
    case DisconnectCode::ConnectionReset: return "CONNECTION_RESET";
    case DisconnectCode::LocalDisconnect: return "LOCAL_DISCONNECT";
    case DisconnectCode::RecvBufferOverflow: return "RECV_BUFFER_OVERFLOW";
    case DisconnectCode::ServiceClosing: return "SERVICE_CLOSING";
    case DisconnectCode::SocketError: return "SOCKET_ERROR";
    case DisconnectCode::HandlerError: return "HANDLER_ERROR";
    case DisconnectCode::MalformedHeader: return "MALFORMED_HEADER";
    case DisconnectCode::PacketTooLarge: return "PACKET_TOO_LARGE";
    case DisconnectCode::UnknownPacket: return "UNKNOWN_PACKET";
    case DisconnectCode::BadPacket: return "BAD_PACKET";
    case DisconnectCode::SendQueueOverflow: return "SEND_QUEUE_OVERFLOW";
    case DisconnectCode::IdleTimeout: return "IDLE_TIMEOUT";
  }
  return "UNKNOWN";
}

const char* ErrorCodeName(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::None: return "";
    case ErrorCode::Connect: return "GW_ERR_CONNECT";
    case ErrorCode::ConnectTimeout: return "GW_ERR_CONNECT_TIMEOUT";
    case ErrorCode::SessionFactory: return "GW_ERR_SESSION_FACTORY";
    case ErrorCode::Socket: return "GW_ERR_SOCKET";
    case ErrorCode::MalformedHeader: return "GW_ERR_MALFORMED_HEADER";
    case ErrorCode::PacketTooLarge: return "GW_ERR_PACKET_TOO_LARGE";
    case ErrorCode::MessageTooLarge: return "GW_ERR_MESSAGE_TOO_LARGE";
    case ErrorCode::UnknownPacket: return "GW_ERR_UNKNOWN_PACKET";
    case ErrorCode::BadPacket: return "GW_ERR_BAD_PACKET";
    case ErrorCode::RecvBufferOverflow: return "GW_ERR_RECV_BUFFER_OVERFLOW";
    case ErrorCode::BadConsumedCount: return "GW_ERR_BAD_CONSUMED_COUNT";
    case ErrorCode::Handler: return "GW_ERR_HANDLER";
    case ErrorCode::SendQueueOverflow: return "GW_ERR_SEND_QUEUE_OVERFLOW";
    case ErrorCode::IdleTimeout: return "GW_ERR_IDLE_TIMEOUT";
  }
  return "GW_ERR_UNKNOWN";
}

}  // namespace gamewire
