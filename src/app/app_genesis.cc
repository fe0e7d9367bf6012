// MelodAI — licensed under the Apache License 2.0.
// Parsing, defaults and validation of the application genesis.
#include "app/app_genesis.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "core/file_util.h"
#include "crypto/hash.h"

namespace melodai::app {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, kParameterCount> kParameterNames = {
    "transfer_fee_bps",       "sales_fee_bps",
    "resale_royalty_min_bps", "resale_royalty_max_bps",
    "node_service_fee_bps",   "proposal_threshold",
    "proposal_deposit",       "voting_delay_ms",
    "voting_period_ms",       "timelock_ms",
    "execution_grace_ms",     "quorum_bps",
    "supermajority_bps",      "subscription_price",
    "payout_model",           "weight_blocks",
    "weight_serving",         "weight_compute",
    "weight_volume",          "weight_quality",
    "weight_reliability"};
constexpr size_t kMaxGrants = 100'000;
constexpr uint64_t kYearMs = 365ull * kDayMs;

core::Status Malformed(std::string_view source, std::string_view field, std::string_view what) {
  return core::DataLossError(fmt::format("{}: {} must be {}", source, field, what));
}

core::Result<uint64_t> ReadUnsigned(const json& value, std::string_view source,
                                    std::string_view field) {
  if (!value.is_number_unsigned()) return Malformed(source, field, "a non-negative integer");
  return value.get<uint64_t>();
}

// Reads object[name] into `target` when present; rejects values above `max_value`.
template <typename T>
core::Status ReadOptional(const json& object, std::string_view source, std::string_view prefix,
                          const char* name, T& target, uint64_t max_value) {
  if (!object.contains(name)) return core::Status::Ok();
  const std::string field = fmt::format("{}.{}", prefix, name);
  MELODAI_ASSIGN_OR_RETURN(uint64_t value, ReadUnsigned(object[name], source, field));
  if (value > max_value) {
    return core::DataLossError(
        fmt::format("{}: {} = {} exceeds {}", source, field, value, max_value));
  }
  target = static_cast<T>(value);
  return core::Status::Ok();
}

core::Result<crypto::Ed25519PublicKey> ReadKey(const json& value, std::string_view source,
                                               const std::string& field) {
  if (!value.is_string()) return Malformed(source, field, "a 64-digit hex string");
  auto bytes = crypto::FromHex(value.get<std::string>());
  if (!bytes.ok() || bytes->size() != 32) {
    return Malformed(source, field, "a 64-digit hex string");
  }
  crypto::Ed25519PublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
  return key;
}

core::Status ReadGrants(const json& allocations, std::string_view source, const char* name,
                        std::vector<GenesisGrant>& grants) {
  if (!allocations.contains(name)) return core::Status::Ok();
  const json& list = allocations[name];
  const std::string prefix = fmt::format("app.allocations.{}", name);
  if (!list.is_array() || list.size() > kMaxGrants) {
    return Malformed(source, prefix, "an array of at most 100000 grants");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = fmt::format("{}[{}]", prefix, i);
    if (!list[i].is_object() || !list[i].contains("public_key") || !list[i].contains("amount")) {
      return Malformed(source, where, "an object with public_key and amount");
    }
    GenesisGrant grant;
    MELODAI_ASSIGN_OR_RETURN(grant.public_key,
                             ReadKey(list[i]["public_key"], source, where + ".public_key"));
    MELODAI_ASSIGN_OR_RETURN(grant.amount,
                             ReadUnsigned(list[i]["amount"], source, where + ".amount"));
    grants.push_back(grant);
  }
  return core::Status::Ok();
}

core::Status ReadSchedule(const json& app, std::string_view source, ScheduleParameters& schedule) {
  if (!app.contains("schedule")) return core::Status::Ok();
  const json& object = app["schedule"];
  if (!object.is_object()) return Malformed(source, "app.schedule", "an object");
  const std::string_view prefix = "app.schedule";
  MELODAI_RETURN_IF_ERROR(ReadOptional(object, source, prefix, "total_supply",
                                       schedule.total_supply, kTotalSupply * 4));
  if (object.contains("allocation_bps")) {
    const json& bps = object["allocation_bps"];
    if (!bps.is_object()) return Malformed(source, "app.schedule.allocation_bps", "an object");
    for (size_t i = 0; i < kAllocationCount; ++i) {
      const std::string name(AllocationName(static_cast<Allocation>(i)));
      MELODAI_RETURN_IF_ERROR(ReadOptional(bps, source, "app.schedule.allocation_bps", name.c_str(),
                                           schedule.allocation_bps[i], kBpsDenominator));
    }
  }
  MELODAI_RETURN_IF_ERROR(ReadOptional(object, source, prefix, "vesting_cliff_days",
                                       schedule.vesting_cliff_days, 100'000));
  MELODAI_RETURN_IF_ERROR(
      ReadOptional(object, source, prefix, "vesting_end_days", schedule.vesting_end_days, 100'000));
  MELODAI_RETURN_IF_ERROR(ReadOptional(object, source, prefix, "node_emission_epochs",
                                       schedule.node_emission_epochs, 100'000));
  MELODAI_RETURN_IF_ERROR(ReadOptional(object, source, prefix, "training_period_days",
                                       schedule.training_period_days, 100'000));
  MELODAI_RETURN_IF_ERROR(
      ReadOptional(object, source, prefix, "training_periods", schedule.training_periods, 63));
  MELODAI_RETURN_IF_ERROR(ReadOptional(object, source, prefix, "training_first_period_amount",
                                       schedule.training_first_period_amount, kTotalSupply * 4));
  return ReadOptional(object, source, prefix, "listing_long_stop_days",
                      schedule.listing_long_stop_days, 100'000);
}

core::Status ReadParameters(const json& app, std::string_view source, AppGenesis& genesis) {
  if (app.contains("parameters")) {
    const json& object = app["parameters"];
    if (!object.is_object()) return Malformed(source, "app.parameters", "an object");
    for (const auto& [name, value] : object.items()) {
      const uint32_t id = ParameterByName(name);
      if (id == kParameterCount) {
        return core::DataLossError(
            fmt::format("{}: app.parameters.{} is not a parameter", source, name));
      }
      MELODAI_ASSIGN_OR_RETURN(genesis.parameters[id],
                               ReadUnsigned(value, source, "app.parameters." + name));
    }
  }
  if (!app.contains("bounds")) return core::Status::Ok();
  const json& bounds = app["bounds"];
  if (!bounds.is_object()) return Malformed(source, "app.bounds", "an object");
  for (const auto& [name, value] : bounds.items()) {
    const uint32_t id = ParameterByName(name);
    const std::string field = "app.bounds." + name;
    if (id == kParameterCount) {
      return core::DataLossError(fmt::format("{}: {} is not a parameter", source, field));
    }
    if (!value.is_array() || value.size() != 2) return Malformed(source, field, "[min, max]");
    MELODAI_ASSIGN_OR_RETURN(genesis.minimum[id], ReadUnsigned(value[0], source, field + "[0]"));
    MELODAI_ASSIGN_OR_RETURN(genesis.maximum[id], ReadUnsigned(value[1], source, field + "[1]"));
  }
  return core::Status::Ok();
}

core::Status ReadApp(const json& app, std::string_view source, AppGenesis& genesis) {
  MELODAI_RETURN_IF_ERROR(ReadSchedule(app, source, genesis.schedule));
  if (app.contains("allocations")) {
    const json& allocations = app["allocations"];
    if (!allocations.is_object()) return Malformed(source, "app.allocations", "an object");
    MELODAI_RETURN_IF_ERROR(ReadGrants(allocations, source, "team", genesis.team));
    MELODAI_RETURN_IF_ERROR(ReadGrants(allocations, source, "vc", genesis.vc));
    MELODAI_RETURN_IF_ERROR(ReadGrants(allocations, source, "liquidity", genesis.liquidity));
    MELODAI_RETURN_IF_ERROR(ReadGrants(allocations, source, "airdrop", genesis.airdrop));
  }
  if (app.contains("committee")) {
    const json& committee = app["committee"];
    if (!committee.is_object()) return Malformed(source, "app.committee", "an object");
    const std::string_view prefix = "app.committee";
    MELODAI_RETURN_IF_ERROR(
        ReadOptional(committee, source, prefix, "seats", genesis.committee_seats, 1000));
    MELODAI_RETURN_IF_ERROR(ReadOptional(committee, source, prefix, "rotation_bps",
                                         genesis.committee_rotation_bps, kBpsDenominator));
    MELODAI_RETURN_IF_ERROR(ReadOptional(committee, source, prefix, "rotation_days",
                                         genesis.committee_rotation_days, 100'000));
    if (committee.contains("members")) {
      const json& members = committee["members"];
      if (!members.is_array()) return Malformed(source, "app.committee.members", "an array");
      for (size_t i = 0; i < members.size(); ++i) {
        MELODAI_ASSIGN_OR_RETURN(
            crypto::Ed25519PublicKey key,
            ReadKey(members[i], source, fmt::format("app.committee.members[{}]", i)));
        genesis.committee.push_back(key);
      }
    }
  }
  MELODAI_RETURN_IF_ERROR(
      ReadOptional(app, source, "app", "payout_period_days", genesis.payout_period_days, 100'000));
  return ReadParameters(app, source, genesis);
}

core::Status CheckGrants(const AppGenesis& genesis, Allocation category,
                         const std::vector<GenesisGrant>& grants) {
  const std::string_view name = AllocationName(category);
  std::set<crypto::Ed25519PublicKey> seen;
  uint64_t sum = 0;
  for (const GenesisGrant& grant : grants) {
    if (!seen.insert(grant.public_key).second) {
      return core::InvalidArgumentError(fmt::format("app.allocations.{}: duplicate key {}", name,
                                                    crypto::ToHex(grant.public_key.bytes)));
    }
    if (grant.amount > genesis.schedule.total_supply - sum) {
      return core::InvalidArgumentError(fmt::format("app.allocations.{}: grants overflow", name));
    }
    sum += grant.amount;
  }
  const uint64_t expected = AllocationAmount(genesis.schedule, category);
  if (sum != expected) {
    return core::InvalidArgumentError(fmt::format(
        "app.allocations.{}: grants sum to {}, the allocation is {}", name, sum, expected));
  }
  return core::Status::Ok();
}

core::Status CheckSchedule(const ScheduleParameters& schedule) {
  uint64_t bps = 0;
  for (uint32_t value : schedule.allocation_bps) bps += value;
  if (bps != kBpsDenominator) {
    return core::InvalidArgumentError(
        fmt::format("app.schedule.allocation_bps: sum to {}, expected 10000", bps));
  }
  if (schedule.total_supply == 0 || schedule.total_supply % kBpsDenominator != 0) {
    return core::InvalidArgumentError(
        "app.schedule.total_supply: must be a positive multiple of 10000");
  }
  if (schedule.vesting_cliff_days >= schedule.vesting_end_days) {
    return core::InvalidArgumentError(
        "app.schedule.vesting_cliff_days: must be below vesting_end_days");
  }
  if (schedule.node_emission_epochs == 0) {
    return core::InvalidArgumentError("app.schedule.node_emission_epochs: must be positive");
  }
  if (schedule.training_period_days == 0 || schedule.training_periods == 0) {
    return core::InvalidArgumentError(
        "app.schedule.training_period_days and training_periods: must be positive");
  }
  // Σ first / 2^k < 2 * first, so twice the first budget bounds every table.
  if (schedule.training_first_period_amount >
      AllocationAmount(schedule, Allocation::kTrainingRewards) / 2) {
    return core::InvalidArgumentError(
        "app.schedule.training_first_period_amount: twice it must fit in the training allocation");
  }
  return core::Status::Ok();
}

}  // namespace

std::string_view ParameterName(uint32_t parameter) {
  return parameter < kParameterCount ? kParameterNames[parameter] : std::string_view();
}

uint32_t ParameterByName(std::string_view name) {
  for (uint32_t i = 0; i < kParameterCount; ++i) {
    if (kParameterNames[i] == name) return i;
  }
  return kParameterCount;
}

uint64_t ParameterHardLimit(uint32_t parameter) {
  switch (parameter) {
    case kTransferFeeBps:
    case kSalesFeeBps:
    case kResaleRoyaltyMinBps:
    case kResaleRoyaltyMaxBps:
    case kNodeServiceFeeBps:
    case kQuorumBps:
    case kSupermajorityBps:
      return kBpsDenominator;
    case kProposalThreshold:
    case kProposalDeposit:
    case kSubscriptionPrice:
      return kTotalSupply;
    case kVotingDelayMs:
    case kVotingPeriodMs:
    case kTimelockMs:
    case kExecutionGraceMs:
      return 10 * kYearMs;
    case kPayoutModel:
      return 1;
    case kWeightBlocks:
    case kWeightServing:
    case kWeightCompute:
    case kWeightVolume:
    case kWeightQuality:
    case kWeightReliability:
      return kMaxScoreWeight;
    default:
      return 0;
  }
}

AppGenesis DefaultAppGenesis() {
  AppGenesis genesis;
  auto set = [&](Parameter parameter, uint64_t value, uint64_t low, uint64_t high) {
    genesis.parameters[parameter] = value;
    genesis.minimum[parameter] = low;
    genesis.maximum[parameter] = high;
  };
  set(kTransferFeeBps, 10, 10, 50);          // 0.1%–0.5%.
  set(kSalesFeeBps, 500, 500, 1000);         // 5%–10%.
  set(kResaleRoyaltyMinBps, 200, 200, 500);  // 2%–5%.
  set(kResaleRoyaltyMaxBps, 500, 200, 500);
  set(kNodeServiceFeeBps, 100, 100, 300);  // 1%–3%.
  set(kProposalThreshold, 1000 * kUnit, 100 * kUnit, 100'000 * kUnit);
  set(kProposalDeposit, 100 * kUnit, 0, 10'000 * kUnit);
  set(kVotingDelayMs, 7 * kDayMs, 7 * kDayMs, 30 * kDayMs);
  set(kVotingPeriodMs, 7 * kDayMs, 1 * kDayMs, 30 * kDayMs);
  set(kTimelockMs, 2 * kDayMs, 1 * kDayMs, 30 * kDayMs);
  set(kExecutionGraceMs, 14 * kDayMs, 1 * kDayMs, 90 * kDayMs);
  set(kQuorumBps, 1000, 100, 5000);
  set(kSupermajorityBps, 6600, 6600, 9000);
  set(kSubscriptionPrice, 10 * kUnit, 1 * kUnit, 100 * kUnit);
  set(kPayoutModel, 0, 0, 1);
  set(kWeightBlocks, 50, 0, kMaxScoreWeight);
  set(kWeightServing, 30, 0, kMaxScoreWeight);
  set(kWeightCompute, 20, 0, kMaxScoreWeight);
  set(kWeightVolume, 40, 0, kMaxScoreWeight);
  set(kWeightQuality, 40, 0, kMaxScoreWeight);
  set(kWeightReliability, 20, 0, kMaxScoreWeight);
  return genesis;
}

void GrantWholeCategories(AppGenesis& genesis, const crypto::Ed25519PublicKey& team,
                          const crypto::Ed25519PublicKey& vc,
                          const crypto::Ed25519PublicKey& liquidity,
                          const crypto::Ed25519PublicKey& airdrop) {
  genesis.team = {{team, AllocationAmount(genesis.schedule, Allocation::kTeam)}};
  genesis.vc = {{vc, AllocationAmount(genesis.schedule, Allocation::kVc)}};
  genesis.liquidity = {{liquidity, AllocationAmount(genesis.schedule, Allocation::kLiquidity)}};
  genesis.airdrop = {{airdrop, AllocationAmount(genesis.schedule, Allocation::kAirdrop)}};
}

core::Status ValidateAppGenesis(const AppGenesis& genesis) {
  MELODAI_RETURN_IF_ERROR(CheckSchedule(genesis.schedule));
  MELODAI_RETURN_IF_ERROR(CheckGrants(genesis, Allocation::kTeam, genesis.team));
  MELODAI_RETURN_IF_ERROR(CheckGrants(genesis, Allocation::kVc, genesis.vc));
  MELODAI_RETURN_IF_ERROR(CheckGrants(genesis, Allocation::kLiquidity, genesis.liquidity));
  MELODAI_RETURN_IF_ERROR(CheckGrants(genesis, Allocation::kAirdrop, genesis.airdrop));
  // Up to 2^60 ms (MelodaiApp clamps block timestamps there).
  if (genesis.timestamp_ms < 0 || genesis.timestamp_ms > (int64_t{1} << 60)) {
    return core::InvalidArgumentError("timestamp_ms: must be in [0, 2^60]");
  }
  for (uint32_t id = 0; id < kParameterCount; ++id) {
    const uint64_t value = genesis.parameters[id];
    const uint64_t low = genesis.minimum[id];
    const uint64_t high = genesis.maximum[id];
    if (!(low <= value && value <= high && high <= ParameterHardLimit(id))) {
      return core::InvalidArgumentError(
          fmt::format("app.parameters.{} = {}: needs bounds min {} <= value <= max {} <= {}",
                      ParameterName(id), value, low, high, ParameterHardLimit(id)));
    }
  }
  if (genesis.parameters[kResaleRoyaltyMinBps] > genesis.parameters[kResaleRoyaltyMaxBps]) {
    return core::InvalidArgumentError("app.parameters.resale_royalty_min_bps: above the maximum");
  }
  if (genesis.committee_seats == 0 || genesis.committee.size() > genesis.committee_seats) {
    return core::InvalidArgumentError("app.committee: seats must be positive and hold all members");
  }
  if (std::set(genesis.committee.begin(), genesis.committee.end()).size() !=
      genesis.committee.size()) {
    return core::InvalidArgumentError("app.committee.members: duplicate member");
  }
  if (genesis.committee_rotation_days == 0 || genesis.payout_period_days == 0) {
    return core::InvalidArgumentError(
        "app.committee.rotation_days and app.payout_period_days: must be positive");
  }
  if (std::set(genesis.validators.begin(), genesis.validators.end()).size() !=
      genesis.validators.size()) {
    return core::InvalidArgumentError("validators: duplicate key");
  }
  return core::Status::Ok();
}

core::Result<AppGenesis> ParseAppGenesis(std::string_view json_text, std::string_view source) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return core::DataLossError(fmt::format("{}: not a JSON object", source));
  }
  AppGenesis genesis = DefaultAppGenesis();
  if (!root.contains("timestamp_ms")) return Malformed(source, "timestamp_ms", "present");
  MELODAI_ASSIGN_OR_RETURN(uint64_t timestamp,
                           ReadUnsigned(root["timestamp_ms"], source, "timestamp_ms"));
  if (timestamp > static_cast<uint64_t>(INT64_MAX))
    return Malformed(source, "timestamp_ms", "below 2^63");
  genesis.timestamp_ms = static_cast<int64_t>(timestamp);
  if (root.contains("validators")) {
    const json& validators = root["validators"];
    if (!validators.is_array()) return Malformed(source, "validators", "an array");
    for (size_t i = 0; i < validators.size(); ++i) {
      const std::string where = fmt::format("validators[{}].public_key", i);
      if (!validators[i].is_object() || !validators[i].contains("public_key")) {
        return Malformed(source, where, "present");
      }
      MELODAI_ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key,
                               ReadKey(validators[i]["public_key"], source, where));
      genesis.validators.push_back(key);
    }
  }
  if (root.contains("app")) {
    if (!root["app"].is_object()) return Malformed(source, "app", "an object");
    MELODAI_RETURN_IF_ERROR(ReadApp(root["app"], source, genesis));
  }
  core::Status valid = ValidateAppGenesis(genesis);
  if (!valid.ok()) return valid.WithContext(source);
  return genesis;
}

core::Result<AppGenesis> ReadAppGenesisFile(const std::filesystem::path& path) {
  MELODAI_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  return ParseAppGenesis(text, path.string());
}

std::string AppGenesisToJson(const AppGenesis& genesis) {
  json root;
  root["timestamp_ms"] = static_cast<uint64_t>(genesis.timestamp_ms);
  root["validators"] = json::array();
  for (const auto& key : genesis.validators) {
    root["validators"].push_back({{"public_key", crypto::ToHex(key.bytes)}});
  }
  json app;
  const ScheduleParameters& schedule = genesis.schedule;
  json bps = json::object();
  for (size_t i = 0; i < kAllocationCount; ++i) {
    bps[std::string(AllocationName(static_cast<Allocation>(i)))] = schedule.allocation_bps[i];
  }
  app["schedule"] = {{"total_supply", schedule.total_supply},
                     {"allocation_bps", bps},
                     {"vesting_cliff_days", schedule.vesting_cliff_days},
                     {"vesting_end_days", schedule.vesting_end_days},
                     {"node_emission_epochs", schedule.node_emission_epochs},
                     {"training_period_days", schedule.training_period_days},
                     {"training_periods", schedule.training_periods},
                     {"training_first_period_amount", schedule.training_first_period_amount},
                     {"listing_long_stop_days", schedule.listing_long_stop_days}};
  auto grants = [](const std::vector<GenesisGrant>& list) {
    json out = json::array();
    for (const GenesisGrant& grant : list) {
      out.push_back(
          {{"public_key", crypto::ToHex(grant.public_key.bytes)}, {"amount", grant.amount}});
    }
    return out;
  };
  app["allocations"] = {{"team", grants(genesis.team)},
                        {"vc", grants(genesis.vc)},
                        {"liquidity", grants(genesis.liquidity)},
                        {"airdrop", grants(genesis.airdrop)}};
  json members = json::array();
  for (const auto& key : genesis.committee) members.push_back(crypto::ToHex(key.bytes));
  app["committee"] = {{"seats", genesis.committee_seats},
                      {"rotation_bps", genesis.committee_rotation_bps},
                      {"rotation_days", genesis.committee_rotation_days},
                      {"members", members}};
  app["payout_period_days"] = genesis.payout_period_days;
  json parameters = json::object();
  json bounds = json::object();
  for (uint32_t id = 0; id < kParameterCount; ++id) {
    const std::string name(ParameterName(id));
    parameters[name] = genesis.parameters[id];
    bounds[name] = {genesis.minimum[id], genesis.maximum[id]};
  }
  app["parameters"] = parameters;
  app["bounds"] = bounds;
  root["app"] = app;
  return root.dump(2) + "\n";
}

}  // namespace melodai::app
