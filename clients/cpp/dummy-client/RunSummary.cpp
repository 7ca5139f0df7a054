#include "RunSummary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <utility>

namespace dummy {

namespace {

/// `value` with `decimals` digits after the point.
std::string Fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

/// A latency in µs, as gamewire loadtest prints it: 850us, 1.25ms, 2.10s.
std::string Latency(double micros) {
  if (micros < 1000) return Fixed(micros, 0) + "us";
  if (micros < 1000000) return Fixed(micros / 1000, micros < 10000 ? 2 : 1) + "ms";
  return Fixed(micros / 1000000, 2) + "s";
}

std::string ByteSize(double bytes) {
  if (bytes < 1024) return Fixed(bytes, 0) + " B";
  if (bytes < 1024 * 1024) return Fixed(bytes / 1024, 1) + " KiB";
  if (bytes < 1024.0 * 1024 * 1024) return Fixed(bytes / 1024 / 1024, 1) + " MiB";
  return Fixed(bytes / 1024 / 1024 / 1024, 2) + " GiB";
}

std::string CountsByName(const std::map<std::string, std::uint64_t>& counts) {
  std::string out;
  for (const auto& [name, count] : counts) out += (out.empty() ? "" : " ") + name + "=" + std::to_string(count);
  return out.empty() ? "none" : out;
}

std::string JsonCounts(const std::map<std::string, std::uint64_t>& counts) {
  std::string out = "{";
  for (const auto& [name, count] : counts) out += (out.size() > 1 ? "," : "") + ("\"" + name + "\":" + std::to_string(count));
  return out + "}";
}

}  // namespace

LatencySummary Summarize(std::vector<std::uint32_t>& samples) {
  LatencySummary s;
  s.count = samples.size();
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const auto at = [&](double p) {
    const double rank = std::ceil(p * static_cast<double>(samples.size()));
    const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
    return static_cast<double>(samples[std::min(index, samples.size() - 1)]);
  };
  s.min = samples.front();
  s.max = samples.back();
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(samples.size());
  s.p50 = at(0.5);
  s.p90 = at(0.9);
  s.p99 = at(0.99);
  s.p999 = at(0.999);
  return s;
}

std::uint64_t RunResult::Errors() const {
  return connectFailures + unexpectedDisconnects + static_cast<std::uint64_t>(std::max<std::int64_t>(unanswered, 0));
}

std::string SummaryTable(const DummyClientOptions& options, const RunResult& r) {
  const double seconds = r.runSeconds > 0 ? r.runSeconds : 1;
  const auto per = [&](double count) { return Fixed(count / seconds, 1); };
  std::vector<std::pair<std::string, std::string>> rows = {
      {"connects", std::to_string(r.connects)},
      {"connect failures", std::to_string(r.connectFailures) + (r.connectFailures > 0 ? "  (" + r.firstConnectFailure + ")" : "")},
      {"unexpected disconnects", std::to_string(r.unexpectedDisconnects) + (r.unexpectedDisconnects > 0 ? "  (" + CountsByName(r.unexpectedByCause) + ")" : "")},
      {"unanswered requests", std::to_string(std::max<std::int64_t>(r.unanswered, 0))},
      {"peak sessions", std::to_string(r.peakSessions) + " of " + std::to_string(options.sessions)},
      {"packets sent", std::to_string(r.packetsSent) + "  (" + per(static_cast<double>(r.packetsSent)) + "/s)"},
      {"packets received", std::to_string(r.packetsReceived) + "  (" + per(static_cast<double>(r.packetsReceived)) + "/s)"},
      {"bytes sent", ByteSize(static_cast<double>(r.bytesSent)) + "  (" + ByteSize(static_cast<double>(r.bytesSent) / seconds) + "/s)"},
      {"bytes received", ByteSize(static_cast<double>(r.bytesReceived)) + "  (" + ByteSize(static_cast<double>(r.bytesReceived) / seconds) + "/s)"},
      {"round trips", std::to_string(r.latency.count) + "  (" + per(static_cast<double>(r.latency.count)) + "/s)"},
      {"counter deliveries", std::to_string(r.deliveries)},
      {"counter entered", std::to_string(r.entered)},
  };
  if (options.move) rows.emplace_back("counter moves received", std::to_string(r.movesReceived));
  if (options.roomSize > 0) rows.emplace_back("room check done", std::to_string(r.roomDone) + " of " + std::to_string(r.entered));
  if (r.latency.count > 0) {
    rows.emplace_back("latency p50 / p90", Latency(r.latency.p50) + " / " + Latency(r.latency.p90));
    rows.emplace_back("latency p99 / p99.9", Latency(r.latency.p99) + " / " + Latency(r.latency.p999));
    rows.emplace_back("latency min / mean / max",
                      Latency(r.latency.min) + " / " + Latency(r.latency.mean) + " / " + Latency(r.latency.max));
  }
  rows.emplace_back("disconnects by cause", CountsByName(r.disconnectsByCause));
  rows.emplace_back("drain", r.drained ? "all answers in (" + Fixed(r.drainMs, 0) + " ms)" : "timed out after " + Fixed(r.drainMs, 0) + " ms");
  const std::uint64_t errors = r.Errors();
  rows.emplace_back("result", errors == 0 ? std::string("PASS (0 errors)") : "FAIL (" + std::to_string(errors) + " errors)");

  std::size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  std::string out = "gamewire-dummy-client (C++): scenario chat" + std::string(options.move ? " + move" : "") + ", " +
                    std::to_string(options.sessions) + " sessions on " + options.host + ":" + std::to_string(options.port) +
                    ", " + std::to_string(options.threads) + " dispatch thread" + (options.threads == 1 ? "" : "s") +
                    ", interval " + std::to_string(options.intervalMs) + " ms, ran " + Fixed(r.runSeconds, 1) + " s\n";
  for (const auto& [name, value] : rows) out += "  " + name + std::string(width - name.size(), ' ') + "  " + value + "\n";
  return out;
}

std::string SummaryJson(const DummyClientOptions& options, const RunResult& r) {
  const auto num = [](double v) { return Fixed(v, 3); };
  return std::string("{") + "\"sessions\":" + std::to_string(options.sessions) +
         ",\"threads\":" + std::to_string(options.threads) + ",\"runSeconds\":" + num(r.runSeconds) +
         ",\"connects\":" + std::to_string(r.connects) + ",\"connectFailures\":" + std::to_string(r.connectFailures) +
         ",\"peakSessions\":" + std::to_string(r.peakSessions) + ",\"packetsSent\":" + std::to_string(r.packetsSent) +
         ",\"packetsReceived\":" + std::to_string(r.packetsReceived) + ",\"bytesSent\":" + std::to_string(r.bytesSent) +
         ",\"bytesReceived\":" + std::to_string(r.bytesReceived) + ",\"roundTrips\":" + std::to_string(r.latency.count) +
         ",\"entered\":" + std::to_string(r.entered) + ",\"deliveries\":" + std::to_string(r.deliveries) +
         ",\"movesReceived\":" + std::to_string(r.movesReceived) + ",\"roomDone\":" + std::to_string(r.roomDone) +
         ",\"unanswered\":" + std::to_string(std::max<std::int64_t>(r.unanswered, 0)) +
         ",\"unexpectedDisconnects\":" + std::to_string(r.unexpectedDisconnects) +
         ",\"disconnectsByCause\":" + JsonCounts(r.disconnectsByCause) + ",\"drained\":" + (r.drained ? "true" : "false") +
         ",\"latencyUs\":{\"p50\":" + num(r.latency.p50) + ",\"p90\":" + num(r.latency.p90) + ",\"p99\":" + num(r.latency.p99) +
         ",\"p999\":" + num(r.latency.p999) + ",\"min\":" + num(r.latency.min) + ",\"mean\":" + num(r.latency.mean) +
         ",\"max\":" + num(r.latency.max) + "},\"errors\":" + std::to_string(r.Errors()) + "}";
}

}  // namespace dummy
