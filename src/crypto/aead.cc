// MelodAI — licensed under the Apache License 2.0.
// XChaCha20-Poly1305-IETF sealing and opening on libsodium's crypto_aead_* functions.
#include "crypto/aead.h"

#include <sodium.h>

#include <string>

#include "core/check.h"
#include "crypto/internal/sodium_init.h"

namespace melodai::crypto {

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kAeadKeyBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == kAeadNonceBytes);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == kAeadTagBytes);

std::vector<uint8_t> AeadSeal(const SecretBytes& key, std::span<const uint8_t> plaintext,
                              std::span<const uint8_t> associated_data, RandomSource& random) {
  internal::EnsureSodiumInitialized();
  MELODAI_CHECK_EQ(key.size(), kAeadKeyBytes);
  std::vector<uint8_t> sealed(plaintext.size() + kAeadOverheadBytes);
  random.Fill(std::span<uint8_t>(sealed.data(), kAeadNonceBytes));
  unsigned long long ciphertext_size = 0;
  const int result = crypto_aead_xchacha20poly1305_ietf_encrypt(
      sealed.data() + kAeadNonceBytes, &ciphertext_size, plaintext.data(), plaintext.size(),
      associated_data.data(), associated_data.size(), nullptr, sealed.data(), key.data());
  MELODAI_CHECK_EQ(result, 0);
  MELODAI_CHECK_EQ(ciphertext_size + kAeadNonceBytes, sealed.size());
  return sealed;
}

core::Result<SecretBytes> AeadOpen(const SecretBytes& key, std::span<const uint8_t> sealed,
                                   std::span<const uint8_t> associated_data) {
  internal::EnsureSodiumInitialized();
  MELODAI_CHECK_EQ(key.size(), kAeadKeyBytes);
  if (sealed.size() < kAeadOverheadBytes) {
    return core::DataLossError("sealed message of " + std::to_string(sealed.size()) +
                               " bytes is shorter than the AEAD overhead");
  }
  SecretBytes plaintext(sealed.size() - kAeadOverheadBytes);
  unsigned long long plaintext_size = 0;
  const int result = crypto_aead_xchacha20poly1305_ietf_decrypt(
      plaintext.data(), &plaintext_size, nullptr, sealed.data() + kAeadNonceBytes,
      sealed.size() - kAeadNonceBytes, associated_data.data(), associated_data.size(),
      sealed.data(), key.data());
  if (result != 0) return core::DataLossError("AEAD authentication failed");
  MELODAI_CHECK_EQ(plaintext_size, plaintext.size());
  return plaintext;
}

}  // namespace melodai::crypto
