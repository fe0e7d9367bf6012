// MelodAI — licensed under the Apache License 2.0.
// Shamir sharing over GF(2^61 - 1): Mersenne-prime reduction, Horner evaluation and Lagrange
// interpolation at zero.
#include "crypto/shamir.h"

#include <set>
#include <string>

#include "core/check.h"

namespace melodai::crypto {
namespace {

__extension__ typedef unsigned __int128 Uint128;

uint64_t RandomFieldElement(RandomSource& random) {
  while (true) {
    uint8_t bytes[8];
    random.Fill(bytes);
    uint64_t value = 0;
    for (int i = 0; i < 8; ++i) value |= uint64_t{bytes[i]} << (8 * i);
    value &= kShamirPrime;  // Keep 61 bits; rejecting p itself keeps the draw uniform.
    if (value < kShamirPrime) return value;
  }
}

uint64_t ReadChunk(std::span<const uint8_t> secret, size_t chunk) {
  uint64_t value = 0;
  for (size_t i = 0; i < kShamirChunkBytes; ++i) {
    const size_t position = chunk * kShamirChunkBytes + i;
    if (position < secret.size()) value |= uint64_t{secret[position]} << (8 * i);
  }
  return value;
}

// Validates the first `threshold` shares; see ShamirCombine for the codes.
core::Status ValidateShares(std::span<const ShamirShare> shares, size_t chunk_count) {
  std::set<uint64_t> seen;
  for (size_t i = 0; i < shares.size(); ++i) {
    const ShamirShare& share = shares[i];
    const std::string where = "Shamir share " + std::to_string(i);
    if (share.point == 0 || share.point >= kShamirPrime) {
      return core::InvalidArgumentError(where + ": point outside the field or zero");
    }
    if (!seen.insert(share.point).second) {
      return core::InvalidArgumentError(where + ": duplicate point " + std::to_string(share.point));
    }
    if (share.values.size() != chunk_count) {
      return core::InvalidArgumentError(where + ": " + std::to_string(share.values.size()) +
                                        " values, expected " + std::to_string(chunk_count));
    }
    for (uint64_t value : share.values) {
      if (value >= kShamirPrime) return core::InvalidArgumentError(where + ": value >= prime");
    }
  }
  return core::Status::Ok();
}

}  // namespace

uint64_t FieldAdd(uint64_t a, uint64_t b) {
  const uint64_t sum = a + b;  // < 2^62, no overflow.
  return sum >= kShamirPrime ? sum - kShamirPrime : sum;
}

uint64_t FieldSubtract(uint64_t a, uint64_t b) { return a >= b ? a - b : a + kShamirPrime - b; }

uint64_t FieldMultiply(uint64_t a, uint64_t b) {
  const Uint128 product = static_cast<Uint128>(a) * b;
  // 2^61 = 1 (mod p): fold the high part onto the low 61 bits.
  const uint64_t low = static_cast<uint64_t>(product) & kShamirPrime;
  const uint64_t high = static_cast<uint64_t>(product >> 61);
  return FieldAdd(low, high);
}

uint64_t FieldInverse(uint64_t a) {
  MELODAI_CHECK_NE(a, 0u);
  // Fermat: a^(p-2).
  uint64_t result = 1;
  uint64_t base = a;
  uint64_t exponent = kShamirPrime - 2;
  while (exponent > 0) {
    if (exponent & 1) result = FieldMultiply(result, base);
    base = FieldMultiply(base, base);
    exponent >>= 1;
  }
  MELODAI_DCHECK(FieldMultiply(result, a) == 1);
  return result;
}

std::vector<ShamirShare> ShamirSplit(std::span<const uint8_t> secret, uint32_t threshold,
                                     std::span<const uint64_t> points, RandomSource& random) {
  MELODAI_CHECK_GE(threshold, 1u);
  MELODAI_CHECK_LE(threshold, points.size());
  MELODAI_CHECK_LE(secret.size(), kShamirMaxSecretBytes);
  const size_t chunk_count = ShamirChunkCount(secret.size());
  std::vector<ShamirShare> shares(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    MELODAI_CHECK(points[i] != 0 && points[i] < kShamirPrime);
    shares[i].point = points[i];
    shares[i].values.resize(chunk_count);
  }
  std::vector<uint64_t> coefficients(threshold);
  for (size_t chunk = 0; chunk < chunk_count; ++chunk) {
    coefficients[0] = ReadChunk(secret, chunk);
    for (uint32_t c = 1; c < threshold; ++c) coefficients[c] = RandomFieldElement(random);
    for (ShamirShare& share : shares) {
      uint64_t value = 0;  // Horner's rule.
      for (uint32_t c = threshold; c-- > 0;) {
        value = FieldAdd(FieldMultiply(value, share.point), coefficients[c]);
      }
      share.values[chunk] = value;
    }
  }
  SecureWipe(std::span<uint8_t>(reinterpret_cast<uint8_t*>(coefficients.data()),
                                coefficients.size() * sizeof(uint64_t)));
  return shares;
}

core::Result<SecretBytes> ShamirCombine(std::span<const ShamirShare> shares, uint32_t threshold,
                                        size_t secret_size) {
  if (threshold == 0 || shares.size() < threshold) {
    return core::InvalidArgumentError("Shamir: " + std::to_string(shares.size()) +
                                      " shares, threshold " + std::to_string(threshold));
  }
  if (secret_size > kShamirMaxSecretBytes) {
    return core::InvalidArgumentError("Shamir: secret size " + std::to_string(secret_size));
  }
  const size_t chunk_count = ShamirChunkCount(secret_size);
  const std::span<const ShamirShare> used = shares.first(threshold);
  MELODAI_RETURN_IF_ERROR(ValidateShares(used, chunk_count));
  // Lagrange basis at zero: l_i = prod_{j != i} x_j / (x_j - x_i).
  std::vector<uint64_t> basis(used.size());
  for (size_t i = 0; i < used.size(); ++i) {
    uint64_t numerator = 1;
    uint64_t denominator = 1;
    for (size_t j = 0; j < used.size(); ++j) {
      if (j == i) continue;
      numerator = FieldMultiply(numerator, used[j].point);
      denominator = FieldMultiply(denominator, FieldSubtract(used[j].point, used[i].point));
    }
    basis[i] = FieldMultiply(numerator, FieldInverse(denominator));
  }
  SecretBytes secret(secret_size);
  for (size_t chunk = 0; chunk < chunk_count; ++chunk) {
    uint64_t value = 0;
    for (size_t i = 0; i < used.size(); ++i) {
      value = FieldAdd(value, FieldMultiply(basis[i], used[i].values[chunk]));
    }
    const size_t bytes = std::min(kShamirChunkBytes, secret_size - chunk * kShamirChunkBytes);
    if (bytes < 8 && (value >> (8 * bytes)) != 0) {
      return core::DataLossError("Shamir: rebuilt chunk " + std::to_string(chunk) +
                                 " does not fit in its bytes; a share is corrupt");
    }
    for (size_t b = 0; b < bytes; ++b) {
      secret.data()[chunk * kShamirChunkBytes + b] = static_cast<uint8_t>(value >> (8 * b));
    }
  }
  return secret;
}

}  // namespace melodai::crypto
