#pragma once

#include <cstddef>
#include <cstdint>

namespace gamewire {

namespace detail {
class SendBufferChunk;
}

/**
 * Bytes to send, as the course's SendBuffer: a range of a pooled 64 KiB chunk. Copying a SendBuffer
 * shares the bytes (one atomic increment, no copy), so a packet encoded once can go to every session;
 * the chunk returns to the pool when the last SendBuffer on it is gone.
 *
 * Made by SendBufferManager::Open(maxSize): fill Buffer(), then Close(writtenSize); from then on the
 * bytes never change and the buffer may be handed to Session::Send from any thread. An empty
 * SendBuffer (Size() 0, `!buffer`) is what a failed Open or MakeSendBuffer returns; Send refuses it.
 */
class SendBuffer {
 public:
  SendBuffer() noexcept = default;
  SendBuffer(const SendBuffer& other) noexcept;
  SendBuffer(SendBuffer&& other) noexcept;
  SendBuffer& operator=(const SendBuffer& other) noexcept;
  SendBuffer& operator=(SendBuffer&& other) noexcept;
  ~SendBuffer();

  /// Where to write, between Open and Close; nullptr for an empty buffer.
  std::uint8_t* Buffer() noexcept;
  /// The bytes, after Close.
  const std::uint8_t* Data() const noexcept;
  /// Bytes written (after Close); 0 before Close and for an empty buffer.
  std::size_t Size() const noexcept { return _size; }
  /// Bytes reserved by Open.
  std::size_t AllocSize() const noexcept { return _allocSize; }
  /// True when there is nothing to send.
  bool Empty() const noexcept { return _size == 0; }
  explicit operator bool() const noexcept { return _size != 0; }

  /**
   * Seals the buffer with its first `writeSize` bytes (at most AllocSize) and gives the rest of the
   * reservation back to the chunk. Call it on the thread that opened the buffer, before its next Open.
   * Returns false (and leaves the buffer empty) for a size over AllocSize or a buffer already closed.
   */
  bool Close(std::size_t writeSize) noexcept;

 private:
  friend class SendBufferManager;
  SendBuffer(detail::SendBufferChunk* chunk, std::uint32_t offset, std::uint32_t allocSize) noexcept;
  void Release() noexcept;

  detail::SendBufferChunk* _chunk = nullptr;
  std::uint32_t _offset = 0;
  std::uint32_t _size = 0;
  std::uint32_t _allocSize = 0;
};

/**
 * The course's SendBufferManager: each thread writes into its own current chunk (no lock per packet);
 * a chunk with too little room left is replaced by one from a pool shared by all threads.
 */
class SendBufferManager {
 public:
  /**
   * Reserves up to `size` bytes (1..Defaults::kSendBufferChunkSize) in this thread's chunk. Close the
   * buffer before the next Open on this thread. Returns an empty buffer for a size out of range.
   */
  static SendBuffer Open(std::size_t size);
  /// Chunks alive now (in use or pooled).
  static std::size_t ChunksAllocated() noexcept;
  /// Chunks waiting in the pool.
  static std::size_t ChunksPooled() noexcept;
};

}  // namespace gamewire
