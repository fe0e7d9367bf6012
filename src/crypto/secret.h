// MelodAI — licensed under the Apache License 2.0.
// SecretBytes: an owned buffer for key material that is wiped (sodium_memzero) when it is
// destroyed or moved from, and never copied implicitly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace melodai::crypto {

// Overwrites `bytes` with zeros in a way the compiler may not optimise away. Thread-safe.
void SecureWipe(std::span<uint8_t> bytes);

// Invariant: bytes_ holds exactly size() secret bytes; a moved-from object is empty.
// Move-only; not thread-safe.
class SecretBytes {
 public:
  SecretBytes() = default;
  // `size` zero bytes, to be filled through mutable_span().
  explicit SecretBytes(size_t size) : bytes_(size, 0) {}
  // A copy of `bytes`; the caller wipes its own copy if it needs to.
  explicit SecretBytes(std::span<const uint8_t> bytes) : bytes_(bytes.begin(), bytes.end()) {}
  ~SecretBytes() { SecureWipe(bytes_); }

  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {
    other.bytes_.clear();
  }
  SecretBytes& operator=(SecretBytes&& other) noexcept {
    if (this != &other) {
      SecureWipe(bytes_);
      bytes_ = std::move(other.bytes_);
      other.bytes_.clear();
    }
    return *this;
  }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;

  // An explicit deep copy, for the rare places that must keep two owners.
  SecretBytes Clone() const { return SecretBytes(span()); }

  size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }
  const uint8_t* data() const { return bytes_.data(); }
  uint8_t* data() { return bytes_.data(); }
  std::span<const uint8_t> span() const { return bytes_; }
  std::span<uint8_t> mutable_span() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace melodai::crypto
