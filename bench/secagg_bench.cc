// MelodAI — licensed under the Apache License 2.0.
// Google Benchmark of the secure-aggregation hot paths: PRG keystream (ChaCha20, AES-128-CTR)
// in the chunk size masking uses, masking (keystream plus modular add) on a 4 MB vector, and
// X25519 key agreement with its KDF. Compare masking with the keystream bound of its PRG.
#include <benchmark/benchmark.h>

#include <array>
#include <vector>

#include "crypto/hash.h"
#include "crypto/key_agreement.h"
#include "crypto/prg.h"
#include "crypto/random_source.h"
#include "secagg/masking.h"

namespace {

using melodai::crypto::PrgKind;

constexpr size_t kVectorWords = 1 << 20;  // 4 MiB of 32-bit elements.
constexpr size_t kChunkWords = 1024;      // The chunk ApplyMask generates at a time.

std::array<uint8_t, 32> Seed() {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i * 13 + 1);
  return seed;
}

// Keystream bound: the same bytes as one masking pass, generated into a reused 16 KiB chunk.
void BM_PrgKeystream(benchmark::State& state) {
  const auto kind = static_cast<PrgKind>(state.range(0));
  std::vector<uint32_t> chunk(kChunkWords);
  for (auto _ : state) {
    auto prg = melodai::crypto::Prg::Create(kind, Seed());
    for (size_t offset = 0; offset < kVectorWords; offset += kChunkWords) {
      prg->GenerateWords(chunk);
      benchmark::DoNotOptimize(chunk.data());
    }
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kVectorWords * 4);
  state.SetLabel(std::string(melodai::crypto::PrgKindName(kind)));
}
BENCHMARK(BM_PrgKeystream)->Arg(static_cast<int>(PrgKind::kChaCha20))->Arg(static_cast<int>(PrgKind::kAes128Ctr));

// Client masking: keystream plus add modulo 2^bits into a 4 MiB vector.
void BM_Masking(benchmark::State& state) {
  const auto kind = static_cast<PrgKind>(state.range(0));
  const auto bits = static_cast<uint32_t>(state.range(1));
  std::vector<uint32_t> words(kVectorWords, 1);
  for (auto _ : state) {
    melodai::secagg::ApplyMask(kind, Seed(), bits, melodai::secagg::MaskSign::kAdd, words);
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kVectorWords * 4);
  state.SetLabel(std::string(melodai::crypto::PrgKindName(kind)) + " mod 2^" + std::to_string(bits));
}
BENCHMARK(BM_Masking)
    ->Args({static_cast<int>(PrgKind::kChaCha20), 32})
    ->Args({static_cast<int>(PrgKind::kAes128Ctr), 32})
    ->Args({static_cast<int>(PrgKind::kAes128Ctr), 64});

// A client's masking pass: self mask plus 15 pairwise masks (a SecAgg+ neighbourhood) applied
// chunk-major to a 4 MiB vector. Bytes processed = keystream bytes, so the rate compares
// directly with BM_PrgKeystream.
void BM_MaskingSixteenMasks(benchmark::State& state) {
  const auto kind = static_cast<PrgKind>(state.range(0));
  const auto bits = static_cast<uint32_t>(state.range(1));
  std::vector<melodai::secagg::MaskSpec> masks(16);
  for (size_t i = 0; i < masks.size(); ++i) {
    masks[i].seed = Seed();
    masks[i].seed[0] = static_cast<uint8_t>(i);
    masks[i].sign = i % 2 == 0 ? melodai::secagg::MaskSign::kAdd : melodai::secagg::MaskSign::kSubtract;
  }
  std::vector<uint32_t> words(kVectorWords, 1);
  for (auto _ : state) {
    melodai::secagg::ApplyMasks(kind, masks, bits, words);
    benchmark::DoNotOptimize(words.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * kVectorWords * 4 * 16);
  state.SetLabel(std::string(melodai::crypto::PrgKindName(kind)) + " mod 2^" + std::to_string(bits));
}
BENCHMARK(BM_MaskingSixteenMasks)
    ->Args({static_cast<int>(PrgKind::kChaCha20), 32})
    ->Args({static_cast<int>(PrgKind::kAes128Ctr), 32})
    ->Args({static_cast<int>(PrgKind::kAes128Ctr), 64});

// One X25519 agreement plus the BLAKE2b KDF, as done per neighbour and purpose.
void BM_X25519SharedKey(benchmark::State& state) {
  melodai::crypto::DeterministicRandomSource random(1);
  const auto mine = melodai::crypto::X25519KeyPair::Generate(random);
  const auto theirs = melodai::crypto::X25519KeyPair::Generate(random);
  const auto context = melodai::crypto::AsBytes("bench");
  for (auto _ : state) {
    auto key = melodai::crypto::X25519DeriveSharedKey(mine, theirs.public_key(), context);
    benchmark::DoNotOptimize(key.ok());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_X25519SharedKey);

}  // namespace

BENCHMARK_MAIN();
