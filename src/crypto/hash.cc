// MelodAI — licensed under the Apache License 2.0.
// BLAKE2b-256 and SHA-256 through libsodium, and hex encoding.
#include "crypto/hash.h"

#include <sodium.h>

#include <string>

#include "core/check.h"
#include "crypto/internal/sodium_init.h"

namespace melodai::crypto {
namespace {

crypto_generichash_state* StateOf(std::array<uint8_t, 384>& storage) {
  static_assert(sizeof(crypto_generichash_state) <= 384, "grow Blake2bHasher::state_");
  static_assert(alignof(crypto_generichash_state) <= 64, "raise Blake2bHasher::state_ alignment");
  return reinterpret_cast<crypto_generichash_state*>(storage.data());
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Digest32 Blake2b256(std::span<const uint8_t> data) {
  internal::EnsureSodiumInitialized();
  Digest32 digest{};
  crypto_generichash(digest.data(), digest.size(), data.data(), data.size(), nullptr, 0);
  return digest;
}

Digest32 Sha256(std::span<const uint8_t> data) {
  internal::EnsureSodiumInitialized();
  static_assert(crypto_hash_sha256_BYTES == 32);
  Digest32 digest{};
  crypto_hash_sha256(digest.data(), data.data(), data.size());
  return digest;
}

Blake2bHasher::Blake2bHasher() {
  internal::EnsureSodiumInitialized();
  crypto_generichash_init(StateOf(state_), nullptr, 0, 32);
}

void Blake2bHasher::Update(std::span<const uint8_t> data) {
  MELODAI_CHECK(!finished_);
  crypto_generichash_update(StateOf(state_), data.data(), data.size());
}

Digest32 Blake2bHasher::Finish() {
  MELODAI_CHECK(!finished_);
  finished_ = true;
  Digest32 digest{};
  crypto_generichash_final(StateOf(state_), digest.data(), digest.size());
  return digest;
}

std::string ToHex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (uint8_t byte : bytes) {
    hex.push_back(kDigits[byte >> 4]);
    hex.push_back(kDigits[byte & 0x0f]);
  }
  return hex;
}

core::Result<std::vector<uint8_t>> FromHex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return core::InvalidArgumentError("hex string has odd length " + std::to_string(hex.size()));
  }
  std::vector<uint8_t> bytes(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); ++i) {
    const int value = HexValue(hex[i]);
    if (value < 0) {
      return core::InvalidArgumentError("non-hex character at position " + std::to_string(i));
    }
    bytes[i / 2] = static_cast<uint8_t>(bytes[i / 2] << 4 | value);
  }
  return bytes;
}

}  // namespace melodai::crypto
