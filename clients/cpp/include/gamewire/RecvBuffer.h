#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace gamewire {

/**
 * The course's RecvBuffer: the socket reads into [WritePos, WritePos + FreeSize), OnRecv consumes
 * from [ReadPos, ReadPos + DataSize). Clean moves an unconsumed tail (less than one packet) to the
 * front, so a read always has room for the rest of a packet of the largest size.
 */
class RecvBuffer {
 public:
  explicit RecvBuffer(std::size_t capacity) : _buffer(new std::uint8_t[capacity]), _capacity(capacity) {}

  std::uint8_t* WritePos() noexcept { return _buffer.get() + _writePos; }
  std::size_t FreeSize() const noexcept { return _capacity - _writePos; }
  /// `n` bytes were read into WritePos.
  void OnWrite(std::size_t n) noexcept { _writePos += n; }

  const std::uint8_t* ReadPos() const noexcept { return _buffer.get() + _readPos; }
  std::size_t DataSize() const noexcept { return _writePos - _readPos; }
  /// `n` bytes at ReadPos were consumed.
  void OnRead(std::size_t n) noexcept { _readPos += n; }

  /// Moves the unconsumed bytes to the front (none in the common case: then nothing is copied).
  void Clean() noexcept {
    const std::size_t data = DataSize();
    if (data > 0 && _readPos > 0) std::memmove(_buffer.get(), _buffer.get() + _readPos, data);
    _readPos = 0;
    _writePos = data;
  }

  std::size_t Capacity() const noexcept { return _capacity; }

 private:
  std::unique_ptr<std::uint8_t[]> _buffer;
  std::size_t _capacity;
  std::size_t _readPos = 0;
  std::size_t _writePos = 0;
};

}  // namespace gamewire
