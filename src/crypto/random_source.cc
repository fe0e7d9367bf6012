// MelodAI — licensed under the Apache License 2.0.
// SystemRandomSource (libsodium randombytes_buf) and the seeded ChaCha20
// DeterministicRandomSource used by tests and simulations.
#include "crypto/random_source.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "core/check.h"
#include "crypto/internal/sodium_init.h"

namespace melodai::crypto {

SystemRandomSource::SystemRandomSource() { internal::EnsureSodiumInitialized(); }

void SystemRandomSource::Fill(std::span<uint8_t> out) {
  internal::EnsureSodiumInitialized();
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

DeterministicRandomSource::DeterministicRandomSource(uint64_t seed) : seed_(seed) {
  internal::EnsureSodiumInitialized();
  static constexpr char kDomain[] = "melodai.crypto.deterministic_random_source.v1";
  std::array<uint8_t, sizeof(kDomain) + 8> input{};
  std::memcpy(input.data(), kDomain, sizeof(kDomain));
  for (int i = 0; i < 8; ++i) input[sizeof(kDomain) + i] = static_cast<uint8_t>(seed >> (8 * i));
  crypto_generichash(key_.data(), key_.size(), input.data(), input.size(), nullptr, 0);
}

DeterministicRandomSource::DeterministicRandomSource(std::span<const uint8_t, 32> key) : seed_(0) {
  internal::EnsureSodiumInitialized();
  std::copy(key.begin(), key.end(), key_.begin());
}

DeterministicRandomSource::~DeterministicRandomSource() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(buffer_.data(), buffer_.size());
}

void DeterministicRandomSource::Refill() {
  static_assert(kBufferBytes % 64 == 0, "refill whole ChaCha20 blocks");
  static constexpr std::array<uint8_t, crypto_stream_chacha20_NONCEBYTES> kNonce{};
  std::fill(buffer_.begin(), buffer_.end(), 0);
  crypto_stream_chacha20_xor_ic(buffer_.data(), buffer_.data(), buffer_.size(), kNonce.data(),
                                block_counter_, key_.data());
  block_counter_ += kBufferBytes / 64;
  buffer_offset_ = 0;
}

void DeterministicRandomSource::Fill(std::span<uint8_t> out) {
  size_t written = 0;
  while (written < out.size()) {
    if (buffer_offset_ == kBufferBytes) Refill();
    const size_t take = std::min(out.size() - written, kBufferBytes - buffer_offset_);
    std::memcpy(out.data() + written, buffer_.data() + buffer_offset_, take);
    buffer_offset_ += take;
    written += take;
  }
  MELODAI_CHECK_LE(buffer_offset_, kBufferBytes);
}

}  // namespace melodai::crypto
