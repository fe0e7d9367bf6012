// MelodAI — licensed under the Apache License 2.0.
// The single place that calls sodium_init(); every libsodium wrapper calls
// EnsureSodiumInitialized() first.
#include "crypto/internal/sodium_init.h"

#include <sodium.h>

#include "core/check.h"

namespace melodai::crypto::internal {

void EnsureSodiumInitialized() {
  // C++ guarantees thread-safe initialisation of function-local statics.
  static const int kInitResult = sodium_init();
  MELODAI_CHECK_MSG(kInitResult >= 0, "libsodium failed to initialise");
}

}  // namespace melodai::crypto::internal
