// MelodAI — licensed under the Apache License 2.0.
// Cryptographic pseudo-random generators that expand a 32-byte seed into a long keystream,
// for the masks of secure aggregation. Two backends behind one interface: ChaCha20 (libsodium)
// and AES-128-CTR (OpenSSL EVP, fast on AES-NI). Never a non-cryptographic generator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/status.h"

namespace melodai::crypto {

inline constexpr size_t kPrgSeedBytes = 32;

enum class PrgKind : uint8_t {
  kChaCha20 = 1,   // IETF ChaCha20, key = seed, nonce = 0, block counter from 0.
  kAes128Ctr = 2,  // AES-128-CTR, key = seed[0, 16), initial counter block = seed[16, 32).
};

// "chacha" or "aes".
std::string_view PrgKindName(PrgKind kind);
// Parses "chacha"/"chacha20" or "aes"/"aes-ctr"; kInvalidArgument otherwise.
core::Result<PrgKind> ParsePrgKind(std::string_view name);

// A keystream generator. Successive Generate calls continue the same stream, so the output
// does not depend on how requests are split. Each seed must serve a single purpose (derive it
// through a KDF with a context), since the nonce is fixed.
// Not thread-safe; the seed is wiped when the object is destroyed.
class Prg {
 public:
  // A generator of kind `kind` keyed by `seed`. Never fails (aborts only if the crypto
  // library cannot allocate a context).
  static std::unique_ptr<Prg> Create(PrgKind kind, std::span<const uint8_t, kPrgSeedBytes> seed);
  virtual ~Prg() = default;

  virtual PrgKind kind() const = 0;
  // Writes the next out.size() keystream bytes. REQUIRES: fewer than 2^38 bytes in total for
  // ChaCha20 (its 32-bit block counter).
  virtual void Generate(std::span<uint8_t> out) = 0;
  // The next keystream bytes as little-endian words (a uniform word each).
  void GenerateWords(std::span<uint32_t> out);
  void GenerateWords(std::span<uint64_t> out);
};

}  // namespace melodai::crypto
