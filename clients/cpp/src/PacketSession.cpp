#include "gamewire/PacketSession.h"

#include <chrono>
#include <cstring>
#include <string>

#include "gamewire/ClientService.h"
#include "gamewire/PacketHeader.h"

namespace gamewire {

namespace {

/// Bytes of a heartbeat body: a float64 LE of the sender's clock, opaque to the receiver.
constexpr std::size_t kHeartbeatBodySize = 8;

double NowMs() noexcept {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

void WriteDoubleLE(std::uint8_t* to, double value) noexcept {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  for (std::size_t i = 0; i < 8; i++) to[i] = static_cast<std::uint8_t>(bits >> (8 * i));
}

double ReadDoubleLE(const std::uint8_t* from) noexcept {
  std::uint64_t bits = 0;
  for (std::size_t i = 0; i < 8; i++) bits |= static_cast<std::uint64_t>(from[i]) << (8 * i);
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

}  // namespace

bool PacketSession::SendPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) {
  if (len > kMaxBodySize || !IsConnected()) return false;
  const std::size_t size = kPacketHeaderSize + len;
  SendBuffer buffer = SendBufferManager::Open(size);
  std::uint8_t* at = buffer.Buffer();
  if (at == nullptr) return false;
  WritePacketHeader(at, static_cast<std::uint16_t>(size), id);
  if (len > 0) std::memcpy(at + kPacketHeaderSize, body, len);
  buffer.Close(size);
  return Send(std::move(buffer));
}

double PacketSession::HeartbeatRttMs() const noexcept { return _rttMs.load(std::memory_order_relaxed); }

std::size_t PacketSession::OnRecv(const std::uint8_t* data, std::size_t len) {
  if (!_scannerReady) {
    _scanner = PacketScanner(Service()->Options().maxPacketSize);
    _scannerReady = true;
  }
  const std::size_t consumed =
      _scanner.Scan(data, len, [this](std::uint16_t id, const std::uint8_t* body, std::size_t bodyLen) {
        if (id >= kHeartbeatPingId) OnHeartbeat(id, body, bodyLen);
        else OnRecvPacket(id, body, bodyLen);
        return IsConnected();
      });
  switch (_scanner.Error()) {
    case ScanError::None:
      break;
    case ScanError::MalformedHeader:
      CloseWithCause(DisconnectCode::MalformedHeader,
                     "packet header size " + std::to_string(_scanner.ErrorSize()) + " is below the 4-byte header",
                     ErrorCode::MalformedHeader);
      break;
    case ScanError::PacketTooLarge:
      CloseWithCause(DisconnectCode::PacketTooLarge,
                     "packet of " + std::to_string(_scanner.ErrorSize()) + " bytes exceeds maxPacketSize " +
                         std::to_string(_scanner.MaxPacketSize()) + "; raise option maxPacketSize (at most 65535)",
                     ErrorCode::PacketTooLarge);
      break;
  }
  return consumed;
}

void PacketSession::OnHeartbeat(std::uint16_t id, const std::uint8_t* body, std::size_t len) {
  if (id == kHeartbeatPingId) {
    SendPacket(kHeartbeatPongId, body, len);
  } else if (len == kHeartbeatBodySize) {
    _rttMs.store(NowMs() - ReadDoubleLE(body), std::memory_order_relaxed);
  }
}

void PacketSession::SendKeepalive() {
  std::uint8_t body[kHeartbeatBodySize];
  WriteDoubleLE(body, NowMs());
  SendPacket(kHeartbeatPingId, body, sizeof body);
}

}  // namespace gamewire
