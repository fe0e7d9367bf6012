// MelodAI — licensed under the Apache License 2.0.
// End-to-end tests of the round driver. Goal: the unmasked result equals the plain sum of
// the survivors' inputs, whatever phase clients drop at; below threshold the round aborts.
// Method: seeded random inputs and dropout schedules (seed printed on failure), full graph
// and SecAgg+ graphs, both moduli and both PRGs; the reference sum is computed in the clear.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "crypto/random_source.h"
#include "secagg/round_driver.h"

namespace melodai::secagg {
namespace {

constexpr uint64_t kSeed = 20240611;

RoundConfig SmallConfig(uint32_t clients, uint32_t threshold, uint32_t neighbours = 0) {
  RoundConfig config;
  config.round_id = 7;
  config.client_count = clients;
  config.threshold = threshold;
  config.neighbour_count = neighbours;
  config.dimension = 37;
  config.modulus_bits = 32;
  config.prg = crypto::PrgKind::kAes128Ctr;
  config.graph_seed = 99;
  return config;
}

std::vector<std::vector<uint64_t>> RandomInputs(const RoundConfig& config, core::Rng& rng) {
  std::vector<std::vector<uint64_t>> inputs(config.client_count,
                                            std::vector<uint64_t>(config.dimension));
  for (auto& input : inputs) {
    for (uint64_t& value : input) {
      value = config.modulus_bits == 64 ? rng.NextU64() : rng.NextU32();
    }
  }
  return inputs;
}

std::vector<uint64_t> PlainSum(const RoundConfig& config,
                               const std::vector<std::vector<uint64_t>>& inputs,
                               const std::vector<uint32_t>& survivors) {
  std::vector<uint64_t> sum(config.dimension, 0);
  const uint64_t mask = config.modulus_bits == 64 ? ~uint64_t{0} : (uint64_t{1} << 32) - 1;
  for (uint32_t client : survivors) {
    for (size_t i = 0; i < sum.size(); ++i) sum[i] = (sum[i] + inputs[client][i]) & mask;
  }
  return sum;
}

// Clients that sent a masked input: everyone not dropped before MaskedInputCollection ended.
std::vector<uint32_t> ExpectedSurvivors(const DropoutSchedule& schedule) {
  std::vector<uint32_t> survivors;
  for (uint32_t c = 0; c < schedule.drop_at.size(); ++c) {
    if (schedule.drop_at[c] > Phase::kMaskedInputCollection) survivors.push_back(c);
  }
  return survivors;
}

void ExpectExactSum(const RoundConfig& config, double fraction, Phase phase, uint64_t seed,
                    core::ThreadPool* pool) {
  SCOPED_TRACE(testing::Message() << "seed " << seed << " phase " << PhaseName(phase)
                                  << " dropout " << fraction);
  core::Rng rng(seed);
  const auto inputs = RandomInputs(config, rng);
  const DropoutSchedule schedule = DropoutSchedule::Random(config.client_count, fraction, phase, rng);
  crypto::DeterministicRandomSource random(seed);
  DriverOptions options;
  options.pool = pool;
  auto result = RunSecureAggregation(config, inputs, schedule, random, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->survivors, ExpectedSurvivors(schedule));
  EXPECT_EQ(result->sum, PlainSum(config, inputs, result->survivors));
}

TEST(RoundDriverTest, ExactSumWithDropoutsAtEveryPhaseFullGraph) {
  core::ThreadPool pool(2);
  const RoundConfig config = SmallConfig(20, 11);
  for (double fraction : {0.0, 0.10, 0.33}) {
    for (Phase phase : {Phase::kAdvertiseKeys, Phase::kShareKeys, Phase::kMaskedInputCollection,
                        Phase::kConsistencyCheck, Phase::kUnmasking}) {
      ExpectExactSum(config, fraction, phase, kSeed + static_cast<uint64_t>(phase), &pool);
    }
  }
}

TEST(RoundDriverTest, ExactSumWithDropoutsAtEveryPhaseSecAggPlus) {
  RoundConfig config = SmallConfig(30, 6, 10);
  config.prg = crypto::PrgKind::kChaCha20;
  for (double fraction : {0.0, 0.10}) {
    for (Phase phase : {Phase::kAdvertiseKeys, Phase::kShareKeys, Phase::kMaskedInputCollection,
                        Phase::kConsistencyCheck, Phase::kUnmasking}) {
      ExpectExactSum(config, fraction, phase, kSeed + 10 + static_cast<uint64_t>(phase), nullptr);
    }
  }
}

// True when a SecAgg+ round under `schedule` must succeed: every client whose secret the
// server needs (everyone that shared keys) keeps at least threshold neighbours that answer
// unmasking. With one dropout phase this is also necessary: when it fails, that client's
// self-mask seed or mask key cannot be rebuilt (or a client aborts earlier), so the round
// must abort rather than return a wrong sum.
bool EveryNeighbourhoodKeepsThreshold(const RoundConfig& config, const DropoutSchedule& schedule) {
  const NeighbourGraph graph(config);
  for (uint32_t c = 0; c < config.client_count; ++c) {
    if (schedule.drop_at[c] <= Phase::kShareKeys) continue;  // Nobody holds shares of c.
    const std::vector<uint32_t> neighbours = graph.Neighbours(c);
    const auto answering = std::count_if(neighbours.begin(), neighbours.end(), [&](uint32_t peer) {
      return schedule.drop_at[peer] == Phase::kDone;
    });
    if (static_cast<uint32_t>(answering) < config.threshold) return false;
  }
  return true;
}

// Goal: SecAgg+ sums exactly with 0%, 10% and 33% of the clients dropping at each phase, and
// aborts (never mis-sums) when a neighbourhood falls below threshold. Method: 30 clients,
// k = 14, t = 8 (a neighbourhood survives 6 losses). A random third of the clients can take
// 7+ of some client's 14 neighbours, so for each phase and fraction the seeds are scanned until
// a schedule that keeps every neighbourhood at threshold has been run (exact sum required) and,
// for 33%, one that does not has been run too (kAborted required).
TEST(RoundDriverTest, ExactSumWithUpToAThirdDroppingAtEveryPhaseSecAggPlus) {
  const RoundConfig config = SmallConfig(30, 8, 14);
  for (double fraction : {0.0, 0.10, 0.33}) {
    for (Phase phase : {Phase::kAdvertiseKeys, Phase::kShareKeys, Phase::kMaskedInputCollection,
                        Phase::kConsistencyCheck, Phase::kUnmasking}) {
      bool summed = false;
      bool aborted = fraction < 0.3;  // Small fractions never break a neighbourhood here.
      for (uint64_t attempt = 0; attempt < 60 && !(summed && aborted); ++attempt) {
        const uint64_t seed = kSeed + 100 * static_cast<uint64_t>(phase) + attempt;
        SCOPED_TRACE(testing::Message() << "seed " << seed << " phase " << PhaseName(phase)
                                        << " dropout " << fraction);
        core::Rng rng(seed);
        const auto inputs = RandomInputs(config, rng);
        const DropoutSchedule schedule =
            DropoutSchedule::Random(config.client_count, fraction, phase, rng);
        const bool feasible = EveryNeighbourhoodKeepsThreshold(config, schedule);
        if ((feasible && summed) || (!feasible && aborted)) continue;
        crypto::DeterministicRandomSource random(seed);
        auto result = RunSecureAggregation(config, inputs, schedule, random);
        if (feasible) {
          ASSERT_TRUE(result.ok()) << result.status().ToString();
          EXPECT_EQ(result->survivors, ExpectedSurvivors(schedule));
          EXPECT_EQ(result->sum, PlainSum(config, inputs, result->survivors));
          summed = true;
        } else {
          EXPECT_EQ(result.status().code(), core::StatusCode::kAborted)
              << result.status().ToString();
          aborted = true;
        }
      }
      EXPECT_TRUE(summed) << PhaseName(phase) << " " << fraction;
      EXPECT_TRUE(aborted) << PhaseName(phase) << " " << fraction;
    }
  }
}

// Goal: in SecAgg+ rounds the bytes a client sends and receives, apart from its masked input,
// grow with k = O(log n), not with n — in every phase, including the consistency check.
// Method: rounds of n = 100, 300 and 1,000 clients with the default k (22, 28, 30) and
// t = ceil(2k/3), d = 16, no dropout; per-client bytes of all messages but the masked inputs
// must stay below twice the n = 100 figure at n = 1,000 (10x the clients), and so must the
// consistency-check and unmasking messages on their own. Before the consistency check was
// scoped to neighbourhoods it sent 8 bytes per survivor to every client (8 KB at n = 1,000).
TEST(RoundDriverTest, SecAggPlusBytesPerClientGrowSubLinearly) {
  core::ThreadPool pool(2);
  std::vector<double> protocol_bytes;
  std::vector<double> check_bytes;
  for (uint32_t n : {100u, 300u, 1000u}) {
    SCOPED_TRACE(testing::Message() << n << " clients");
    RoundConfig config = SmallConfig(n, 0, DefaultNeighbourCount(n));
    config.threshold = DefaultThreshold(config.neighbour_count);
    config.dimension = 16;
    core::Rng rng(kSeed + n);
    const auto inputs = RandomInputs(config, rng);
    crypto::DeterministicRandomSource random(kSeed + n);
    DriverOptions options;
    options.pool = &pool;
    auto result = RunSecureAggregation(config, inputs, DropoutSchedule::None(n), random, options);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_EQ(result->sum, PlainSum(config, inputs, result->survivors));
    uint64_t total = 0;
    for (const PhaseStats& stats : result->phases) total += stats.bytes_to_server + stats.bytes_from_server;
    const PhaseStats& masked = result->phases[static_cast<size_t>(Phase::kMaskedInputCollection)];
    const PhaseStats& check = result->phases[static_cast<size_t>(Phase::kConsistencyCheck)];
    const PhaseStats& unmask = result->phases[static_cast<size_t>(Phase::kUnmasking)];
    protocol_bytes.push_back(static_cast<double>(total - masked.bytes_to_server) / n);
    // The survivor list and its signature, the unmasking request and the revealed shares.
    check_bytes.push_back(static_cast<double>(check.bytes_from_server + check.bytes_to_server +
                                              unmask.bytes_from_server + unmask.bytes_to_server) /
                          n);
    std::printf("[ bytes    ] n = %4u, k = %u: %.0f bytes per client besides the masked input, "
                "%.0f in the consistency check and unmasking\n",
                n, config.neighbour_count, protocol_bytes.back(), check_bytes.back());
  }
  EXPECT_LT(protocol_bytes[1], 1.5 * protocol_bytes[0]);
  EXPECT_LT(protocol_bytes[2], 2 * protocol_bytes[0]);
  EXPECT_LT(check_bytes[2], 2 * check_bytes[0]);
}

TEST(RoundDriverTest, ExactSumModulo2To64WithMixedDropouts) {
  RoundConfig config = SmallConfig(15, 9);
  config.modulus_bits = 64;
  core::Rng rng(kSeed + 20);
  const auto inputs = RandomInputs(config, rng);
  DropoutSchedule schedule = DropoutSchedule::None(config.client_count);
  schedule.drop_at[1] = Phase::kShareKeys;
  schedule.drop_at[4] = Phase::kMaskedInputCollection;
  schedule.drop_at[5] = Phase::kMaskedInputCollection;
  schedule.drop_at[9] = Phase::kUnmasking;
  crypto::DeterministicRandomSource random(kSeed + 20);
  auto result = RunSecureAggregation(config, inputs, schedule, random);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->sum, PlainSum(config, inputs, ExpectedSurvivors(schedule)));
  EXPECT_GT(result->phases[static_cast<size_t>(Phase::kMaskedInputCollection)].bytes_to_server,
            uint64_t{config.dimension} * 8 * 12);
}

TEST(RoundDriverTest, SameSeedReplaysTheSameRound) {
  const RoundConfig config = SmallConfig(8, 5);
  core::Rng rng(kSeed);
  const auto inputs = RandomInputs(config, rng);
  crypto::DeterministicRandomSource first(kSeed);
  crypto::DeterministicRandomSource second(kSeed);
  auto a = RunSecureAggregation(config, inputs, DropoutSchedule::None(8), first);
  auto b = RunSecureAggregation(config, inputs, DropoutSchedule::None(8), second);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->sum, b->sum);
}

TEST(RoundDriverTest, AbortsBelowThresholdAtEveryPhase) {
  const RoundConfig config = SmallConfig(20, 11);
  core::Rng rng(kSeed + 30);
  const auto inputs = RandomInputs(config, rng);
  for (Phase phase : {Phase::kAdvertiseKeys, Phase::kShareKeys, Phase::kMaskedInputCollection,
                      Phase::kConsistencyCheck, Phase::kUnmasking}) {
    SCOPED_TRACE(PhaseName(phase));
    // Ten of twenty drop: ten remain, below the threshold of eleven.
    const DropoutSchedule schedule = DropoutSchedule::Random(20, 0.5, phase, rng);
    crypto::DeterministicRandomSource random(kSeed + 30);
    auto result = RunSecureAggregation(config, inputs, schedule, random);
    EXPECT_EQ(result.status().code(), core::StatusCode::kAborted) << result.status().ToString();
  }
}

TEST(RoundDriverTest, SecAggPlusAbortsWhenANeighbourhoodFallsBelowThreshold) {
  const RoundConfig config = SmallConfig(30, 5, 6);
  const NeighbourGraph graph(config);
  core::Rng rng(kSeed + 31);
  const auto inputs = RandomInputs(config, rng);
  // Client 0 loses two of its six neighbours after sharing keys: four shares are left, below
  // five, so its self mask (or key) cannot be rebuilt and the round must abort, not mis-sum.
  DropoutSchedule schedule = DropoutSchedule::None(30);
  const std::vector<uint32_t> neighbours = graph.Neighbours(0);
  schedule.drop_at[neighbours[0]] = Phase::kMaskedInputCollection;
  schedule.drop_at[neighbours[1]] = Phase::kMaskedInputCollection;
  crypto::DeterministicRandomSource random(kSeed + 31);
  auto result = RunSecureAggregation(config, inputs, schedule, random);
  EXPECT_EQ(result.status().code(), core::StatusCode::kAborted) << result.status().ToString();
}

TEST(RoundDriverTest, RejectsBadScheduleAndInputs) {
  const RoundConfig config = SmallConfig(5, 3);
  crypto::DeterministicRandomSource random(1);
  std::vector<std::vector<uint64_t>> inputs(5, std::vector<uint64_t>(config.dimension, 1));
  EXPECT_EQ(RunSecureAggregation(config, inputs, DropoutSchedule::None(4), random).status().code(),
            core::StatusCode::kInvalidArgument);
  inputs[2].pop_back();
  EXPECT_EQ(RunSecureAggregation(config, inputs, DropoutSchedule::None(5), random).status().code(),
            core::StatusCode::kInvalidArgument);
  inputs[2].push_back(uint64_t{1} << 32);  // Does not fit the 2^32 modulus.
  EXPECT_EQ(RunSecureAggregation(config, inputs, DropoutSchedule::None(5), random).status().code(),
            core::StatusCode::kInvalidArgument);
}

// Goal: the fixed-point bound holds exactly at the largest client count and clip allowed.
// Method: step 2^-24 and clip 1 modulo 2^32 allow (2^31 - 1) / 2^24 = 127 clients; all of them
// send +clip, -clip and half the clip, and the decoded sums must be exact; 128 must be refused.
TEST(FloatAggregationTest, FixedPointBoundHoldsAtTheLargestClientCount) {
  FixedPointConfig fixed;
  fixed.clip = 1.0;
  fixed.step = 1.0 / (1 << 24);
  fixed.modulus_bits = 32;
  ASSERT_EQ(MaxClientsForFixedPoint(fixed), 127u);
  RoundConfig config = SmallConfig(127, 5, 8);
  config.dimension = 3;
  const std::vector<std::vector<float>> inputs(127, std::vector<float>{1.0f, -1.0f, 0.5f});
  crypto::DeterministicRandomSource random(kSeed + 40);
  auto result = RunSecureAggregationFloat(config, fixed, inputs, DropoutSchedule::None(127), random);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->sum, (std::vector<double>{127.0, -127.0, 63.5}));
  // Values beyond the clip are clipped, not wrapped.
  const std::vector<std::vector<float>> large(127, std::vector<float>{5.0f, -7.0f, 1e30f});
  auto clipped = RunSecureAggregationFloat(config, fixed, large, DropoutSchedule::None(127), random);
  ASSERT_TRUE(clipped.ok());
  EXPECT_EQ(clipped->sum, (std::vector<double>{127.0, -127.0, 127.0}));

  RoundConfig too_many = SmallConfig(128, 5, 8);
  too_many.dimension = 3;
  const std::vector<std::vector<float>> inputs128(128, std::vector<float>{1.0f, -1.0f, 0.5f});
  EXPECT_EQ(RunSecureAggregationFloat(too_many, fixed, inputs128, DropoutSchedule::None(128), random)
                .status()
                .code(),
            core::StatusCode::kInvalidArgument);
}

// Goal: the widest clip range allowed (clip / step = 2^52, the limit of exact doubles) sums
// exactly through a real round modulo 2^64, with a third of the clients dropping after
// sharing keys. Method: clip 2^20, step 2^-32; every client sends +clip, -clip, one step and
// a value far beyond the clip.
TEST(FloatAggregationTest, WidestClipRangeSumsExactlyModulo2To64) {
  FixedPointConfig fixed;
  fixed.clip = 1048576.0;  // 2^20
  fixed.step = 1.0 / 4294967296.0;  // 2^-32
  fixed.modulus_bits = 64;
  ASSERT_TRUE(ValidateFixedPoint(fixed, 2047).ok());
  ASSERT_EQ(MaxClientsForFixedPoint(fixed), 2047u);  // (2^63 - 1) / 2^52.
  RoundConfig config = SmallConfig(15, 8);
  config.modulus_bits = 64;
  config.dimension = 4;
  const float step = static_cast<float>(fixed.step);
  const std::vector<std::vector<float>> inputs(
      15, std::vector<float>{1048576.0f, -1048576.0f, step, 3e38f});
  core::Rng rng(kSeed + 42);
  const DropoutSchedule schedule =
      DropoutSchedule::Random(15, 0.33, Phase::kMaskedInputCollection, rng);
  crypto::DeterministicRandomSource random(kSeed + 42);
  auto result = RunSecureAggregationFloat(config, fixed, inputs, schedule, random);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const double n = static_cast<double>(result->survivors.size());
  ASSERT_EQ(n, 10.0);
  EXPECT_EQ(result->sum, (std::vector<double>{n * 1048576.0, -n * 1048576.0, n * fixed.step,
                                               n * 1048576.0}));
}

TEST(FloatAggregationTest, SumIsWithinHalfAStepPerClientWithDropouts) {
  FixedPointConfig fixed;
  fixed.clip = 2.0;
  fixed.step = 1.0 / 4096;
  RoundConfig config = SmallConfig(12, 7);
  core::Rng rng(kSeed + 41);
  std::vector<std::vector<float>> inputs(12, std::vector<float>(config.dimension));
  for (auto& input : inputs) {
    for (float& value : input) value = static_cast<float>(rng.Normal(0.0, 1.0));
  }
  const DropoutSchedule schedule =
      DropoutSchedule::Random(12, 0.25, Phase::kMaskedInputCollection, rng);
  crypto::DeterministicRandomSource random(kSeed + 41);
  auto result = RunSecureAggregationFloat(config, fixed, inputs, schedule, random);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->survivors.size(), 9u);
  for (size_t i = 0; i < config.dimension; ++i) {
    double expected = 0;
    for (uint32_t c : result->survivors) expected += std::clamp<double>(inputs[c][i], -2.0, 2.0);
    EXPECT_NEAR(result->sum[i], expected, 9 * fixed.step / 2) << i;
  }
}

TEST(SecureSumTest, SumsContributionScoresOfSurvivors) {
  RoundConfig config = SmallConfig(10, 6);
  config.dimension = 1;
  config.modulus_bits = 64;
  const std::vector<uint64_t> scores = {5, 0, 1'000'000'000'000, 7, 42, 3, 3, 9, 11, 1};
  DropoutSchedule schedule = DropoutSchedule::None(10);
  schedule.drop_at[2] = Phase::kMaskedInputCollection;
  schedule.drop_at[8] = Phase::kUnmasking;  // Its score still counts: its input arrived.
  crypto::DeterministicRandomSource random(kSeed + 50);
  auto result = RunSecureSum(config, scores, uint64_t{1} << 60, schedule, random);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->sum, 5u + 0 + 7 + 42 + 3 + 3 + 9 + 11 + 1);
  EXPECT_EQ(result->survivors.size(), 9u);
  EXPECT_EQ(RunSecureSum(config, scores, uint64_t{1} << 62, schedule, random).status().code(),
            core::StatusCode::kInvalidArgument);  // 10 * 2^62 could wrap.
  EXPECT_EQ(RunSecureSum(config, scores, 100, schedule, random).status().code(),
            core::StatusCode::kInvalidArgument);  // A score above the stated maximum.
  config.dimension = 2;
  EXPECT_FALSE(RunSecureSum(config, scores, 100, schedule, random).ok());
}

}  // namespace
}  // namespace melodai::secagg
