// MelodAI — licensed under the Apache License 2.0.
// t-of-n Shamir secret sharing over the prime field GF(2^61 - 1). A byte secret is cut into
// 7-byte little-endian chunks (56 bits, always below the prime), and each chunk is shared with
// its own random polynomial of degree t - 1; a share is one field element per chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "crypto/random_source.h"
#include "crypto/secret.h"

namespace melodai::crypto {

inline constexpr uint64_t kShamirPrime = (uint64_t{1} << 61) - 1;
inline constexpr size_t kShamirChunkBytes = 7;
// Largest secret accepted, so that shares stay small and bounded on the wire.
inline constexpr size_t kShamirMaxSecretBytes = 1024;

// Number of field elements per share for a secret of `secret_size` bytes.
constexpr size_t ShamirChunkCount(size_t secret_size) {
  return (secret_size + kShamirChunkBytes - 1) / kShamirChunkBytes;
}

// The evaluation of the sharing polynomials at `point` (the holder's x coordinate).
// Share values are secret; holders should not log them.
struct ShamirShare {
  uint64_t point = 0;
  std::vector<uint64_t> values;  // ShamirChunkCount(secret size) field elements.
};

// Shares `secret` so that any `threshold` of the returned shares (one per entry of `points`,
// in the same order) rebuild it and fewer reveal nothing. Coefficients come from `random`.
// REQUIRES: 1 <= threshold <= points.size(); points distinct, non-zero and < kShamirPrime;
// secret.size() <= kShamirMaxSecretBytes. Thread-safe if `random` is.
std::vector<ShamirShare> ShamirSplit(std::span<const uint8_t> secret, uint32_t threshold,
                                     std::span<const uint64_t> points, RandomSource& random);

// Rebuilds a `secret_size`-byte secret from the first `threshold` of `shares` by Lagrange
// interpolation at zero. Shares come from the network, so everything is validated:
// kInvalidArgument for fewer than `threshold` shares, a zero, duplicate or out-of-field
// point, a value >= kShamirPrime or a share of the wrong length; kDataLoss when a rebuilt chunk
// does not fit in its bytes (a sign of a corrupt share). Thread-safe.
core::Result<SecretBytes> ShamirCombine(std::span<const ShamirShare> shares, uint32_t threshold,
                                        size_t secret_size);

// Field arithmetic, exposed for tests. Inputs REQUIRE values < kShamirPrime.
uint64_t FieldAdd(uint64_t a, uint64_t b);
uint64_t FieldSubtract(uint64_t a, uint64_t b);
uint64_t FieldMultiply(uint64_t a, uint64_t b);
// REQUIRES: a != 0.
uint64_t FieldInverse(uint64_t a);

}  // namespace melodai::crypto
