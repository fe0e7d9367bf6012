// MelodAI — licensed under the Apache License 2.0.
// SecureWipe: libsodium's sodium_memzero behind a header that does not expose sodium.h.
#include "crypto/secret.h"

#include <sodium.h>

namespace melodai::crypto {

void SecureWipe(std::span<uint8_t> bytes) {
  // sodium_memzero needs no sodium_init() and is safe on an empty span.
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

}  // namespace melodai::crypto
