#pragma once

#include <cstddef>
#include <cstdint>

/**
 * The packet layout on the wire (docs/protocol.md), as the course's `PacketHeader { uint16 size; uint16 id; }`
 * but read byte by byte, so it is little-endian on every machine:
 *
 *     offset 0  u16 LE  size  whole packet in bytes, header included (4..65535)
 *     offset 2  u16 LE  id    packet id
 *     offset 4  body    size - 4 bytes (a protobuf encoding)
 */
namespace gamewire {

/// Bytes of the packet header.
constexpr std::size_t kPacketHeaderSize = 4;
/// Largest packet the format can express, header included.
constexpr std::size_t kMaxPacketSize = 0xFFFF;
/// Largest body: 65531 bytes.
constexpr std::size_t kMaxBodySize = kMaxPacketSize - kPacketHeaderSize;
/// Largest id a message may have; 65520..65535 are reserved for the transport itself.
constexpr std::uint16_t kMaxMessageId = 0xFFEF;
/// Heartbeat ping: its body (8 bytes, opaque to the receiver) must come back in a pong.
constexpr std::uint16_t kHeartbeatPingId = 0xFFFE;
/// Heartbeat pong: carries the ping's body back unchanged.
constexpr std::uint16_t kHeartbeatPongId = 0xFFFF;

/// Reads a u16 little-endian at `at`.
inline std::uint16_t ReadU16(const std::uint8_t* at) noexcept {
  return static_cast<std::uint16_t>(at[0] | (at[1] << 8));
}

/// Writes a header at `to`: `size` is the whole packet including these 4 bytes.
inline void WritePacketHeader(std::uint8_t* to, std::uint16_t size, std::uint16_t id) noexcept {
  to[0] = static_cast<std::uint8_t>(size & 0xFF);
  to[1] = static_cast<std::uint8_t>(size >> 8);
  to[2] = static_cast<std::uint8_t>(id & 0xFF);
  to[3] = static_cast<std::uint8_t>(id >> 8);
}

}  // namespace gamewire
