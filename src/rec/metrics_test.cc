// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the ranking and beyond-accuracy metrics. Every expected value is worked out
// by hand in the comment beside it, so a change of definition shows up as a failing case.
#include "rec/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace melodai::rec {
namespace {

using data::ItemId;
using Ids = std::vector<ItemId>;

constexpr double kTolerance = 1e-12;

// The running example of the metric comments: ranked [5, 3, 9, 1], relevant {3, 1}.
const Ids kRanked = {5, 3, 9, 1};
const Ids kRelevant = {3, 1};

// Five items by artists A, A, B, C, B (artist ids 0, 0, 1, 2, 1).
data::Catalog FiveItemCatalog() {
  data::Catalog catalog;
  const char* artists[] = {"A", "A", "B", "C", "B"};
  for (int i = 0; i < 5; ++i) {
    catalog.AddItem("uri:" + std::to_string(i), "track " + std::to_string(i), artists[i]);
  }
  return catalog;
}

TEST(PrecisionAtKTest, HandComputedCases) {
  // Top-4 [5,3,9,1] holds 3 and 1: 2 / 4.
  EXPECT_NEAR(PrecisionAtK(kRanked, kRelevant, 4), 0.5, kTolerance);
  // Top-2 [5,3] holds 3: 1 / 2.
  EXPECT_NEAR(PrecisionAtK(kRanked, kRelevant, 2), 0.5, kTolerance);
  // Top-1 [5] holds nothing.
  EXPECT_NEAR(PrecisionAtK(kRanked, kRelevant, 1), 0.0, kTolerance);
  // k larger than the list: [7,2] vs {2,4,6} has 1 hit, divided by k = 5, not by 2.
  EXPECT_NEAR(PrecisionAtK(Ids{7, 2}, Ids{2, 4, 6}, 5), 0.2, kTolerance);
}

TEST(PrecisionAtKTest, EdgeCases) {
  EXPECT_EQ(PrecisionAtK(kRanked, Ids{}, 4), 0.0);
  EXPECT_EQ(PrecisionAtK(kRanked, kRelevant, 0), 0.0);
  EXPECT_EQ(PrecisionAtK(Ids{}, kRelevant, 3), 0.0);
}

TEST(RecallAtKTest, HandComputedCases) {
  // Top-2 [5,3] finds 3 of {3,1}: 1 / 2; top-4 finds both: 2 / 2.
  EXPECT_NEAR(RecallAtK(kRanked, kRelevant, 2), 0.5, kTolerance);
  EXPECT_NEAR(RecallAtK(kRanked, kRelevant, 4), 1.0, kTolerance);
  // k = 5 beyond the list [7,2]: finds 2 of {2,4,6}: 1 / 3.
  EXPECT_NEAR(RecallAtK(Ids{7, 2}, Ids{2, 4, 6}, 5), 1.0 / 3.0, kTolerance);
}

TEST(RecallAtKTest, EdgeCasesAndSortedOrUnsortedRelevant) {
  EXPECT_EQ(RecallAtK(kRanked, Ids{}, 4), 0.0);
  EXPECT_EQ(RecallAtK(kRanked, kRelevant, 0), 0.0);
  // A relevant item absent from the list counts as a miss: {3, 8} -> 1 / 2.
  EXPECT_NEAR(RecallAtK(kRanked, Ids{3, 8}, 4), 0.5, kTolerance);
  // The sorted set takes the binary-search path, the unsorted one the linear path.
  EXPECT_EQ(RecallAtK(kRanked, Ids{1, 3}, 2), RecallAtK(kRanked, Ids{3, 1}, 2));
}

TEST(NdcgAtKTest, HandComputedCases) {
  // Hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5) = 0.630930 + 0.430677 = 1.061606;
  // IDCG over min(2, 4) = 2 ranks = 1 + 1/log2(3) = 1.630930; NDCG = 0.650921.
  EXPECT_NEAR(NdcgAtK(kRanked, kRelevant, 4),
              (1 / std::log2(3.0) + 1 / std::log2(5.0)) / (1 + 1 / std::log2(3.0)), kTolerance);
  EXPECT_NEAR(NdcgAtK(kRanked, kRelevant, 4), 0.6509209298071326, 1e-12);
  // Perfect order [3,1,5]: DCG = IDCG, NDCG = 1.
  EXPECT_NEAR(NdcgAtK(Ids{3, 1, 5}, kRelevant, 3), 1.0, kTolerance);
  // k = 2 below |R| = 4: [2,7] hits at rank 1: DCG = 1; IDCG over min(4, 2) = 2 ranks =
  // 1 + 1/log2(3) = 1.630930; NDCG = 0.613147.
  EXPECT_NEAR(NdcgAtK(Ids{2, 7, 4}, Ids{2, 4, 6, 8}, 2), 0.6131471927654584, 1e-12);
}

TEST(NdcgAtKTest, KLargerThanListAndEdgeCases) {
  // [7,2] vs {2,4,6}, k = 5: DCG = 1/log2(3) = 0.630930; IDCG over min(3, 5) = 3 ranks =
  // 1 + 0.630930 + 1/log2(4) = 2.130930; NDCG = 0.296082.
  EXPECT_NEAR(NdcgAtK(Ids{7, 2}, Ids{2, 4, 6}, 5), 0.2960819109658652, 1e-12);
  EXPECT_EQ(NdcgAtK(kRanked, Ids{}, 4), 0.0);
  EXPECT_EQ(NdcgAtK(kRanked, kRelevant, 0), 0.0);
  EXPECT_EQ(NdcgAtK(Ids{}, kRelevant, 4), 0.0);
}

TEST(AveragePrecisionAtKTest, HandComputedCases) {
  // Hits at rank 2 (precision 1/2) and rank 4 (precision 2/4): (0.5 + 0.5) / min(2, 4) = 0.5.
  EXPECT_NEAR(AveragePrecisionAtK(kRanked, kRelevant, 4), 0.5, kTolerance);
  // [2,7,4] vs {2,4,6,8}, k = 3: hits at rank 1 (1/1) and rank 3 (2/3):
  // (1 + 2/3) / min(4, 3) = 5/9.
  EXPECT_NEAR(AveragePrecisionAtK(Ids{2, 7, 4}, Ids{2, 4, 6, 8}, 3), 5.0 / 9.0, kTolerance);
  // Same with k = 2: one hit at rank 1: 1 / min(4, 2) = 0.5.
  EXPECT_NEAR(AveragePrecisionAtK(Ids{2, 7, 4}, Ids{2, 4, 6, 8}, 2), 0.5, kTolerance);
}

TEST(AveragePrecisionAtKTest, EdgeCases) {
  EXPECT_EQ(AveragePrecisionAtK(kRanked, Ids{}, 4), 0.0);
  EXPECT_EQ(AveragePrecisionAtK(kRanked, kRelevant, 0), 0.0);
  // k = 10 beyond the list [3]: one hit at rank 1 (1/1) over min(|R| = 2, 10) = 2: 0.5.
  EXPECT_NEAR(AveragePrecisionAtK(Ids{3}, kRelevant, 10), 0.5, kTolerance);
}

TEST(ReciprocalRankAtKTest, HandComputedCases) {
  // First hit (3) at rank 2: 1/2; with k = 1 the top list [5] has no hit: 0.
  EXPECT_NEAR(ReciprocalRankAtK(kRanked, kRelevant, 4), 0.5, kTolerance);
  EXPECT_EQ(ReciprocalRankAtK(kRanked, kRelevant, 1), 0.0);
  // [9,4,1] vs {1}: rank 3: 1/3, also with k = 10 beyond the list.
  EXPECT_NEAR(ReciprocalRankAtK(Ids{9, 4, 1}, Ids{1}, 10), 1.0 / 3.0, kTolerance);
  EXPECT_EQ(ReciprocalRankAtK(kRanked, Ids{}, 4), 0.0);
  EXPECT_EQ(ReciprocalRankAtK(kRanked, Ids{8}, 4), 0.0);
}

TEST(RPrecisionTest, HandComputedCases) {
  // |R| = 2: top-2 [5,3] holds 3: 1/2.
  EXPECT_NEAR(RPrecision(kRanked, kRelevant), 0.5, kTolerance);
  // |R| = 3: top-3 [4,8,1] holds 1: 1/3 (2 and 9 further down do not count).
  EXPECT_NEAR(RPrecision(Ids{4, 8, 1, 2, 9}, Ids{1, 2, 9}), 1.0 / 3.0, kTolerance);
  // A list shorter than |R|: [1] vs {1,2}: 1/2.
  EXPECT_NEAR(RPrecision(Ids{1}, Ids{1, 2}), 0.5, kTolerance);
  EXPECT_EQ(RPrecision(kRanked, Ids{}), 0.0);
}

// Scores of items 0..4: 0.1, 0.9, 0.5, 0.5, 0.3.
const std::vector<float> kScores = {0.1f, 0.9f, 0.5f, 0.5f, 0.3f};
const std::vector<uint8_t> kNoExclusion(5, 0);

TEST(FullReciprocalRankTest, TiesCountAgainstTheModel) {
  // Item 3 (0.5) ties with item 2: items with score >= 0.5 are {1, 2, 3}: rank 3, 1/3.
  EXPECT_NEAR(FullReciprocalRank(kScores, kNoExclusion, Ids{3}), 1.0 / 3.0, kTolerance);
  // Item 2 also gets rank 3: the tie counts against it as well.
  EXPECT_NEAR(FullReciprocalRank(kScores, kNoExclusion, Ids{2}), 1.0 / 3.0, kTolerance);
  // Best of {4 (0.3), 2 (0.5)} is item 2: rank 3.
  EXPECT_NEAR(FullReciprocalRank(kScores, kNoExclusion, Ids{4, 2}), 1.0 / 3.0, kTolerance);
  // Item 4 alone: {1, 2, 3, 4} score >= 0.3: rank 4.
  EXPECT_NEAR(FullReciprocalRank(kScores, kNoExclusion, Ids{4}), 0.25, kTolerance);
  // A constant scorer ranks every target last among the 5 items: 1/5.
  EXPECT_NEAR(FullReciprocalRank(std::vector<float>(5, 1.0f), kNoExclusion, Ids{0}), 0.2,
              kTolerance);
}

TEST(FullReciprocalRankTest, ExclusionRemovesCompetitorsButNeverRelevantItems) {
  // Excluding item 1 leaves {2, 3} with score >= 0.5: rank 2.
  const std::vector<uint8_t> exclude_one = {0, 1, 0, 0, 0};
  EXPECT_NEAR(FullReciprocalRank(kScores, exclude_one, Ids{3}), 0.5, kTolerance);
  // The mask also marks relevant item 3, which still counts: non-excluded {2} plus 3: rank 2.
  const std::vector<uint8_t> exclude_target = {0, 1, 0, 1, 0};
  EXPECT_NEAR(FullReciprocalRank(kScores, exclude_target, Ids{3}), 0.5, kTolerance);
  EXPECT_EQ(FullReciprocalRank(kScores, kNoExclusion, Ids{}), 0.0);
}

TEST(FullReciprocalRankTest, NanTargetRanksLast) {
  // A NaN target ranks like -infinity: it ties with everything below it, so the rank is the
  // count of non-excluded items: 5 -> 1/5; with item 0 excluded: 4 -> 1/4.
  std::vector<float> scores = kScores;
  scores[3] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NEAR(FullReciprocalRank(scores, kNoExclusion, Ids{3}), 0.2, kTolerance);
  EXPECT_NEAR(FullReciprocalRank(scores, std::vector<uint8_t>{1, 0, 0, 0, 0}, Ids{3}), 0.25,
              kTolerance);
  // A NaN competitor never outranks a finite target: item 4 (0.3) has {1, 2, 4} above or
  // level once item 3 is NaN: rank 3.
  EXPECT_NEAR(FullReciprocalRank(scores, kNoExclusion, Ids{4}), 1.0 / 3.0, kTolerance);
}

TEST(RmseTest, HandComputedCases) {
  // Perfect predictions: 0.
  EXPECT_EQ(Rmse(std::vector<double>{1, 2, 3}, std::vector<double>{1, 2, 3}), 0.0);
  // Errors 1 and 2: sqrt((1 + 4) / 2) = sqrt(2.5) = 1.581139.
  EXPECT_NEAR(Rmse(std::vector<double>{1, 2}, std::vector<double>{2, 4}), 1.5811388300841898,
              kTolerance);
  // Errors -0.5 and 0.5: sqrt(0.25) = 0.5 (signs do not cancel).
  EXPECT_NEAR(Rmse(std::vector<double>{0, 1}, std::vector<double>{0.5, 0.5}), 0.5, kTolerance);
  EXPECT_EQ(Rmse(std::vector<double>{}, std::vector<double>{}), 0.0);
}

TEST(IntraListArtistDiversityTest, HandComputedCases) {
  const data::Catalog catalog = FiveItemCatalog();
  // Artists A, B, C: 3 of 3 pairs differ: 1.
  EXPECT_NEAR(IntraListArtistDiversity(Ids{0, 2, 3}, catalog), 1.0, kTolerance);
  // Artists A, A, B: pairs (A,A) same, (A,B) and (A,B) differ: 2/3.
  EXPECT_NEAR(IntraListArtistDiversity(Ids{0, 1, 2}, catalog), 2.0 / 3.0, kTolerance);
  // Artists B, B: 0 of 1 pair differs.
  EXPECT_EQ(IntraListArtistDiversity(Ids{2, 4}, catalog), 0.0);
  // Artists A, A, B, C, B: 10 pairs, same-artist pairs (0,1) and (2,4): 8/10.
  EXPECT_NEAR(IntraListArtistDiversity(Ids{0, 1, 2, 3, 4}, catalog), 0.8, kTolerance);
}

TEST(IntraListArtistDiversityTest, ShortListsGiveOne) {
  const data::Catalog catalog = FiveItemCatalog();
  EXPECT_EQ(IntraListArtistDiversity(Ids{0}, catalog), 1.0);
  EXPECT_EQ(IntraListArtistDiversity(Ids{}, catalog), 1.0);
}

TEST(NoveltyTest, HandComputedCases) {
  // Item counts 3, 0, 1 over 3 training sequences.
  const std::vector<uint32_t> counts = {3, 0, 1};
  // Item 0 is in every sequence: p = (3 + 1) / (3 + 1) = 1, -log2(1) = 0.
  EXPECT_NEAR(Novelty(Ids{0}, counts, 3), 0.0, kTolerance);
  // Item 1: p = 1/4 -> 2 bits; item 2: p = 2/4 -> 1 bit; mean 1.5.
  EXPECT_NEAR(Novelty(Ids{1, 2}, counts, 3), 1.5, kTolerance);
  // Items 0, 1, 2: (0 + 2 + 1) / 3 = 1.
  EXPECT_NEAR(Novelty(Ids{0, 1, 2}, counts, 3), 1.0, kTolerance);
  EXPECT_EQ(Novelty(Ids{}, counts, 3), 0.0);
}

TEST(GiniTest, HandComputedCases) {
  // Equal values: 0.
  EXPECT_NEAR(Gini(std::vector<double>{1, 1, 1, 1}), 0.0, kTolerance);
  // [0,0,0,4]: weights 2i - n - 1 = -3, -1, 1, 3: 3 * 4 / (4 * 4) = 0.75.
  EXPECT_NEAR(Gini(std::vector<double>{0, 0, 0, 4}), 0.75, kTolerance);
  // [3,1,2] sorts to [1,2,3]: weights -2, 0, 2: (-2 + 0 + 6) / (3 * 6) = 2/9.
  EXPECT_NEAR(Gini(std::vector<double>{3, 1, 2}), 2.0 / 9.0, kTolerance);
}

TEST(GiniTest, EmptyAndAllZeroGiveZero) {
  EXPECT_EQ(Gini(std::vector<double>{}), 0.0);
  EXPECT_EQ(Gini(std::vector<double>{0, 0}), 0.0);
  EXPECT_EQ(Gini(std::vector<double>{5}), 0.0);
}

TEST(ExposureCounterTest, CoverageAndArtistGini) {
  const data::Catalog catalog = FiveItemCatalog();
  ExposureCounter counter(catalog);
  EXPECT_EQ(counter.CatalogCoverage(), 0.0);
  EXPECT_EQ(counter.ArtistExposureGini(), 0.0);
  counter.Add(Ids{0, 2});
  counter.Add(Ids{0, 3});
  // Items 0, 2, 3 exposed: coverage 3/5.
  EXPECT_NEAR(counter.CatalogCoverage(), 0.6, kTolerance);
  // Artist exposure A = 2 (item 0 twice), B = 1, C = 1 -> sorted [1,1,2], weights -2, 0, 2:
  // (-2 + 0 + 4) / (3 * 4) = 1/6.
  EXPECT_NEAR(counter.ArtistExposureGini(), 1.0 / 6.0, kTolerance);
}

TEST(ExposureCounterTest, MergeAddsCounts) {
  const data::Catalog catalog = FiveItemCatalog();
  ExposureCounter first(catalog), second(catalog);
  first.Add(Ids{0, 2});
  first.Add(Ids{0, 3});
  second.Add(Ids{4, 1});
  first.Merge(second);
  // All five items exposed: coverage 1.
  EXPECT_NEAR(first.CatalogCoverage(), 1.0, kTolerance);
  // Artists A = 3 (0, 0, 1), B = 2 (2, 4), C = 1 -> [1,2,3]: (-2 + 0 + 6) / (3 * 6) = 2/9.
  EXPECT_NEAR(first.ArtistExposureGini(), 2.0 / 9.0, kTolerance);
  // Exposure of a single artist only: A = 2, B = C = 0 -> [0,0,2]: 2 * 2 / (3 * 2) = 2/3.
  ExposureCounter only_a(catalog);
  only_a.Add(Ids{0, 1});
  EXPECT_NEAR(only_a.ArtistExposureGini(), 2.0 / 3.0, kTolerance);
}

}  // namespace
}  // namespace melodai::rec
