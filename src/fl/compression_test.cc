// MelodAI — licensed under the Apache License 2.0.
// Quantization and top-k error bounds, byte counts, and error feedback.
#include "fl/compression.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace melodai::fl {
namespace {

std::vector<float> RandomVector(size_t size, uint64_t seed) {
  core::Rng rng(seed);
  std::vector<float> values(size);
  for (float& v : values) v = static_cast<float>(rng.Normal());
  return values;
}

TEST(CompressionTest, Quantize8IsWithinOneStepPerChunk) {
  const std::vector<float> values = RandomVector(1000, 1);
  core::Rng rng(2);
  const QuantizedVector quantized = Quantize8(values, 64, rng);
  EXPECT_EQ(quantized.scales.size(), 16u);  // ceil(1000 / 64).
  EXPECT_EQ(quantized.WireBytes(), 8u + 4u * 16u + 1000u);
  std::vector<float> decoded(values.size());
  Dequantize8(quantized, decoded);
  for (size_t i = 0; i < values.size(); ++i) {
    const float scale = quantized.scales[i / 64];
    EXPECT_LE(std::abs(decoded[i] - values[i]), scale * 1.0001f) << i;
  }
}

TEST(CompressionTest, StochasticRoundingIsUnbiased) {
  // Goal: E[decode(quantize(x))] = x. Method: 4000 seeded quantizations of a fixed vector; the
  // mean error per element is far below the step (0.79/127 ≈ 0.0062 here).
  const std::vector<float> values = {0.3f, -0.77f, 0.01f, 0.79f};
  std::vector<double> mean(values.size(), 0.0);
  core::Rng rng(3);
  std::vector<float> decoded(values.size());
  const int trials = 4000;
  for (int t = 0; t < trials; ++t) {
    Dequantize8(Quantize8(values, 0, rng), decoded);
    for (size_t i = 0; i < values.size(); ++i) mean[i] += decoded[i];
  }
  for (size_t i = 0; i < values.size(); ++i) EXPECT_NEAR(mean[i] / trials, values[i], 3e-4);
}

TEST(CompressionTest, QuantizationIsDeterministicGivenTheSeed) {
  const std::vector<float> values = RandomVector(100, 4);
  core::Rng a(9);
  core::Rng b(9);
  EXPECT_EQ(Quantize8(values, 16, a).values, Quantize8(values, 16, b).values);
}

TEST(CompressionTest, TopKKeepsTheLargestMagnitudes) {
  const std::vector<float> values = {0.1f, -5.0f, 3.0f, 0.0f, -3.0f, 2.0f};
  const SparseVector sparse = TopK(values, 3);
  // |-5| > |3| = |-3| (tie -> smaller index 2) > 2.
  EXPECT_EQ(sparse.indices, (std::vector<uint32_t>{1, 2, 4}));
  EXPECT_EQ(sparse.values, (std::vector<float>{-5.0f, 3.0f, -3.0f}));
}

TEST(CompressionTest, CompressUpdateCountsBytesOfTheEncodingUsed) {
  core::Rng rng(5);
  std::vector<float> update = RandomVector(1000, 6);
  CompressionConfig dense;
  EXPECT_EQ(CompressUpdate(dense, update, {}, rng), 8u + 4000u);
  CompressionConfig q8;
  q8.quantize_bits = 8;
  q8.quantize_chunk = 256;
  EXPECT_EQ(CompressUpdate(q8, update, {}, rng), 8u + 4u * 4u + 1000u);
  CompressionConfig topk;
  topk.top_k_fraction = 0.1;
  std::vector<float> sparse_update = RandomVector(1000, 7);
  EXPECT_EQ(CompressUpdate(topk, sparse_update, {}, rng), 8u + 100u * 4u + 100u * 4u);
  size_t nonzero = 0;
  for (float v : sparse_update) nonzero += v != 0.0f ? 1 : 0;
  EXPECT_EQ(nonzero, 100u);
  topk.quantize_bits = 8;
  topk.quantize_chunk = 0;
  std::vector<float> both = RandomVector(1000, 8);
  EXPECT_EQ(CompressUpdate(topk, both, {}, rng), 8u + 400u + (8u + 4u + 100u));
}

TEST(CompressionTest, ErrorFeedbackDeliversEverythingEventually) {
  // Goal: with error feedback nothing is lost, only delayed: after T rounds,
  // sum(decoded) + residual == sum(inputs) exactly up to float rounding. Method: top-1% with
  // 8-bit values over 50 rounds of random updates.
  CompressionConfig config;
  config.top_k_fraction = 0.01;
  config.quantize_bits = 8;
  const size_t d = 500;
  std::vector<float> residual(d, 0.0f);
  std::vector<double> sent(d, 0.0);
  std::vector<double> wanted(d, 0.0);
  core::Rng rng(10);
  for (int round = 0; round < 50; ++round) {
    std::vector<float> update = RandomVector(d, 100 + round);
    for (size_t i = 0; i < d; ++i) wanted[i] += update[i];
    CompressUpdate(config, update, residual, rng);
    for (size_t i = 0; i < d; ++i) sent[i] += update[i];
  }
  for (size_t i = 0; i < d; ++i) EXPECT_NEAR(sent[i] + residual[i], wanted[i], 1e-3) << i;
}

TEST(CompressionTest, ErrorFeedbackStoreIsBoundedAndEvictsTheOldest) {
  ErrorFeedbackStore store(2);
  store.Acquire(7, 3, 1)[0] = 1.0f;
  store.Acquire(3, 3, 2)[0] = 2.0f;
  EXPECT_EQ(store.Acquire(7, 3, 3)[0], 1.0f);  // Client 7 returns: its residual persists.
  store.Acquire(9, 3, 4);                      // Full: client 3 (last seen round 2) goes.
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.Contains(3));
  EXPECT_TRUE(store.Contains(7));
  EXPECT_EQ(store.Acquire(3, 3, 5)[0], 0.0f);  // Starts from zero again.
}

TEST(CompressionTest, ConfigIsValidated) {
  CompressionConfig config;
  config.quantize_bits = 4;
  EXPECT_FALSE(ValidateCompressionConfig(config).ok());
  config = {};
  config.top_k_fraction = 0.0;
  EXPECT_FALSE(ValidateCompressionConfig(config).ok());
  config = {};
  EXPECT_FALSE(CompressionEnabled(config));
  config.quantize_bits = 8;
  EXPECT_TRUE(CompressionEnabled(config));
}

}  // namespace
}  // namespace melodai::fl
