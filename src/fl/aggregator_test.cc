// MelodAI — licensed under the Apache License 2.0.
// Aggregation rules against aggregates computed by hand on small vectors.
#include "fl/aggregator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace melodai::fl {
namespace {

std::vector<std::span<const float>> Views(const std::vector<std::vector<float>>& updates) {
  return {updates.begin(), updates.end()};
}

AggregateResult RunRule(const AggregatorConfig& config, const std::vector<std::vector<float>>& updates,
                    const std::vector<double>& weights = {}) {
  std::unique_ptr<Aggregator> aggregator = MakeAggregator(config);
  aggregator->Begin(updates[0].size());
  for (size_t i = 0; i < updates.size(); ++i) {
    EXPECT_TRUE(aggregator->Add(static_cast<ClientId>(10 + i), weights.empty() ? 1.0 : weights[i],
                                updates[i]).ok());
  }
  core::Result<AggregateResult> result = aggregator->Finish();
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return std::move(result).value();
}

TEST(AggregatorTest, FedAvgIsTheExampleWeightedMean) {
  // (1*[1, 2] + 3*[3, -2]) / 4 = [2.5, -1].
  const AggregateResult result = RunRule({}, {{1, 2}, {3, -2}}, {1, 3});
  EXPECT_FLOAT_EQ(result.update[0], 2.5f);
  EXPECT_FLOAT_EQ(result.update[1], -1.0f);
  EXPECT_EQ(result.selected, (std::vector<ClientId>{10, 11}));
  EXPECT_EQ(result.input_count, 2u);
}

TEST(AggregatorTest, FedProxAggregatesLikeFedAvgAndBothStream) {
  AggregatorConfig config;
  config.kind = AggregatorKind::kFedProx;
  const AggregateResult result = RunRule(config, {{2, 0, 4}, {0, 2, -4}, {1, 1, 1}}, {1, 1, 2});
  // ([2,0,4] + [0,2,-4] + 2*[1,1,1]) / 4 = [1, 1, 0.5].
  EXPECT_FLOAT_EQ(result.update[0], 1.0f);
  EXPECT_FLOAT_EQ(result.update[1], 1.0f);
  EXPECT_FLOAT_EQ(result.update[2], 0.5f);
  EXPECT_FALSE(MakeAggregator(config)->needs_individual_updates());
  EXPECT_FALSE(MakeAggregator({})->needs_individual_updates());
}

TEST(AggregatorTest, MedianIgnoresOneOutlierPerCoordinate) {
  AggregatorConfig config;
  config.kind = AggregatorKind::kMedian;
  EXPECT_TRUE(MakeAggregator(config)->needs_individual_updates());
  // Odd n: middle value; the outlier 100 / -50 has no effect.
  const AggregateResult odd = RunRule(config, {{1, 5}, {100, 4}, {2, -50}});
  EXPECT_FLOAT_EQ(odd.update[0], 2.0f);
  EXPECT_FLOAT_EQ(odd.update[1], 4.0f);
  // Even n: mean of the two middle values: sorted {1, 2, 3, 1000} -> 2.5.
  const AggregateResult even = RunRule(config, {{1}, {1000}, {3}, {2}});
  EXPECT_FLOAT_EQ(even.update[0], 2.5f);
}

TEST(AggregatorTest, TrimmedMeanDropsTheExtremesOnEachSide) {
  AggregatorConfig config;
  config.kind = AggregatorKind::kTrimmedMean;
  config.trim_fraction = 0.2;  // floor(0.2 * 5) = 1 on each side.
  // Coordinate 0: {1, 2, 3, 4, 100} -> mean(2, 3, 4) = 3. Coordinate 1: {-100, 0, 0, 6, 9}
  // -> mean(0, 0, 6) = 2.
  const AggregateResult result = RunRule(config, {{1, 0}, {2, -100}, {3, 9}, {4, 6}, {100, 0}});
  EXPECT_FLOAT_EQ(result.update[0], 3.0f);
  EXPECT_FLOAT_EQ(result.update[1], 2.0f);
  // Trim zero is the plain mean.
  EXPECT_FLOAT_EQ(TrimmedMean(Views({{1}, {2}, {6}}), 0)[0], 3.0f);
}

TEST(AggregatorTest, KrumPicksTheMostCentralHonestUpdate) {
  // 1-D points 0, 1, 2, 3 (honest) and 50, 60 (attackers); n = 6, f = 1, each score sums the
  // n - f - 2 = 3 smallest squared distances: score(1) = 1+1+4 = 6, score(2) = 4+1+1 = 6,
  // score(0) = score(3) = 1+4+9 = 14, score(50) = 100+2209+2304 = 4613.
  const std::vector<std::vector<float>> updates = {{0}, {1}, {2}, {3}, {50}, {60}};
  const std::vector<double> scores = KrumScores(Views(updates), 1);
  EXPECT_DOUBLE_EQ(scores[0], 14.0);
  EXPECT_DOUBLE_EQ(scores[1], 6.0);
  EXPECT_DOUBLE_EQ(scores[2], 6.0);
  EXPECT_DOUBLE_EQ(scores[4], 4613.0);
  AggregatorConfig config;
  config.kind = AggregatorKind::kKrum;
  config.krum_byzantine = 1;
  const AggregateResult krum = RunRule(config, updates);  // Tie 1/2 -> the smaller index.
  EXPECT_FLOAT_EQ(krum.update[0], 1.0f);
  EXPECT_EQ(krum.selected, (std::vector<ClientId>{11}));
  config.kind = AggregatorKind::kMultiKrum;
  config.krum_selected = 4;  // The four honest points: mean 1.5.
  const AggregateResult multi = RunRule(config, updates);
  EXPECT_FLOAT_EQ(multi.update[0], 1.5f);
  EXPECT_EQ(multi.selected, (std::vector<ClientId>{10, 11, 12, 13}));
  config.krum_selected = 0;  // Default m = n - f = 5 still drops the worst (60).
  EXPECT_EQ(RunRule(config, updates).selected, (std::vector<ClientId>{10, 11, 12, 13, 14}));
}

TEST(AggregatorTest, TooFewUpdatesIsAFailedPrecondition) {
  AggregatorConfig config;
  config.kind = AggregatorKind::kKrum;
  config.krum_byzantine = 1;
  std::unique_ptr<Aggregator> aggregator = MakeAggregator(config);
  aggregator->Begin(1);
  for (ClientId c = 0; c < 4; ++c) ASSERT_TRUE(aggregator->Add(c, 1.0, std::vector<float>{1.0f}).ok());
  EXPECT_EQ(aggregator->Finish().status().code(), core::StatusCode::kFailedPrecondition);
  std::unique_ptr<Aggregator> fedavg = MakeAggregator({});
  fedavg->Begin(2);
  EXPECT_EQ(fedavg->Finish().status().code(), core::StatusCode::kFailedPrecondition);
}

TEST(AggregatorTest, RejectsBadInputWithoutChangingState) {
  std::unique_ptr<Aggregator> aggregator = MakeAggregator({});
  aggregator->Begin(2);
  EXPECT_EQ(aggregator->Add(1, 1.0, std::vector<float>{1}).code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(aggregator->Add(1, 0.0, std::vector<float>{1, 1}).code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(aggregator->Add(1, 1.0, std::vector<float>{1, std::numeric_limits<float>::quiet_NaN()}).code(),
            core::StatusCode::kInvalidArgument);
  ASSERT_TRUE(aggregator->Add(5, 1.0, std::vector<float>{1, 1}).ok());
  EXPECT_EQ(aggregator->Add(5, 1.0, std::vector<float>{1, 1}).code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(aggregator->Add(4, 1.0, std::vector<float>{1, 1}).code(), core::StatusCode::kInvalidArgument);
  core::Result<AggregateResult> result = aggregator->Finish();
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->input_count, 1u);
}

TEST(AggregatorTest, NamesRoundTripAndConfigIsValidated) {
  for (AggregatorKind kind : {AggregatorKind::kFedAvg, AggregatorKind::kFedProx, AggregatorKind::kMedian,
                              AggregatorKind::kTrimmedMean, AggregatorKind::kKrum,
                              AggregatorKind::kMultiKrum}) {
    core::Result<AggregatorKind> parsed = ParseAggregatorKind(AggregatorKindName(kind));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, kind);
  }
  EXPECT_EQ(ParseAggregatorKind("mean").status().code(), core::StatusCode::kInvalidArgument);
  AggregatorConfig config;
  config.trim_fraction = 0.5;
  EXPECT_FALSE(ValidateAggregatorConfig(config).ok());
  EXPECT_TRUE(NeedsIndividualUpdates(AggregatorKind::kTrimmedMean));
  EXPECT_FALSE(NeedsIndividualUpdates(AggregatorKind::kFedProx));
}

TEST(AggregatorTest, GeometricMedianIsTheFermatPoint) {
  // The right isosceles triangle (0,0), (1,0), (0,1) has all angles below 120 degrees, so its
  // geometric median is the Fermat point ((3 - sqrt 3) / 6, (3 - sqrt 3) / 6) = 0.211325...;
  // on a line it is the middle point (1 of 0, 1, 10), not the mean (3.67).
  const std::vector<std::vector<float>> triangle = {{0, 0}, {1, 0}, {0, 1}};
  const double fermat = (3.0 - std::sqrt(3.0)) / 6.0;
  const std::vector<float> median = GeometricMedian(Views(triangle), 1000);
  EXPECT_NEAR(median[0], fermat, 1e-5);
  EXPECT_NEAR(median[1], fermat, 1e-5);
  const std::vector<std::vector<float>> line = {{0}, {1}, {10}};
  EXPECT_NEAR(GeometricMedian(Views(line), 1000)[0], 1.0, 1e-4);
  AggregatorConfig config;
  config.kind = AggregatorKind::kGeometricMedian;
  config.median_iterations = 1000;
  const AggregateResult result = RunRule(config, triangle);
  EXPECT_NEAR(result.update[0], fermat, 1e-5);
  EXPECT_EQ(result.selected, (std::vector<ClientId>{10, 11, 12}));
  EXPECT_TRUE(NeedsIndividualUpdates(AggregatorKind::kGeometricMedian));
}

TEST(AggregatorTest, GeometricMedianBoundsOutliersAndKeepsSparseCoordinates) {
  // Goal: the property that makes it fit one-playlist clients. Five honest updates touch
  // disjoint coordinates (norm 1 each); two attackers send -100 times the sum of all of them.
  // The mean is dragged to about -57 per coordinate; the geometric median stays within 0.25 of
  // the honest mean (0.2) on every coordinate and keeps each honest coordinate positive, which
  // a coordinate-wise median (zero on every coordinate) does not.
  std::vector<std::vector<float>> updates(7, std::vector<float>(5, 0.0f));
  for (size_t i = 0; i < 5; ++i) updates[i][i] = 1.0f;
  for (size_t i = 5; i < 7; ++i) updates[i].assign(5, -100.0f);
  const std::vector<float> median = GeometricMedian(Views(updates), 100);
  const std::vector<float> coordinate = CoordinateMedian(Views(updates));
  for (size_t j = 0; j < 5; ++j) {
    EXPECT_GT(median[j], 0.0f) << j;
    EXPECT_NEAR(median[j], 0.2, 0.25) << j;
    EXPECT_EQ(coordinate[j], 0.0f) << j;
  }
  uint32_t steps = 0;
  GeometricMedian(Views(updates), 3, &steps);
  EXPECT_EQ(steps, 3u);
  AggregatorConfig bad;
  bad.median_iterations = 0;
  EXPECT_FALSE(ValidateAggregatorConfig(bad).ok());
}

// The norm-bounded mean's defaults (bound factor 1, weight cap 4) with a cosine threshold and a
// rejection factor.
AggregatorConfig Filters(double min_cosine, double reject_factor) {
  AggregatorConfig config;
  config.kind = AggregatorKind::kNormBounded;
  config.min_cosine = min_cosine;
  config.reject_factor = reject_factor;
  return config;
}

TEST(AggregatorTest, NormBoundedMeanClipsToTheMedianNormAndCapsWeights) {
  // Norms 5, 1, 2, 500: median 3.5. Weights 1, 2, 1, 100: median 1.5, cap 4 * 1.5 = 6.
  // Shrunk: [3, 4] -> [2.1, 2.8]; [0, 1] and [2, 0] stay; [-300, -400] -> [-2.1, -2.8].
  // (1*[2.1, 2.8] + 2*[0, 1] + 1*[2, 0] + 6*[-2.1, -2.8]) / (1 + 2 + 1 + 6) = [-0.85, -1.2].
  AggregatorConfig config;
  config.kind = AggregatorKind::kNormBounded;
  const std::vector<std::vector<float>> updates = {{3, 4}, {0, 1}, {2, 0}, {-300, -400}};
  const AggregateResult result = RunRule(config, updates, {1, 2, 1, 100});
  EXPECT_NEAR(result.update[0], -0.85, 1e-6);
  EXPECT_NEAR(result.update[1], -1.2, 1e-6);
  EXPECT_EQ(result.selected, (std::vector<ClientId>{10, 11, 12, 13}));
  EXPECT_TRUE(NeedsIndividualUpdates(AggregatorKind::kNormBounded));
  // bound_factor 2 (tau = 7) leaves [3, 4] whole and shrinks the attacker to [-4.2, -5.6]:
  // (1*[3, 4] + 2*[0, 1] + [2, 0] + 6*[-4.2, -5.6]) / 10 = [-2.02, -2.76].
  config.bound_factor = 2.0;
  const AggregateResult wider = RunRule(config, updates, {1, 2, 1, 100});
  EXPECT_NEAR(wider.update[0], -2.02, 1e-6);
  EXPECT_NEAR(wider.update[1], -2.76, 1e-6);
  config.bound_factor = 0.0;
  EXPECT_FALSE(ValidateAggregatorConfig(config).ok());
  config.bound_factor = 1.0;
  config.weight_cap = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(ValidateAggregatorConfig(config).ok());
  EXPECT_EQ(ParseAggregatorKind("norm_bounded").value(), AggregatorKind::kNormBounded);
}

TEST(AggregatorTest, NormBoundedMeanKeepsSparseCoordinatesUnderScaledAttackers) {
  // The geometric median's sparse case: five honest unit updates on disjoint coordinates, two
  // attackers at -100 on every coordinate (norm 100 * sqrt(5)). The median norm is 1, so each
  // attacker enters as -1/sqrt(5) per coordinate: (1 - 2/sqrt(5)) / 7 on every coordinate, still
  // positive, where the plain mean is (1 - 200) / 7.
  std::vector<std::vector<float>> updates(7, std::vector<float>(5, 0.0f));
  for (size_t i = 0; i < 5; ++i) updates[i][i] = 1.0f;
  for (size_t i = 5; i < 7; ++i) updates[i].assign(5, -100.0f);
  const std::vector<double> weights(7, 1.0);
  const std::vector<float> result = NormBoundedMean(Views(updates), weights, {});
  const double expected = (1.0 - 2.0 / std::sqrt(5.0)) / 7.0;
  for (size_t j = 0; j < 5; ++j) {
    EXPECT_NEAR(result[j], expected, 1e-6) << j;
    EXPECT_GT(result[j], 0.0f) << j;
  }
}

TEST(AggregatorTest, NormBoundedMeanDropsUpdatesAgainstTheOthers) {
  // Norms 1, sqrt(1.25), 0.825, 1: median 1, so [1, 0.5] is shrunk to [2, 1]/sqrt(5). Each
  // bounded update against the sum of the other three: cosines 0.94, 0.76, 0.76 and -0.996, so
  // the last is dropped and the result is the mean of the first three.
  const std::vector<std::vector<float>> updates = {{1, 0}, {1, 0.5}, {0.8f, -0.2f}, {-1, 0}};
  const std::vector<double> weights(4, 1.0);
  std::vector<size_t> kept;
  const std::vector<float> result = NormBoundedMean(Views(updates), weights, Filters(0.0, 0.0), &kept);
  EXPECT_EQ(kept, (std::vector<size_t>{0, 1, 2}));
  EXPECT_NEAR(result[0], (1.0 + 2.0 / std::sqrt(5.0) + 0.8) / 3.0, 1e-6);
  EXPECT_NEAR(result[1], (1.0 / std::sqrt(5.0) - 0.2) / 3.0, 1e-6);
  AggregatorConfig config;
  config.kind = AggregatorKind::kNormBounded;
  config.min_cosine = 0.0;
  const AggregateResult through = RunRule(config, updates);
  EXPECT_EQ(through.selected, (std::vector<ClientId>{10, 11, 12}));
  EXPECT_EQ(through.input_count, 4u);
  config.min_cosine = 1.5;
  EXPECT_FALSE(ValidateAggregatorConfig(config).ok());
}

TEST(AggregatorTest, NormBoundedMeanRejectsUpdatesFarLongerThanTheMedian) {
  // Norms 5, 1, 2, 500, 10: median 5. With R = 3 only the 500 is over 15 and dropped; the 10
  // is kept and shrunk to 5. Kept: [3, 4], [0, 1], [2, 0], [6, 8] -> [3, 4]: [8, 9] / 4.
  const std::vector<std::vector<float>> updates = {{3, 4}, {0, 1}, {2, 0}, {-300, -400}, {6, 8}};
  const std::vector<double> weights(5, 1.0);
  std::vector<size_t> kept;
  std::vector<float> result = NormBoundedMean(Views(updates), weights, Filters(-2.0, 3.0), &kept);
  EXPECT_EQ(kept, (std::vector<size_t>{0, 1, 2, 4}));
  EXPECT_NEAR(result[0], 2.0, 1e-6);
  EXPECT_NEAR(result[1], 2.25, 1e-6);
  // Off (0): the attacker enters shrunk to [-3, -4]: ([3, 4] + [0, 1] + [2, 0] + [-3, -4] +
  // [3, 4]) / 5 = [1, 1].
  result = NormBoundedMean(Views(updates), weights, Filters(-2.0, 0.0), &kept);
  EXPECT_EQ(kept.size(), 5u);
  EXPECT_NEAR(result[0], 1.0, 1e-6);
  EXPECT_NEAR(result[1], 1.0, 1e-6);
  // R = 1.5 also drops the 10 (over 7.5); a rejected update is not part of the cosine
  // filter's sum either: with min_cosine 0 the three left all agree.
  result = NormBoundedMean(Views(updates), weights, Filters(0.0, 1.5), &kept);
  EXPECT_EQ(kept, (std::vector<size_t>{0, 1, 2}));
  EXPECT_NEAR(result[0], 5.0 / 3.0, 1e-6);
  EXPECT_NEAR(result[1], 5.0 / 3.0, 1e-6);
  AggregatorConfig config;
  config.kind = AggregatorKind::kNormBounded;
  config.reject_factor = 3.0;
  const AggregateResult through = RunRule(config, updates);
  EXPECT_EQ(through.selected, (std::vector<ClientId>{10, 11, 12, 14}));
  EXPECT_EQ(through.input_count, 5u);
  config.reject_factor = 0.5;
  EXPECT_FALSE(ValidateAggregatorConfig(config).ok());
  config.reject_factor = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(ValidateAggregatorConfig(config).ok());
}

}  // namespace
}  // namespace melodai::fl
