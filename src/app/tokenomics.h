// MelodAI — licensed under the Apache License 2.0.
// The MELAI token schedule: allocation, vesting, node and training emission, and the
// largest-remainder split used by every reward. Pure integer functions shared by the state
// machine (app::MelodaiApp) and the `melodai tokenomics` charts, so both show the same numbers.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace melodai::app {

// 9 decimals: 1e9 MELAI * 1e9 base units = 1e18 < 2^64 (1.8e19), so every amount and every
// sum of amounts fits in uint64_t. Products (amount * weight) use 128-bit arithmetic.
inline constexpr uint64_t kDecimals = 9;
inline constexpr uint64_t kUnit = 1'000'000'000;  // Base units per MELAI.
inline constexpr uint64_t kTotalSupply = 1'000'000'000ull * kUnit;
inline constexpr uint32_t kBpsDenominator = 10'000;
inline constexpr int64_t kDayMs = 86'400'000;
static_assert(kTotalSupply < UINT64_MAX / 16, "supply must leave headroom in uint64_t");

// The seven allocation categories of the genesis supply, in their canonical order.
enum class Allocation : uint8_t {
  kTeam = 0,
  kVc = 1,
  kLiquidity = 2,
  kAirdrop = 3,
  kTreasury = 4,
  kNodeRewards = 5,
  kTrainingRewards = 6,
};
inline constexpr size_t kAllocationCount = 7;
// "team", "vc", "liquidity", "airdrop", "treasury", "node_rewards", "training_rewards".
std::string_view AllocationName(Allocation category);

// Schedule parameters fixed at genesis (not governable).
struct ScheduleParameters {
  uint64_t total_supply = kTotalSupply;
  // Basis points of total_supply per category, in Allocation order; they sum to 10,000.
  std::array<uint32_t, kAllocationCount> allocation_bps = {1000, 1000, 700, 200, 600, 5000, 1500};
  // Team and VC: nothing before the cliff day, linear from the cliff to the end day
  // (month 12 to month 24 with 30-day months).
  uint32_t vesting_cliff_days = 360;
  uint32_t vesting_end_days = 720;
  // Node emission: the node allocation over this many daily epochs; remainder in the last.
  uint32_t node_emission_epochs = 1825;
  // Training emission: period k lasts training_period_days and emits
  // training_first_period_amount / 2^k; after training_periods periods the unemitted rest of
  // the training allocation is swept to the treasury.
  uint32_t training_period_days = 730;
  uint32_t training_periods = 10;
  uint64_t training_first_period_amount = 75'000'000ull * kUnit;
  // The second halves of airdrop and treasury unlock at the governance listing event, or at
  // the latest on this day.
  uint32_t listing_long_stop_days = 730;

  friend bool operator==(const ScheduleParameters&, const ScheduleParameters&) = default;
};

// floor(a * b / c) computed in 128 bits. REQUIRES: c > 0 and the result fits in uint64_t.
uint64_t MulDiv(uint64_t a, uint64_t b, uint64_t c);

// floor(total_supply * bps / 10,000) for `category`.
uint64_t AllocationAmount(const ScheduleParameters& schedule, Allocation category);

// Amount of a team/VC grant of `amount` vested after `day` whole days since genesis:
// 0 up to the cliff, then floor(amount * (day - cliff) / (end - cliff)), amount from the end.
// Monotone in `day`. REQUIRES: cliff < end.
uint64_t LinearVested(uint64_t amount, uint64_t day, uint32_t cliff_days, uint32_t end_days);

// Node emission of daily epoch `epoch` (0-based): floor(node allocation / epochs), the last
// epoch adding the remainder; 0 from epoch `node_emission_epochs` on.
uint64_t NodeEmissionForEpoch(const ScheduleParameters& schedule, uint64_t epoch);
// Node emission of epochs [0, epochs): closed form, O(1).
uint64_t NodeEmissionCumulative(const ScheduleParameters& schedule, uint64_t epochs);

// Budget of training period k: training_first_period_amount >> k (0 from training_periods on).
uint64_t TrainingPeriodBudget(const ScheduleParameters& schedule, uint64_t period);
// Training emission of days [0, days): full periods plus floor(budget * days_in / period_days)
// of the current one; constant after the last period. O(training_periods).
uint64_t TrainingEmissionCumulative(const ScheduleParameters& schedule, uint64_t days);
// What the training periods never emit: the training allocation minus the total of all
// period budgets; swept to the treasury when the last period ends.
uint64_t TrainingSweepAmount(const ScheduleParameters& schedule);

// Splits `total` in proportion to `weights` by the largest-remainder method: part i gets
// floor(total * w_i / W) and the units left over go one each to the largest remainders, ties
// to the lower index. The parts sum exactly to `total`. Returns all zeros when W = 0 (the
// caller keeps the total in its pool). Deterministic; O(n log n).
std::vector<uint64_t> SplitLargestRemainder(uint64_t total, std::span<const uint64_t> weights);

// Released supply per category at the end of `day` whole days, assuming the listing event on
// `listing_day` (capped by the long stop). Node and training rewards count what was emitted;
// the treasury counts what was unlocked (including the training sweep). For the charts.
std::array<uint64_t, kAllocationCount> ReleasedByCategory(const ScheduleParameters& schedule,
                                                          uint64_t day, uint64_t listing_day);

}  // namespace melodai::app
