// MelodAI — licensed under the Apache License 2.0.
// Authenticated encryption with XChaCha20-Poly1305 (libsodium, IETF construction): a random
// 24-byte nonce travels in front of the ciphertext, so callers never manage nonces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "crypto/random_source.h"
#include "crypto/secret.h"

namespace melodai::crypto {

inline constexpr size_t kAeadKeyBytes = 32;
inline constexpr size_t kAeadNonceBytes = 24;
inline constexpr size_t kAeadTagBytes = 16;
// Sealed size = plaintext size + kAeadOverheadBytes.
inline constexpr size_t kAeadOverheadBytes = kAeadNonceBytes + kAeadTagBytes;

// Encrypts and authenticates `plaintext` and authenticates `associated_data` under `key`;
// returns nonce || ciphertext || tag. REQUIRES: key.size() == kAeadKeyBytes. Thread-safe if
// `random` is.
std::vector<uint8_t> AeadSeal(const SecretBytes& key, std::span<const uint8_t> plaintext,
                              std::span<const uint8_t> associated_data, RandomSource& random);

// Inverse of AeadSeal. Returns kDataLoss when `sealed` is shorter than the overhead or fails
// authentication (wrong key, altered bytes or other associated data).
// REQUIRES: key.size() == kAeadKeyBytes. Thread-safe.
core::Result<SecretBytes> AeadOpen(const SecretBytes& key, std::span<const uint8_t> sealed,
                                   std::span<const uint8_t> associated_data);

}  // namespace melodai::crypto
