#include "SessionCore.h"

#include <algorithm>
#include <exception>
#include <utility>

namespace gamewire {
namespace detail {

namespace {

/// Causes that end a connection at once; every other cause closes gracefully (FIN after what was sent).
bool EndsAtOnce(DisconnectCode code) noexcept {
  return code == DisconnectCode::PeerClosed || code == DisconnectCode::ConnectionReset ||
         code == DisconnectCode::SocketError || code == DisconnectCode::SendQueueOverflow;
}

long long Milliseconds(Clock::duration d) noexcept {
  return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

}  // namespace

SessionCore::SessionCore(Session& owner, ClientService::Impl& service, std::shared_ptr<asio::io_context> io,
                         asio::ip::tcp::socket&& socket, Strand strand, std::uint64_t id)
    : _io(std::move(io)),
      _owner(owner),
      _service(service),
      _settings(service.settings),
      _socket(std::move(socket)),
      _strand(std::move(strand)),
      _timer(_strand),
      _id(id),
      _recv(_settings.recvBufferSize) {}

void SessionCore::Attach(Session& session, std::unique_ptr<SessionCore> core) { session._core = std::move(core); }

ClientService& SessionCore::Service() const noexcept { return _service.owner; }

std::size_t SessionCore::QueuedBytes() const {
  std::lock_guard<std::mutex> lock(_sendMutex);
  return _queuedBytes;
}

void SessionCore::MoveTo(SessionState to) {
  // The one place the state changes: the legal moves only, under the send mutex so that Send sees
  // each move before it queues anything.
  std::lock_guard<std::mutex> lock(_sendMutex);
  const SessionState from = _state.load(std::memory_order_relaxed);
  const bool legal = (from == SessionState::Connecting && to == SessionState::Open) ||
                     (from == SessionState::Open && (to == SessionState::Closing || to == SessionState::Closed)) ||
                     (from == SessionState::Closing && to == SessionState::Closed);
  if (!legal) return;
  _state.store(to, std::memory_order_release);
  if (to == SessionState::Closed) _pending.clear();
}

template <class Hook>
bool SessionCore::RunHook(const char* name, Hook&& hook) {
#if GAMEWIRE_EXCEPTIONS
  // A throw from game code ends this session only (HANDLER_ERROR), never the Dispatch thread.
  try {
    hook();
    return true;
  } catch (const std::exception& e) {
    CloseNow(DisconnectCode::HandlerError, std::string(name) + " threw: " + e.what(), ErrorCode::Handler);
  } catch (...) {
    CloseNow(DisconnectCode::HandlerError, std::string(name) + " threw a value that is not a std::exception",
             ErrorCode::Handler);
  }
  return false;
#else
  (void)name;
  hook();
  return true;
#endif
}

void SessionCore::Start() {
  _lastRecv = _lastSend = Clock::now();
  MoveTo(SessionState::Open);
  RunHook("OnConnected", [this] { _owner.OnConnected(); });
  if (_state.load(std::memory_order_acquire) == SessionState::Closed) return;
  DoRead();
  ArmTimer();
}

bool SessionCore::Send(SendBuffer&& buffer) {
  if (buffer.Empty()) return false;
  bool overflow = false;
  bool startWrite = false;
  std::size_t queued = 0;
  {
    std::lock_guard<std::mutex> lock(_sendMutex);
    if (_state.load(std::memory_order_relaxed) != SessionState::Open || _closeRequested.load(std::memory_order_relaxed)) {
      return false;
    }
    queued = _queuedBytes + buffer.Size();
    if (queued > _settings.maxSendQueueBytes) {
      overflow = true;
    } else {
      _queuedBytes = queued;
      _pending.push_back(std::move(buffer));
      startWrite = !_writing;
      _writing = true;
    }
  }
  if (overflow) {
    Close(DisconnectCode::SendQueueOverflow,
          std::to_string(queued) + " bytes queued for a server that does not read (maxSendQueueBytes " +
              std::to_string(_settings.maxSendQueueBytes) + "); raise option maxSendQueueBytes",
          ErrorCode::SendQueueOverflow);
    return false;
  }
  // One post per burst: whatever is queued until the write starts leaves in that write.
  if (startWrite) asio::post(_strand, [self = _owner.shared_from_this()] { Of(*self)->Flush(); });
  return true;
}

void SessionCore::Close(DisconnectCode code, std::string reason, ErrorCode error) {
  if (_state.load(std::memory_order_acquire) == SessionState::Closed) return;
  {
    // Under the send mutex: a Send that returns true after this line is impossible.
    std::lock_guard<std::mutex> lock(_sendMutex);
    _closeRequested.store(true, std::memory_order_release);
  }
  if (_strand.running_in_this_thread()) {
    CloseNow(code, std::move(reason), error);
    return;
  }
  asio::post(_strand, [self = _owner.shared_from_this(), code, reason = std::move(reason), error]() mutable {
    Of(*self)->CloseNow(code, std::move(reason), error);
  });
}

void SessionCore::CloseNow(DisconnectCode code, std::string reason, ErrorCode error) {
  const SessionState state = _state.load(std::memory_order_acquire);
  if (state == SessionState::Closed || state == SessionState::Connecting) return;
  if (state == SessionState::Closing) {
    // The first cause stays; a reset during a graceful close only ends it sooner.
    if (EndsAtOnce(code)) Finish();
    return;
  }
  _cause = DisconnectCause{code, std::move(reason), error};
  if (EndsAtOnce(code)) {
    Finish();
    return;
  }
  MoveTo(SessionState::Closing);
  _closeDeadline = Clock::now() + _settings.disconnectTimeout;
  bool writing;
  {
    std::lock_guard<std::mutex> lock(_sendMutex);
    writing = _writing;
  }
  // What was queued before still goes out; FIN follows the last write (Flush sees Closing).
  if (!writing) ShutdownSend();
  ArmTimer();
}

void SessionCore::Finish() {
  if (_state.load(std::memory_order_acquire) == SessionState::Closed) return;
  MoveTo(SessionState::Closed);
  asio::error_code ignored;
  _timer.cancel();
  _socket.close(ignored);
#if GAMEWIRE_EXCEPTIONS
  // The hook's throw has no session left to end: the operator hears of it.
  try {
    _owner.OnDisconnected(_cause);
  } catch (const std::exception& e) {
    _service.Warn(std::string("OnDisconnected threw: ") + e.what());
  } catch (...) {
    _service.Warn("OnDisconnected threw a value that is not a std::exception");
  }
#else
  _owner.OnDisconnected(_cause);
#endif
  _service.Remove(_owner);
}

void SessionCore::DoRead() {
  if (_state.load(std::memory_order_acquire) == SessionState::Closing) {
    // A graceful close reads and drops until the server's FIN, so its unread bytes never turn the close into a reset.
    _recv.OnRead(_recv.DataSize());
    _recv.Clean();
  }
  _socket.async_read_some(asio::buffer(_recv.WritePos(), _recv.FreeSize()),
                          asio::bind_executor(_strand, [self = _owner.shared_from_this()](
                                                           const asio::error_code& ec, std::size_t bytes) {
                            Of(*self)->OnRead(ec, bytes);
                          }));
}

void SessionCore::OnRead(const asio::error_code& ec, std::size_t bytes) {
  const SessionState state = _state.load(std::memory_order_acquire);
  if (state == SessionState::Closed) return;
  if (ec) {
    if (state == SessionState::Closing) Finish();
    else OnSocketError(ec);
    return;
  }
  _lastRecv = Clock::now();
  _recv.OnWrite(bytes);
  if (state == SessionState::Open) {
    const std::size_t available = _recv.DataSize();
    std::size_t consumed = 0;
    if (RunHook("OnRecv", [&] { consumed = _owner.OnRecv(_recv.ReadPos(), available); })) {
      if (consumed > available) {
        CloseNow(DisconnectCode::HandlerError,
                 "OnRecv returned " + std::to_string(consumed) + "; it must return 0 to " + std::to_string(available),
                 ErrorCode::BadConsumedCount);
      } else {
        _recv.OnRead(consumed);
        if (consumed == 0 && _recv.FreeSize() == 0 && IsOpen()) {
          CloseNow(DisconnectCode::RecvBufferOverflow,
                   "receive buffer full (" + std::to_string(_recv.Capacity()) +
                       " bytes) and OnRecv consumed nothing; raise option recvBufferSize",
                   ErrorCode::RecvBufferOverflow);
        }
      }
    }
    _recv.Clean();
  }
  if (_state.load(std::memory_order_acquire) != SessionState::Closed) DoRead();
}

void SessionCore::OnSocketError(const asio::error_code& ec) {
  if (ec == asio::error::operation_aborted) return;
  if (ec == asio::error::eof) {
    CloseNow(DisconnectCode::PeerClosed, "the server closed the connection", ErrorCode::None);
  } else if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
             ec == asio::error::connection_aborted) {
    CloseNow(DisconnectCode::ConnectionReset, ec.message(), ErrorCode::None);
  } else {
    CloseNow(DisconnectCode::SocketError, "socket error: " + ec.message(), ErrorCode::Socket);
  }
}

void SessionCore::Flush() {
  bool shutdown = false;
  {
    std::lock_guard<std::mutex> lock(_sendMutex);
    if (_pending.empty() || _state.load(std::memory_order_relaxed) == SessionState::Closed) {
      _writing = false;
      _pending.clear();
      shutdown = _state.load(std::memory_order_relaxed) == SessionState::Closing;
    } else {
      _inflight.swap(_pending);
    }
  }
  if (_inflight.empty()) {
    if (shutdown) ShutdownSend();
    return;
  }
  // Adjacent ranges of one chunk (consecutive packets from one thread) go as one piece of the writev.
  _gather.clear();
  _inflightBytes = 0;
  for (const SendBuffer& buffer : _inflight) {
    _inflightBytes += buffer.Size();
    if (!_gather.empty()) {
      asio::const_buffer& last = _gather.back();
      if (static_cast<const std::uint8_t*>(last.data()) + last.size() == buffer.Data()) {
        last = asio::const_buffer(last.data(), last.size() + buffer.Size());
        continue;
      }
    }
    _gather.emplace_back(buffer.Data(), buffer.Size());
  }
  _lastSend = Clock::now();
  asio::async_write(_socket, _gather,
                    asio::bind_executor(_strand, [self = _owner.shared_from_this()](const asio::error_code& ec,
                                                                                    std::size_t) {
                      Of(*self)->OnWritten(ec);
                    }));
}

void SessionCore::OnWritten(const asio::error_code& ec) {
  const std::size_t bytes = _inflightBytes;
  _inflight.clear();  // the chunks go back to the pool once no other session holds them
  _inflightBytes = 0;
  {
    std::lock_guard<std::mutex> lock(_sendMutex);
    _queuedBytes -= bytes;
  }
  const SessionState state = _state.load(std::memory_order_acquire);
  if (state == SessionState::Closed) {
    std::lock_guard<std::mutex> lock(_sendMutex);
    _writing = false;
    return;
  }
  if (ec) {
    {
      std::lock_guard<std::mutex> lock(_sendMutex);
      _writing = false;
    }
    if (state == SessionState::Closing) Finish();
    else OnSocketError(ec);
    return;
  }
  if (state == SessionState::Open && !RunHook("OnSend", [&] { _owner.OnSend(bytes); })) {
    // The hook threw: the session is closing, and Flush below sends what is left, then FIN.
  }
  Flush();
}

void SessionCore::ShutdownSend() {
  asio::error_code ignored;
  _socket.shutdown(asio::socket_base::shutdown_send, ignored);
}

void SessionCore::ArmTimer() {
  const SessionState state = _state.load(std::memory_order_acquire);
  Clock::time_point due = Clock::time_point::max();
  if (state == SessionState::Closing) {
    due = _closeDeadline;
  } else if (state == SessionState::Open) {
    if (_settings.keepalive.count() > 0) due = std::min(due, _lastSend + _settings.keepalive);
    if (_settings.idleTimeout.count() > 0) due = std::min(due, _lastRecv + _settings.idleTimeout);
  }
  if (due == Clock::time_point::max()) return;
  // Setting the expiry cancels a wait in progress; its handler sees operation_aborted and stops there.
  _timer.expires_at(due);
  _timer.async_wait(
      asio::bind_executor(_strand, [self = _owner.shared_from_this()](const asio::error_code& ec) {
        if (ec != asio::error::operation_aborted) Of(*self)->OnTimer();
      }));
}

void SessionCore::OnTimer() {
  const SessionState state = _state.load(std::memory_order_acquire);
  const Clock::time_point now = Clock::now();
  if (state == SessionState::Closing) {
    if (now >= _closeDeadline) Finish();
    else ArmTimer();
    return;
  }
  if (state != SessionState::Open) return;
  if (_settings.idleTimeout.count() > 0 && now - _lastRecv >= _settings.idleTimeout) {
    CloseNow(DisconnectCode::IdleTimeout,
             "nothing received for " + std::to_string(Milliseconds(_settings.idleTimeout)) +
                 " ms (option idleTimeoutMs)",
             ErrorCode::IdleTimeout);
    return;
  }
  if (_settings.keepalive.count() > 0 && now - _lastSend >= _settings.keepalive) {
    _lastSend = now;
    RunHook("SendKeepalive", [this] { _owner.SendKeepalive(); });
  }
  if (IsOpen()) ArmTimer();
}

}  // namespace detail
}  // namespace gamewire
