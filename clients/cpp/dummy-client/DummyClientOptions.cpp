#include "DummyClientOptions.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

namespace dummy {

const char* const kUsage = R"(gamewire-dummy-client [options]

The course's DummyClient on gamewire's C++ client library: N sessions play the sample chat game
against 'gamewire chat-server' (proto/protocol.proto). Each bot logs in (C_LOGIN), enters the room
(C_ENTER_GAME), then chats (C_CHAT) every --interval-ms, the first at a random phase; with --move a
C_MOVE follows each chat. A chat's round trip ends when the bot's own S_CHAT comes back; every S_CHAT
is a delivery (N^2 per round). At the end it stops sending, waits up to --drain-ms for the answers in
flight, closes every session and prints a summary like 'gamewire loadtest'. Exit 0, or 1 when a
connection failed, a session dropped or an answer never came.

Room check (--room-size N): each bot waits until the room holds N players (C++ bots and any other
clients), sends --chats numbered chats "PLAYERID:SEQ", and is done once N x --chats chats arrived; each
bot then prints one line 'room {"player":ID,"chats":[[PLAYER_ID_FIELD,"MSG"],...]}' and the run ends.

Options:
  --host HOST            server address (default 127.0.0.1)
  --port PORT            server port (default 7777)
  --sessions N           sessions to open (default 1)
  --threads N            threads running Dispatch (default 2)
  --interval-ms MS       pause between a bot's chats (default 1000)
  --message TEXT         the text of each chat (default "Hello World")
  --duration-s N         seconds to run; 0 runs until SIGINT/SIGTERM, or until the room check is done (default 0)
  --move                 send a C_MOVE after each chat
  --keepalive-ms MS      heartbeat ping after this long without sending; 0 = never (default 15000)
  --connect-timeout-ms MS  (default 5000)
  --drain-ms MS          how long to wait for answers in flight at the end (default 5000)
  --room-size N          the room check (default off)
  --chats K              numbered chats per bot in the room check (default 10)
  --json                 also print the summary as one line: 'summary {...}'
  -h, --help             show this help
)";

namespace {

bool ParseUnsigned(const char* text, unsigned long long min, unsigned long long max, unsigned long long& out) {
  if (text == nullptr || *text == '\0' || *text == '-') return false;
  errno = 0;
  char* end = nullptr;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return false;
  out = value;
  return true;
}

}  // namespace

int ParseOptions(int argc, char** argv, DummyClientOptions& options) {
  for (int i = 1; i < argc; i++) {
    const std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::fputs(kUsage, stdout);
      return 1;
    }
    if (flag == "--move") {
      options.move = true;
      continue;
    }
    if (flag == "--json") {
      options.json = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "gamewire-dummy-client: %s needs a value (see --help)\n", flag.c_str());
      return 2;
    }
    const char* value = argv[++i];
    unsigned long long n = 0;
    const auto number = [&](unsigned long long min, unsigned long long max) {
      if (ParseUnsigned(value, min, max, n)) return true;
      std::fprintf(stderr, "gamewire-dummy-client: %s must be an integer %llu..%llu, got '%s'\n", flag.c_str(), min,
                   max, value);
      return false;
    };
    const unsigned long long u32 = std::numeric_limits<std::uint32_t>::max();
    if (flag == "--host") {
      options.host = value;
    } else if (flag == "--message") {
      options.message = value;
    } else if (flag == "--port") {
      if (!number(1, 65535)) return 2;
      options.port = static_cast<std::uint16_t>(n);
    } else if (flag == "--sessions") {
      if (!number(1, 1000000)) return 2;
      options.sessions = static_cast<std::size_t>(n);
    } else if (flag == "--threads") {
      if (!number(1, 256)) return 2;
      options.threads = static_cast<std::size_t>(n);
    } else if (flag == "--interval-ms") {
      if (!number(0, u32)) return 2;
      options.intervalMs = static_cast<std::uint32_t>(n);
    } else if (flag == "--duration-s") {
      if (!number(0, 1000000)) return 2;
      options.durationS = static_cast<std::uint32_t>(n);
    } else if (flag == "--keepalive-ms") {
      if (!number(0, u32)) return 2;
      options.keepaliveMs = static_cast<std::uint32_t>(n);
    } else if (flag == "--connect-timeout-ms") {
      if (!number(1, u32)) return 2;
      options.connectTimeoutMs = static_cast<std::uint32_t>(n);
    } else if (flag == "--drain-ms") {
      if (!number(0, u32)) return 2;
      options.drainMs = static_cast<std::uint32_t>(n);
    } else if (flag == "--room-size") {
      if (!number(1, 1000000)) return 2;
      options.roomSize = static_cast<std::size_t>(n);
    } else if (flag == "--chats") {
      if (!number(1, 1000000)) return 2;
      options.chats = static_cast<std::size_t>(n);
    } else {
      std::fprintf(stderr, "gamewire-dummy-client: unknown option %s (see --help)\n", flag.c_str());
      return 2;
    }
  }
  return 0;
}

}  // namespace dummy
