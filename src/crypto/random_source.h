// MelodAI — licensed under the Apache License 2.0.
// RandomSource: the injected source of cryptographic randomness. Production code uses
// SystemRandomSource (the OS CSPRNG via libsodium); tests and simulations use the seeded
// DeterministicRandomSource so that every run can be replayed from its seed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace melodai::crypto {

// Source of cryptographic randomness, injected everywhere keys, nonces or masks are drawn.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Never fails. Thread safety is up to the implementation.
  virtual void Fill(std::span<uint8_t> out) = 0;
};

// The operating system's CSPRNG (libsodium randombytes_buf). Thread-safe.
class SystemRandomSource final : public RandomSource {
 public:
  SystemRandomSource();
  void Fill(std::span<uint8_t> out) override;
};

// Tests and simulation only: the ChaCha20 keystream under a key derived from `seed`
// (BLAKE2b-256 of a domain tag and the little-endian seed). The same seed always yields the
// same byte stream, however the requests are split into Fill calls.
// Invariants: buffer_offset_ <= kBufferBytes; the bytes of buffer_ before buffer_offset_ have
// been handed out; block_counter_ counts the 64-byte ChaCha20 blocks generated so far.
// Not thread-safe.
class DeterministicRandomSource final : public RandomSource {
 public:
  explicit DeterministicRandomSource(uint64_t seed);
  // The ChaCha20 keystream under `key` directly, for streams derived from another source
  // (seed() is then 0).
  explicit DeterministicRandomSource(std::span<const uint8_t, 32> key);
  ~DeterministicRandomSource() override;
  DeterministicRandomSource(const DeterministicRandomSource&) = delete;
  DeterministicRandomSource& operator=(const DeterministicRandomSource&) = delete;

  uint64_t seed() const { return seed_; }
  void Fill(std::span<uint8_t> out) override;

 private:
  static constexpr size_t kBufferBytes = 1024;  // Sixteen ChaCha20 blocks per refill.
  void Refill();

  uint64_t seed_;
  std::array<uint8_t, 32> key_{};
  std::array<uint8_t, kBufferBytes> buffer_{};
  size_t buffer_offset_ = kBufferBytes;
  uint64_t block_counter_ = 0;
};

}  // namespace melodai::crypto
