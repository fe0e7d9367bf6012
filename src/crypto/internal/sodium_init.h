// MelodAI — licensed under the Apache License 2.0.
// One-time, thread-safe libsodium initialisation shared by every crypto source file, so that
// callers of the public crypto API need no set-up call of their own.
#pragma once

namespace melodai::crypto::internal {

// Calls sodium_init() exactly once per process (a function-local static); aborts when
// libsodium cannot initialise, since no cryptographic operation could then be trusted.
// Thread-safe.
void EnsureSodiumInitialized();

}  // namespace melodai::crypto::internal
