// MelodAI — licensed under the Apache License 2.0.
// Ed25519 key pairs, signing and verification on libsodium's crypto_sign_* functions.
#include "crypto/ed25519.h"

#include <sodium.h>

#include <algorithm>

#include "core/check.h"
#include "crypto/internal/sodium_init.h"

namespace melodai::crypto {

static_assert(crypto_sign_SEEDBYTES == 32);
static_assert(crypto_sign_PUBLICKEYBYTES == 32);
static_assert(crypto_sign_SECRETKEYBYTES == 64);
static_assert(crypto_sign_BYTES == 64);

Ed25519KeyPair Ed25519KeyPair::FromSeed(std::span<const uint8_t, 32> seed) {
  internal::EnsureSodiumInitialized();
  Ed25519KeyPair pair;
  pair.secret_key_ = SecretBytes(crypto_sign_SECRETKEYBYTES);
  const int result =
      crypto_sign_seed_keypair(pair.public_key_.bytes.data(), pair.secret_key_.data(), seed.data());
  MELODAI_CHECK_EQ(result, 0);
  MELODAI_CHECK(std::equal(pair.public_key_.bytes.begin(), pair.public_key_.bytes.end(),
                           pair.secret_key_.data() + 32));
  return pair;
}

Ed25519KeyPair Ed25519KeyPair::Generate(RandomSource& random) {
  SecretBytes seed(32);
  random.Fill(seed.mutable_span());
  return FromSeed(std::span<const uint8_t, 32>(seed.data(), 32));
}

std::array<uint8_t, 32> Ed25519KeyPair::seed() const {
  MELODAI_CHECK_EQ(secret_key_.size(), 64u);
  std::array<uint8_t, 32> seed{};
  std::copy_n(secret_key_.data(), 32, seed.begin());
  return seed;
}

Ed25519Signature Ed25519KeyPair::Sign(std::span<const uint8_t> message) const {
  MELODAI_CHECK_EQ(secret_key_.size(), 64u);
  Ed25519Signature signature{};
  const int result = crypto_sign_detached(signature.data(), nullptr, message.data(),
                                          message.size(), secret_key_.data());
  MELODAI_CHECK_EQ(result, 0);
  return signature;
}

bool Ed25519Verify(const Ed25519PublicKey& key, std::span<const uint8_t> message,
                   const Ed25519Signature& signature) {
  internal::EnsureSodiumInitialized();
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     key.bytes.data()) == 0;
}

}  // namespace melodai::crypto
