#pragma once

// Test scaffolding: a loopback peer with blocking sockets (one thread per connection), a condition to
// wait on, and a tiny check/run harness. No test framework: nothing beyond the library's own packages.

#include <asio.hpp>
#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gamewire/Gamewire.h>

namespace test {

inline int gFailures = 0;

inline void Fail(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "  FAILED %s:%d: %s\n", file, line, what.c_str());
  gFailures++;
}

#define CHECK(condition)                                          \
  do {                                                            \
    if (!(condition)) ::test::Fail(__FILE__, __LINE__, #condition); \
  } while (0)

#define CHECK_EQ(a, b)                                                                                    \
  do {                                                                                                    \
    const auto valueA = (a);                                                                              \
    const auto valueB = (b);                                                                              \
    if (!(valueA == valueB)) {                                                                            \
      ::test::Fail(__FILE__, __LINE__, std::string(#a " == " #b ": ") + std::to_string(valueA) + " vs " + \
                                           std::to_string(valueB));                                      \
    }                                                                                                     \
  } while (0)

/// A condition variable with its mutex: Notify after changing state, Until waits for a predicate.
class Condition {
 public:
  template <class F>
  void Change(F&& change) {
    {
      std::lock_guard<std::mutex> lock(_mutex);
      change();
    }
    _cv.notify_all();
  }
  /// Waits until `predicate()` (checked under the lock) or `timeoutMs`; returns the predicate.
  template <class P>
  bool Until(P&& predicate, int timeoutMs = 5000) {
    std::unique_lock<std::mutex> lock(_mutex);
    return _cv.wait_for(lock, std::chrono::milliseconds(timeoutMs), predicate);
  }

 private:
  std::mutex _mutex;
  std::condition_variable _cv;
};

/// Bytes of one packet: [size][id][body].
inline std::vector<std::uint8_t> Packet(std::uint16_t id, const std::string& body) {
  std::vector<std::uint8_t> bytes(gamewire::kPacketHeaderSize + body.size());
  gamewire::WritePacketHeader(bytes.data(), static_cast<std::uint16_t>(bytes.size()), id);
  if (!body.empty()) std::memcpy(bytes.data() + gamewire::kPacketHeaderSize, body.data(), body.size());
  return bytes;
}

/**
 * A loopback server on 127.0.0.1 (a free port) that hands each accepted connection to `handler` on a
 * thread of its own, with blocking I/O. The destructor stops accepting and joins every thread.
 */
class TestPeer {
 public:
  using Handler = std::function<void(asio::ip::tcp::socket&)>;

  explicit TestPeer(Handler handler)
      : _handler(std::move(handler)), _acceptor(_io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    _port = _acceptor.local_endpoint().port();
    _acceptThread = std::thread([this] { AcceptLoop(); });
  }

  ~TestPeer() {
    _stopping = true;
    {
      // Wakes the blocking accept.
      asio::io_context io;
      asio::ip::tcp::socket wake(io);
      asio::error_code ignored;
      wake.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), _port), ignored);
    }
    _acceptThread.join();
    for (std::thread& thread : _connections) thread.join();
  }

  std::uint16_t Port() const { return _port; }
  /// Connections accepted so far.
  int Accepted() const { return _accepted.load(); }

 private:
  void AcceptLoop() {
    for (;;) {
      auto socket = std::make_shared<asio::ip::tcp::socket>(_io);
      asio::error_code ec;
      _acceptor.accept(*socket, ec);
      if (_stopping || ec) return;
      _accepted++;
      _connections.emplace_back([this, socket] {
        _handler(*socket);
        asio::error_code ignored;
        socket->close(ignored);
      });
    }
  }

  Handler _handler;
  asio::io_context _io;
  asio::ip::tcp::acceptor _acceptor;
  std::uint16_t _port = 0;
  std::atomic<bool> _stopping{false};
  std::atomic<int> _accepted{0};
  std::thread _acceptThread;
  std::vector<std::thread> _connections;
};

/// Reads one whole packet (blocking); false at EOF or an error.
inline bool ReadPacket(asio::ip::tcp::socket& socket, std::uint16_t& id, std::vector<std::uint8_t>& body) {
  std::uint8_t header[gamewire::kPacketHeaderSize];
  asio::error_code ec;
  asio::read(socket, asio::buffer(header), ec);
  if (ec) return false;
  const std::size_t size = gamewire::ReadU16(header);
  id = gamewire::ReadU16(header + 2);
  body.resize(size - gamewire::kPacketHeaderSize);
  if (!body.empty()) asio::read(socket, asio::buffer(body), ec);
  return !ec;
}

/// Reads until EOF (blocking); returns the bytes read.
inline std::size_t DrainUntilEof(asio::ip::tcp::socket& socket) {
  std::uint8_t buffer[4096];
  std::size_t total = 0;
  for (;;) {
    asio::error_code ec;
    const std::size_t n = socket.read_some(asio::buffer(buffer), ec);
    total += n;
    if (ec) return total;
  }
}

/// A ClientService with `threads` threads dispatching until it is closed; Close joins them.
class RunningService {
 public:
  RunningService(gamewire::ClientServiceOptions options, gamewire::SessionFactory factory, std::size_t threads)
      : service(std::move(options), std::move(factory)) {
    started = service.Start();
    for (std::size_t i = 0; i < threads; i++) {
      _threads.emplace_back([this] {
        while (!service.IsClosed()) service.Dispatch(10);
      });
    }
  }
  ~RunningService() { Close(); }

  void Close() {
    service.Close();
    for (std::thread& thread : _threads) thread.join();
    _threads.clear();
  }

  gamewire::ClientService service;
  bool started = false;

 private:
  std::vector<std::thread> _threads;
};

/// File descriptors open in this process now.
inline int OpenDescriptors() {
  int count = 0;
  for (int fd = 0; fd < 4096; fd++) {
    if (::fcntl(fd, F_GETFD) != -1) count++;
  }
  return count;
}

}  // namespace test
