#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "Defaults.h"
#include "DisconnectCause.h"
#include "SendBuffer.h"

namespace gamewire {

class Session;

/// Makes the session for a connection that is up. Called on a Dispatch thread; must return a new session.
using SessionFactory = std::function<std::shared_ptr<Session>()>;

/// One connection attempt that failed.
struct ConnectFailure {
  /// ErrorCode::Connect, ConnectTimeout or SessionFactory.
  ErrorCode code = ErrorCode::Connect;
  /// What happened, e.g. "cannot connect to 127.0.0.1:7777: Connection refused".
  std::string message;
};

/// Options of a ClientService; each default is in Defaults.
struct ClientServiceOptions {
  /// Server address: a name or a numeric IPv4/IPv6 address.
  std::string host = Defaults::kHost;
  /// Server port.
  std::uint16_t port = 7777;
  /// Sessions Start() opens; also the most live at once.
  std::size_t maxSessionCount = Defaults::kMaxSessionCount;
  /// How long one connection attempt may take, ms (1 or more).
  std::uint32_t connectTimeoutMs = Defaults::kConnectTimeoutMs;
  /// Connection attempts in progress at once during Start() (1 or more).
  std::size_t connectConcurrency = Defaults::kConnectConcurrency;
  /// Largest packet a PacketSession accepts from the server, header included (4..65535).
  std::size_t maxPacketSize = Defaults::kMaxPacketSize;
  /// Receive buffer of each session, bytes (at least maxPacketSize).
  std::size_t recvBufferSize = Defaults::kRecvBufferSize;
  /// Bytes given to Send and not yet written past which a session ends with SEND_QUEUE_OVERFLOW.
  std::size_t maxSendQueueBytes = Defaults::kMaxSendQueueBytes;
  /// A PacketSession that sent nothing for this long sends a heartbeat ping, ms; 0 = never.
  std::uint32_t keepaliveMs = Defaults::kKeepaliveMs;
  /// Nothing received for this long ends a session with IDLE_TIMEOUT, ms; 0 = never.
  std::uint32_t idleTimeoutMs = Defaults::kIdleTimeoutMs;
  /// How long a graceful disconnect waits for the server's FIN, ms (1 or more).
  std::uint32_t disconnectTimeoutMs = Defaults::kDisconnectTimeoutMs;
  /// Called (on a Dispatch thread) for each failed connection attempt; optional.
  std::function<void(const ConnectFailure&)> onConnectFailed;
  /// Called with what an operator should know (a hook that threw in OnDisconnected); default: stderr.
  std::function<void(std::string_view)> onWarning;
};

/**
 * The course's ClientService: opens maxSessionCount sessions to host:port and runs their I/O on the
 * threads that call Dispatch, one or several (the course's five-thread loop works as is):
 *
 *     gamewire::ClientService service(options, [] { return std::make_shared<ServerSession>(); });
 *     service.Start();
 *     std::vector<std::thread> threads;
 *     for (int i = 0; i < 5; i++) threads.emplace_back([&] { while (!service.IsClosed()) service.Dispatch(10); });
 *
 * Every session is serialized on its own strand (Session says what that guarantees). Close() ends every
 * session with SERVICE_CLOSING; IsClosed() turns true once all have ended. Destroy the service only
 * after the Dispatch threads returned; the destructor closes what is still open and waits for it.
 */
class ClientService {
 public:
  ClientService(ClientServiceOptions options, SessionFactory factory);
  ~ClientService();
  ClientService(const ClientService&) = delete;
  ClientService& operator=(const ClientService&) = delete;

  /**
   * Resolves the host and starts opening maxSessionCount sessions, at most connectConcurrency at a
   * time; they come up (OnConnected) on the Dispatch threads. Returns false, opening nothing, when an
   * option is out of range, the host does not resolve or Start was called before; LastError says why.
   */
  bool Start();

  /**
   * Runs ready I/O and hooks for up to `timeoutMs` ms on the calling thread (0: only what is ready now,
   * without blocking, for a game loop's tick). Several threads may call it at once. Returns the number
   * of handlers run.
   */
  std::size_t Dispatch(std::uint32_t timeoutMs);

  /**
   * Stops opening sessions and ends every open one gracefully with SERVICE_CLOSING. Returns at once;
   * keep dispatching until IsClosed(). May be called from any thread, more than once.
   */
  void Close();

  /// True once Close was called and every session and connection attempt has ended.
  bool IsClosed() const;

  /// Sends the same bytes to every open session; returns how many took them.
  std::size_t Broadcast(const SendBuffer& buffer);

  /// Sessions open now.
  std::size_t SessionCount() const;
  /// Connection attempts in progress.
  std::size_t ConnectingCount() const;
  /// Sessions that came up since Start.
  std::size_t ConnectedCount() const;
  /// Connection attempts that failed since Start, in order.
  std::vector<ConnectFailure> ConnectFailures() const;
  /// Why Start returned false; empty otherwise.
  std::string LastError() const;
  /// The options in force.
  const ClientServiceOptions& Options() const noexcept;

  struct Impl;

 private:
  std::unique_ptr<Impl> _impl;
};

}  // namespace gamewire
