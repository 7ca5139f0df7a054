#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <ServerPacketHandler.h>

#include "DummyClientOptions.h"

namespace dummy {

using Clock = std::chrono::steady_clock;

/// Milliseconds on the steady clock: the stamp a chat carries and its round trip is measured against.
double NowMs() noexcept;

/// What every bot adds to, from the Dispatch threads and the driver thread.
struct RunCounters {
  std::atomic<std::uint64_t> packetsSent{0};
  std::atomic<std::uint64_t> bytesSent{0};
  std::atomic<std::uint64_t> packetsReceived{0};
  std::atomic<std::uint64_t> bytesReceived{0};
  std::atomic<std::uint64_t> entered{0};
  std::atomic<std::uint64_t> deliveries{0};
  std::atomic<std::uint64_t> movesReceived{0};
  /// Chats sent whose own S_CHAT has not come back yet.
  std::atomic<std::int64_t> inFlight{0};
  /// Room check: bots that received every chat.
  std::atomic<std::uint64_t> roomDone{0};
  /// Set when the run ends: disconnects from then on are expected.
  std::atomic<bool> stopping{false};

  std::mutex causesMutex;
  std::map<std::string, std::uint64_t> disconnectsByCause;
  std::map<std::string, std::uint64_t> unexpectedByCause;
};

class ChatBotSession;

/// The bots' handler of server packets: the generated table, one method per S_* packet.
class ChatHandler final : public protocol::ServerPacketHandler<ChatBotSession> {
 protected:
  void Handle_S_LOGIN(ChatBotSession& session, const protocol::S_LOGIN& pkt) override;
  void Handle_S_ENTER_GAME(ChatBotSession& session, const protocol::S_ENTER_GAME& pkt) override;
  void Handle_S_CHAT(ChatBotSession& session, const protocol::S_CHAT& pkt) override;
  void Handle_S_CHAT_REJECTED(ChatBotSession& session, const protocol::S_CHAT_REJECTED& pkt) override;
  void Handle_S_MOVE(ChatBotSession& session, const protocol::S_MOVE& pkt) override;
  void Handle_S_SPAWN(ChatBotSession& session, const protocol::S_SPAWN& pkt) override;
  void Handle_S_DESPAWN(ChatBotSession& session, const protocol::S_DESPAWN& pkt) override;
};

/**
 * One chat player (the course's ServerSession of the DummyClient). Packets are handled on the
 * session's strand; chats are sent by the driver thread through the thread-safe Send.
 */
class ChatBotSession final : public gamewire::PacketSession {
 public:
  ChatBotSession(std::size_t index, const DummyClientOptions& options, RunCounters& counters);

  /// Driver thread: true once the bot may chat (in the room; with the room check, a full room).
  bool ReadyToChat() const noexcept { return _ready.load(std::memory_order_acquire); }
  /// Driver thread: sends the next chat (and a move with --move); false when it could not.
  bool SendChat();
  /// Driver thread: chats sent so far.
  std::size_t ChatsSent() const noexcept { return _chatsSent; }
  /// Driver thread: when the next chat is due.
  Clock::time_point nextChatAt{};

  /// After the run (the Dispatch threads have returned): round trips in µs.
  const std::vector<std::uint32_t>& LatenciesUs() const noexcept { return _latenciesUs; }
  /// After the run: the room check's record, one line of JSON.
  std::string RoomReport() const;

  // Called by ChatHandler, on the session's strand.
  void LoggedIn(bool success);
  void Entered(const protocol::S_ENTER_GAME& pkt);
  void ChatArrived(const protocol::S_CHAT& pkt);
  void Spawned(const protocol::S_SPAWN& pkt);
  void Despawned(const protocol::S_DESPAWN& pkt);
  void MoveArrived() { _counters.movesReceived.fetch_add(1, std::memory_order_relaxed); }

 protected:
  void OnConnected() override;
  void OnRecvPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) override;
  void OnDisconnected(const gamewire::DisconnectCause& cause) override;

 private:
  bool SendCounted(gamewire::SendBuffer buffer);
  void CheckRoom();

  const std::size_t _index;
  const DummyClientOptions& _options;
  RunCounters& _counters;
  std::atomic<std::uint32_t> _playerId{0};
  std::atomic<bool> _ready{false};
  std::size_t _chatsSent = 0;  // driver thread only
  // Strand only (read after the run):
  std::set<std::uint32_t> _others;
  std::vector<std::uint32_t> _latenciesUs;
  std::vector<std::pair<std::uint32_t, std::string>> _chats;
  bool _roomDone = false;
};

}  // namespace dummy
