#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "PacketScanner.h"
#include "Session.h"

namespace gamewire {

/**
 * The course's PacketSession: cuts the byte stream into packets `[size u16 LE][id u16 LE][body]` and
 * calls OnRecvPacket(id, body, len) for each, in order (docs/protocol.md).
 *
 * - A size below 4 ends the session with MALFORMED_HEADER; a size above maxPacketSize with
 *   PACKET_TOO_LARGE, as soon as the 2 size bytes are read. Packets before the bad header are handled.
 * - Heartbeats (ids 65534, 65535) never reach OnRecvPacket: a ping is answered with a pong carrying
 *   its body; a pong of our own ping gives HeartbeatRttMs. When nothing was sent for keepaliveMs the
 *   session sends a ping itself, so a server with an idle timeout keeps a quiet player.
 */
class PacketSession : public Session {
 public:
  /**
   * Sends one packet: writes the header and `len` bytes of `body` into a pooled SendBuffer and queues
   * it. Returns false, sending nothing, when the session is not open or the packet would exceed 65535
   * bytes (GW_ERR_MESSAGE_TOO_LARGE: never cut or split).
   */
  bool SendPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len);

  /// Round trip of the last heartbeat pong, ms; a negative value until one came back.
  double HeartbeatRttMs() const noexcept;

 protected:
  /**
   * Hook: one whole packet arrived. `body` (without the header) is valid only during the call: decode
   * it (a generated handler's HandlePacket does) or copy it.
   */
  virtual void OnRecvPacket(std::uint16_t id, const std::uint8_t* body, std::size_t len) = 0;

 private:
  std::size_t OnRecv(const std::uint8_t* data, std::size_t len) final;
  void SendKeepalive() final;
  void OnHeartbeat(std::uint16_t id, const std::uint8_t* body, std::size_t len);

  /// Made on the first bytes, with the service's maxPacketSize.
  PacketScanner _scanner;
  bool _scannerReady = false;
  std::atomic<double> _rttMs{-1.0};
};

}  // namespace gamewire
