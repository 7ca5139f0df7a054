#pragma once

#include <cstddef>
#include <cstdint>

#include "Defaults.h"
#include "PacketHeader.h"

namespace gamewire {

/// Why a PacketScanner stopped for good.
enum class ScanError : std::uint8_t {
  /// No error.
  None,
  /// A header's size field is below 4 (cause MALFORMED_HEADER).
  MalformedHeader,
  /// A header's size field is above the scanner's maxPacketSize (cause PACKET_TOO_LARGE).
  PacketTooLarge,
};

/**
 * The pure framing of a PacketSession: bytes in, whole packets out; no socket, no timer. It rejects a
 * bad header the moment its 2 size bytes are there, before the rest of the packet is awaited, so a
 * peer cannot make it wait for 65535 bytes it will refuse anyway.
 */
class PacketScanner {
 public:
  explicit PacketScanner(std::size_t maxPacketSize = Defaults::kMaxPacketSize) noexcept
      : _maxPacketSize(maxPacketSize > kMaxPacketSize ? kMaxPacketSize : maxPacketSize) {}

  /**
   * Cuts the whole packets at the start of data[0, len) and calls `sink(id, body, bodyLen)` for each,
   * in order; returns the bytes of the packets handed over. Stops early when `sink` returns false (the
   * session closed) or at a bad header: Error() then says which, the packets before it were handed
   * over, and every later call returns 0.
   */
  template <class Sink>
  std::size_t Scan(const std::uint8_t* data, std::size_t len, Sink&& sink) {
    if (_error != ScanError::None) return 0;
    std::size_t offset = 0;
    while (len - offset >= 2) {
      const std::size_t size = ReadU16(data + offset);
      if (size < kPacketHeaderSize) return Fail(ScanError::MalformedHeader, size, offset);
      if (size > _maxPacketSize) return Fail(ScanError::PacketTooLarge, size, offset);
      if (len - offset < size) break;
      const std::uint16_t id = ReadU16(data + offset + 2);
      const std::uint8_t* body = data + offset + kPacketHeaderSize;
      offset += size;
      if (!sink(id, body, size - kPacketHeaderSize)) break;
    }
    return offset;
  }

  /// Why scanning stopped for good, or ScanError::None.
  ScanError Error() const noexcept { return _error; }
  /// The size field of the bad header (for the reason text).
  std::size_t ErrorSize() const noexcept { return _errorSize; }
  /// Largest packet accepted, header included.
  std::size_t MaxPacketSize() const noexcept { return _maxPacketSize; }

 private:
  std::size_t Fail(ScanError error, std::size_t size, std::size_t consumed) noexcept {
    _error = error;
    _errorSize = size;
    return consumed;
  }

  std::size_t _maxPacketSize;
  ScanError _error = ScanError::None;
  std::size_t _errorSize = 0;
};

}  // namespace gamewire
