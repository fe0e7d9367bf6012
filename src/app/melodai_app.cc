// MelodAI — licensed under the Apache License 2.0.
// MelodAI application core: creation from genesis, admission, block execution, the clock
// (days, vesting, emission, listing long stop, sweep, rotation, payout periods), transfers,
// node rewards and training rewards, and the supply audit.
#include "app/melodai_app.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "crypto/hash.h"

namespace melodai::app {
namespace {

__extension__ typedef unsigned __int128 Uint128;

constexpr std::array<std::string_view, kAppCodeLast + 1> kReasons = {
    "applied",
    "nonce is not the sender's next nonce",
    "the sender has no account",
    "unknown transaction type",
    "malformed payload",
    "insufficient funds",
    "account limit reached",
    "sender is not a validator",
    "node is not registered",
    "already registered",
    "wrong epoch or period",
    "already reported for this epoch",
    "total does not match the secure sum",
    "round is not the next round",
    "previous model hash does not match",
    "balance below the proposal threshold",
    "proposer already has a live proposal",
    "invalid proposal",
    "unknown proposal",
    "voting is not open",
    "already voted",
    "no voting power at the snapshot",
    "proposal has not passed",
    "timelock has not expired",
    "not authorized",
    "invalid ISRC",
    "royalty splits invalid (must sum to 10000 bps)",
    "track already registered",
    "unknown track",
    "not subscribed in this period",
    "unknown edition or copy",
    "edition sold out",
    "royalty outside the governance bounds",
    "copy is not offered at that price",
    "invalid amount",
    "treasury category has insufficient funds",
    "duplicate entry",
    "limit exceeded",
};

}  // namespace

std::string_view AppCodeReason(ledger::TransactionCode code) {
  return code < kReasons.size() ? kReasons[code] : std::string_view("unknown code");
}

std::string_view ProposalStatusName(ProposalStatus status) {
  switch (status) {
    case ProposalStatus::kOpen:
      return "open";
    case ProposalStatus::kSucceeded:
      return "succeeded";
    case ProposalStatus::kDefeated:
      return "defeated";
    case ProposalStatus::kExecuted:
      return "executed";
    case ProposalStatus::kCanceled:
      return "canceled";
    case ProposalStatus::kExpired:
      return "expired";
  }
  return "unknown";
}

MelodaiApp::MelodaiApp(AppGenesis genesis) : genesis_(std::move(genesis)) {}

core::Result<std::unique_ptr<MelodaiApp>> MelodaiApp::Create(AppGenesis genesis) {
  MELODAI_RETURN_IF_ERROR(ValidateAppGenesis(genesis));
  std::unique_ptr<MelodaiApp> app(new MelodaiApp(std::move(genesis)));
  const AppGenesis& g = app->genesis_;
  AppState& state = app->state_;
  state.genesis_digest = crypto::Blake2b256(crypto::AsBytes(AppGenesisToJson(g)));
  state.now_ms = g.timestamp_ms;
  state.parameters = g.parameters;
  for (const GenesisGrant& grant : g.liquidity) app->Credit(grant.public_key, grant.amount);
  for (const auto& [grants, category] :
       {std::pair{&g.team, Allocation::kTeam}, std::pair{&g.vc, Allocation::kVc}}) {
    for (const GenesisGrant& grant : *grants) {
      if (grant.amount == 0) continue;
      state.vesting[{grant.public_key, static_cast<uint8_t>(category)}] = {grant.amount, 0};
    }
  }
  for (const GenesisGrant& grant : g.airdrop) {
    const uint64_t locked = grant.amount / 2;
    app->Credit(grant.public_key, grant.amount - locked);
    if (locked > 0) {
      state.vesting[{grant.public_key, static_cast<uint8_t>(Allocation::kAirdrop)}] = {locked, 0};
    }
  }
  const uint64_t treasury = AllocationAmount(g.schedule, Allocation::kTreasury);
  state.treasury_locked = treasury / 2;
  app->AddToTreasury(treasury - state.treasury_locked);
  for (const PublicKey& member : g.committee) state.committee[member] = g.timestamp_ms;
  MELODAI_CHECK(app->CheckInvariants().ok());
  return app;
}

core::Result<crypto::Digest32> GenesisStateRoot(const AppGenesis& genesis) {
  MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<MelodaiApp> app, MelodaiApp::Create(genesis));
  return app->StateRoot();
}

core::Status MelodaiApp::CheckTransaction(const ledger::Transaction& tx) const {
  if (tx.type < kTxTypeFirst || tx.type > kTxTypeLast) {
    return core::InvalidArgumentError(
        fmt::format("melodai app: unknown transaction type {}", tx.type));
  }
  auto canonical = CanonicalPayload(tx.type, tx.payload);
  if (!canonical.ok()) {
    return core::InvalidArgumentError(fmt::format(
        "melodai app: {} payload: {}", TxTypeName(tx.type), canonical.status().message()));
  }
  auto it = state_.accounts.find(tx.sender);
  if (it == state_.accounts.end()) {
    return core::FailedPreconditionError("melodai app: sender has no account");
  }
  const uint64_t next = it->second.next_nonce;
  if (tx.nonce < next || tx.nonce - next >= kMaxNonceGap) {
    return core::FailedPreconditionError(
        fmt::format("melodai app: nonce {} outside [{}, +{})", tx.nonce, next, kMaxNonceGap));
  }
  return core::Status::Ok();
}

ledger::ExecutionOutcome MelodaiApp::ExecuteBlock(const ledger::Block& block) {
  AdvanceTime(block.header.timestamp_ms);
  ledger::ExecutionOutcome outcome;
  outcome.codes.reserve(block.transactions.size());
  last_reasons_.assign(block.transactions.size(), std::string());
  for (size_t i = 0; i < block.transactions.size(); ++i) {
    outcome.codes.push_back(Apply(block.transactions[i], last_reasons_[i]));
    if (outcome.codes.back() != ledger::kTransactionApplied && last_reasons_[i].empty()) {
      last_reasons_[i] = std::string(AppCodeReason(outcome.codes.back()));
    }
  }
  outcome.state_root = StateRoot();
  MELODAI_DCHECK(CheckInvariants().ok());
  return outcome;
}

ledger::TransactionCode MelodaiApp::Apply(const ledger::Transaction& tx, std::string& reason) {
  auto sender = state_.accounts.find(tx.sender);
  if (sender == state_.accounts.end()) return kAppUnknownSender;
  if (tx.nonce != sender->second.next_nonce) {
    reason = fmt::format("nonce {} but the next nonce is {}", tx.nonce, sender->second.next_nonce);
    return kAppBadNonce;
  }
  ++sender->second.next_nonce;
  if (tx.type < kTxTypeFirst || tx.type > kTxTypeLast) return kAppUnknownType;
  return Dispatch(tx, reason);
}

ledger::TransactionCode MelodaiApp::Dispatch(const ledger::Transaction& tx, std::string& reason) {
  switch (tx.type) {
    case kTxTransfer:
      return ApplyTransfer(tx, reason);
    case kTxRegisterNode:
      return ApplyRegisterNode(tx, reason);
    case kTxNodeContribution:
      return ApplyNodeContribution(tx, reason);
    case kTxRoundCommitted:
      return ApplyRoundCommitted(tx, reason);
    case kTxPropose:
      return ApplyPropose(tx, reason);
    case kTxVote:
      return ApplyVote(tx, reason);
    case kTxExecute:
      return ApplyExecute(tx, reason);
    case kTxCancel:
      return ApplyCancel(tx, reason);
    case kTxRegisterTrack:
      return ApplyRegisterTrack(tx, reason);
    case kTxSubscribe:
      return ApplySubscribe(tx, reason);
    case kTxReportPlays:
      return ApplyReportPlays(tx, reason);
    case kTxMintEdition:
      return ApplyMintEdition(tx, reason);
    case kTxTradeEdition:
      return ApplyTradeEdition(tx, reason);
    default:
      return kAppUnknownType;
  }
}

void MelodaiApp::AdvanceTime(int64_t timestamp_ms) {
  timestamp_ms = std::min(timestamp_ms, kMaxTimestampMs);
  if (timestamp_ms > state_.now_ms) state_.now_ms = timestamp_ms;
  const int64_t since_genesis = state_.now_ms - genesis_.timestamp_ms;
  const uint64_t new_day = since_genesis > 0 ? static_cast<uint64_t>(since_genesis / kDayMs) : 0;
  if (new_day > state_.day) {
    CloseNodeDay();
    // Days without any block: their node emission goes to the pool for the next paid day.
    const uint64_t gap = NodeEmissionCumulative(genesis_.schedule, new_day) - state_.node_emitted;
    state_.node_emitted += gap;
    state_.node_pool += gap;
    state_.day = new_day;
    ReleaseVesting();
    if (!state_.listed && state_.day >= genesis_.schedule.listing_long_stop_days) TriggerListing();
    SweepTraining();
    const uint64_t rotations = state_.day / genesis_.committee_rotation_days;
    for (uint64_t i = state_.rotations_done; i < rotations && !state_.committee.empty(); ++i) {
      RotateCommittee();
    }
    state_.rotations_done = std::max(state_.rotations_done, rotations);
    ClosePayoutPeriods(state_.day / genesis_.payout_period_days);
  }
  FinalizeProposals();
}

// Emits the node emission of `day` into the node pool and pays the pool to the nodes reported
// for that day by contribution score. From the end of node emission on, the fee pool joins.
void MelodaiApp::CloseNodeDay() {
  const ScheduleParameters& schedule = genesis_.schedule;
  const uint64_t today = NodeEmissionCumulative(schedule, state_.day + 1) - state_.node_emitted;
  state_.node_emitted += today;
  state_.node_pool += today;
  if (!state_.day_contributions.empty()) {
    if (state_.day >= schedule.node_emission_epochs) {
      state_.node_fees_in += state_.fee_pool;
      state_.node_pool += state_.fee_pool;
      state_.fee_pool = 0;
    }
    std::vector<PublicKey> holders;
    std::vector<uint64_t> weights;
    for (const auto& [node, score] : state_.day_contributions) {
      holders.push_back(node);
      weights.push_back(score);
    }
    const std::vector<uint64_t> parts = SplitLargestRemainder(state_.node_pool, weights);
    uint64_t paid = 0;
    for (size_t i = 0; i < holders.size(); ++i) {
      if (parts[i] == 0) continue;
      Credit(holders[i], parts[i]);
      state_.nodes[holders[i]].rewards += parts[i];
      paid += parts[i];
    }
    state_.node_pool -= paid;
    state_.node_paid += paid;
  }
  state_.day_contributions.clear();
  state_.day_reported = false;
}

void MelodaiApp::ReleaseVesting() {
  const ScheduleParameters& schedule = genesis_.schedule;
  for (auto& [key, vesting] : state_.vesting) {
    const auto category = static_cast<Allocation>(key.second);
    if (category != Allocation::kTeam && category != Allocation::kVc) continue;
    const uint64_t vested = LinearVested(vesting.total, state_.day, schedule.vesting_cliff_days,
                                         schedule.vesting_end_days);
    MELODAI_CHECK(vested >= vesting.released);
    if (vested == vesting.released) continue;
    Credit(key.first, vested - vesting.released);
    vesting.released = vested;
  }
}

void MelodaiApp::SweepTraining() {
  const ScheduleParameters& schedule = genesis_.schedule;
  const uint64_t end_day =
      static_cast<uint64_t>(schedule.training_periods) * schedule.training_period_days;
  if (state_.training_swept || state_.day < end_day) return;
  const uint64_t allocation = AllocationAmount(schedule, Allocation::kTrainingRewards);
  const uint64_t rest = allocation - state_.training_emitted + state_.training_pool;
  state_.training_pool = 0;
  state_.training_swept = true;
  AddToTreasury(rest);
}

void MelodaiApp::NoteBalanceChange(const PublicKey& key, uint64_t old_balance) {
  for (const auto& [proposer, id] : state_.live_proposal) {
    Proposal& proposal = state_.proposals.at(id);
    if (proposal.status == ProposalStatus::kOpen) proposal.snapshot.try_emplace(key, old_balance);
  }
}

void MelodaiApp::Credit(const PublicKey& key, uint64_t amount) {
  if (amount == 0) return;
  AppAccount& account = state_.accounts[key];
  NoteBalanceChange(key, account.balance);
  MELODAI_CHECK(amount <= genesis_.schedule.total_supply - state_.balance_sum);
  account.balance += amount;
  state_.balance_sum += amount;
}

void MelodaiApp::Debit(const PublicKey& key, uint64_t amount) {
  if (amount == 0) return;
  AppAccount& account = state_.accounts.at(key);
  MELODAI_CHECK(account.balance >= amount);
  NoteBalanceChange(key, account.balance);
  account.balance -= amount;
  state_.balance_sum -= amount;
}

void MelodaiApp::AddToTreasury(uint64_t amount) {
  const std::vector<uint64_t> parts = SplitLargestRemainder(amount, kTreasuryCategoryBps);
  for (size_t i = 0; i < kTreasuryCategoryCount; ++i) state_.treasury[i] += parts[i];
}

uint64_t MelodaiApp::PayByWeights(uint64_t total, const std::vector<PublicKey>& holders,
                                  const std::vector<uint64_t>& weights) {
  MELODAI_CHECK(holders.size() == weights.size());
  const std::vector<uint64_t> parts = SplitLargestRemainder(total, weights);
  uint64_t paid = 0;
  for (size_t i = 0; i < holders.size(); ++i) {
    Credit(holders[i], parts[i]);
    paid += parts[i];
  }
  MELODAI_CHECK(paid <= total);
  return paid;
}

bool MelodaiApp::IsValidator(const PublicKey& key) const {
  return std::find(genesis_.validators.begin(), genesis_.validators.end(), key) !=
         genesis_.validators.end();
}

bool MelodaiApp::CanReceive(const PublicKey& key) const {
  return state_.accounts.contains(key) || state_.accounts.size() < kMaxAppAccounts;
}

ledger::TransactionCode MelodaiApp::ApplyTransfer(const ledger::Transaction& tx,
                                                  std::string& reason) {
  auto payload = DecodeTransferPayload(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (payload->amount == 0 || payload->amount > genesis_.schedule.total_supply) {
    return kAppBadAmount;
  }
  const uint64_t fee = MulDiv(payload->amount, state_.parameters[kTransferFeeBps], kBpsDenominator);
  const uint64_t balance = state_.accounts.at(tx.sender).balance;
  if (payload->amount + fee > balance) {
    reason = fmt::format("transfer of {} plus fee {} exceeds the balance {}", payload->amount, fee,
                         balance);
    return kAppInsufficientFunds;
  }
  if (!CanReceive(payload->recipient)) return kAppAccountLimit;
  Debit(tx.sender, payload->amount + fee);
  Credit(payload->recipient, payload->amount);
  state_.fee_pool += fee;
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ApplyRegisterNode(const ledger::Transaction& tx,
                                                      std::string& reason) {
  auto payload = DecodeRegisterNode(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (state_.nodes.contains(tx.sender)) return kAppAlreadyRegistered;
  if (state_.nodes.size() >= kMaxNodes) return kAppLimitExceeded;
  state_.nodes[tx.sender] = NodeInfo{state_.now_ms, payload->endpoint, 0};
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ApplyNodeContribution(const ledger::Transaction& tx,
                                                          std::string& reason) {
  if (!IsValidator(tx.sender)) return kAppNotValidator;
  auto payload = DecodeNodeContribution(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (payload->epoch != state_.day) {
    reason = fmt::format("epoch {} but the current epoch is {}", payload->epoch, state_.day);
    return kAppWrongEpoch;
  }
  if (state_.day_reported) return kAppDuplicateReport;
  const ParameterValues& p = state_.parameters;
  std::map<PublicKey, uint64_t> contributions;
  Uint128 sum = 0;
  for (const NodeScore& score : payload->scores) {
    if (!state_.nodes.contains(score.node)) {
      reason = "node " + crypto::ToHex(score.node.bytes) + " is not registered";
      return kAppNotRegisteredNode;
    }
    // C = w_b·B + w_s·S + w_c·P: weights <= 1e6 and scores < 2^32 keep C below 2^54.
    const uint64_t c = p[kWeightBlocks] * score.blocks + p[kWeightServing] * score.serving +
                       p[kWeightCompute] * score.compute;
    if (!contributions.emplace(score.node, c).second) return kAppDuplicateEntry;
    sum += c;
  }
  if (sum != payload->score_total) {
    reason = fmt::format("scores sum to {} but the secure sum says {}", static_cast<uint64_t>(sum),
                         payload->score_total);
    return kAppTotalMismatch;
  }
  for (auto& [node, c] : contributions) {
    if (c > 0) state_.day_contributions[node] = c;
  }
  state_.day_reported = true;
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ApplyRoundCommitted(const ledger::Transaction& tx,
                                                        std::string& reason) {
  if (!IsValidator(tx.sender)) return kAppNotValidator;
  auto payload = DecodeRoundCommitted(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (payload->round != state_.last_round + 1) {
    reason =
        fmt::format("round {} but the next round is {}", payload->round, state_.last_round + 1);
    return kAppWrongRound;
  }
  if (payload->previous_model != state_.model_hash) return kAppWrongModelChain;
  const ParameterValues& p = state_.parameters;
  std::set<PublicKey> seen;
  std::vector<PublicKey> holders;
  std::vector<uint64_t> weights;
  Uint128 sum = 0;
  for (const RoundParticipant& participant : payload->participants) {
    if (!seen.insert(participant.participant).second) return kAppDuplicateEntry;
    const uint64_t d = p[kWeightVolume] * participant.volume +
                       p[kWeightQuality] * participant.quality +
                       p[kWeightReliability] * participant.reliability;
    holders.push_back(participant.participant);
    weights.push_back(d);
    sum += d;
  }
  if (sum != payload->contribution_total) {
    reason = fmt::format("contributions sum to {} but the secure sum says {}",
                         static_cast<uint64_t>(sum), payload->contribution_total);
    return kAppTotalMismatch;
  }
  for (size_t i = 0; i < holders.size(); ++i) {
    if (weights[i] > 0 && !CanReceive(holders[i])) return kAppAccountLimit;
  }
  state_.last_round = payload->round;
  state_.model_hash = payload->model;
  if (!state_.training_swept) {
    const uint64_t accrued = TrainingEmissionCumulative(genesis_.schedule, state_.day + 1);
    MELODAI_CHECK(accrued >= state_.training_emitted);
    state_.training_pool += accrued - state_.training_emitted;
    state_.training_emitted = accrued;
  }
  const uint64_t paid = PayByWeights(state_.training_pool, holders, weights);
  state_.training_pool -= paid;
  state_.training_paid += paid;
  return ledger::kTransactionApplied;
}

uint64_t MelodaiApp::Balance(const PublicKey& key) const {
  auto it = state_.accounts.find(key);
  return it == state_.accounts.end() ? 0 : it->second.balance;
}

uint64_t MelodaiApp::NextNonce(const PublicKey& key) const {
  auto it = state_.accounts.find(key);
  return it == state_.accounts.end() ? 0 : it->second.next_nonce;
}

SupplyAudit MelodaiApp::Audit() const {
  SupplyAudit audit;
  for (const auto& [key, account] : state_.accounts) audit.balances += account.balance;
  for (const auto& [key, vesting] : state_.vesting)
    audit.unvested += vesting.total - vesting.released;
  audit.unvested += state_.treasury_locked;
  audit.pools = state_.fee_pool + state_.node_pool + state_.training_pool +
                state_.subscription_pool + state_.deposits;
  for (uint64_t amount : state_.treasury) audit.pools += amount;
  const ScheduleParameters& schedule = genesis_.schedule;
  audit.node_reserve = AllocationAmount(schedule, Allocation::kNodeRewards) - state_.node_emitted;
  audit.training_reserve =
      state_.training_swept
          ? 0
          : AllocationAmount(schedule, Allocation::kTrainingRewards) - state_.training_emitted;
  return audit;
}

core::Status MelodaiApp::CheckInvariants() const {
  const SupplyAudit audit = Audit();
  if (audit.total() != genesis_.schedule.total_supply) {
    return core::InternalError(fmt::format("supply audit totals {}, genesis supply is {}",
                                           audit.total(), genesis_.schedule.total_supply));
  }
  if (audit.balances != state_.balance_sum) return core::InternalError("balance_sum is stale");
  if (state_.node_emitted > AllocationAmount(genesis_.schedule, Allocation::kNodeRewards) ||
      state_.node_paid > state_.node_emitted + state_.node_fees_in) {
    return core::InternalError("node rewards paid exceed emission");
  }
  if (state_.training_paid > state_.training_emitted) {
    return core::InternalError("training rewards paid exceed emission");
  }
  Uint128 prepaid = state_.subscription_carry;
  for (const auto& [key, fee] : state_.period_fees) prepaid += fee;
  if (prepaid != state_.subscription_pool) {
    return core::InternalError("subscription pool differs from carry plus prepaid fees");
  }
  uint64_t deposits = 0;
  size_t live = 0;
  for (const auto& [id, proposal] : state_.proposals) {
    const bool is_live =
        proposal.status == ProposalStatus::kOpen || proposal.status == ProposalStatus::kSucceeded;
    if (!is_live) continue;
    ++live;
    deposits += proposal.deposit;
    auto it = state_.live_proposal.find(proposal.proposer);
    if (it == state_.live_proposal.end() || it->second != id) {
      return core::InternalError(fmt::format("live proposal {} is not indexed", id));
    }
  }
  if (live != state_.live_proposal.size() || deposits != state_.deposits) {
    return core::InternalError("live proposal index or deposits inconsistent");
  }
  if (state_.committee.size() > genesis_.committee_seats) {
    return core::InternalError("committee larger than its seats");
  }
  return core::Status::Ok();
}

}  // namespace melodai::app
