// MelodAI — licensed under the Apache License 2.0.
// Schedule tests: allocation, node emission over 1,825 epochs, the training emission table of
// DESIGN.md section 5, team/VC vesting at hand-computed months, and the largest-remainder split.
#include "app/tokenomics.h"

#include <gtest/gtest.h>

#include <numeric>

namespace melodai::app {
namespace {

constexpr uint64_t M = 1'000'000 * kUnit;  // One million MELAI in base units.

TEST(Tokenomics, AllocationMatchesTheWhitepaper) {
  const ScheduleParameters schedule;
  EXPECT_EQ(AllocationAmount(schedule, Allocation::kTeam), 100 * M);
  EXPECT_EQ(AllocationAmount(schedule, Allocation::kVc), 100 * M);
  EXPECT_EQ(AllocationAmount(schedule, Allocation::kLiquidity), 70 * M);
  EXPECT_EQ(AllocationAmount(schedule, Allocation::kAirdrop), 20 * M);
  EXPECT_EQ(AllocationAmount(schedule, Allocation::kTreasury), 60 * M);
  EXPECT_EQ(AllocationAmount(schedule, Allocation::kNodeRewards), 500 * M);
  EXPECT_EQ(AllocationAmount(schedule, Allocation::kTrainingRewards), 150 * M);
  uint64_t sum = 0;
  for (size_t i = 0; i < kAllocationCount; ++i)
    sum += AllocationAmount(schedule, static_cast<Allocation>(i));
  EXPECT_EQ(sum, kTotalSupply);
  EXPECT_EQ(kTotalSupply, 1'000'000'000'000'000'000ull);
}

TEST(Tokenomics, NodeEmissionSumsExactlyTo500MillionOver1825Epochs) {
  const ScheduleParameters schedule;
  // 500,000,000 MELAI / 1,825 = 273,972.602739726027... MELAI; floor in base units.
  const uint64_t daily = 273'972'602'739'726ull;
  uint64_t sum = 0;
  for (uint64_t epoch = 0; epoch < 1825; ++epoch) {
    const uint64_t amount = NodeEmissionForEpoch(schedule, epoch);
    if (epoch < 1824) {
      EXPECT_EQ(amount, daily) << epoch;
    }
    sum += amount;
    EXPECT_EQ(NodeEmissionCumulative(schedule, epoch + 1), sum);
  }
  // 1,825 * daily = 499,999,999,999,999,950: the last epoch takes the 50 left over.
  EXPECT_EQ(NodeEmissionForEpoch(schedule, 1824), daily + 50);
  EXPECT_EQ(sum, 500 * M);
  EXPECT_EQ(NodeEmissionForEpoch(schedule, 1825), 0u);
  EXPECT_EQ(NodeEmissionCumulative(schedule, 100'000), 500 * M);
}

TEST(Tokenomics, TrainingEmissionTableHalvesEveryTwoYearsAndStaysBelow150M) {
  const ScheduleParameters schedule;
  // DESIGN.md: period k (2 years) emits 75M / 2^k; 37.5M a year in years 1-2.
  const uint64_t expected[] = {75 * M,
                               37'500'000 * kUnit,
                               18'750'000 * kUnit,
                               9'375'000 * kUnit,
                               4'687'500 * kUnit,
                               2'343'750 * kUnit,
                               1'171'875 * kUnit,
                               585'937'500'000'000ull,
                               292'968'750'000'000ull,
                               146'484'375'000'000ull};
  uint64_t total = 0;
  for (uint64_t k = 0; k < 10; ++k) {
    EXPECT_EQ(TrainingPeriodBudget(schedule, k), expected[k]) << k;
    total += expected[k];
    EXPECT_EQ(TrainingEmissionCumulative(schedule, (k + 1) * 730), total);
    EXPECT_LE(TrainingEmissionCumulative(schedule, (k + 1) * 730), 150 * M);
  }
  EXPECT_EQ(TrainingPeriodBudget(schedule, 10), 0u);
  // 75M * (2 - 2^-9) = 149,853,515.625 MELAI; the rest 146,484.375 MELAI is swept.
  EXPECT_EQ(total, 149'853'515'625'000'000ull);
  EXPECT_EQ(TrainingSweepAmount(schedule), 146'484'375'000'000ull);
  EXPECT_EQ(total + TrainingSweepAmount(schedule), 150 * M);
  // One year in: half of the first period.
  EXPECT_EQ(TrainingEmissionCumulative(schedule, 365), 37'500'000 * kUnit);
  // Monotone day by day and never above the cap.
  uint64_t previous = 0;
  for (uint64_t day = 0; day <= 8000; ++day) {
    const uint64_t value = TrainingEmissionCumulative(schedule, day);
    ASSERT_GE(value, previous);
    ASSERT_LE(value, 150 * M);
    previous = value;
  }
}

TEST(Tokenomics, TeamVestingAtHandComputedMonths) {
  const ScheduleParameters schedule;  // Cliff day 360 (month 12), end day 720 (month 24).
  const uint64_t grant = 100 * M;
  auto at_month = [&](uint64_t month) {
    return LinearVested(grant, month * 30, schedule.vesting_cliff_days, schedule.vesting_end_days);
  };
  EXPECT_EQ(at_month(0), 0u);
  EXPECT_EQ(at_month(11), 0u);
  EXPECT_EQ(at_month(12), 0u);  // Linear from month 12: nothing released at the cliff itself.
  EXPECT_EQ(at_month(13), 8'333'333'333'333'333ull);  // 100M * 30/360, rounded down.
  EXPECT_EQ(at_month(18), 50 * M);
  EXPECT_EQ(at_month(24), 100 * M);
  EXPECT_EQ(at_month(36), 100 * M);
  uint64_t previous = 0;
  for (uint64_t day = 0; day < 1000; ++day) {
    const uint64_t value = LinearVested(grant, day, 360, 720);
    ASSERT_GE(value, previous);
    previous = value;
  }
}

TEST(Tokenomics, LargestRemainderSplitSumsExactlyWithDeterministicTies) {
  const std::vector<uint64_t> equal = {1, 1, 1};
  EXPECT_EQ(SplitLargestRemainder(10, equal), (std::vector<uint64_t>{4, 3, 3}));
  const std::vector<uint64_t> weights = {5000, 3000, 1500, 500};
  EXPECT_EQ(SplitLargestRemainder(7, weights), (std::vector<uint64_t>{4, 2, 1, 0}));
  const std::vector<uint64_t> zeros = {0, 0};
  EXPECT_EQ(SplitLargestRemainder(99, zeros), (std::vector<uint64_t>{0, 0}));
  // Large totals and weights use 128-bit products.
  const std::vector<uint64_t> big = {UINT64_MAX, UINT64_MAX - 1, 3};
  const auto parts = SplitLargestRemainder(kTotalSupply, big);
  EXPECT_EQ(std::accumulate(parts.begin(), parts.end(), uint64_t{0}), kTotalSupply);
  uint64_t state = 12345;
  for (int trial = 0; trial < 2000; ++trial) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::vector<uint64_t> random_weights(1 + state % 17);
    for (uint64_t& w : random_weights) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      w = state >> (state % 64);
    }
    const uint64_t total = state % (kTotalSupply + 1);
    const auto split = SplitLargestRemainder(total, random_weights);
    const uint64_t sum = std::accumulate(split.begin(), split.end(), uint64_t{0});
    bool any = false;
    for (uint64_t w : random_weights) any = any || w > 0;
    ASSERT_EQ(sum, any ? total : 0);
  }
}

TEST(Tokenomics, ReleasedSupplyReachesTheTotalAfterTheSchedules) {
  const ScheduleParameters schedule;
  const auto day0 = ReleasedByCategory(schedule, 0, 365);
  EXPECT_EQ(day0[static_cast<size_t>(Allocation::kTeam)], 0u);
  EXPECT_EQ(day0[static_cast<size_t>(Allocation::kLiquidity)], 70 * M);
  EXPECT_EQ(day0[static_cast<size_t>(Allocation::kAirdrop)], 10 * M);
  EXPECT_EQ(day0[static_cast<size_t>(Allocation::kTreasury)], 30 * M);
  const auto end = ReleasedByCategory(schedule, 20 * 365, 365);
  uint64_t sum = 0;
  for (uint64_t value : end) sum += value;
  EXPECT_EQ(sum, kTotalSupply);
}

}  // namespace
}  // namespace melodai::app
