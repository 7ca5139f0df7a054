// Unit tests of the C++ client library, run by ctest (and by test/clients/cpp*.test.ts under the
// sanitizers). Framing and SendBuffers with no I/O; sessions against a loopback peer that misbehaves
// on purpose, with several Dispatch threads.
#include <algorithm>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ServerPacketHandler.h>

#include "TestPeer.h"

using namespace std::chrono_literals;
using gamewire::DisconnectCode;
using test::Condition;
using test::Packet;
using test::TestPeer;

namespace {

// ------------------------------------------------------------------------------------- framing

struct Cut {
  std::uint16_t id;
  std::string body;
};

/// Feeds `stream` to a scanner in pieces cut at `cuts`, as a session's receive buffer would (the
/// unconsumed tail is offered again with the next piece); returns the packets and the scanner.
std::vector<Cut> FeedInPieces(const std::vector<std::uint8_t>& stream, const std::vector<std::size_t>& cuts,
                              gamewire::PacketScanner& scanner) {
  std::vector<Cut> out;
  std::vector<std::uint8_t> held;
  std::size_t from = 0;
  std::vector<std::size_t> ends = cuts;
  ends.push_back(stream.size());
  for (const std::size_t to : ends) {
    held.insert(held.end(), stream.begin() + static_cast<std::ptrdiff_t>(from), stream.begin() + static_cast<std::ptrdiff_t>(to));
    from = to;
    const std::size_t consumed = scanner.Scan(held.data(), held.size(), [&](std::uint16_t id, const std::uint8_t* body, std::size_t len) {
      out.push_back({id, std::string(reinterpret_cast<const char*>(body), len)});
      return true;
    });
    held.erase(held.begin(), held.begin() + static_cast<std::ptrdiff_t>(consumed));
  }
  return out;
}

std::vector<std::uint8_t> Concat(const std::vector<std::vector<std::uint8_t>>& packets) {
  std::vector<std::uint8_t> out;
  for (const auto& p : packets) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void ScannerWholeSplitAndByteByByte() {
  const std::vector<std::vector<std::uint8_t>> packets = {Packet(1, ""), Packet(2, "a"), Packet(65534, "12345678"),
                                                          Packet(7, std::string(300, 'x')), Packet(65535, "")};
  const std::vector<std::uint8_t> stream = Concat(packets);
  const auto check = [&](const std::vector<Cut>& got) {
    CHECK_EQ(got.size(), packets.size());
    if (got.size() != 5) return;
    CHECK_EQ(got[0].id, 1);
    CHECK(got[0].body.empty());
    CHECK(got[1].body == "a");
    CHECK_EQ(got[2].id, 65534);
    CHECK(got[3].body == std::string(300, 'x'));
    CHECK_EQ(got[4].id, 65535);
  };
  gamewire::PacketScanner whole;
  check(FeedInPieces(stream, {}, whole));
  // Split at every boundary, one cut at a time.
  for (std::size_t cut = 1; cut < stream.size(); cut++) {
    gamewire::PacketScanner scanner;
    check(FeedInPieces(stream, {cut}, scanner));
  }
  std::vector<std::size_t> everyByte;
  for (std::size_t i = 1; i < stream.size(); i++) everyByte.push_back(i);
  gamewire::PacketScanner bytewise;
  check(FeedInPieces(stream, everyByte, bytewise));
  // Random cuts.
  std::mt19937 random(42);
  for (int round = 0; round < 200; round++) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < stream.size(); i++) {
      if (random() % 7 == 0) cuts.push_back(i);
    }
    gamewire::PacketScanner scanner;
    check(FeedInPieces(stream, cuts, scanner));
  }
}

void ScannerRefusesBadHeadersAtTwoBytes() {
  for (std::uint8_t size = 0; size < 4; size++) {
    gamewire::PacketScanner scanner;
    std::vector<std::uint8_t> stream = Packet(9, "ok");
    stream.push_back(size);
    stream.push_back(0);
    const auto got = FeedInPieces(stream, {}, scanner);
    CHECK_EQ(got.size(), 1u);  // the packet before the bad header is delivered
    CHECK(scanner.Error() == gamewire::ScanError::MalformedHeader);
    CHECK_EQ(scanner.ErrorSize(), std::size_t{size});
  }
  gamewire::PacketScanner limited(1024);
  const std::uint8_t twoBytes[] = {0x01, 0x04};  // 1025: only the size field has arrived
  CHECK_EQ(limited.Scan(twoBytes, 2, [](std::uint16_t, const std::uint8_t*, std::size_t) { return true; }), 0u);
  CHECK(limited.Error() == gamewire::ScanError::PacketTooLarge);
  CHECK_EQ(limited.ErrorSize(), 1025u);
  // Sticky: nothing more is delivered.
  const auto good = Packet(1, "");
  CHECK_EQ(limited.Scan(good.data(), good.size(), [](std::uint16_t, const std::uint8_t*, std::size_t) { return true; }), 0u);
  // Exactly the limit is fine; so is 65535 by default.
  gamewire::PacketScanner exact(1024);
  const auto atLimit = Packet(3, std::string(1020, 'y'));
  CHECK_EQ(exact.Scan(atLimit.data(), atLimit.size(), [](std::uint16_t, const std::uint8_t*, std::size_t) { return true; }), 1024u);
  CHECK(exact.Error() == gamewire::ScanError::None);
  gamewire::PacketScanner largest;
  const auto biggest = Packet(3, std::string(gamewire::kMaxBodySize, 'z'));
  CHECK_EQ(largest.Scan(biggest.data(), biggest.size(), [](std::uint16_t, const std::uint8_t*, std::size_t) { return true; }), 65535u);
}

void ScannerStopsWhenTheSinkSaysSo() {
  const auto stream = Concat({Packet(1, "a"), Packet(2, "b"), Packet(3, "c")});
  gamewire::PacketScanner scanner;
  int seen = 0;
  const std::size_t consumed = scanner.Scan(stream.data(), stream.size(), [&](std::uint16_t, const std::uint8_t*, std::size_t) {
    return ++seen < 2;
  });
  CHECK_EQ(seen, 2);
  CHECK_EQ(consumed, 10u);
}

void RecvBufferCleanKeepsTheTail() {
  gamewire::RecvBuffer buffer(16);
  std::memcpy(buffer.WritePos(), "abcdefgh", 8);
  buffer.OnWrite(8);
  buffer.OnRead(6);
  buffer.Clean();
  CHECK_EQ(buffer.DataSize(), 2u);
  CHECK(std::memcmp(buffer.ReadPos(), "gh", 2) == 0);
  CHECK_EQ(buffer.FreeSize(), 14u);
}

// ---------------------------------------------------------------------------------- SendBuffer

void SendBuffersShareBytesAndReturnToThePool() {
  gamewire::SendBuffer a = gamewire::SendBufferManager::Open(100);
  CHECK(a.Buffer() != nullptr);
  std::memcpy(a.Buffer(), "hello", 5);
  CHECK(a.Close(5));
  gamewire::SendBuffer b = gamewire::SendBufferManager::Open(100);
  std::memcpy(b.Buffer(), "world", 5);
  CHECK(b.Close(5));
  CHECK(std::memcmp(a.Data(), "hello", 5) == 0);  // a later Open never touches a closed buffer
  CHECK(a.Data() + 5 == b.Data());                 // adjacent: one writev piece
  gamewire::SendBuffer copy = a;
  CHECK(copy.Data() == a.Data());
  CHECK(!gamewire::SendBuffer().Close(1));
  CHECK(!gamewire::SendBufferManager::Open(0));
  CHECK(gamewire::SendBufferManager::Open(gamewire::Defaults::kSendBufferChunkSize + 1).Buffer() == nullptr);
  gamewire::SendBuffer tooMuch = gamewire::SendBufferManager::Open(10);
  CHECK(!tooMuch.Close(11));
  CHECK(tooMuch.Empty());

  // Many buffers from several threads, each released on another thread: the pool stays bounded.
  std::vector<std::thread> threads;
  std::mutex handoffMutex;
  std::vector<gamewire::SendBuffer> handoff;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; i++) {
        gamewire::SendBuffer buffer = gamewire::SendBufferManager::Open(1000);
        std::memset(buffer.Buffer(), t, 1000);
        buffer.Close(1000);
        std::lock_guard<std::mutex> lock(handoffMutex);
        handoff.push_back(std::move(buffer));
        if (handoff.size() > 64) handoff.erase(handoff.begin(), handoff.begin() + 32);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  handoff.clear();
  CHECK(gamewire::SendBufferManager::ChunksAllocated() <= gamewire::Defaults::kSendBufferPoolChunks + 8);
}

void MessagesTooLargeAreRefusedNotCut() {
  protocol::C_CHAT chat;
  chat.set_msg(std::string(gamewire::kMaxBodySize, 'x'));
  CHECK(protocol::MakeSendBuffer(chat).Empty());  // GW_ERR_MESSAGE_TOO_LARGE: nothing to send
  // The largest body that fits: tag + 3-byte length + text = 65531 bytes.
  chat.set_msg(std::string(gamewire::kMaxBodySize - 4, 'x'));
  const gamewire::SendBuffer fits = protocol::MakeSendBuffer(chat);
  CHECK_EQ(fits.Size(), 65535u);
  CHECK_EQ(gamewire::ReadU16(fits.Data()), 65535);
  CHECK_EQ(gamewire::ReadU16(fits.Data() + 2), 1004);
}

// ------------------------------------------------------------------------------------ sessions

/// A PacketSession that records what happens to it.
class Recorder : public gamewire::PacketSession {
 public:
  Condition changed;
  std::vector<std::pair<std::uint16_t, std::string>> packets;
  int connects = 0;
  int disconnects = 0;
  gamewire::DisconnectCause cause;
  std::function<void(Recorder&, std::uint16_t, const std::string&)> onPacket;
  std::function<void(Recorder&)> onConnected;

  std::size_t PacketCount() {
    std::size_t n = 0;
    changed.Change([&] { n = packets.size(); });
    return n;
  }

 protected:
  void OnConnected() override {
    changed.Change([&] { connects++; });
    if (onConnected) onConnected(*this);
  }
  void OnRecvPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) override {
    const std::string text(reinterpret_cast<const char*>(body), len);
    changed.Change([&] { packets.emplace_back(id, text); });
    if (onPacket) onPacket(*this, id, text);
  }
  void OnDisconnected(const gamewire::DisconnectCause& c) override {
    changed.Change([&] {
      disconnects++;
      cause = c;
    });
  }
};

gamewire::ClientServiceOptions To(std::uint16_t port, std::size_t sessions = 1) {
  gamewire::ClientServiceOptions options;
  options.port = port;
  options.maxSessionCount = sessions;
  options.keepaliveMs = 0;
  options.disconnectTimeoutMs = 2000;
  return options;
}

void EchoPeer(asio::ip::tcp::socket& socket) {
  std::uint16_t id;
  std::vector<std::uint8_t> body;
  while (test::ReadPacket(socket, id, body)) {
    const auto bytes = Packet(id, std::string(body.begin(), body.end()));
    asio::error_code ec;
    asio::write(socket, asio::buffer(bytes), ec);
    if (ec) return;
  }
}

void ManySessionsOnSeveralThreadsKeepOrder() {
  const int before = test::OpenDescriptors();
  constexpr std::size_t kSessions = 8;
  constexpr int kChain = 200;  // packets sent from OnRecvPacket, one per echo
  constexpr int kPushed = 200; // packets sent from a game thread while the chain runs
  std::mutex sessionsMutex;
  std::vector<std::shared_ptr<Recorder>> sessions;
  {
    TestPeer peer(EchoPeer);
    test::RunningService run(To(peer.Port(), kSessions), [&] {
      auto session = std::make_shared<Recorder>();
      session->onConnected = [](Recorder& s) { s.SendPacket(1, reinterpret_cast<const std::uint8_t*>("0"), 1); };
      session->onPacket = [](Recorder& s, std::uint16_t id, const std::string& body) {
        const int seq = std::stoi(body);
        if (id == 1 && seq + 1 < kChain) {
          const std::string next = std::to_string(seq + 1);
          s.SendPacket(1, reinterpret_cast<const std::uint8_t*>(next.data()), next.size());
        }
      };
      std::lock_guard<std::mutex> lock(sessionsMutex);
      sessions.push_back(session);
      return session;
    }, 4);
    CHECK(run.started);
    for (int i = 0; i < 2500 && run.service.SessionCount() < kSessions; i++) std::this_thread::sleep_for(2ms);
    CHECK_EQ(run.service.SessionCount(), kSessions);
    std::vector<std::shared_ptr<Recorder>> all;
    {
      std::lock_guard<std::mutex> lock(sessionsMutex);
      all = sessions;
    }
    std::thread game([&] {
      for (int i = 0; i < kPushed; i++) {
        const std::string text = std::to_string(i);
        for (auto& session : all) session->SendPacket(2, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
      }
    });
    game.join();
    for (auto& session : all) {
      CHECK(session->changed.Until([&] { return session->packets.size() == std::size_t{kChain + kPushed}; }, 10000));
    }
    run.Close();
    for (auto& session : all) {
      int chain = 0;
      int pushed = 0;
      bool inOrder = true;
      for (const auto& [id, body] : session->packets) {
        int& next = id == 1 ? chain : pushed;
        inOrder = inOrder && std::stoi(body) == next;
        next++;
      }
      CHECK(inOrder);
      CHECK_EQ(chain, kChain);
      CHECK_EQ(pushed, kPushed);
      CHECK_EQ(session->connects, 1);
      CHECK_EQ(session->disconnects, 1);
      CHECK(session->cause.code == DisconnectCode::ServiceClosing);
      CHECK(!session->IsConnected());
    }
  }
  sessions.clear();
  CHECK_EQ(test::OpenDescriptors(), before);  // every socket of both sides is closed
}

/// Runs one session against a peer doing `peerDoes`, and waits for it to end.
std::shared_ptr<Recorder> OneSession(TestPeer::Handler peerDoes, gamewire::ClientServiceOptions options,
                                     std::function<void(Recorder&)> whenConnected = nullptr) {
  auto session = std::make_shared<Recorder>();
  session->onConnected = std::move(whenConnected);
  TestPeer peer(std::move(peerDoes));
  options.port = peer.Port();
  test::RunningService run(options, [session] { return session; }, 2);
  CHECK(session->changed.Until([&] { return session->disconnects == 1; }, 10000));
  return session;
}

void MalformedHeaderFromThePeer() {
  auto session = OneSession([](asio::ip::tcp::socket& socket) {
    auto bytes = Packet(5, "before");
    bytes.push_back(3);
    bytes.push_back(0);
    asio::write(socket, asio::buffer(bytes));
    test::DrainUntilEof(socket);
  }, To(0));
  CHECK(session->cause.code == DisconnectCode::MalformedHeader);
  CHECK(session->cause.error == gamewire::ErrorCode::MalformedHeader);
  CHECK_EQ(session->packets.size(), 1u);
}

void OversizeIsDecidedOnTheSizeField() {
  auto options = To(0);
  options.maxPacketSize = 1024;
  std::atomic<bool> peerSawEof{false};
  auto session = OneSession([&](asio::ip::tcp::socket& socket) {
    const std::uint8_t size[] = {0x00, 0x10};  // 4096: the rest never comes
    asio::write(socket, asio::buffer(size));
    test::DrainUntilEof(socket);
    peerSawEof = true;
  }, options);
  CHECK(session->cause.code == DisconnectCode::PacketTooLarge);
  CHECK(session->cause.reason.find("maxPacketSize 1024") != std::string::npos);
}

void PingsAreAnsweredAndQuietSessionsPing() {
  auto options = To(0);
  options.keepaliveMs = 50;
  std::atomic<bool> pongMatched{false};
  std::atomic<bool> gotKeepalive{false};
  auto session = std::make_shared<Recorder>();
  session->onPacket = [](Recorder& s, std::uint16_t id, const std::string&) {
    if (id == 77) s.Disconnect("got the pong");
  };
  TestPeer peer([&](asio::ip::tcp::socket& socket) {
    asio::write(socket, asio::buffer(Packet(gamewire::kHeartbeatPingId, "8 bytes!")));
    std::uint16_t id;
    std::vector<std::uint8_t> body;
    while (test::ReadPacket(socket, id, body)) {
      if (id == gamewire::kHeartbeatPongId) pongMatched = std::string(body.begin(), body.end()) == "8 bytes!";
      if (id != gamewire::kHeartbeatPingId || body.size() != 8) continue;
      // The client's own ping, after keepaliveMs without sending: answer it, then tell it we did.
      gotKeepalive = true;
      asio::write(socket, asio::buffer(Packet(gamewire::kHeartbeatPongId, std::string(body.begin(), body.end()))));
      asio::write(socket, asio::buffer(Packet(77, "")));
    }
  });
  options.port = peer.Port();
  test::RunningService run(options, [session] { return session; }, 1);
  CHECK(session->changed.Until([&] { return session->disconnects == 1; }, 5000));
  CHECK(pongMatched.load());
  CHECK(gotKeepalive.load());
  CHECK(session->HeartbeatRttMs() >= 0.0);
  CHECK(session->cause.code == DisconnectCode::LocalDisconnect);
  CHECK(session->packets.size() == 1);  // heartbeats never reach OnRecvPacket
}

void IdleTimeoutEndsASilentConnection() {
  auto options = To(0);
  options.idleTimeoutMs = 100;
  const auto start = std::chrono::steady_clock::now();
  auto session = OneSession([](asio::ip::tcp::socket& socket) { test::DrainUntilEof(socket); }, options);
  const auto tookMs = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  CHECK(session->cause.code == DisconnectCode::IdleTimeout);
  CHECK(tookMs >= 100);
  CHECK(tookMs < 2000);
}

/**
 * Sends up to `packets` 60 KB packets, each once the queue is below 192 KiB or after 200 ms of waiting
 * for it, whichever comes first: a peer that reads keeps the queue short however slow this machine
 * is; a peer that does not read leaves it full, and the sender goes on anyway.
 */
int SendWithPatience(Recorder& session, int packets) {
  const std::string chunk(60000, 'q');
  int sent = 0;
  while (sent < packets && session.SendPacket(3, reinterpret_cast<const std::uint8_t*>(chunk.data()), chunk.size())) {
    sent++;
    for (int waited = 0; waited < 200 && session.QueuedSendBytes() >= 192 * 1024; waited++) std::this_thread::sleep_for(1ms);
  }
  return sent;
}

void SendQueueOverflowCutsOffAPeerThatDoesNotRead() {
  for (const bool peerReads : {true, false}) {
    auto options = To(0);
    options.maxSendQueueBytes = 256 * 1024;
    Condition release;
    bool done = false;
    auto session = std::make_shared<Recorder>();
    TestPeer peer([&](asio::ip::tcp::socket& socket) {
      if (peerReads) test::DrainUntilEof(socket);
      else release.Until([&] { return done; }, 20000);  // reads nothing until the client gave up
    });
    options.port = peer.Port();
    test::RunningService run(options, [session] { return session; }, 2);
    CHECK(session->changed.Until([&] { return session->connects == 1; }));
    const int sent = SendWithPatience(*session, 300);
    if (peerReads) {
      // 18 MB went through a peer that keeps up: the cap never bites.
      CHECK_EQ(sent, 300);
      CHECK(session->IsConnected());
    } else {
      CHECK(sent < 300);
      CHECK(session->changed.Until([&] { return session->disconnects == 1; }));
      CHECK(session->cause.code == DisconnectCode::SendQueueOverflow);
      CHECK(session->cause.reason.find("maxSendQueueBytes") != std::string::npos);
    }
    release.Change([&] { done = true; });
    run.Close();
  }
}

void DisconnectFromAnotherThreadIsGraceful() {
  std::atomic<int> peerPackets{0};
  std::atomic<bool> peerSawEof{false};
  auto session = std::make_shared<Recorder>();
  TestPeer peer([&](asio::ip::tcp::socket& socket) {
    std::uint16_t id;
    std::vector<std::uint8_t> body;
    while (test::ReadPacket(socket, id, body)) peerPackets++;
    peerSawEof = true;
  });
  test::RunningService run(To(peer.Port()), [session] { return session; }, 2);
  CHECK(session->changed.Until([&] { return session->connects == 1; }));
  std::thread game([&] {
    for (int i = 0; i < 100; i++) session->SendPacket(4, reinterpret_cast<const std::uint8_t*>("x"), 1);
    session->Disconnect("bye");
    CHECK(!session->SendPacket(4, reinterpret_cast<const std::uint8_t*>("x"), 1));
  });
  game.join();
  CHECK(session->changed.Until([&] { return session->disconnects == 1; }));
  CHECK(session->cause.code == DisconnectCode::LocalDisconnect);
  CHECK(session->cause.reason == "bye");
  CHECK_EQ(peerPackets.load(), 100);  // everything sent before Disconnect arrived, then FIN
  CHECK(peerSawEof.load());
}

void AThrowingHookEndsOnlyItsSession() {
  std::mutex m;
  std::vector<std::shared_ptr<Recorder>> sessions;
  TestPeer peer(EchoPeer);
  test::RunningService run(To(peer.Port(), 2), [&] {
    auto session = std::make_shared<Recorder>();
    std::lock_guard<std::mutex> lock(m);
    if (sessions.empty()) {
      session->onPacket = [](Recorder&, std::uint16_t, const std::string&) { throw std::runtime_error("boom"); };
    }
    session->onConnected = [](Recorder& s) { s.SendPacket(1, reinterpret_cast<const std::uint8_t*>("1"), 1); };
    sessions.push_back(session);
    return session;
  }, 2);
  for (int i = 0; i < 2500 && run.service.ConnectedCount() < 2; i++) std::this_thread::sleep_for(2ms);
  std::vector<std::shared_ptr<Recorder>> all;
  {
    std::lock_guard<std::mutex> lock(m);
    all = sessions;
  }
  CHECK_EQ(all.size(), 2u);
  if (all.size() != 2) return;
  CHECK(all[0]->changed.Until([&] { return all[0]->disconnects == 1; }));
  CHECK(all[0]->cause.code == DisconnectCode::HandlerError);
  CHECK(all[0]->cause.reason.find("boom") != std::string::npos);
  CHECK(all[1]->changed.Until([&] { return all[1]->packets.size() == 1; }));
  CHECK(all[1]->IsConnected());
}

/// A client of the sample protocol, for the generated handler table.
class SampleClient;
class SampleHandler final : public protocol::ServerPacketHandler<SampleClient> {
 protected:
  void Handle_S_LOGIN(SampleClient&, const protocol::S_LOGIN&) override {}
  void Handle_S_ENTER_GAME(SampleClient&, const protocol::S_ENTER_GAME&) override {}
  void Handle_S_CHAT(SampleClient& session, const protocol::S_CHAT& pkt) override;
  void Handle_S_CHAT_REJECTED(SampleClient&, const protocol::S_CHAT_REJECTED&) override {}
  void Handle_S_MOVE(SampleClient&, const protocol::S_MOVE&) override {}
  void Handle_S_SPAWN(SampleClient&, const protocol::S_SPAWN&) override {}
  void Handle_S_DESPAWN(SampleClient&, const protocol::S_DESPAWN&) override {}
};

class SampleClient final : public Recorder {
 public:
  std::vector<std::string> chats;

 protected:
  void OnRecvPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) override {
    static SampleHandler handler;
    handler.HandlePacket(*this, id, body, len);
  }
};

void SampleHandler::Handle_S_CHAT(SampleClient& session, const protocol::S_CHAT& pkt) {
  session.changed.Change([&] { session.chats.push_back(std::to_string(pkt.player_id()) + " " + pkt.msg()); });
}

void GeneratedHandlerDecodesAndRefuses() {
  for (const std::string mode : {"unknown", "bad"}) {
    auto session = std::make_shared<SampleClient>();
    TestPeer peer([mode](asio::ip::tcp::socket& socket) {
      protocol::S_CHAT chat;
      chat.set_player_id(7);
      chat.set_msg("hi");
      const gamewire::SendBuffer buffer = protocol::MakeSendBuffer(chat);
      asio::write(socket, asio::buffer(buffer.Data(), buffer.Size()));
      // An id the client has no method for (a C_* id), or an S_CHAT whose body is not protobuf.
      const auto next = mode == "unknown" ? Packet(static_cast<std::uint16_t>(protocol::PacketId::C_CHAT), "")
                                          : Packet(static_cast<std::uint16_t>(protocol::PacketId::S_CHAT), "\xff\xff\xff");
      asio::write(socket, asio::buffer(next));
      test::DrainUntilEof(socket);
    });
    test::RunningService run(To(peer.Port()), [session] { return session; }, 1);
    CHECK(session->changed.Until([&] { return session->disconnects == 1; }));
    CHECK_EQ(session->chats.size(), 1u);
    if (!session->chats.empty()) CHECK(session->chats[0] == "7 hi");
    if (mode == "unknown") {
      CHECK(session->cause.code == DisconnectCode::UnknownPacket);
      CHECK(session->cause.reason.find("1004") != std::string::npos);
    } else {
      CHECK(session->cause.code == DisconnectCode::BadPacket);
      CHECK(session->cause.reason.find("S_CHAT") != std::string::npos);
    }
  }
}

void RefusedConnectionsAreReported() {
  std::uint16_t closedPort;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closedPort = acceptor.local_endpoint().port();
  }
  std::atomic<int> reported{0};
  auto options = To(closedPort, 3);
  options.onConnectFailed = [&](const gamewire::ConnectFailure& failure) {
    if (failure.code == gamewire::ErrorCode::Connect) reported++;
  };
  test::RunningService run(options, [] { return std::make_shared<Recorder>(); }, 2);
  for (int i = 0; i < 2500 && run.service.ConnectFailures().size() < 3; i++) std::this_thread::sleep_for(2ms);
  const auto failures = run.service.ConnectFailures();
  CHECK_EQ(failures.size(), 3u);
  if (!failures.empty()) CHECK(failures[0].message.find("cannot connect to 127.0.0.1:") != std::string::npos);
  CHECK_EQ(reported.load(), 3);
  CHECK_EQ(run.service.ConnectedCount(), 0u);
  run.Close();
  CHECK(run.service.IsClosed());
}

void OptionsOutOfRangeAreRefusedByName() {
  auto options = To(1);
  options.maxPacketSize = 70000;
  gamewire::ClientService service(options, [] { return std::make_shared<Recorder>(); });
  CHECK(!service.Start());
  CHECK(service.LastError().find("maxPacketSize") != std::string::npos);
  auto small = To(1);
  small.recvBufferSize = 100;
  gamewire::ClientService other(small, [] { return std::make_shared<Recorder>(); });
  CHECK(!other.Start());
  CHECK(other.LastError().find("recvBufferSize") != std::string::npos);
}

void ASessionMayOutliveItsService() {
  std::shared_ptr<Recorder> kept = std::make_shared<Recorder>();
  {
    TestPeer peer(EchoPeer);
    test::RunningService run(To(peer.Port()), [kept] { return kept; }, 1);
    CHECK(kept->changed.Until([&] { return kept->connects == 1; }));
  }
  CHECK_EQ(kept->disconnects, 1);
  CHECK(!kept->SendPacket(1, nullptr, 0));
  kept->Disconnect("after the service");
  kept.reset();  // its socket and strand go with it, after the service's io_context stayed alive for them
}

struct Case {
  const char* name;
  void (*run)();
};

const Case kCases[] = {
    {"scanner: whole, split at every boundary, byte by byte, random cuts", ScannerWholeSplitAndByteByByte},
    {"scanner: a bad header is refused on its 2 size bytes; the packets before it are delivered", ScannerRefusesBadHeadersAtTwoBytes},
    {"scanner: stops when the sink says the session closed", ScannerStopsWhenTheSinkSaysSo},
    {"recv buffer: Clean keeps the unconsumed tail", RecvBufferCleanKeepsTheTail},
    {"send buffers: shared, adjacent, pooled across threads", SendBuffersShareBytesAndReturnToThePool},
    {"MakeSendBuffer: a packet over 65535 bytes is refused, never cut", MessagesTooLargeAreRefusedNotCut},
    {"8 sessions, 4 Dispatch threads, sends from hooks and a game thread: order kept, every descriptor closed", ManySessionsOnSeveralThreadsKeepOrder},
    {"MALFORMED_HEADER from the peer", MalformedHeaderFromThePeer},
    {"PACKET_TOO_LARGE decided on the size field alone", OversizeIsDecidedOnTheSizeField},
    {"a ping is answered with its body; a quiet session pings; the pong gives the round trip", PingsAreAnsweredAndQuietSessionsPing},
    {"IDLE_TIMEOUT ends a silent connection", IdleTimeoutEndsASilentConnection},
    {"SEND_QUEUE_OVERFLOW cuts off a peer that does not read", SendQueueOverflowCutsOffAPeerThatDoesNotRead},
    {"Disconnect from another thread: what was sent arrives, then FIN", DisconnectFromAnotherThreadIsGraceful},
    {"a hook that throws ends its own session only (HANDLER_ERROR)", AThrowingHookEndsOnlyItsSession},
    {"generated handler: decodes S_CHAT; UNKNOWN_PACKET and BAD_PACKET", GeneratedHandlerDecodesAndRefuses},
    {"refused connections are reported (GW_ERR_CONNECT)", RefusedConnectionsAreReported},
    {"options out of range are refused by name", OptionsOutOfRangeAreRefusedByName},
    {"a session may outlive its service", ASessionMayOutliveItsService},
};

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  int failedCases = 0;
  for (const Case& c : kCases) {
    if (!only.empty() && std::string(c.name).find(only) == std::string::npos) continue;
    const int before = test::gFailures;
    const auto start = std::chrono::steady_clock::now();
    c.run();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    const bool ok = test::gFailures == before;
    if (!ok) failedCases++;
    std::printf("%s %s (%lld ms)\n", ok ? "ok  " : "FAIL", c.name, static_cast<long long>(ms));
    std::fflush(stdout);
  }
  std::printf("%s: %d failed\n", failedCases == 0 ? "PASS" : "FAIL", failedCases);
  return failedCases == 0 ? 0 : 1;
}
