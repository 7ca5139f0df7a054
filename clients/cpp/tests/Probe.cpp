// gamewire-probe: one session that does one thing and says what happened, for the Node tests that put
// the C++ framing against gamewire's server (and a fake server against the C++ framing). Prints one
// line per event: connected, recv ID LEN, send-refused CODE, rtt MS, disconnected CODE ERROR REASON.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <ServerPacketHandler.h>
#include <gamewire/Gamewire.h>

namespace {

struct ProbeOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::size_t maxPacketSize = gamewire::Defaults::kMaxPacketSize;
  std::uint32_t keepaliveMs = 0;
  std::uint32_t idleTimeoutMs = 0;
  std::vector<std::uint8_t> sendRaw;
  bool login = false;
  long chatBytes = -1;
  long holdMs = -1;
  long timeoutMs = 10000;
};

std::mutex gPrintMutex;

void Print(const std::string& line) {
  std::lock_guard<std::mutex> lock(gPrintMutex);
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

class ProbeSession final : public gamewire::PacketSession {
 public:
  explicit ProbeSession(const ProbeOptions& options) : _options(options) {}

  std::atomic<bool> done{false};

 protected:
  void OnConnected() override {
    Print("connected");
    if (!_options.sendRaw.empty()) {
      gamewire::SendBuffer raw = gamewire::SendBufferManager::Open(_options.sendRaw.size());
      std::memcpy(raw.Buffer(), _options.sendRaw.data(), _options.sendRaw.size());
      raw.Close(_options.sendRaw.size());
      Send(raw);
    }
    if (_options.login) {
      protocol::C_LOGIN login;
      login.set_account("probe");
      Send(protocol::MakeSendBuffer(login));
      protocol::C_ENTER_GAME enter;
      enter.set_player_index(0);
      Send(protocol::MakeSendBuffer(enter));
    }
  }

  void OnRecvPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) override {
    std::string line = "recv " + std::to_string(id) + " " + std::to_string(len);
    if (id == static_cast<std::uint16_t>(protocol::PacketId::S_CHAT_REJECTED)) {
      protocol::S_CHAT_REJECTED rejected;
      if (rejected.ParseFromArray(body, static_cast<int>(len))) line += " " + rejected.reason();
    }
    Print(line);
    if (id == static_cast<std::uint16_t>(protocol::PacketId::S_ENTER_GAME) && _options.chatBytes >= 0) {
      protocol::C_CHAT chat;
      chat.set_msg(std::string(static_cast<std::size_t>(_options.chatBytes), 'c'));
      const gamewire::SendBuffer buffer = protocol::MakeSendBuffer(chat);
      if (buffer.Empty()) Print(std::string("send-refused ") + gamewire::ErrorCodeName(gamewire::ErrorCode::MessageTooLarge));
      else Send(buffer);
    }
  }

  void OnDisconnected(const gamewire::DisconnectCause& cause) override {
    const double rtt = HeartbeatRttMs();
    if (rtt >= 0) Print("rtt " + std::to_string(rtt));
    Print(std::string("disconnected ") + gamewire::DisconnectCodeName(cause.code) + " " +
          (cause.error == gamewire::ErrorCode::None ? "-" : gamewire::ErrorCodeName(cause.error)) + " " + cause.reason);
    done = true;
  }

 private:
  const ProbeOptions& _options;
};

bool ParseHex(const std::string& hex, std::vector<std::uint8_t>& out) {
  if (hex.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    char* end = nullptr;
    const std::string pair = hex.substr(i, 2);
    const unsigned long byte = std::strtoul(pair.c_str(), &end, 16);
    if (*end != '\0') return false;
    out.push_back(static_cast<std::uint8_t>(byte));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ProbeOptions options;
  for (int i = 1; i < argc; i++) {
    const std::string flag = argv[i];
    if (flag == "--login") {
      options.login = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "gamewire-probe: %s needs a value\n", flag.c_str());
      return 2;
    }
    const std::string value = argv[++i];
    if (flag == "--host") options.host = value;
    else if (flag == "--port") options.port = static_cast<std::uint16_t>(std::stoul(value));
    else if (flag == "--max-packet") options.maxPacketSize = std::stoul(value);
    else if (flag == "--keepalive-ms") options.keepaliveMs = static_cast<std::uint32_t>(std::stoul(value));
    else if (flag == "--idle-timeout-ms") options.idleTimeoutMs = static_cast<std::uint32_t>(std::stoul(value));
    else if (flag == "--chat-bytes") options.chatBytes = std::stol(value);
    else if (flag == "--hold-ms") options.holdMs = std::stol(value);
    else if (flag == "--timeout-ms") options.timeoutMs = std::stol(value);
    else if (flag == "--send-hex") {
      if (!ParseHex(value, options.sendRaw)) {
        std::fprintf(stderr, "gamewire-probe: --send-hex takes hex digits in pairs\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "gamewire-probe: unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  gamewire::ClientServiceOptions serviceOptions;
  serviceOptions.host = options.host;
  serviceOptions.port = options.port;
  serviceOptions.maxPacketSize = options.maxPacketSize;
  serviceOptions.keepaliveMs = options.keepaliveMs;
  serviceOptions.idleTimeoutMs = options.idleTimeoutMs;
  serviceOptions.onConnectFailed = [](const gamewire::ConnectFailure& failure) {
    Print(std::string("connect-failed ") + gamewire::ErrorCodeName(failure.code) + " " + failure.message);
  };
  auto session = std::make_shared<ProbeSession>(options);
  gamewire::ClientService service(serviceOptions, [session] { return session; });
  if (!service.Start()) {
    std::fprintf(stderr, "gamewire-probe: %s\n", service.LastError().c_str());
    return 1;
  }
  std::thread dispatch([&service] {
    while (!service.IsClosed()) service.Dispatch(20);
  });
  const auto start = std::chrono::steady_clock::now();
  const auto elapsedMs = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  };
  bool held = false;
  while (!session->done && elapsedMs() < options.timeoutMs && service.ConnectFailures().empty()) {
    if (options.holdMs >= 0 && !held && elapsedMs() >= options.holdMs) {
      held = true;
      session->Disconnect("probe done");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!session->done && service.ConnectFailures().empty()) Print("timeout");
  service.Close();
  dispatch.join();
  return 0;
}
