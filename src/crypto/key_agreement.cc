// MelodAI — licensed under the Apache License 2.0.
// X25519 (libsodium crypto_scalarmult) and the BLAKE2b key-derivation step.
#include "crypto/key_agreement.h"

#include <sodium.h>

#include "core/check.h"
#include "crypto/hash.h"
#include "crypto/internal/sodium_init.h"

namespace melodai::crypto {

static_assert(crypto_scalarmult_BYTES == kX25519KeyBytes);
static_assert(crypto_scalarmult_SCALARBYTES == kX25519KeyBytes);

X25519KeyPair X25519KeyPair::Generate(RandomSource& random) {
  SecretBytes secret(kX25519KeyBytes);
  random.Fill(secret.mutable_span());
  return FromSecretKey(std::span<const uint8_t, kX25519KeyBytes>(secret.data(), kX25519KeyBytes));
}

X25519KeyPair X25519KeyPair::FromSecretKey(std::span<const uint8_t, kX25519KeyBytes> secret_key) {
  internal::EnsureSodiumInitialized();
  X25519KeyPair pair;
  pair.secret_key_ = SecretBytes(secret_key);
  const int result = crypto_scalarmult_base(pair.public_key_.bytes.data(), pair.secret_key_.data());
  MELODAI_CHECK_EQ(result, 0);
  return pair;
}

core::Result<SecretBytes> X25519DeriveSharedKey(const X25519KeyPair& mine,
                                                const X25519PublicKey& theirs,
                                                std::span<const uint8_t> context) {
  internal::EnsureSodiumInitialized();
  SecretBytes shared(crypto_scalarmult_BYTES);
  if (crypto_scalarmult(shared.data(), mine.secret_key().data(), theirs.bytes.data()) != 0) {
    return core::InvalidArgumentError("X25519 peer public key is a low-order point");
  }
  const X25519PublicKey& lower = mine.public_key() < theirs ? mine.public_key() : theirs;
  const X25519PublicKey& higher = mine.public_key() < theirs ? theirs : mine.public_key();
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>(uint64_t{context.size()} >> (8 * i));
  Blake2bHasher hasher;
  hasher.Update(length);
  hasher.Update(context);
  hasher.Update(shared.span());
  hasher.Update(lower.bytes);
  hasher.Update(higher.bytes);
  Digest32 digest = hasher.Finish();
  SecretBytes key(digest);
  SecureWipe(digest);
  return key;
}

}  // namespace melodai::crypto
