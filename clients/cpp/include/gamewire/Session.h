#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "DisconnectCause.h"
#include "SendBuffer.h"

namespace gamewire {

class ClientService;
namespace detail {
class SessionCore;
}

/**
 * One connection to the server, as the course's Session: override the hooks, call Send and
 * Disconnect. A ClientService makes sessions with its factory once a connection is up; a session is
 * always held by a std::shared_ptr (the service and its pending I/O hold it).
 *
 * Threading: the hooks of one session run one at a time, in order, on whichever thread is in
 * ClientService::Dispatch (each session has its own strand); hooks of different sessions run in
 * parallel when several threads dispatch. Send, Disconnect and the getters may be called from any
 * thread. OnDisconnected runs exactly once, last; no hook runs after it.
 */
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session();
  virtual ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /**
   * Queues `buffer` for the server (the bytes are shared, not copied). Buffers given from one thread
   * are written in order; those given during one turn of the session leave in one write. Returns false,
   * sending nothing, when the session is not open or `buffer` is empty. Past maxSendQueueBytes
   * queued and not yet written, the session ends with SEND_QUEUE_OVERFLOW and Send returns false.
   */
  bool Send(SendBuffer buffer);

  /**
   * Ends the session gracefully with cause LOCAL_DISCONNECT and `reason` as its text: what was sent
   * before still goes out, then FIN; OnDisconnected runs once the server closes its side or after
   * disconnectTimeoutMs. Does nothing when the session is already closing.
   */
  void Disconnect(std::string_view reason);

  /**
   * Ends the session gracefully with a protocol cause (UNKNOWN_PACKET, BAD_PACKET …) and the typed
   * error behind it. For handler tables and protocol code; game code calls Disconnect.
   */
  void CloseWithCause(DisconnectCode code, std::string_view reason, ErrorCode error);

  /// True while the session is open (connected and not closing).
  bool IsConnected() const noexcept;
  /// A number unique within the process, from 1, given when the session opened (0 before).
  std::uint64_t SessionId() const noexcept;
  /// The service that opened this session, or nullptr before it opened.
  ClientService* Service() const noexcept;
  /// Bytes given to Send and not yet written to the socket.
  std::size_t QueuedSendBytes() const noexcept;

 protected:
  /// Hook: the connection is up; Send works from here on.
  virtual void OnConnected() {}
  /**
   * Hook: bytes arrived. `data` holds everything received and not yet consumed; return how many bytes
   * were consumed (0..len); the rest is offered again with the next bytes. `data` is valid only during
   * the call. PacketSession implements it: subclasses of PacketSession override OnRecvPacket instead.
   */
  virtual std::size_t OnRecv(const std::uint8_t* data, std::size_t len) {
    (void)data;
    return len;
  }
  /// Hook: a write of `len` bytes completed.
  virtual void OnSend(std::size_t len) { (void)len; }
  /// Hook: the session ended, exactly once, last.
  virtual void OnDisconnected(const DisconnectCause& cause) { (void)cause; }

 private:
  friend class detail::SessionCore;
  friend class ClientService;

  /// Called by the keepalive timer when nothing was sent for keepaliveMs; PacketSession sends a ping.
  virtual void SendKeepalive() {}

  std::unique_ptr<detail::SessionCore> _core;
};

}  // namespace gamewire
