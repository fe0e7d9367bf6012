// MelodAI — licensed under the Apache License 2.0.
// Seed sweeps of the PBFT simulation. Goal: no safety violation (agreement, common prefix,
// validity, no double execution, conserved supply) and liveness after healing, for thousands
// of seeded fault scenarios. Method: each shard runs a contiguous block of seeds; a failure
// prints the seed, and MELODAI_SEED=<n> runs exactly that seed (with n in MELODAI_SIM_N).

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "tests/sim/pbft_simulation.h"

namespace melodai::sim {
namespace {

constexpr uint64_t kSeedsPerShardN4 = 200;  // 10 shards: 2,000 seeds.
constexpr uint64_t kShardsN4 = 10;
constexpr uint64_t kSeedsPerShardN7 = 100;  // 5 shards: 500 seeds.
constexpr uint64_t kShardsN7 = 5;

void RunSeeds(uint32_t n, uint64_t first_seed, uint64_t count) {
  if (const char* replay = std::getenv("MELODAI_SEED")) {
    const char* replay_n = std::getenv("MELODAI_SIM_N");
    if (replay_n != nullptr && std::stoul(replay_n) != n) GTEST_SKIP() << "other n";
    first_seed = std::stoull(replay);
    count = 1;
  }
  uint64_t failures = 0;
  for (uint64_t seed = first_seed; seed < first_seed + count; ++seed) {
    SimResult result = RunSimulation(RandomScenario(seed, n));
    if (!result.ok) {
      ++failures;
      ADD_FAILURE() << "FAILED seed " << seed << " (replay: MELODAI_SEED=" << seed
                    << " MELODAI_SIM_N=" << n << ")\n  " << result.description << "\n  "
                    << result.failure;
      if (failures >= 3) return;
    }
  }
}

class SweepN4 : public ::testing::TestWithParam<uint64_t> {};
TEST_P(SweepN4, Seeds) {
  RunSeeds(4, 1 + GetParam() * kSeedsPerShardN4, kSeedsPerShardN4);
}
INSTANTIATE_TEST_SUITE_P(Shard, SweepN4, ::testing::Range<uint64_t>(0, kShardsN4));

class SweepN7 : public ::testing::TestWithParam<uint64_t> {};
TEST_P(SweepN7, Seeds) {
  RunSeeds(7, 1'000'001 + GetParam() * kSeedsPerShardN7, kSeedsPerShardN7);
}
INSTANTIATE_TEST_SUITE_P(Shard, SweepN7, ::testing::Range<uint64_t>(0, kShardsN7));

// The same seed must give the same run: the simulator and the replica are deterministic.
TEST(Simulation, SameSeedSameResult) {
  SimResult a = RunSimulation(RandomScenario(42, 4));
  SimResult b = RunSimulation(RandomScenario(42, 4));
  EXPECT_EQ(a.ok, b.ok);
  EXPECT_EQ(a.final_height, b.final_height);
  EXPECT_EQ(a.messages_sent, b.messages_sent);
  EXPECT_EQ(a.end_ms, b.end_ms);
  EXPECT_GT(a.final_height, 0u);
}

// A fault-free run commits every transaction without any view change.
TEST(Simulation, FaultFreeRunCommitsWithoutViewChange) {
  SimOptions options;
  options.seed = 7;
  options.replica.view_change_timeout_ms = 500;
  options.replica.retransmit_interval_ms = 100;
  options.heal_ms = 0;
  SimResult result = RunSimulation(options);
  ASSERT_TRUE(result.ok) << result.failure;
  EXPECT_EQ(result.max_view, 0u);
  EXPECT_EQ(result.committed_transactions, options.clients * options.transactions_per_client);
}

// A primary that withholds most of its messages (and all of them from one backup) must be
// replaced by a view change, after which every transaction still commits.
TEST(Simulation, SilentPrimaryIsReplaced) {
  SimOptions options;
  options.seed = 11;
  options.replica.view_change_timeout_ms = 300;
  options.replica.retransmit_interval_ms = 100;
  options.byzantine = {Byzantine::kWithhold, Byzantine::kNone, Byzantine::kNone, Byzantine::kNone};
  options.heal_ms = 0;
  SimResult result = RunSimulation(options);
  ASSERT_TRUE(result.ok) << result.failure;
  EXPECT_GE(result.max_view, 1u);
}

}  // namespace
}  // namespace melodai::sim
