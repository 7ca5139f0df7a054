#pragma once

#include <asio.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <string>
#include <vector>

#include "gamewire/ClientService.h"
#include "gamewire/DisconnectCause.h"
#include "gamewire/RecvBuffer.h"
#include "gamewire/SendBuffer.h"
#include "gamewire/Session.h"

// Engines often build without exceptions (Unreal does by default): hooks are then called unguarded.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define GAMEWIRE_EXCEPTIONS 1
#else
#define GAMEWIRE_EXCEPTIONS 0
#endif

namespace gamewire {
namespace detail {

using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;

/// What every session of one service shares, fixed at Start.
struct SessionSettings {
  std::size_t recvBufferSize;
  std::size_t maxSendQueueBytes;
  Clock::duration keepalive;
  Clock::duration idleTimeout;
  Clock::duration disconnectTimeout;
};

/// connecting → open → closing → closed, moved only by SessionCore::MoveTo.
enum class SessionState : std::uint8_t { Connecting, Open, Closing, Closed };

/**
 * The connection behind a Session: socket, strand, receive buffer, send queue and one timer
 * (keepalive, idle timeout and the graceful-close deadline). Everything but the send queue is touched
 * only on the strand; the send queue is guarded by one mutex, held for a push or a swap and never
 * while game code runs, so Send works from any thread and one write carries every packet queued
 * since the last.
 */
class SessionCore {
 public:
  SessionCore(Session& owner, ClientService::Impl& service, std::shared_ptr<asio::io_context> io,
              asio::ip::tcp::socket&& socket, Strand strand, std::uint64_t id);

  /// Gives `session` its core; the service calls it once, before Start.
  static void Attach(Session& session, std::unique_ptr<SessionCore> core);
  /// The core of `session`, or nullptr before it opened.
  static SessionCore* Of(Session& session) noexcept { return session._core.get(); }
  static const SessionCore* Of(const Session& session) noexcept { return session._core.get(); }

  /// On the strand: the session is open; OnConnected, then reading and the timer start.
  void Start();
  /// Any thread: queues `buffer`.
  bool Send(SendBuffer&& buffer);
  /// Any thread: ends the session with `code` (gracefully, or at once for a reset or an overflow).
  void Close(DisconnectCode code, std::string reason, ErrorCode error);

  bool IsOpen() const noexcept {
    return _state.load(std::memory_order_acquire) == SessionState::Open && !_closeRequested.load(std::memory_order_acquire);
  }
  std::uint64_t Id() const noexcept { return _id; }
  std::size_t QueuedBytes() const;
  ClientService& Service() const noexcept;

 private:
  void MoveTo(SessionState to);
  void CloseNow(DisconnectCode code, std::string reason, ErrorCode error);
  void Finish();
  void DoRead();
  void OnRead(const asio::error_code& ec, std::size_t bytes);
  void Flush();
  void OnWritten(const asio::error_code& ec);
  void ShutdownSend();
  void ArmTimer();
  void OnTimer();
  void OnSocketError(const asio::error_code& ec);
  template <class Hook>
  bool RunHook(const char* name, Hook&& hook);

  // First, so it goes last: a session the game still holds after its service is gone keeps the
  // io_context its socket, timer and strand belong to until they are destroyed.
  std::shared_ptr<asio::io_context> _io;
  Session& _owner;
  /// Valid while the session is open (a service outlives its open sessions).
  ClientService::Impl& _service;
  const SessionSettings _settings;
  asio::ip::tcp::socket _socket;
  Strand _strand;
  asio::steady_timer _timer;
  const std::uint64_t _id;
  std::atomic<SessionState> _state{SessionState::Connecting};
  /// Set by Close on any thread before the strand gets to it: from then on Send refuses, at once.
  std::atomic<bool> _closeRequested{false};
  DisconnectCause _cause;

  RecvBuffer _recv;
  Clock::time_point _lastRecv;
  Clock::time_point _lastSend;
  Clock::time_point _closeDeadline;

  /// Guards _pending, _writing and _queuedBytes, and every move of _state.
  mutable std::mutex _sendMutex;
  std::vector<SendBuffer> _pending;
  bool _writing = false;
  std::size_t _queuedBytes = 0;
  /// The buffers of the write in flight (strand only) and their gather list, reused write after write.
  std::vector<SendBuffer> _inflight;
  std::vector<asio::const_buffer> _gather;
  std::size_t _inflightBytes = 0;
};

}  // namespace detail

/// The service's state, shared by its sessions and connection attempts.
struct ClientService::Impl {
  Impl(ClientService& owner, ClientServiceOptions options, SessionFactory factory);

  /// A session ended (on its strand): forget it.
  void Remove(Session& session);
  void Warn(const std::string& message) const;

  struct ConnectAttempt;
  void LaunchMore();
  void Launch();
  void OnConnect(const std::shared_ptr<ConnectAttempt>& attempt, const asio::error_code& ec);
  void Fail(ConnectFailure failure);
  void CheckClosed();

  ClientService& owner;
  const ClientServiceOptions options;
  const SessionFactory factory;
  detail::SessionSettings settings{};
  /// Shared with every session (SessionCore::_io says why).
  std::shared_ptr<asio::io_context> ioHolder;
  asio::io_context& io;

  mutable std::mutex mutex;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  bool workHeld = true;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions;
  std::vector<std::shared_ptr<ConnectAttempt>> attempts;
  asio::ip::tcp::resolver::results_type endpoints;
  std::size_t remaining = 0;
  std::size_t connecting = 0;
  std::size_t connected = 0;
  bool started = false;
  bool closing = false;
  bool closed = false;
  std::vector<ConnectFailure> failures;
  std::string lastError;
};

}  // namespace gamewire
