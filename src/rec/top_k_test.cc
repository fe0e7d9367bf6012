// MelodAI — licensed under the Apache License 2.0.
// Unit tests of top-k selection: hand-made cases for ties, exclusions, short catalogues and
// NaN, then seeded random comparisons with a full sort, and an informational timing on a
// catalogue of 130k items (printed, never asserted).
#include "rec/top_k.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"

namespace melodai::rec {
namespace {

using data::ItemId;

constexpr float kInfinity = std::numeric_limits<float>::infinity();

std::vector<ItemId> Items(std::span<const ScoredItem> selected) {
  std::vector<ItemId> items;
  for (const ScoredItem& entry : selected) items.push_back(entry.item);
  return items;
}

std::vector<ItemId> SelectItems(const std::vector<float>& scores,
                                const std::vector<uint8_t>& excluded, size_t k) {
  std::vector<ScoredItem> out(k);
  const size_t count = SelectTopK(scores, excluded, k, out);
  return Items(std::span<const ScoredItem>(out).first(count));
}

// The reference: sort every non-excluded item (NaN as -infinity) and keep the first k.
std::vector<ScoredItem> ReferenceTopK(const std::vector<float>& scores,
                                      const std::vector<uint8_t>& excluded, size_t k) {
  std::vector<ScoredItem> all;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (!excluded.empty() && excluded[i] != 0) continue;
    const float score = std::isnan(scores[i]) ? -kInfinity : scores[i];
    all.push_back({score, static_cast<ItemId>(i)});
  }
  std::sort(all.begin(), all.end(), RanksBefore);
  all.resize(std::min(k, all.size()));
  return all;
}

TEST(SelectTopKTest, HigherScoreFirstThenLowerId) {
  // Items 1 and 3 tie at 0.9: the lower id (1) ranks first; then 4 (0.7).
  const std::vector<float> scores = {0.5f, 0.9f, 0.1f, 0.9f, 0.7f};
  EXPECT_EQ(SelectItems(scores, {}, 3), (std::vector<ItemId>{1, 3, 4}));
  EXPECT_EQ(SelectItems(scores, {}, 1), (std::vector<ItemId>{1}));
  // All equal: ids in increasing order.
  EXPECT_EQ(SelectItems(std::vector<float>(6, 2.0f), {}, 3), (std::vector<ItemId>{0, 1, 2}));
}

TEST(SelectTopKTest, ReturnsScoresBestFirst) {
  const std::vector<float> scores = {0.5f, 0.9f, 0.1f, 0.9f, 0.7f};
  std::vector<ScoredItem> out(2);
  ASSERT_EQ(SelectTopK(scores, {}, 2, out), 2u);
  EXPECT_EQ(out[0], (ScoredItem{0.9f, 1}));
  EXPECT_EQ(out[1], (ScoredItem{0.9f, 3}));
}

TEST(SelectTopKTest, SkipsExcludedItems) {
  const std::vector<float> scores = {0.5f, 0.9f, 0.1f, 0.9f, 0.7f};
  // Excluding item 1 promotes 3, 4 and then 0.
  EXPECT_EQ(SelectItems(scores, {0, 1, 0, 0, 0}, 3), (std::vector<ItemId>{3, 4, 0}));
  // Excluding every item yields an empty list.
  EXPECT_TRUE(SelectItems(scores, std::vector<uint8_t>(5, 1), 3).empty());
}

TEST(SelectTopKTest, KLargerThanAvailableAndKZero) {
  const std::vector<float> scores = {0.5f, 0.9f, 0.1f, 0.9f, 0.7f};
  // Two of five excluded, k = 10: the three left, fully sorted.
  EXPECT_EQ(SelectItems(scores, {1, 0, 0, 1, 0}, 10), (std::vector<ItemId>{1, 4, 2}));
  EXPECT_TRUE(SelectItems(scores, {}, 0).empty());
  EXPECT_TRUE(SelectItems({}, {}, 4).empty());
}

TEST(SelectTopKTest, NanRanksLikeNegativeInfinity) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // Item 2 (1.0) first; NaN (0, 3) and -inf (1) tie at the bottom, broken by id.
  const std::vector<float> scores = {nan, -kInfinity, 1.0f, nan};
  EXPECT_EQ(SelectItems(scores, {}, 4), (std::vector<ItemId>{2, 0, 1, 3}));
  EXPECT_EQ(SelectItems(scores, {}, 2), (std::vector<ItemId>{2, 0}));
  // A NaN met after the heap is full never enters it.
  EXPECT_EQ(SelectItems({1.0f, 2.0f, nan, 0.5f}, {}, 2), (std::vector<ItemId>{1, 0}));
}

TEST(SelectTopKExcludingSortedTest, MatchesHandCase) {
  const std::vector<float> scores = {0.5f, 0.9f, 0.1f, 0.9f, 0.7f};
  std::vector<ScoredItem> out(3);
  // Exclusions at both ends and a duplicate: items 0, 1 and 4 removed, leaving 3 then 2.
  const std::vector<ItemId> excluded = {0, 1, 1, 4};
  const size_t count = SelectTopKExcludingSorted(scores, excluded, 3, out);
  EXPECT_EQ(Items(std::span<const ScoredItem>(out).first(count)), (std::vector<ItemId>{3, 2}));
}

// Goal: both selection functions agree with a full sort on many random inputs. Method:
// seeded random scores drawn from few distinct values (many ties, some NaN), random masks
// and k from 0 to beyond the catalogue size; the excluded-list variant gets the same set.
TEST(SelectTopKTest, MatchesFullSortOnRandomInputs) {
  core::Rng rng(20240611);
  for (int round = 0; round < 300; ++round) {
    const size_t size = rng.Uniform(400);
    const size_t k = rng.Uniform(60);
    std::vector<float> scores(size);
    std::vector<uint8_t> mask(size, 0);
    std::vector<ItemId> excluded;
    for (size_t i = 0; i < size; ++i) {
      scores[i] = static_cast<float>(rng.Uniform(12)) * 0.25f - 1.0f;
      if (rng.Bernoulli(0.02)) scores[i] = std::numeric_limits<float>::quiet_NaN();
      if (rng.Bernoulli(0.2)) {
        mask[i] = 1;
        excluded.push_back(static_cast<ItemId>(i));
      }
    }
    const std::vector<ScoredItem> expected = ReferenceTopK(scores, mask, k);
    std::vector<ScoredItem> out(k);
    const size_t count = SelectTopK(scores, mask, k, out);
    ASSERT_EQ(std::vector<ScoredItem>(out.begin(), out.begin() + count), expected)
        << "round " << round;
    std::fill(out.begin(), out.end(), ScoredItem{});
    const size_t listed = SelectTopKExcludingSorted(scores, excluded, k, out);
    ASSERT_EQ(std::vector<ScoredItem>(out.begin(), out.begin() + listed), expected)
        << "round " << round;
  }
}

// Informational: selection speed on a catalogue the size of the Million Playlist Dataset
// after preprocessing (~130k items), checked once against the full sort.
TEST(SelectTopKTest, TimingOnLargeCatalogue) {
  constexpr size_t kItems = 130'000;
  constexpr int kCalls = 200;
  core::Rng rng(7);
  std::vector<float> scores(kItems);
  for (float& score : scores) score = static_cast<float>(rng.UniformDouble());
  std::vector<uint8_t> mask(kItems, 0);
  for (int i = 0; i < 50; ++i) mask[rng.Uniform(kItems)] = 1;
  for (const size_t k : {size_t{20}, size_t{500}}) {
    std::vector<ScoredItem> out(k);
    ASSERT_EQ(SelectTopK(scores, mask, k, out), k);
    ASSERT_EQ(out, ReferenceTopK(scores, mask, k));
    const core::Stopwatch stopwatch;
    size_t checksum = 0;
    for (int call = 0; call < kCalls; ++call) {
      // Vary the input between calls without changing its distribution.
      scores[rng.Uniform(kItems)] = static_cast<float>(rng.UniformDouble());
      checksum += SelectTopK(scores, mask, k, out) + out[0].item;
    }
    const double micros = stopwatch.ElapsedSeconds() * 1e6 / kCalls;
    std::printf(
        "[ info     ] SelectTopK over %zu items, k = %zu, mask: %.1f us per call "
        "(%.0f M items/s)\n",
        kItems, k, micros, static_cast<double>(kItems) / micros);
    EXPECT_GT(checksum, 0u);
  }
}

}  // namespace
}  // namespace melodai::rec
