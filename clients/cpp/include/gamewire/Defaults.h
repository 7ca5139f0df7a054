#pragma once

#include <cstddef>
#include <cstdint>

namespace gamewire {

/**
 * Every default of the client library in one place. Where gamewire's TypeScript side has the same
 * option, the value is the same (`DEFAULTS` in src/core/defaults.ts); docs/errors.md lists them.
 */
struct Defaults {
  /// ClientServiceOptions::host.
  static constexpr const char* kHost = "127.0.0.1";
  /// ClientServiceOptions::maxSessionCount: sessions Start() opens.
  static constexpr std::size_t kMaxSessionCount = 1;
  /// Largest packet accepted from the server, bytes, header included (the u16 size field's largest).
  static constexpr std::size_t kMaxPacketSize = 65535;
  /// Receive buffer of a session, bytes: the largest packet fits whole.
  static constexpr std::size_t kRecvBufferSize = 64 * 1024;
  /// Bytes given to Send and not yet written past which the session ends with SEND_QUEUE_OVERFLOW.
  static constexpr std::size_t kMaxSendQueueBytes = 1024 * 1024;
  /// How long one connection attempt may take, ms.
  static constexpr std::uint32_t kConnectTimeoutMs = 5000;
  /// Connection attempts in progress at once during Start().
  static constexpr std::size_t kConnectConcurrency = 256;
  /// How long a graceful disconnect waits for the server to close its side before closing anyway, ms.
  static constexpr std::uint32_t kDisconnectTimeoutMs = 5000;
  /**
   * A PacketSession that sent nothing for this long sends a heartbeat ping (id 65534), ms; 0 = never.
   * A quarter of the idle timeout of gamewire's CLI servers (60000), so a quiet player is not dropped.
   */
  static constexpr std::uint32_t kKeepaliveMs = 15000;
  /// Nothing received from the server for this long ends the session with IDLE_TIMEOUT, ms; 0 = never.
  static constexpr std::uint32_t kIdleTimeoutMs = 0;
  /// Bytes of one pooled SendBuffer chunk: a packet of the largest size fits an empty chunk.
  static constexpr std::size_t kSendBufferChunkSize = 64 * 1024;
  /// Free chunks the SendBuffer pool keeps for reuse (4 MiB); chunks freed beyond that go back to the heap.
  static constexpr std::size_t kSendBufferPoolChunks = 64;
};

}  // namespace gamewire
