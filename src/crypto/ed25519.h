// MelodAI — licensed under the Apache License 2.0.
// Ed25519 signatures (RFC 8032) through libsodium: key pairs from a 32-byte seed or from a
// RandomSource, detached signing and verification. Used for transactions, consensus messages
// and peer authentication.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <span>

#include "crypto/random_source.h"
#include "crypto/secret.h"

namespace melodai::crypto {

struct Ed25519PublicKey {
  std::array<uint8_t, 32> bytes{};
  friend auto operator<=>(const Ed25519PublicKey&, const Ed25519PublicKey&) = default;
};
using Ed25519Signature = std::array<uint8_t, 64>;

// Invariants: secret_key_ holds libsodium's 64-byte secret key (seed || public key) and
// public_key_ equals its second half. Move-only; the secret part is wiped on destruction.
// Const methods are thread-safe.
class Ed25519KeyPair {
 public:
  // The RFC 8032 key pair of `seed`. Deterministic.
  static Ed25519KeyPair FromSeed(std::span<const uint8_t, 32> seed);
  // A fresh key pair from 32 bytes of `random`.
  static Ed25519KeyPair Generate(RandomSource& random);

  Ed25519KeyPair(Ed25519KeyPair&&) noexcept = default;
  Ed25519KeyPair& operator=(Ed25519KeyPair&&) noexcept = default;
  Ed25519KeyPair(const Ed25519KeyPair&) = delete;
  Ed25519KeyPair& operator=(const Ed25519KeyPair&) = delete;

  const Ed25519PublicKey& public_key() const { return public_key_; }
  // The 32-byte seed, for key files. The caller must protect and wipe the copy.
  std::array<uint8_t, 32> seed() const;
  // The deterministic RFC 8032 signature of `message`.
  Ed25519Signature Sign(std::span<const uint8_t> message) const;

 private:
  Ed25519KeyPair() = default;
  Ed25519PublicKey public_key_;
  SecretBytes secret_key_;
};

// True when `signature` is a valid signature of `message` under `key`; false for any invalid
// key, signature or message (never aborts on hostile input). Thread-safe.
bool Ed25519Verify(const Ed25519PublicKey& key, std::span<const uint8_t> message,
                   const Ed25519Signature& signature);

}  // namespace melodai::crypto
