#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "DummyClientOptions.h"

namespace dummy {

/// Round-trip percentiles, µs.
struct LatencySummary {
  std::size_t count = 0;
  double min = 0, mean = 0, max = 0, p50 = 0, p90 = 0, p99 = 0, p999 = 0;
};

/// Sorts `samples` and summarizes them.
LatencySummary Summarize(std::vector<std::uint32_t>& samples);

/// Everything the end of a run reports.
struct RunResult {
  double runSeconds = 0;
  std::size_t connects = 0;
  std::size_t connectFailures = 0;
  std::string firstConnectFailure;
  std::size_t peakSessions = 0;
  std::uint64_t packetsSent = 0, packetsReceived = 0, bytesSent = 0, bytesReceived = 0;
  std::uint64_t entered = 0, deliveries = 0, movesReceived = 0;
  std::int64_t unanswered = 0;
  std::uint64_t unexpectedDisconnects = 0;
  std::map<std::string, std::uint64_t> unexpectedByCause;
  std::map<std::string, std::uint64_t> disconnectsByCause;
  bool drained = false;
  double drainMs = 0;
  LatencySummary latency;
  /// Room check: bots that received every chat, of those that entered.
  std::uint64_t roomDone = 0;

  std::uint64_t Errors() const;
};

/// The summary table, in the layout of `gamewire loadtest`'s.
std::string SummaryTable(const DummyClientOptions& options, const RunResult& result);
/// The same numbers as one JSON object.
std::string SummaryJson(const DummyClientOptions& options, const RunResult& result);

}  // namespace dummy
