#include "gamewire/SendBuffer.h"

#include <atomic>
#include <mutex>
#include <vector>

#include "gamewire/Defaults.h"

namespace gamewire {
namespace detail {

/**
 * A block that SendBuffers are cut from. Written only by the thread whose current chunk it is (from
 * `used` on), read by any: the bytes below `used` never change until every SendBuffer on the chunk is
 * gone and it is reused. `refs` counts those SendBuffers plus the thread that writes into it.
 */
class SendBufferChunk {
 public:
  static constexpr std::size_t kSize = Defaults::kSendBufferChunkSize;

  std::atomic<std::uint32_t> refs{0};
  /// Bytes handed out; written only by the owning thread.
  std::uint32_t used = 0;
  /// True between an Open and its Close (owning thread only).
  bool open = false;
  std::uint8_t bytes[kSize];
};

namespace {

/**
 * Free chunks shared by all threads. Never destroyed: a thread that exits after main returns still
 * gives its chunk back safely.
 */
class ChunkPool {
 public:
  static ChunkPool& Instance() {
    static ChunkPool* pool = new ChunkPool();
    return *pool;
  }

  SendBufferChunk* Take() {
    {
      std::lock_guard<std::mutex> lock(_mutex);
      if (!_free.empty()) {
        SendBufferChunk* chunk = _free.back();
        _free.pop_back();
        return chunk;
      }
    }
    _allocated.fetch_add(1, std::memory_order_relaxed);
    return new SendBufferChunk();
  }

  void Give(SendBufferChunk* chunk) {
    chunk->used = 0;
    chunk->open = false;
    {
      std::lock_guard<std::mutex> lock(_mutex);
      if (_free.size() < Defaults::kSendBufferPoolChunks) {
        _free.push_back(chunk);
        return;
      }
    }
    _allocated.fetch_sub(1, std::memory_order_relaxed);
    delete chunk;
  }

  std::size_t Allocated() const noexcept { return _allocated.load(std::memory_order_relaxed); }
  std::size_t Pooled() {
    std::lock_guard<std::mutex> lock(_mutex);
    return _free.size();
  }

 private:
  std::mutex _mutex;
  std::vector<SendBufferChunk*> _free;
  std::atomic<std::size_t> _allocated{0};
};

void AddRef(SendBufferChunk* chunk) noexcept {
  chunk->refs.fetch_add(1, std::memory_order_relaxed);
}

void DropRef(SendBufferChunk* chunk) noexcept {
  // acq_rel: every write into the chunk happens before it is reused.
  if (chunk->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) ChunkPool::Instance().Give(chunk);
}

/** This thread's current chunk; the reference it holds is dropped when the thread ends. */
struct ThreadChunk {
  SendBufferChunk* chunk = nullptr;
  ~ThreadChunk() {
    if (chunk != nullptr) DropRef(chunk);
  }
};

thread_local ThreadChunk tCurrent;

}  // namespace
}  // namespace detail

SendBuffer::SendBuffer(detail::SendBufferChunk* chunk, std::uint32_t offset, std::uint32_t allocSize) noexcept
    : _chunk(chunk), _offset(offset), _allocSize(allocSize) {
  detail::AddRef(chunk);
}

SendBuffer::SendBuffer(const SendBuffer& other) noexcept
    : _chunk(other._chunk), _offset(other._offset), _size(other._size), _allocSize(other._allocSize) {
  if (_chunk != nullptr) detail::AddRef(_chunk);
}

SendBuffer::SendBuffer(SendBuffer&& other) noexcept
    : _chunk(other._chunk), _offset(other._offset), _size(other._size), _allocSize(other._allocSize) {
  other._chunk = nullptr;
  other._size = 0;
  other._allocSize = 0;
}

SendBuffer& SendBuffer::operator=(const SendBuffer& other) noexcept {
  if (this != &other) {
    if (other._chunk != nullptr) detail::AddRef(other._chunk);
    Release();
    _chunk = other._chunk;
    _offset = other._offset;
    _size = other._size;
    _allocSize = other._allocSize;
  }
  return *this;
}

SendBuffer& SendBuffer::operator=(SendBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    _chunk = other._chunk;
    _offset = other._offset;
    _size = other._size;
    _allocSize = other._allocSize;
    other._chunk = nullptr;
    other._size = 0;
    other._allocSize = 0;
  }
  return *this;
}

SendBuffer::~SendBuffer() { Release(); }

void SendBuffer::Release() noexcept {
  if (_chunk != nullptr) detail::DropRef(_chunk);
  _chunk = nullptr;
}

std::uint8_t* SendBuffer::Buffer() noexcept {
  return _chunk == nullptr ? nullptr : _chunk->bytes + _offset;
}

const std::uint8_t* SendBuffer::Data() const noexcept {
  return _chunk == nullptr ? nullptr : _chunk->bytes + _offset;
}

bool SendBuffer::Close(std::size_t writeSize) noexcept {
  if (_chunk == nullptr || _size != 0 || writeSize > _allocSize || !_chunk->open ||
      _chunk->used != _offset) {
    Release();
    _size = 0;
    _allocSize = 0;
    return false;
  }
  _size = static_cast<std::uint32_t>(writeSize);
  _chunk->used = _offset + _size;
  _chunk->open = false;
  if (_size == 0) Release();
  return _size != 0;
}

SendBuffer SendBufferManager::Open(std::size_t size) {
  using detail::SendBufferChunk;
  if (size == 0 || size > SendBufferChunk::kSize) return SendBuffer();
  detail::ThreadChunk& current = detail::tCurrent;
  SendBufferChunk* chunk = current.chunk;
  // An Open that was never closed is abandoned: its bytes may be overwritten, it can no longer close.
  if (chunk != nullptr && chunk->open) chunk->open = false;
  if (chunk == nullptr || SendBufferChunk::kSize - chunk->used < size) {
    if (chunk != nullptr) detail::DropRef(chunk);
    chunk = detail::ChunkPool::Instance().Take();
    detail::AddRef(chunk);
    current.chunk = chunk;
  }
  chunk->open = true;
  return SendBuffer(chunk, chunk->used, static_cast<std::uint32_t>(size));
}

std::size_t SendBufferManager::ChunksAllocated() noexcept { return detail::ChunkPool::Instance().Allocated(); }

std::size_t SendBufferManager::ChunksPooled() noexcept { return detail::ChunkPool::Instance().Pooled(); }

}  // namespace gamewire
