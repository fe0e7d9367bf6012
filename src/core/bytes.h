// MelodAI — licensed under the Apache License 2.0.
// Explicit little-endian binary encoding: ByteWriter appends, ByteReader consumes with bounds
// checks and returns kDataLoss (naming the field) on any short or absurd input. Used for the
// dataset cache now and for wire and ledger formats later; never memcpy a struct to disk.
#pragma once

#include <cstdint>
#include <bit>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "core/status.h"

namespace melodai::core {

class ByteWriter {
 public:
  void PutU8(uint8_t value) { buffer_.push_back(static_cast<char>(value)); }
  void PutU32(uint32_t value) { PutFixed(value); }
  void PutU64(uint64_t value) { PutFixed(value); }
  void PutI64(int64_t value) { PutFixed(static_cast<uint64_t>(value)); }
  void PutF32(float value);
  void PutF64(double value);
  // Length (u64) then bytes.
  void PutString(std::string_view value);
  // Count (u64) then the raw little-endian elements.
  template <typename T>
  void PutArray(std::span<const T> values) {
    static_assert(std::is_arithmetic_v<T>);
    PutU64(values.size());
    PutRaw(values.data(), values.size() * sizeof(T));
  }
  void PutRaw(const void* data, size_t size);

  const std::string& buffer() const { return buffer_; }
  std::string Release() { return std::move(buffer_); }
  size_t size() const { return buffer_.size(); }
  void Reserve(size_t size) { buffer_.reserve(size); }

 private:
  template <typename T>
  void PutFixed(T value) {
    static_assert(std::endian::native == std::endian::little, "big-endian hosts unsupported");
    PutRaw(&value, sizeof(value));
  }
  std::string buffer_;
};

// Reads from a borrowed buffer, which must outlive the reader.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}

  Status GetU8(uint8_t& value, std::string_view field);
  Status GetU32(uint32_t& value, std::string_view field);
  Status GetU64(uint64_t& value, std::string_view field);
  Status GetI64(int64_t& value, std::string_view field);
  Status GetF32(float& value, std::string_view field);
  Status GetF64(double& value, std::string_view field);
  // Rejects a length above max_size (kDataLoss) before reading.
  Status GetString(std::string& value, std::string_view field, size_t max_size);
  // Rejects a count above max_count or past the end of the buffer (kDataLoss).
  template <typename T>
  Status GetArray(std::vector<T>& values, std::string_view field, size_t max_count) {
    static_assert(std::is_arithmetic_v<T>);
    uint64_t count = 0;
    MELODAI_RETURN_IF_ERROR(GetU64(count, field));
    if (count > max_count || count > remaining() / sizeof(T)) {
      return Truncated(field, count * sizeof(T));
    }
    values.resize(count);
    if (count > 0) std::memcpy(values.data(), data_.data() + offset_, count * sizeof(T));
    offset_ += count * sizeof(T);
    return Status::Ok();
  }
  Status GetRaw(void* target, size_t size, std::string_view field);

  size_t offset() const { return offset_; }
  size_t remaining() const { return data_.size() - offset_; }
  bool done() const { return offset_ == data_.size(); }

 private:
  Status Truncated(std::string_view field, uint64_t wanted) const;
  std::string_view data_;
  size_t offset_ = 0;
};

// A fast, non-cryptographic 64-bit hash of bytes (for checksums and cache keys only; never
// for anything an adversary may choose to collide).
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

}  // namespace melodai::core
