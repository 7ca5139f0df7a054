#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace dummy {

/// The command line of gamewire-dummy-client; each default is in the usage text.
struct DummyClientOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 7777;
  std::size_t sessions = 1;
  std::size_t threads = 2;
  std::uint32_t intervalMs = 1000;
  std::string message = "Hello World";
  std::uint32_t durationS = 0;
  bool move = false;
  std::uint32_t keepaliveMs = 15000;
  std::uint32_t connectTimeoutMs = 5000;
  std::uint32_t drainMs = 5000;
  /// Room check: chat only once the room holds this many players (0: off, the load scenario).
  std::size_t roomSize = 0;
  /// Room check: numbered chats each bot sends.
  std::size_t chats = 10;
  bool json = false;
};

/// The usage text.
extern const char* const kUsage;

/**
 * Parses argv into `options`. Returns 0 to run, 1 after printing the usage (--help), 2 after printing
 * what is wrong with the command line.
 */
int ParseOptions(int argc, char** argv, DummyClientOptions& options);

}  // namespace dummy
