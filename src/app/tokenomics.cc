// MelodAI — licensed under the Apache License 2.0.
// The MELAI schedule functions: integer allocation, vesting and emission, and the
// largest-remainder split.
#include "app/tokenomics.h"

#include <algorithm>
#include <numeric>

#include "core/check.h"

namespace melodai::app {
namespace {

__extension__ typedef unsigned __int128 Uint128;

}  // namespace

std::string_view AllocationName(Allocation category) {
  switch (category) {
    case Allocation::kTeam:
      return "team";
    case Allocation::kVc:
      return "vc";
    case Allocation::kLiquidity:
      return "liquidity";
    case Allocation::kAirdrop:
      return "airdrop";
    case Allocation::kTreasury:
      return "treasury";
    case Allocation::kNodeRewards:
      return "node_rewards";
    case Allocation::kTrainingRewards:
      return "training_rewards";
  }
  return "unknown";
}

uint64_t MulDiv(uint64_t a, uint64_t b, uint64_t c) {
  MELODAI_CHECK(c > 0);
  const Uint128 result = static_cast<Uint128>(a) * b / c;
  MELODAI_CHECK(result <= UINT64_MAX);
  return static_cast<uint64_t>(result);
}

uint64_t AllocationAmount(const ScheduleParameters& schedule, Allocation category) {
  const size_t index = static_cast<size_t>(category);
  MELODAI_CHECK(index < kAllocationCount);
  return MulDiv(schedule.total_supply, schedule.allocation_bps[index], kBpsDenominator);
}

uint64_t LinearVested(uint64_t amount, uint64_t day, uint32_t cliff_days, uint32_t end_days) {
  MELODAI_CHECK(cliff_days < end_days);
  if (day <= cliff_days) return 0;
  if (day >= end_days) return amount;
  return MulDiv(amount, day - cliff_days, end_days - cliff_days);
}

uint64_t NodeEmissionForEpoch(const ScheduleParameters& schedule, uint64_t epoch) {
  if (epoch >= schedule.node_emission_epochs) return 0;
  return NodeEmissionCumulative(schedule, epoch + 1) - NodeEmissionCumulative(schedule, epoch);
}

uint64_t NodeEmissionCumulative(const ScheduleParameters& schedule, uint64_t epochs) {
  MELODAI_CHECK(schedule.node_emission_epochs > 0);
  const uint64_t total = AllocationAmount(schedule, Allocation::kNodeRewards);
  if (epochs >= schedule.node_emission_epochs) return total;
  return epochs * (total / schedule.node_emission_epochs);
}

uint64_t TrainingPeriodBudget(const ScheduleParameters& schedule, uint64_t period) {
  if (period >= schedule.training_periods || period >= 64) return 0;
  return schedule.training_first_period_amount >> period;
}

uint64_t TrainingEmissionCumulative(const ScheduleParameters& schedule, uint64_t days) {
  MELODAI_CHECK(schedule.training_period_days > 0);
  uint64_t total = 0;
  for (uint64_t period = 0; period < schedule.training_periods; ++period) {
    const uint64_t start = period * schedule.training_period_days;
    if (days <= start) break;
    const uint64_t budget = TrainingPeriodBudget(schedule, period);
    const uint64_t elapsed = std::min<uint64_t>(days - start, schedule.training_period_days);
    total += MulDiv(budget, elapsed, schedule.training_period_days);
  }
  return total;
}

uint64_t TrainingSweepAmount(const ScheduleParameters& schedule) {
  const uint64_t allocation = AllocationAmount(schedule, Allocation::kTrainingRewards);
  uint64_t budgets = 0;
  for (uint64_t period = 0; period < schedule.training_periods; ++period) {
    budgets += TrainingPeriodBudget(schedule, period);
  }
  MELODAI_CHECK(budgets <= allocation);
  return allocation - budgets;
}

std::vector<uint64_t> SplitLargestRemainder(uint64_t total, std::span<const uint64_t> weights) {
  std::vector<uint64_t> parts(weights.size(), 0);
  Uint128 weight_sum = 0;
  for (uint64_t weight : weights) weight_sum += weight;
  if (weight_sum == 0) return parts;
  std::vector<Uint128> remainders(weights.size(), 0);
  uint64_t assigned = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const Uint128 product = static_cast<Uint128>(total) * weights[i];
    parts[i] = static_cast<uint64_t>(product / weight_sum);
    remainders[i] = product % weight_sum;
    assigned += parts[i];
  }
  MELODAI_CHECK(assigned <= total);
  uint64_t left = total - assigned;
  MELODAI_CHECK(left <= weights.size());
  std::vector<size_t> order(weights.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainders[a] > remainders[b]; });
  for (size_t i = 0; i < order.size() && left > 0; ++i, --left) ++parts[order[i]];
  return parts;
}

std::array<uint64_t, kAllocationCount> ReleasedByCategory(const ScheduleParameters& schedule,
                                                          uint64_t day, uint64_t listing_day) {
  std::array<uint64_t, kAllocationCount> released{};
  auto amount = [&](Allocation category) { return AllocationAmount(schedule, category); };
  const bool listed = day >= std::min<uint64_t>(listing_day, schedule.listing_long_stop_days);
  for (Allocation category : {Allocation::kTeam, Allocation::kVc}) {
    released[static_cast<size_t>(category)] =
        LinearVested(amount(category), day, schedule.vesting_cliff_days, schedule.vesting_end_days);
  }
  released[static_cast<size_t>(Allocation::kLiquidity)] = amount(Allocation::kLiquidity);
  for (Allocation category : {Allocation::kAirdrop, Allocation::kTreasury}) {
    const uint64_t total = amount(category);
    released[static_cast<size_t>(category)] = listed ? total : total - total / 2;
  }
  released[static_cast<size_t>(Allocation::kNodeRewards)] = NodeEmissionCumulative(schedule, day);
  released[static_cast<size_t>(Allocation::kTrainingRewards)] =
      TrainingEmissionCumulative(schedule, day);
  const uint64_t training_end =
      static_cast<uint64_t>(schedule.training_periods) * schedule.training_period_days;
  if (day >= training_end) {
    released[static_cast<size_t>(Allocation::kTreasury)] += TrainingSweepAmount(schedule);
  }
  return released;
}

}  // namespace melodai::app
