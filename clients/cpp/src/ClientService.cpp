#include "gamewire/ClientService.h"

#include <atomic>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>

#include "SessionCore.h"
#include "gamewire/PacketHeader.h"

namespace gamewire {

namespace {

/// Session ids, unique within the process.
std::atomic<std::uint64_t> gNextSessionId{1};

std::chrono::milliseconds Ms(std::uint32_t ms) { return std::chrono::milliseconds(ms); }

/// Why `options` cannot be used, naming the option; empty when they can.
std::string CheckOptions(const ClientServiceOptions& o) {
  const auto bad = [](const char* option, std::size_t value, const char* expected) {
    return std::string("option ") + option + " must be " + expected + ", got " + std::to_string(value);
  };
  if (o.maxSessionCount < 1) return bad("maxSessionCount", o.maxSessionCount, "at least 1");
  if (o.connectTimeoutMs < 1) return bad("connectTimeoutMs", o.connectTimeoutMs, "at least 1");
  if (o.connectConcurrency < 1) return bad("connectConcurrency", o.connectConcurrency, "at least 1");
  if (o.disconnectTimeoutMs < 1) return bad("disconnectTimeoutMs", o.disconnectTimeoutMs, "at least 1");
  if (o.maxPacketSize < kPacketHeaderSize || o.maxPacketSize > kMaxPacketSize) {
    return bad("maxPacketSize", o.maxPacketSize, "4..65535");
  }
  if (o.recvBufferSize < o.maxPacketSize) {
    return bad("recvBufferSize", o.recvBufferSize, "at least maxPacketSize (a whole packet must fit)");
  }
  if (o.maxSendQueueBytes < 1) return bad("maxSendQueueBytes", o.maxSendQueueBytes, "at least 1");
  return std::string();
}

}  // namespace

/// One connection attempt: its socket becomes the session's, its strand the session's strand.
struct ClientService::Impl::ConnectAttempt {
  explicit ConnectAttempt(asio::io_context& io) : strand(asio::make_strand(io)), socket(strand), timer(strand) {}

  detail::Strand strand;
  asio::ip::tcp::socket socket;
  asio::steady_timer timer;
  bool timedOut = false;
  bool cancelled = false;
};

ClientService::Impl::Impl(ClientService& owner_, ClientServiceOptions options_, SessionFactory factory_)
    : owner(owner_),
      options(std::move(options_)),
      factory(std::move(factory_)),
      ioHolder(std::make_shared<asio::io_context>()),
      io(*ioHolder),
      work(asio::make_work_guard(io)) {
  settings.recvBufferSize = options.recvBufferSize;
  settings.maxSendQueueBytes = options.maxSendQueueBytes;
  settings.keepalive = Ms(options.keepaliveMs);
  settings.idleTimeout = Ms(options.idleTimeoutMs);
  settings.disconnectTimeout = Ms(options.disconnectTimeoutMs);
}

void ClientService::Impl::Warn(const std::string& message) const {
  if (options.onWarning) options.onWarning(message);
  else std::fprintf(stderr, "gamewire: %s\n", message.c_str());
}

void ClientService::Impl::LaunchMore() {
  std::lock_guard<std::mutex> lock(mutex);
  while (!closing && remaining > 0 && connecting < options.connectConcurrency) {
    remaining--;
    connecting++;
    Launch();
  }
}

void ClientService::Impl::Launch() {
  auto attempt = std::make_shared<ConnectAttempt>(io);
  attempts.push_back(attempt);
  // Started on the attempt's strand, so that neither completion can run before both are set up.
  asio::post(attempt->strand, [this, attempt] {
    attempt->timer.expires_after(Ms(options.connectTimeoutMs));
    attempt->timer.async_wait(asio::bind_executor(attempt->strand, [attempt](const asio::error_code& ec) {
      if (ec) return;
      attempt->timedOut = true;
      asio::error_code ignored;
      attempt->socket.close(ignored);
    }));
    asio::async_connect(attempt->socket, endpoints,
                        asio::bind_executor(attempt->strand, [this, attempt](const asio::error_code& ec,
                                                                             const asio::ip::tcp::endpoint&) {
                          OnConnect(attempt, ec);
                        }));
  });
}

void ClientService::Impl::OnConnect(const std::shared_ptr<ConnectAttempt>& attempt, const asio::error_code& ec) {
  attempt->timer.cancel();
  {
    std::lock_guard<std::mutex> lock(mutex);
    for (auto it = attempts.begin(); it != attempts.end(); ++it) {
      if (*it == attempt) {
        attempts.erase(it);
        break;
      }
    }
  }
  asio::error_code ignored;
  const std::string target = options.host + ":" + std::to_string(options.port);
  if (attempt->cancelled) {
    attempt->socket.close(ignored);
    std::lock_guard<std::mutex> lock(mutex);
    connecting--;
    CheckClosed();
    return;
  }
  if (attempt->timedOut) {
    attempt->socket.close(ignored);
    Fail({ErrorCode::ConnectTimeout, "connecting to " + target + " took longer than " +
                                         std::to_string(options.connectTimeoutMs) + " ms (option connectTimeoutMs)"});
    return;
  }
  if (ec) {
    Fail({ErrorCode::Connect, "cannot connect to " + target + ": " + ec.message()});
    return;
  }
  attempt->socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  std::shared_ptr<Session> session;
#if GAMEWIRE_EXCEPTIONS
  try {
    session = factory();
  } catch (const std::exception& e) {
    attempt->socket.close(ignored);
    Fail({ErrorCode::SessionFactory, std::string("the session factory threw: ") + e.what()});
    return;
  }
#else
  session = factory();
#endif
  if (session == nullptr || detail::SessionCore::Of(*session) != nullptr) {
    attempt->socket.close(ignored);
    Fail({ErrorCode::SessionFactory, "the session factory returned no session, or one already in use; it must return a new one"});
    return;
  }
  detail::SessionCore::Attach(*session, std::make_unique<detail::SessionCore>(
                                            *session, *this, ioHolder, std::move(attempt->socket), attempt->strand,
                                            gNextSessionId.fetch_add(1, std::memory_order_relaxed)));
  bool closeNow;
  {
    std::lock_guard<std::mutex> lock(mutex);
    connecting--;
    connected++;
    sessions.emplace(session.get(), session);
    closeNow = closing;
  }
  detail::SessionCore* core = detail::SessionCore::Of(*session);
  core->Start();
  if (closeNow) core->Close(DisconnectCode::ServiceClosing, "the service is closing", ErrorCode::None);
  LaunchMore();
}

void ClientService::Impl::Fail(ConnectFailure failure) {
  {
    std::lock_guard<std::mutex> lock(mutex);
    connecting--;
    failures.push_back(failure);
    CheckClosed();
  }
  if (options.onConnectFailed) options.onConnectFailed(failure);
  LaunchMore();
}

void ClientService::Impl::Remove(Session& session) {
  std::shared_ptr<Session> removed;  // released after the lock: it may be the last reference
  std::lock_guard<std::mutex> lock(mutex);
  auto it = sessions.find(&session);
  if (it != sessions.end()) {
    removed = std::move(it->second);
    sessions.erase(it);
  }
  CheckClosed();
}

void ClientService::Impl::CheckClosed() {
  // Caller holds the mutex.
  if (closed || !closing || !sessions.empty() || connecting > 0) return;
  closed = true;
  if (workHeld) {
    workHeld = false;
    work.reset();
  }
}

ClientService::ClientService(ClientServiceOptions options, SessionFactory factory)
    : _impl(std::make_unique<Impl>(*this, std::move(options), std::move(factory))) {}

ClientService::~ClientService() {
  Close();
  // Whatever is still closing finishes here (at most disconnectTimeoutMs); the Dispatch threads are gone.
  _impl->io.restart();
  _impl->io.run();
}

bool ClientService::Start() {
  Impl& impl = *_impl;
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    if (impl.started || impl.closing) {
      impl.lastError = impl.started ? "Start was called before" : "the service is closed";
      return false;
    }
    impl.lastError = CheckOptions(impl.options);
    if (impl.lastError.empty() && !impl.factory) impl.lastError = "a session factory is required";
    if (!impl.lastError.empty()) return false;
  }
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(impl.io);
  auto endpoints = resolver.resolve(impl.options.host, std::to_string(impl.options.port), ec);
  std::lock_guard<std::mutex> lock(impl.mutex);
  if (ec || endpoints.empty()) {
    impl.lastError = "cannot resolve " + impl.options.host + ": " + (ec ? ec.message() : "no address");
    return false;
  }
  impl.endpoints = std::move(endpoints);
  impl.started = true;
  impl.remaining = impl.options.maxSessionCount;
  while (impl.remaining > 0 && impl.connecting < impl.options.connectConcurrency) {
    impl.remaining--;
    impl.connecting++;
    impl.Launch();
  }
  return true;
}

std::size_t ClientService::Dispatch(std::uint32_t timeoutMs) {
  if (timeoutMs == 0) return _impl->io.poll();
  return _impl->io.run_for(Ms(timeoutMs));
}

void ClientService::Close() {
  Impl& impl = *_impl;
  std::vector<std::shared_ptr<Session>> open;
  std::vector<std::shared_ptr<Impl::ConnectAttempt>> pending;
  {
    std::lock_guard<std::mutex> lock(impl.mutex);
    if (impl.closing) return;
    impl.closing = true;
    impl.remaining = 0;
    open.reserve(impl.sessions.size());
    for (auto& entry : impl.sessions) open.push_back(entry.second);
    pending = impl.attempts;
    impl.CheckClosed();
  }
  for (auto& session : open) {
    detail::SessionCore::Of(*session)->Close(DisconnectCode::ServiceClosing, "the service is closing", ErrorCode::None);
  }
  for (auto& attempt : pending) {
    asio::post(attempt->strand, [attempt] {
      attempt->cancelled = true;
      attempt->timer.cancel();
      asio::error_code ignored;
      attempt->socket.close(ignored);
    });
  }
}

bool ClientService::IsClosed() const {
  std::lock_guard<std::mutex> lock(_impl->mutex);
  return _impl->closed;
}

std::size_t ClientService::Broadcast(const SendBuffer& buffer) {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard<std::mutex> lock(_impl->mutex);
    open.reserve(_impl->sessions.size());
    for (auto& entry : _impl->sessions) open.push_back(entry.second);
  }
  std::size_t sent = 0;
  for (auto& session : open) {
    if (session->Send(buffer)) sent++;
  }
  return sent;
}

std::size_t ClientService::SessionCount() const {
  std::lock_guard<std::mutex> lock(_impl->mutex);
  return _impl->sessions.size();
}

std::size_t ClientService::ConnectingCount() const {
  std::lock_guard<std::mutex> lock(_impl->mutex);
  return _impl->connecting;
}

std::size_t ClientService::ConnectedCount() const {
  std::lock_guard<std::mutex> lock(_impl->mutex);
  return _impl->connected;
}

std::vector<ConnectFailure> ClientService::ConnectFailures() const {
  std::lock_guard<std::mutex> lock(_impl->mutex);
  return _impl->failures;
}

std::string ClientService::LastError() const {
  std::lock_guard<std::mutex> lock(_impl->mutex);
  return _impl->lastError;
}

const ClientServiceOptions& ClientService::Options() const noexcept { return _impl->options; }

}  // namespace gamewire
