// MelodAI — licensed under the Apache License 2.0.
// The application part of the genesis file: the token schedule, the genesis grants (team,
// VC, liquidity and airdrop accounts), the committee, and the governable parameters with the
// bounds governance may move them within. It lives in the "app" object of the node's genesis
// JSON (node/genesis.h reads the rest of the same file and ignores "app").
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "app/tokenomics.h"
#include "core/status.h"
#include "crypto/ed25519.h"

namespace melodai::app {

// Parameters governance may change (ParameterChange proposals), each within its genesis
// bounds. The numeric ids are part of the transaction format.
enum Parameter : uint32_t {
  kTransferFeeBps = 0,       // Fee on transfers, to the fee pool.
  kSalesFeeBps = 1,          // Fee on primary edition sales, to the fee pool.
  kResaleRoyaltyMinBps = 2,  // Lowest royalty an edition may set on resales.
  kResaleRoyaltyMaxBps = 3,  // Highest royalty an edition may set on resales.
  kNodeServiceFeeBps = 4,    // Fee on subscriptions (node services), to the fee pool.
  kProposalThreshold = 5,    // Balance needed to propose (base units).
  kProposalDeposit = 6,      // Escrowed with a proposal (base units).
  kVotingDelayMs = 7,        // From proposal to the start of voting.
  kVotingPeriodMs = 8,       // Length of the vote.
  kTimelockMs = 9,           // From the end of the vote to the earliest execution.
  kExecutionGraceMs = 10,    // After the timelock, how long a passed proposal stays executable.
  kQuorumBps = 11,           // (For + Against + Abstain) power vs the snapshot supply.
  kSupermajorityBps = 12,    // For share of For + Against needed by major proposals.
  kSubscriptionPrice = 13,   // Per payout period (base units).
  kPayoutModel = 14,         // 0 = pro-rata, 1 = user-centric.
  kWeightBlocks = 15,        // w_b of C = w_b·B + w_s·S + w_c·P.
  kWeightServing = 16,       // w_s.
  kWeightCompute = 17,       // w_c.
  kWeightVolume = 18,        // w_v of D = w_v·V + w_q·Q + w_r·R.
  kWeightQuality = 19,       // w_q.
  kWeightReliability = 20,   // w_r.
};
inline constexpr size_t kParameterCount = 21;
inline constexpr uint64_t kMaxScoreWeight = 1'000'000;
using ParameterValues = std::array<uint64_t, kParameterCount>;

// The snake_case name of a parameter ("transfer_fee_bps"); "" for an unknown id.
std::string_view ParameterName(uint32_t parameter);
// The id of `name`, or kParameterCount when unknown.
uint32_t ParameterByName(std::string_view name);
// The largest value a parameter can ever take whatever the bounds say (10,000 for basis
// points, kMaxScoreWeight for weights, 1 for the payout model, ...).
uint64_t ParameterHardLimit(uint32_t parameter);

struct GenesisGrant {
  crypto::Ed25519PublicKey public_key;
  uint64_t amount = 0;
};

struct AppGenesis {
  int64_t timestamp_ms = 0;
  // Validators attest node contributions and federated rounds.
  std::vector<crypto::Ed25519PublicKey> validators;
  ScheduleParameters schedule;
  // Grants of the team, VC, liquidity and airdrop categories; each category's grants sum to
  // its allocation. Treasury, node and training allocations are pools of the state.
  std::vector<GenesisGrant> team, vc, liquidity, airdrop;
  std::vector<crypto::Ed25519PublicKey> committee;  // Initial committee members.
  uint32_t committee_seats = 7;
  uint32_t committee_rotation_bps = 3000;  // Share of seats rotated, rounded up.
  uint32_t committee_rotation_days = 182;  // "Every six months".
  uint32_t payout_period_days = 30;        // Artist payout period.
  ParameterValues parameters{};
  ParameterValues minimum{};
  ParameterValues maximum{};
};

// The genesis defaults of DESIGN.md section 5 (fees at their lower bounds, 7-day voting
// delay, 7-day vote, 2-day timelock, 10% quorum, 66% supermajority). No grants, validators
// or committee: the caller adds them.
AppGenesis DefaultAppGenesis();

// Fills each grant category with one account holding the whole category allocation (for
// tests and local networks).
void GrantWholeCategories(AppGenesis& genesis, const crypto::Ed25519PublicKey& team,
                          const crypto::Ed25519PublicKey& vc,
                          const crypto::Ed25519PublicKey& liquidity,
                          const crypto::Ed25519PublicKey& airdrop);

// Checks consistency: allocation bps sum to 10,000 and each grant category sums to its
// allocation; vesting cliff < end; non-zero epochs/periods; training budgets within the
// training allocation; no duplicate keys in a category; bounds min <= value <= max <= hard
// limit; royalty min <= max; committee within its seats. kInvalidArgument naming the field.
core::Status ValidateAppGenesis(const AppGenesis& genesis);

// Parses a genesis JSON text: "timestamp_ms", "validators" [{"public_key"}] and the "app"
// object (see docs/APP.md; every field of "app" is optional and defaults to
// DefaultAppGenesis). kDataLoss naming the field on malformed input ("genesis.json:
// app.parameters.transfer_fee_bps must be a non-negative integer"), kInvalidArgument on
// inconsistent content.
core::Result<AppGenesis> ParseAppGenesis(std::string_view json_text, std::string_view source);
core::Result<AppGenesis> ReadAppGenesisFile(const std::filesystem::path& path);
// The "app" object of `genesis` as JSON text (round-trips through ParseAppGenesis).
std::string AppGenesisToJson(const AppGenesis& genesis);

}  // namespace melodai::app
