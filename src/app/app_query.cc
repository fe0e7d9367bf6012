// MelodAI — licensed under the Apache License 2.0.
// Read-only queries of the MelodAI application state (JSON answers, decimal for balance/nonce).
#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "app/melodai_app.h"

namespace melodai::app {
namespace {

using nlohmann::json;

core::Result<PublicKey> ParseKey(std::string_view hex) {
  auto bytes = crypto::FromHex(hex);
  if (!bytes.ok() || bytes->size() != 32) {
    return core::InvalidArgumentError(
        fmt::format("query: expected a 64-digit hex key, got '{}'", hex.substr(0, 80)));
  }
  PublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
  return key;
}

core::Result<uint64_t> ParseId(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return core::InvalidArgumentError(fmt::format("query: '{}' is not an id", text.substr(0, 80)));
  }
  return value;
}

std::string Hex(const PublicKey& key) { return crypto::ToHex(key.bytes); }

json ProposalJson(uint64_t id, const Proposal& p) {
  json body = {{"action", static_cast<int>(p.body.action)}, {"description", p.body.description}};
  switch (p.body.action) {
    case ProposalAction::kParameterChange:
      body["parameter"] = std::string(ParameterName(p.body.parameter));
      body["value"] = p.body.value;
      break;
    case ProposalAction::kTreasurySpend:
      body["category"] = std::string(TreasuryCategoryName(p.body.category));
      body["recipient"] = Hex(p.body.recipient);
      body["amount"] = p.body.amount;
      break;
    case ProposalAction::kListing:
      break;
    case ProposalAction::kCommitteeElection:
      body["candidates"] = json::array();
      for (const auto& key : p.body.candidates) body["candidates"].push_back(Hex(key));
      break;
  }
  return {{"id", id},
          {"proposer", Hex(p.proposer)},
          {"body", body},
          {"status", std::string(ProposalStatusName(p.status))},
          {"created_ms", p.created_ms},
          {"voting_start_ms", p.voting_start_ms},
          {"voting_end_ms", p.voting_end_ms},
          {"executable_ms", p.executable_ms},
          {"expires_ms", p.expires_ms},
          {"deposit", p.deposit},
          {"snapshot_supply", p.snapshot_supply},
          {"quorum_bps", p.quorum_bps},
          {"required_bps", p.required_bps},
          {"for", p.votes_for},
          {"against", p.votes_against},
          {"abstain", p.votes_abstain},
          {"voters", p.votes.size()}};
}

}  // namespace

core::Result<std::string> MelodaiApp::Query(std::string_view request) const {
  const AppState& s = state_;
  auto suffix = [&](std::string_view prefix) { return request.substr(prefix.size()); };
  if (request.starts_with("balance/") || request.starts_with("nonce/") ||
      request.starts_with("account/")) {
    const size_t slash = request.find('/');
    MELODAI_ASSIGN_OR_RETURN(PublicKey key, ParseKey(request.substr(slash + 1)));
    auto it = s.accounts.find(key);
    if (it == s.accounts.end()) return core::NotFoundError("no account " + Hex(key));
    if (request.starts_with("balance/")) return std::to_string(it->second.balance);
    if (request.starts_with("nonce/")) return std::to_string(it->second.next_nonce);
    json answer = {{"balance", it->second.balance}, {"next_nonce", it->second.next_nonce}};
    json vesting = json::array();
    for (const auto& [vkey, grant] : s.vesting) {
      if (vkey.first != key) continue;
      vesting.push_back(
          {{"category", std::string(AllocationName(static_cast<Allocation>(vkey.second)))},
           {"total", grant.total},
           {"released", grant.released}});
    }
    answer["vesting"] = vesting;
    answer["committee"] = s.committee.contains(key);
    answer["node"] = s.nodes.contains(key);
    return answer.dump();
  }
  if (request == "supply") {
    const SupplyAudit audit = Audit();
    json treasury = json::object();
    for (uint8_t i = 0; i < kTreasuryCategoryCount; ++i) {
      treasury[std::string(TreasuryCategoryName(i))] = s.treasury[i];
    }
    return json{{"total_supply", genesis_.schedule.total_supply},
                {"minted", audit.minted()},
                {"balances", audit.balances},
                {"unvested", audit.unvested},
                {"node_reserve", audit.node_reserve},
                {"training_reserve", audit.training_reserve},
                {"fee_pool", s.fee_pool},
                {"node_pool", s.node_pool},
                {"training_pool", s.training_pool},
                {"subscription_pool", s.subscription_pool},
                {"deposits", s.deposits},
                {"treasury_locked", s.treasury_locked},
                {"treasury", treasury},
                {"node_emitted", s.node_emitted},
                {"node_paid", s.node_paid},
                {"training_emitted", s.training_emitted},
                {"training_paid", s.training_paid},
                {"training_swept", s.training_swept},
                {"listed", s.listed}}
        .dump();
  }
  if (request == "params") {
    json answer = json::object();
    for (uint32_t id = 0; id < kParameterCount; ++id) {
      answer[std::string(ParameterName(id))] = {{"value", s.parameters[id]},
                                                {"min", genesis_.minimum[id]},
                                                {"max", genesis_.maximum[id]}};
    }
    return answer.dump();
  }
  if (request == "time") {
    return json{{"now_ms", s.now_ms},
                {"day", s.day},
                {"period", s.period},
                {"last_round", s.last_round},
                {"model_hash", crypto::ToHex(s.model_hash)}}
        .dump();
  }
  if (request == "committee") {
    json answer = json::array();
    for (const auto& [key, joined] : s.committee)
      answer.push_back({{"member", Hex(key)}, {"joined_ms", joined}});
    return answer.dump();
  }
  if (request == "payout/last") {
    const PayoutReport& report = s.last_payout;
    json lines = json::array();
    for (const PayoutLine& line : report.lines) {
      auto track = s.tracks.find(line.track_id);
      lines.push_back({{"track_id", line.track_id},
                       {"artist", track == s.tracks.end() ? "" : track->second.artist},
                       {"pro_rata", line.pro_rata},
                       {"user_centric", line.user_centric}});
    }
    return json{{"period", report.period},
                {"model", report.model == 0 ? "pro_rata" : "user_centric"},
                {"pool", report.pool},
                {"paid", report.paid},
                {"lines", lines}}
        .dump();
  }
  if (request.starts_with("node/")) {
    MELODAI_ASSIGN_OR_RETURN(PublicKey key, ParseKey(suffix("node/")));
    auto it = s.nodes.find(key);
    if (it == s.nodes.end()) return core::NotFoundError("no node " + Hex(key));
    return json{{"registered_ms", it->second.registered_ms},
                {"endpoint", it->second.endpoint},
                {"rewards", it->second.rewards}}
        .dump();
  }
  if (request.starts_with("proposal/")) {
    MELODAI_ASSIGN_OR_RETURN(uint64_t id, ParseId(suffix("proposal/")));
    auto it = s.proposals.find(id);
    if (it == s.proposals.end()) return core::NotFoundError(fmt::format("no proposal {}", id));
    return ProposalJson(id, it->second).dump();
  }
  if (request.starts_with("track/")) {
    MELODAI_ASSIGN_OR_RETURN(uint64_t id, ParseId(suffix("track/")));
    auto it = s.tracks.find(id);
    if (it == s.tracks.end()) return core::NotFoundError(fmt::format("no track {}", id));
    const Track& t = it->second;
    json splits = json::array();
    for (const RoyaltySplit& split : t.splits)
      splits.push_back({{"holder", Hex(split.holder)}, {"bps", split.bps}});
    return json{{"id", id},
                {"owner", Hex(t.owner)},
                {"content_hash", crypto::ToHex(t.content_hash)},
                {"title", t.title},
                {"artist", t.artist},
                {"isrc", t.isrc},
                {"splits", splits},
                {"registered_ms", t.registered_ms}}
        .dump();
  }
  if (request.starts_with("edition/")) {
    MELODAI_ASSIGN_OR_RETURN(uint64_t id, ParseId(suffix("edition/")));
    auto it = s.editions.find(id);
    if (it == s.editions.end()) return core::NotFoundError(fmt::format("no edition {}", id));
    const Edition& e = it->second;
    json copies = json::array();
    for (auto c = s.copies.lower_bound({id, 0}); c != s.copies.end() && c->first.first == id; ++c) {
      copies.push_back(
          {{"serial", c->first.second}, {"holder", Hex(c->second.holder)}, {"ask", c->second.ask}});
    }
    return json{{"id", id},        {"track_id", e.track_id}, {"supply", e.supply},
                {"sold", e.sold},  {"price", e.price},       {"royalty_bps", e.royalty_bps},
                {"copies", copies}}
        .dump();
  }
  return core::InvalidArgumentError(
      fmt::format("melodai app: unknown query '{}'", request.substr(0, 80)));
}

}  // namespace melodai::app
