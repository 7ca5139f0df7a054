// gamewire-dummy-client: the course's DummyClient on gamewire's C++ client library. Sessions play
// the sample chat game on the Dispatch threads; this thread is the game loop that decides when each
// bot chats (Send is thread-safe), as a game thread beside the network threads would.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gamewire/Gamewire.h>

#include "ChatBot.h"
#include "DummyClientOptions.h"
#include "RunSummary.h"

namespace {

volatile std::sig_atomic_t gStopRequested = 0;

extern "C" void OnStopSignal(int) { gStopRequested = 1; }

}  // namespace

int main(int argc, char** argv) {
  using namespace dummy;
  using std::chrono::milliseconds;
  DummyClientOptions options;
  const int parsed = ParseOptions(argc, argv, options);
  if (parsed != 0) return parsed == 1 ? 0 : 2;

  RunCounters counters;
  std::mutex botsMutex;
  std::vector<std::shared_ptr<ChatBotSession>> bots;
  RunResult result;
  std::atomic<bool> reportedFailure{false};

  gamewire::ClientServiceOptions serviceOptions;
  serviceOptions.host = options.host;
  serviceOptions.port = options.port;
  serviceOptions.maxSessionCount = options.sessions;
  serviceOptions.keepaliveMs = options.keepaliveMs;
  serviceOptions.connectTimeoutMs = options.connectTimeoutMs;
  serviceOptions.onConnectFailed = [&](const gamewire::ConnectFailure& failure) {
    if (!reportedFailure.exchange(true)) std::fprintf(stderr, "gamewire-dummy-client: %s\n", failure.message.c_str());
  };
  {
    gamewire::ClientService service(serviceOptions, [&] {
      std::lock_guard<std::mutex> lock(botsMutex);
      auto bot = std::make_shared<ChatBotSession>(bots.size(), options, counters);
      bots.push_back(bot);
      return bot;
    });
    if (!service.Start()) {
      std::fprintf(stderr, "gamewire-dummy-client: %s\n", service.LastError().c_str());
      return 1;
    }
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGTERM, OnStopSignal);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < options.threads; i++) {
      threads.emplace_back([&service] {
        while (!service.IsClosed()) service.Dispatch(50);
      });
    }

    const Clock::time_point started = Clock::now();
    const Clock::time_point deadline =
        options.durationS > 0 ? started + std::chrono::seconds(options.durationS) : Clock::time_point::max();
    const milliseconds interval(options.intervalMs);
    std::mt19937 random(std::random_device{}());
    std::vector<std::shared_ptr<ChatBotSession>> known;
    std::vector<bool> scheduled;
    for (;;) {
      const Clock::time_point now = Clock::now();
      if (gStopRequested != 0 || now >= deadline) break;
      if (options.roomSize > 0 && counters.roomDone.load(std::memory_order_acquire) >= options.sessions) break;
      result.peakSessions = std::max(result.peakSessions, service.SessionCount());
      if (service.SessionCount() == 0 && service.ConnectingCount() == 0 &&
          service.ConnectedCount() + service.ConnectFailures().size() >= options.sessions) {
        break;  // nothing left to run
      }
      {
        std::lock_guard<std::mutex> lock(botsMutex);
        while (known.size() < bots.size()) {
          known.push_back(bots[known.size()]);
          scheduled.push_back(false);
        }
      }
      Clock::time_point wake = now + milliseconds(10);
      for (std::size_t i = 0; i < known.size(); i++) {
        ChatBotSession& bot = *known[i];
        if (!bot.ReadyToChat() || (options.roomSize > 0 && bot.ChatsSent() >= options.chats)) continue;
        if (!scheduled[i]) {
          // A random phase in the load scenario, so the bots do not all chat in the same millisecond.
          const auto phase = options.roomSize > 0 || options.intervalMs == 0
                                 ? milliseconds(0)
                                 : milliseconds(std::uniform_int_distribution<std::uint32_t>(0, options.intervalMs - 1)(random));
          bot.nextChatAt = now + phase;
          scheduled[i] = true;
        }
        if (now >= bot.nextChatAt) {
          bot.SendChat();
          bot.nextChatAt = now + interval;
        }
        wake = std::min(wake, bot.nextChatAt);
      }
      std::this_thread::sleep_until(std::max(wake, now + milliseconds(1)));
    }
    const Clock::time_point stopped = Clock::now();
    result.runSeconds = std::chrono::duration<double>(stopped - started).count();

    // Stop sending, then wait for the chats in flight to come back.
    const Clock::time_point drainEnd = stopped + milliseconds(options.drainMs);
    while (counters.inFlight.load(std::memory_order_acquire) > 0 && Clock::now() < drainEnd) {
      std::this_thread::sleep_for(milliseconds(2));
    }
    result.drained = counters.inFlight.load(std::memory_order_acquire) <= 0;
    result.drainMs = std::chrono::duration<double, std::milli>(Clock::now() - stopped).count();
    counters.stopping.store(true, std::memory_order_release);
    service.Close();
    for (std::thread& thread : threads) thread.join();

    result.connects = service.ConnectedCount();
    const std::vector<gamewire::ConnectFailure> failures = service.ConnectFailures();
    result.connectFailures = failures.size();
    if (!failures.empty()) result.firstConnectFailure = std::string(gamewire::ErrorCodeName(failures.front().code)) + ": " + failures.front().message;
  }

  std::vector<std::uint32_t> latencies;
  for (const auto& bot : bots) {
    latencies.insert(latencies.end(), bot->LatenciesUs().begin(), bot->LatenciesUs().end());
    if (options.roomSize > 0) std::printf("room %s\n", bot->RoomReport().c_str());
  }
  result.latency = Summarize(latencies);
  result.packetsSent = counters.packetsSent.load();
  result.packetsReceived = counters.packetsReceived.load();
  result.bytesSent = counters.bytesSent.load();
  result.bytesReceived = counters.bytesReceived.load();
  result.entered = counters.entered.load();
  result.deliveries = counters.deliveries.load();
  result.movesReceived = counters.movesReceived.load();
  result.roomDone = counters.roomDone.load();
  result.unanswered = counters.inFlight.load();
  {
    std::lock_guard<std::mutex> lock(counters.causesMutex);
    result.disconnectsByCause = counters.disconnectsByCause;
    result.unexpectedByCause = counters.unexpectedByCause;
  }
  for (const auto& entry : result.unexpectedByCause) result.unexpectedDisconnects += entry.second;
  std::fputs(SummaryTable(options, result).c_str(), stdout);
  if (options.json) std::printf("summary %s\n", SummaryJson(options, result).c_str());
  std::fflush(stdout);
  const bool roomIncomplete = options.roomSize > 0 && result.roomDone < options.sessions;
  return result.Errors() == 0 && !roomIncomplete ? 0 : 1;
}
