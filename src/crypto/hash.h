// MelodAI — licensed under the Apache License 2.0.
// Hashing: BLAKE2b-256 (one-shot and incremental) and SHA-256, plus hex conversion of byte
// strings. BLAKE2b is the project's default hash (block links, Merkle trees, KDF inputs).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace melodai::crypto {

using Digest32 = std::array<uint8_t, 32>;

// BLAKE2b with a 32-byte output, unkeyed. Thread-safe.
Digest32 Blake2b256(std::span<const uint8_t> data);
// SHA-256 (FIPS 180-4). Thread-safe.
Digest32 Sha256(std::span<const uint8_t> data);

// Incremental BLAKE2b-256: Update any number of times, then Finish once. Feeding the same
// bytes in any split gives Blake2b256 of their concatenation.
// Invariant: finished_ becomes true in Finish and no Update or Finish follows.
// Not thread-safe; copyable (a copy continues from the same state).
class Blake2bHasher {
 public:
  Blake2bHasher();
  // REQUIRES: Finish() has not been called.
  void Update(std::span<const uint8_t> data);
  // REQUIRES: Finish() has not been called before.
  Digest32 Finish();

 private:
  // Opaque storage for libsodium's crypto_generichash_state (size and alignment checked by a
  // static_assert in hash.cc), so that sodium.h stays out of this header.
  alignas(64) std::array<uint8_t, 384> state_{};
  bool finished_ = false;
};

// Lower-case hex, two characters per byte.
std::string ToHex(std::span<const uint8_t> bytes);
// Parses hex of either case; kInvalidArgument on an odd length or a non-hex character (the
// message names its position).
core::Result<std::vector<uint8_t>> FromHex(std::string_view hex);

// Views a string's bytes as unsigned bytes (no copy); the string must outlive the span.
inline std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace melodai::crypto
