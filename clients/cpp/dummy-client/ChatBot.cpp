#include "ChatBot.h"

#include <cstdio>
#include <string>

namespace dummy {

namespace {

ChatHandler gHandler;  // stateless: one table serves every bot on every thread

/// A string as a JSON string literal.
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      static const char* const kHex = "0123456789abcdef";
      out += "\\u00";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

double NowMs() noexcept {
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

void ChatHandler::Handle_S_LOGIN(ChatBotSession& session, const protocol::S_LOGIN& pkt) { session.LoggedIn(pkt.success()); }

void ChatHandler::Handle_S_ENTER_GAME(ChatBotSession& session, const protocol::S_ENTER_GAME& pkt) { session.Entered(pkt); }

void ChatHandler::Handle_S_CHAT(ChatBotSession& session, const protocol::S_CHAT& pkt) { session.ChatArrived(pkt); }

void ChatHandler::Handle_S_CHAT_REJECTED(ChatBotSession& session, const protocol::S_CHAT_REJECTED& pkt) {
  // The bots' chats are short: a refusal means the server's limit changed, which the run must show.
  session.Disconnect("chat rejected: " + pkt.reason());
}

void ChatHandler::Handle_S_MOVE(ChatBotSession& session, const protocol::S_MOVE&) { session.MoveArrived(); }

void ChatHandler::Handle_S_SPAWN(ChatBotSession& session, const protocol::S_SPAWN& pkt) { session.Spawned(pkt); }

void ChatHandler::Handle_S_DESPAWN(ChatBotSession& session, const protocol::S_DESPAWN& pkt) { session.Despawned(pkt); }

ChatBotSession::ChatBotSession(std::size_t index, const DummyClientOptions& options, RunCounters& counters)
    : _index(index), _options(options), _counters(counters) {}

bool ChatBotSession::SendCounted(gamewire::SendBuffer buffer) {
  const std::size_t bytes = buffer.Size();
  if (!Send(std::move(buffer))) return false;
  _counters.packetsSent.fetch_add(1, std::memory_order_relaxed);
  _counters.bytesSent.fetch_add(bytes, std::memory_order_relaxed);
  return true;
}

void ChatBotSession::OnConnected() {
  protocol::C_LOGIN login;
  login.set_account("cpp-" + std::to_string(_index));
  SendCounted(protocol::MakeSendBuffer(login));
}

void ChatBotSession::OnRecvPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) {
  _counters.packetsReceived.fetch_add(1, std::memory_order_relaxed);
  _counters.bytesReceived.fetch_add(gamewire::kPacketHeaderSize + len, std::memory_order_relaxed);
  gHandler.HandlePacket(*this, id, body, len);
}

void ChatBotSession::OnDisconnected(const gamewire::DisconnectCause& cause) {
  _ready.store(false, std::memory_order_release);
  const std::string code = gamewire::DisconnectCodeName(cause.code);
  std::lock_guard<std::mutex> lock(_counters.causesMutex);
  _counters.disconnectsByCause[code]++;
  if (!_counters.stopping.load(std::memory_order_acquire)) {
    _counters.unexpectedByCause[code]++;
    std::fprintf(stderr, "gamewire-dummy-client: session %zu disconnected: %s (%s)\n", _index, code.c_str(),
                 cause.reason.c_str());
  }
}

void ChatBotSession::LoggedIn(bool success) {
  if (!success) {
    Disconnect("login refused");
    return;
  }
  protocol::C_ENTER_GAME enter;
  enter.set_player_index(0);
  SendCounted(protocol::MakeSendBuffer(enter));
}

void ChatBotSession::Entered(const protocol::S_ENTER_GAME& pkt) {
  if (!pkt.success() || !pkt.has_player()) {
    Disconnect("enter game refused");
    return;
  }
  _playerId.store(pkt.player().id(), std::memory_order_release);
  _counters.entered.fetch_add(1, std::memory_order_relaxed);
  CheckRoom();
}

void ChatBotSession::Spawned(const protocol::S_SPAWN& pkt) {
  const std::uint32_t self = _playerId.load(std::memory_order_relaxed);
  for (const auto& player : pkt.players()) {
    if (player.id() != self) _others.insert(player.id());
  }
  CheckRoom();
}

void ChatBotSession::Despawned(const protocol::S_DESPAWN& pkt) {
  for (const std::uint32_t id : pkt.player_ids()) _others.erase(id);
}

void ChatBotSession::CheckRoom() {
  if (_playerId.load(std::memory_order_relaxed) == 0 || ReadyToChat()) return;
  if (_options.roomSize == 0 || _others.size() + 1 >= _options.roomSize) _ready.store(true, std::memory_order_release);
}

bool ChatBotSession::SendChat() {
  const std::uint32_t self = _playerId.load(std::memory_order_acquire);
  protocol::C_CHAT chat;
  if (_options.roomSize > 0) chat.set_msg(std::to_string(self) + ":" + std::to_string(_chatsSent));
  else chat.set_msg(_options.message);
  chat.set_sent_at_ms(NowMs());
  // Counted before it leaves: the answer may come back on a Dispatch thread before Send returns.
  _counters.inFlight.fetch_add(1, std::memory_order_relaxed);
  if (!SendCounted(protocol::MakeSendBuffer(chat))) {
    _counters.inFlight.fetch_sub(1, std::memory_order_relaxed);
    return false;
  }
  if (_options.move) {
    protocol::C_MOVE move;
    move.mutable_position()->set_x(static_cast<float>(_chatsSent % 100));
    move.mutable_position()->set_y(static_cast<float>(_index % 100));
    move.set_yaw(0.5f);
    move.set_seq(static_cast<std::uint32_t>(_chatsSent));
    SendCounted(protocol::MakeSendBuffer(move));
  }
  _chatsSent++;
  return true;
}

void ChatBotSession::ChatArrived(const protocol::S_CHAT& pkt) {
  _counters.deliveries.fetch_add(1, std::memory_order_relaxed);
  const std::uint32_t self = _playerId.load(std::memory_order_relaxed);
  if (pkt.player_id() == self && self != 0) {
    const double rttMs = NowMs() - pkt.sent_at_ms();
    _latenciesUs.push_back(static_cast<std::uint32_t>(rttMs > 0 ? rttMs * 1000.0 : 0.0));
    _counters.inFlight.fetch_sub(1, std::memory_order_relaxed);
  }
  if (_options.roomSize == 0) return;
  _chats.emplace_back(pkt.player_id(), pkt.msg());
  if (!_roomDone && _chats.size() >= _options.roomSize * _options.chats) {
    _roomDone = true;
    _counters.roomDone.fetch_add(1, std::memory_order_release);
  }
}

std::string ChatBotSession::RoomReport() const {
  std::string out = "{\"player\":" + std::to_string(_playerId.load(std::memory_order_relaxed)) + ",\"chats\":[";
  for (std::size_t i = 0; i < _chats.size(); i++) {
    if (i > 0) out += ',';
    out += '[' + std::to_string(_chats[i].first) + ',' + JsonString(_chats[i].second) + ']';
  }
  return out + "]}";
}

}  // namespace dummy
