// MelodAI — licensed under the Apache License 2.0.
// Mask expansion and modular vector addition on 32-bit words.
#include "secagg/masking.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "core/check.h"
#include "crypto/secret.h"

namespace melodai::secagg {
namespace {

// 16 KiB of keystream per chunk: stays in L1/L2 between generation and addition.
constexpr size_t kChunkWords = 1024;

uint64_t LoadElement64(const uint32_t* words) {
  uint64_t value;
  std::memcpy(&value, words, sizeof(value));
  return value;
}

void StoreElement64(uint32_t* words, uint64_t value) { std::memcpy(words, &value, sizeof(value)); }

// Portable SIMD through the GCC/Clang vector extension (SSE2 on any x86-64, NEON on ARM):
// the compiler's -O2 cost model does not vectorize these loops by itself, and a scalar add
// would cost almost as much as the AES-NI keystream it consumes.
typedef uint32_t U32x8 __attribute__((vector_size(32)));
typedef uint64_t U64x4 __attribute__((vector_size(32)));
static_assert(sizeof(U32x8) == 32 && sizeof(U64x4) == 32);

// Adds (or subtracts) `words` words of `source` to `target`, 32 bytes at a time; `words` is a
// multiple of 8. Compiled twice (AVX2 and baseline) and picked at load time by the CPU, since
// a baseline SSE2 add costs a quarter of what the AES-NI keystream does.
#define MELODAI_COMBINE_BODY(Vector, op)                           \
  for (size_t i = 0; i + 8 <= words; i += 8) {                    \
    Vector a;                                                      \
    Vector b;                                                      \
    std::memcpy(&a, target + i, sizeof(a));                        \
    std::memcpy(&b, source + i, sizeof(b));                        \
    a = a op b;                                                    \
    std::memcpy(target + i, &a, sizeof(a));                        \
  }

#if defined(__x86_64__) && defined(__GNUC__)
#define MELODAI_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MELODAI_SIMD_CLONES
#endif

MELODAI_SIMD_CLONES void Add32(uint32_t* __restrict target, const uint32_t* __restrict source,
                               size_t words) {
  MELODAI_COMBINE_BODY(U32x8, +)
}
MELODAI_SIMD_CLONES void Subtract32(uint32_t* __restrict target, const uint32_t* __restrict source,
                                    size_t words) {
  MELODAI_COMBINE_BODY(U32x8, -)
}
MELODAI_SIMD_CLONES void Add64(uint32_t* __restrict target, const uint32_t* __restrict source,
                               size_t words) {
  MELODAI_COMBINE_BODY(U64x4, +)
}
MELODAI_SIMD_CLONES void Subtract64(uint32_t* __restrict target, const uint32_t* __restrict source,
                                    size_t words) {
  MELODAI_COMBINE_BODY(U64x4, -)
}

void Combine(uint32_t modulus_bits, MaskSign sign, uint32_t* __restrict target,
             const uint32_t* __restrict source, size_t size) {
  const size_t vector_words = size / 8 * 8;
  const bool add = sign == MaskSign::kAdd;
  if (modulus_bits == 32) {
    add ? Add32(target, source, vector_words) : Subtract32(target, source, vector_words);
    for (size_t i = vector_words; i < size; ++i) target[i] = add ? target[i] + source[i] : target[i] - source[i];
    return;
  }
  add ? Add64(target, source, vector_words) : Subtract64(target, source, vector_words);
  for (size_t i = vector_words; i < size; i += 2) {
    const uint64_t a = LoadElement64(target + i);
    const uint64_t b = LoadElement64(source + i);
    StoreElement64(target + i, add ? a + b : a - b);
  }
}

}  // namespace

uint32_t WordsPerElement(uint32_t modulus_bits) {
  MELODAI_CHECK(modulus_bits == 32 || modulus_bits == 64);
  return modulus_bits / 32;
}

void ApplyMasks(crypto::PrgKind kind, std::span<const MaskSpec> masks, uint32_t modulus_bits,
                std::span<uint32_t> words) {
  MELODAI_CHECK_EQ(words.size() % WordsPerElement(modulus_bits), 0u);
  static_assert(kChunkWords % 2 == 0, "chunks must hold whole 64-bit elements");
  std::vector<std::unique_ptr<crypto::Prg>> prgs;
  prgs.reserve(masks.size());
  for (const MaskSpec& mask : masks) prgs.push_back(crypto::Prg::Create(kind, mask.seed));
  alignas(64) std::array<uint32_t, kChunkWords> chunk;
  for (size_t offset = 0; offset < words.size(); offset += kChunkWords) {
    const size_t size = std::min(kChunkWords, words.size() - offset);
    for (size_t i = 0; i < prgs.size(); ++i) {
      prgs[i]->GenerateWords(std::span<uint32_t>(chunk.data(), size));
      Combine(modulus_bits, masks[i].sign, words.data() + offset, chunk.data(), size);
    }
  }
}

void ApplyMask(crypto::PrgKind kind, std::span<const uint8_t, crypto::kPrgSeedBytes> seed,
               uint32_t modulus_bits, MaskSign sign, std::span<uint32_t> words) {
  MaskSpec mask;
  std::copy(seed.begin(), seed.end(), mask.seed.begin());
  mask.sign = sign;
  ApplyMasks(kind, std::span<const MaskSpec>(&mask, 1), modulus_bits, words);
  crypto::SecureWipe(mask.seed);
}

void AddWords(uint32_t modulus_bits, std::span<uint32_t> target, std::span<const uint32_t> source) {
  MELODAI_CHECK_EQ(target.size(), source.size());
  MELODAI_CHECK_EQ(target.size() % WordsPerElement(modulus_bits), 0u);
  Combine(modulus_bits, MaskSign::kAdd, target.data(), source.data(), target.size());
}

std::vector<uint32_t> ElementsToWords(uint32_t modulus_bits, std::span<const uint64_t> elements) {
  const uint32_t per_element = WordsPerElement(modulus_bits);
  std::vector<uint32_t> words(elements.size() * per_element);
  for (size_t i = 0; i < elements.size(); ++i) {
    if (per_element == 1) {
      MELODAI_DCHECK(elements[i] >> 32 == 0);
      words[i] = static_cast<uint32_t>(elements[i]);
    } else {
      StoreElement64(words.data() + 2 * i, elements[i]);
    }
  }
  return words;
}

std::vector<uint64_t> WordsToElements(uint32_t modulus_bits, std::span<const uint32_t> words) {
  const uint32_t per_element = WordsPerElement(modulus_bits);
  MELODAI_CHECK_EQ(words.size() % per_element, 0u);
  std::vector<uint64_t> elements(words.size() / per_element);
  for (size_t i = 0; i < elements.size(); ++i) {
    elements[i] = per_element == 1 ? words[i] : LoadElement64(words.data() + 2 * i);
  }
  return elements;
}

}  // namespace melodai::secagg
