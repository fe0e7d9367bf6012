// MelodAI — licensed under the Apache License 2.0.
// The MelodAI application: the deterministic state machine the ledger replicates. Accounts and
// transfers with a fee, the genesis allocation with vesting, node and training emission paid by
// contribution, DAO governance with a treasury and a rotating committee, track rights,
// subscriptions, play reports, artist payouts (pro-rata and user-centric) and limited
// editions. Time comes only from block timestamps. docs/APP.md describes the whole model.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "app/app_genesis.h"
#include "app/app_payloads.h"
#include "app/tokenomics.h"
#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "ledger/chain/application.h"

namespace melodai::app {

using PublicKey = crypto::Ed25519PublicKey;

// Execution codes (ledger::TransactionCode). 0 is ledger::kTransactionApplied. Codes 1 and 2
// (unknown sender, bad nonce) change nothing; every other non-zero code consumes the nonce and
// changes nothing else. Codes 1–5 match TransferApp.
enum AppCode : ledger::TransactionCode {
  kAppBadNonce = 1,
  kAppUnknownSender = 2,
  kAppUnknownType = 3,
  kAppMalformedPayload = 4,
  kAppInsufficientFunds = 5,
  kAppAccountLimit = 6,
  kAppNotValidator = 7,
  kAppNotRegisteredNode = 8,
  kAppAlreadyRegistered = 9,
  kAppWrongEpoch = 10,
  kAppDuplicateReport = 11,
  kAppTotalMismatch = 12,
  kAppWrongRound = 13,
  kAppWrongModelChain = 14,
  kAppBelowProposalThreshold = 15,
  kAppLiveProposalExists = 16,
  kAppBadProposal = 17,
  kAppUnknownProposal = 18,
  kAppVotingClosed = 19,
  kAppAlreadyVoted = 20,
  kAppNoVotingPower = 21,
  kAppNotPassed = 22,
  kAppTimelock = 23,
  kAppNotAuthorized = 24,
  kAppBadIsrc = 25,
  kAppBadSplits = 26,
  kAppDuplicateTrack = 27,
  kAppUnknownTrack = 28,
  kAppNotSubscribed = 29,
  kAppUnknownEdition = 30,
  kAppSoldOut = 31,
  kAppBadRoyalty = 32,
  kAppNotListed = 33,
  kAppBadAmount = 34,
  kAppTreasuryInsufficient = 35,
  kAppDuplicateEntry = 36,
  kAppLimitExceeded = 37,
};
inline constexpr ledger::TransactionCode kAppCodeLast = kAppLimitExceeded;
// A one-line reason for `code` ("nonce is not the sender's next nonce"); "unknown code" else.
std::string_view AppCodeReason(ledger::TransactionCode code);

// State limits (bounded growth; a transaction that would pass one gets kAppLimitExceeded).
inline constexpr size_t kMaxAppAccounts = 10'000'000;
inline constexpr size_t kMaxNodes = 100'000;
inline constexpr size_t kMaxTracks = 10'000'000;
inline constexpr size_t kMaxEditionSupply = 100'000;
inline constexpr uint32_t kMaxSubscribePeriods = 24;
// Block timestamps above this (about 36 million years) count as this, so that adding the
// governance delays to the clock can never overflow.
inline constexpr int64_t kMaxTimestampMs = int64_t{1} << 60;
// CheckTransaction admits nonces in [next, next + kMaxNonceGap) (as TransferApp).

struct AppAccount {
  uint64_t balance = 0;
  uint64_t next_nonce = 0;
  friend bool operator==(const AppAccount&, const AppAccount&) = default;
};

// A locked grant: team/VC vest linearly; the airdrop's second half unlocks at listing.
struct VestingState {
  uint64_t total = 0;
  uint64_t released = 0;
  friend bool operator==(const VestingState&, const VestingState&) = default;
};

struct NodeInfo {
  int64_t registered_ms = 0;
  std::string endpoint;
  uint64_t rewards = 0;  // Total node rewards received.
  friend bool operator==(const NodeInfo&, const NodeInfo&) = default;
};

enum class ProposalStatus : uint8_t {
  kOpen = 0,       // Before the end of the vote (pending before voting_start_ms, then active).
  kSucceeded = 1,  // Passed; executable from executable_ms until expires_ms.
  kDefeated = 2,
  kExecuted = 3,
  kCanceled = 4,
  kExpired = 5,
};
std::string_view ProposalStatusName(ProposalStatus status);

struct Proposal {
  PublicKey proposer;
  ProposePayload body;
  int64_t created_ms = 0;
  int64_t voting_start_ms = 0;
  int64_t voting_end_ms = 0;
  int64_t executable_ms = 0;  // voting_end_ms + timelock.
  int64_t expires_ms = 0;     // executable_ms + execution grace.
  uint64_t deposit = 0;
  uint64_t snapshot_supply = 0;  // Sum of all balances when proposed.
  uint32_t quorum_bps = 0;       // Copied from the parameters when proposed.
  uint32_t required_bps = 0;     // Supermajority (major) or 5,000 exclusive (simple majority).
  uint64_t votes_for = 0;
  uint64_t votes_against = 0;
  uint64_t votes_abstain = 0;
  ProposalStatus status = ProposalStatus::kOpen;
  std::map<PublicKey, VoteChoice> votes;
  // Balances at proposal time of the accounts whose balance changed since (voting power is
  // this value when present, the current balance otherwise).
  std::map<PublicKey, uint64_t> snapshot;
  friend bool operator==(const Proposal&, const Proposal&) = default;
};

struct Track {
  PublicKey owner;
  crypto::Digest32 content_hash{};
  std::string title;
  std::string artist;
  std::string isrc;  // Canonical 12 characters.
  std::vector<RoyaltySplit> splits;
  int64_t registered_ms = 0;
  friend bool operator==(const Track&, const Track&) = default;
};

struct Edition {
  uint64_t track_id = 0;
  uint32_t supply = 0;
  uint32_t sold = 0;
  uint64_t price = 0;
  uint32_t royalty_bps = 0;
  friend bool operator==(const Edition&, const Edition&) = default;
};

struct EditionCopy {
  PublicKey holder;
  uint64_t ask = 0;  // 0: not offered.
  friend bool operator==(const EditionCopy&, const EditionCopy&) = default;
};

// What one payout period paid (or would have paid) per track under both models.
struct PayoutLine {
  uint64_t track_id = 0;
  uint64_t pro_rata = 0;
  uint64_t user_centric = 0;
  friend bool operator==(const PayoutLine&, const PayoutLine&) = default;
};
struct PayoutReport {
  uint64_t period = 0;
  uint64_t model = 0;  // The model that paid (kPayoutModel at closing time).
  uint64_t pool = 0;   // Fees of the period plus the carry from earlier periods.
  uint64_t paid = 0;
  std::vector<PayoutLine> lines;  // By track id.
  friend bool operator==(const PayoutReport&, const PayoutReport&) = default;
};

// Everything the state root covers. Maps are ordered, which fixes the canonical encoding.
struct AppState {
  crypto::Digest32 genesis_digest{};
  int64_t now_ms = 0;  // Latest block timestamp seen (monotone).
  uint64_t day = 0;    // Whole days since genesis at now_ms.
  ParameterValues parameters{};
  std::map<PublicKey, AppAccount> accounts;
  uint64_t balance_sum = 0;
  std::map<std::pair<PublicKey, uint8_t>, VestingState> vesting;  // (key, Allocation).
  // Pools (base units).
  uint64_t fee_pool = 0;
  uint64_t node_pool = 0;
  uint64_t training_pool = 0;
  uint64_t subscription_pool = 0;  // Prepaid fees plus subscription_carry.
  uint64_t subscription_carry = 0;
  uint64_t deposits = 0;
  uint64_t treasury_locked = 0;
  std::array<uint64_t, kTreasuryCategoryCount> treasury{};
  // Emission counters.
  uint64_t node_emitted = 0;
  uint64_t node_paid = 0;
  uint64_t node_fees_in = 0;  // Fee pool moved to nodes after node emission ended.
  uint64_t training_emitted = 0;
  uint64_t training_paid = 0;
  bool training_swept = false;
  bool listed = false;
  // Nodes and today's contributions (C per node for `day`).
  std::map<PublicKey, NodeInfo> nodes;
  bool day_reported = false;
  std::map<PublicKey, uint64_t> day_contributions;
  // Federated rounds.
  uint64_t last_round = 0;
  crypto::Digest32 model_hash{};
  // Governance.
  uint64_t next_proposal_id = 1;
  std::map<uint64_t, Proposal> proposals;
  std::map<PublicKey, uint64_t> live_proposal;  // Proposer -> open or succeeded proposal.
  std::map<PublicKey, int64_t> committee;       // Member -> joined at (ms).
  uint64_t rotations_done = 0;
  // Music.
  uint64_t next_track_id = 1;
  std::map<uint64_t, Track> tracks;
  std::map<std::string, uint64_t> track_by_isrc;
  std::map<crypto::Digest32, uint64_t> track_by_content;
  uint64_t period = 0;
  std::map<PublicKey, uint64_t> subscribed_until;                  // Exclusive period bound.
  std::map<std::pair<uint64_t, PublicKey>, uint64_t> period_fees;  // (period, user) -> net fee.
  std::map<std::tuple<uint64_t, PublicKey, uint64_t>, uint64_t> plays;  // (period, user, track).
  PayoutReport last_payout;
  uint64_t next_edition_id = 1;
  std::map<uint64_t, Edition> editions;
  std::map<std::pair<uint64_t, uint32_t>, EditionCopy> copies;

  friend bool operator==(const AppState&, const AppState&) = default;
};

// Where every base unit of the total supply is, recomputed from the state.
struct SupplyAudit {
  uint64_t balances = 0;
  uint64_t unvested = 0;          // Vesting grants not yet released, plus the locked treasury half.
  uint64_t pools = 0;             // Fee, node, training, subscription, deposits and treasury.
  uint64_t node_reserve = 0;      // Node allocation not yet emitted.
  uint64_t training_reserve = 0;  // Training allocation not yet emitted or swept.
  uint64_t minted() const { return balances + unvested + pools; }
  uint64_t total() const { return minted() + node_reserve + training_reserve; }
};

// Invariants (checked by CheckInvariants and after every block in debug builds): the supply
// audit totals genesis total_supply; balance_sum is the sum of balances; node_paid <=
// node_emitted and training_paid <= training_emitted; the subscription pool is the carry plus
// the prepaid period fees; live_proposal indexes exactly the open
// or succeeded proposals; committee size <= seats. Not thread-safe; the replica calls it from
// its single thread. The genesis is copied in; nothing is borrowed.
class MelodaiApp final : public ledger::Application {
 public:
  // kInvalidArgument when ValidateAppGenesis fails.
  static core::Result<std::unique_ptr<MelodaiApp>> Create(AppGenesis genesis);

  core::Status CheckTransaction(const ledger::Transaction& tx) const override;
  ledger::ExecutionOutcome ExecuteBlock(const ledger::Block& block) override;
  // MerkleRoot over the canonical records of the state (see docs/APP.md).
  crypto::Digest32 StateRoot() const override;
  // Requests (answers are decimal for balance/nonce, JSON otherwise): "balance/<hex>",
  // "nonce/<hex>", "account/<hex>", "supply", "params", "proposal/<id>", "track/<id>",
  // "edition/<id>", "node/<hex>", "committee", "payout/last", "time".
  core::Result<std::string> Query(std::string_view request) const override;
  // "MAPP" | version u32 | record_count u64 | (size u32 | record)*: the records whose leaf
  // hashes form the state root. Restore decodes strictly into a fresh state, checks ordering,
  // limits, the genesis digest and the supply invariants; kDataLoss naming the problem and the
  // state unchanged on any failure.
  std::string Snapshot() const override;
  core::Status Restore(std::string_view snapshot) override;

  // Reasons for the non-zero codes of the last executed block ("" for applied ones).
  const std::vector<std::string>& last_reasons() const { return last_reasons_; }
  const AppState& state() const { return state_; }
  const AppGenesis& genesis() const { return genesis_; }
  uint64_t Balance(const PublicKey& key) const;
  uint64_t NextNonce(const PublicKey& key) const;
  // Voting power of `voter` on proposal `id` (its balance when the proposal was made).
  uint64_t VotingPower(uint64_t id, const PublicKey& voter) const;
  SupplyAudit Audit() const;
  // kInternal naming the first broken invariant.
  core::Status CheckInvariants() const;
  // The canonical records of the state, in order (leaves of the state root).
  std::vector<std::string> StateRecords() const;

 private:
  // True when `payload` decoded; otherwise false with the decoder's message as `reason` (the
  // caller answers kAppMalformedPayload).
  template <typename T>
  static bool Decoded(const core::Result<T>& payload, std::string& reason) {
    if (payload.ok()) return true;
    reason = payload.status().message();
    return false;
  }
  explicit MelodaiApp(AppGenesis genesis);
  friend class MelodaiAppTestPeer;

  // Execution (melodai_app.cc).
  ledger::TransactionCode Apply(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode Dispatch(const ledger::Transaction& tx, std::string& reason);
  void AdvanceTime(int64_t timestamp_ms);
  void CloseNodeDay();
  void ReleaseVesting();
  void SweepTraining();
  void Credit(const PublicKey& key, uint64_t amount);
  void Debit(const PublicKey& key, uint64_t amount);
  void NoteBalanceChange(const PublicKey& key, uint64_t old_balance);
  void AddToTreasury(uint64_t amount);
  // Pays `total` to holders in proportion to weights; returns what was paid.
  uint64_t PayByWeights(uint64_t total, const std::vector<PublicKey>& holders,
                        const std::vector<uint64_t>& weights);
  bool IsValidator(const PublicKey& key) const;
  bool CanReceive(const PublicKey& key) const;
  ledger::TransactionCode ApplyTransfer(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyRegisterNode(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyNodeContribution(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyRoundCommitted(const ledger::Transaction& tx, std::string& reason);

  // Governance (app_governance.cc).
  ledger::TransactionCode ApplyPropose(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyVote(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyExecute(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyCancel(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode CheckProposalBody(const ProposePayload& body, std::string& reason) const;
  ledger::TransactionCode ExecuteAction(const ProposePayload& body, std::string& reason);
  void FinalizeProposals();
  void CloseProposal(uint64_t id, ProposalStatus status, bool refund);
  void RotateCommittee();
  void TriggerListing();

  // Music (app_music.cc).
  ledger::TransactionCode ApplyRegisterTrack(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplySubscribe(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyReportPlays(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyMintEdition(const ledger::Transaction& tx, std::string& reason);
  ledger::TransactionCode ApplyTradeEdition(const ledger::Transaction& tx, std::string& reason);
  void ClosePayoutPeriods(uint64_t new_period);
  void ClosePayoutPeriod(uint64_t period);
  void PayTrack(uint64_t track_id, uint64_t amount);

  // Snapshot restore (app_state_codec.cc): checks a decoded state and rebuilds its indexes.
  core::Status ValidateRestored();

  AppGenesis genesis_;
  AppState state_;
  std::vector<std::string> last_reasons_;
};

// The state root of the initial state of `genesis` (what StateRoot() returns before any block).
core::Result<crypto::Digest32> GenesisStateRoot(const AppGenesis& genesis);

}  // namespace melodai::app
