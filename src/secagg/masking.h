// MelodAI — licensed under the Apache License 2.0.
// The arithmetic kernels of secure aggregation: expanding a PRG seed into a mask and adding or
// subtracting it in place modulo 2^32 or 2^64, adding vectors, and converting between element
// values and the 32-bit wire words (an element of b bits is b / 32 little-endian words).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "crypto/prg.h"

namespace melodai::secagg {

enum class MaskSign : uint8_t { kAdd, kSubtract };

// Words per element for `modulus_bits` (1 for 32, 2 for 64). REQUIRES: 32 or 64.
uint32_t WordsPerElement(uint32_t modulus_bits);

// One mask to apply: the PRG seed and whether the mask is added or subtracted.
struct MaskSpec {
  std::array<uint8_t, crypto::kPrgSeedBytes> seed{};
  MaskSign sign = MaskSign::kAdd;
};

// words += sum_i masks[i].sign * PRG(masks[i].seed) modulo 2^modulus_bits, chunk-major: each
// cache-sized chunk of `words` receives the keystream of every mask before the next chunk, so
// the target stays in L1 and the cost is close to the keystreams alone. Callers wipe `masks`.
// REQUIRES: as ApplyMask. Thread-safe.
void ApplyMasks(crypto::PrgKind kind, std::span<const MaskSpec> masks, uint32_t modulus_bits,
                std::span<uint32_t> words);

// words += sign * PRG(seed) element-wise modulo 2^modulus_bits. The keystream is generated in
// cache-sized chunks and added at once, so the cost is close to the keystream alone.
// REQUIRES: modulus_bits 32 or 64; words.size() a multiple of WordsPerElement. Thread-safe.
void ApplyMask(crypto::PrgKind kind, std::span<const uint8_t, crypto::kPrgSeedBytes> seed,
               uint32_t modulus_bits, MaskSign sign, std::span<uint32_t> words);

// target += source element-wise modulo 2^modulus_bits.
// REQUIRES: equal sizes, a multiple of WordsPerElement. Thread-safe.
void AddWords(uint32_t modulus_bits, std::span<uint32_t> target, std::span<const uint32_t> source);

// Element values (each < 2^modulus_bits) to wire words and back.
std::vector<uint32_t> ElementsToWords(uint32_t modulus_bits, std::span<const uint64_t> elements);
std::vector<uint64_t> WordsToElements(uint32_t modulus_bits, std::span<const uint32_t> words);

}  // namespace melodai::secagg
