// MelodAI — licensed under the Apache License 2.0.
// X25519 key agreement with a BLAKE2b key-derivation step: both parties of a pair derive the
// same 32-byte key, bound to a caller-chosen context (protocol, round, purpose) and to both
// public keys. Used by secure aggregation for pairwise masks and share encryption.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>

#include "core/status.h"
#include "crypto/random_source.h"
#include "crypto/secret.h"

namespace melodai::crypto {

inline constexpr size_t kX25519KeyBytes = 32;

struct X25519PublicKey {
  std::array<uint8_t, kX25519KeyBytes> bytes{};
  friend auto operator<=>(const X25519PublicKey&, const X25519PublicKey&) = default;
};

// Invariants: secret_key_ holds 32 bytes; public_key_ = X25519(secret_key_, base point).
// Move-only; the secret is wiped on destruction. Const methods are thread-safe.
class X25519KeyPair {
 public:
  // A fresh key pair from 32 bytes of `random`.
  static X25519KeyPair Generate(RandomSource& random);
  // The key pair of a known secret (for example one rebuilt from Shamir shares).
  static X25519KeyPair FromSecretKey(std::span<const uint8_t, kX25519KeyBytes> secret_key);

  X25519KeyPair(X25519KeyPair&&) noexcept = default;
  X25519KeyPair& operator=(X25519KeyPair&&) noexcept = default;
  X25519KeyPair(const X25519KeyPair&) = delete;
  X25519KeyPair& operator=(const X25519KeyPair&) = delete;

  const X25519PublicKey& public_key() const { return public_key_; }
  // The raw secret scalar; borrowed, valid while this object lives.
  std::span<const uint8_t, kX25519KeyBytes> secret_key() const {
    return std::span<const uint8_t, kX25519KeyBytes>(secret_key_.data(), kX25519KeyBytes);
  }

 private:
  X25519KeyPair() = default;
  X25519PublicKey public_key_;
  SecretBytes secret_key_;
};

// Derives the 32-byte key shared by `mine` and the owner of `theirs`:
// BLAKE2b-256(context_length u64 || context || X25519(mine, theirs) || lower key || higher key),
// the two public keys sorted so that both sides compute the same value.
// Returns kInvalidArgument when `theirs` is a low-order point (the shared secret would be all
// zeros) — a malicious peer's key, never a programmer error. Thread-safe.
core::Result<SecretBytes> X25519DeriveSharedKey(const X25519KeyPair& mine,
                                                const X25519PublicKey& theirs,
                                                std::span<const uint8_t> context);

}  // namespace melodai::crypto
