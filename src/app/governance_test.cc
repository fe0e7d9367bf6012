// MelodAI — licensed under the Apache License 2.0.
// Governance tests: snapshot voting power, the exact 66% rule at its boundary, Abstain for
// quorum only, one live proposal per proposer, the timelock, treasury spends by category,
// cancellation, and committee rotation and elections.
#include <gtest/gtest.h>

#include "app/app_test_util.h"
#include "app/melodai_app.h"

namespace melodai::app {
namespace {

using testing::Pub;
using testing::World;
constexpr uint64_t kMelai = kUnit;

class Governance : public ::testing::Test {
 protected:
  static constexpr int kProposer = 7;
  void SetUp() override { world_.Fund(kProposer, 2000 * kMelai); }

  ledger::TransactionCode Propose(int sender, ProposePayload body) {
    return world_.RunOne(world_.Tx(sender, kTxPropose, EncodePropose(body)));
  }
  ledger::TransactionCode Vote(int sender, uint64_t id, VoteChoice choice) {
    return world_.RunOne(world_.Tx(sender, kTxVote, EncodeVote({id, choice})));
  }
  ledger::TransactionCode Execute(int sender, uint64_t id, int64_t advance_ms = 1000) {
    return world_.RunOne(world_.Tx(sender, kTxExecute, EncodeProposalId({id})), advance_ms);
  }
  static ProposePayload FeeChange(uint64_t bps) {
    ProposePayload body;
    body.action = ProposalAction::kParameterChange;
    body.description = "raise the transfer fee";
    body.parameter = kTransferFeeBps;
    body.value = bps;
    return body;
  }
  const Proposal& proposal(uint64_t id) { return world_.app().state().proposals.at(id); }
  // Moves the clock to the start of voting of `id`, then past its end.
  void ToVoting(uint64_t id) { world_.Run({}, proposal(id).voting_start_ms - world_.now_ms()); }
  void PastVoting(uint64_t id) { world_.Run({}, proposal(id).voting_end_ms - world_.now_ms()); }

  World world_;
};

TEST_F(Governance, MovingTokensAfterAProposalAddsNoVotes) {
  world_.Fund(5, 10'000'000 * kMelai);
  world_.Fund(6, 1'000'000 * kMelai);
  ASSERT_EQ(Propose(kProposer, FeeChange(20)), ledger::kTransactionApplied);
  // After the proposal, 5 hands 9M to 8 (empty before) and 1M to 6.
  ASSERT_EQ(world_.RunOne(world_.Transfer(5, Pub(8), 9'000'000 * kMelai)),
            ledger::kTransactionApplied);
  ASSERT_EQ(world_.RunOne(world_.Transfer(5, Pub(6), 900'000 * kMelai)),
            ledger::kTransactionApplied);
  ToVoting(1);
  EXPECT_EQ(world_.app().VotingPower(1, Pub(5)), 10'000'000 * kMelai);
  EXPECT_EQ(world_.app().VotingPower(1, Pub(6)), 1'000'000 * kMelai);
  EXPECT_EQ(Vote(8, 1, VoteChoice::kFor), kAppNoVotingPower);
  EXPECT_EQ(Vote(5, 1, VoteChoice::kFor), ledger::kTransactionApplied);
  EXPECT_EQ(Vote(6, 1, VoteChoice::kFor), ledger::kTransactionApplied);
  EXPECT_EQ(Vote(5, 1, VoteChoice::kAgainst), kAppAlreadyVoted);
  EXPECT_EQ(proposal(1).votes_for, 11'000'000 * kMelai);
  // The proposer's power is its balance before the deposit.
  EXPECT_EQ(world_.app().VotingPower(1, Pub(kProposer)), 2000 * kMelai);
}

TEST_F(Governance, VotingOnlyBetweenDelayAndEnd) {
  world_.Fund(5, 10'000'000 * kMelai);
  ASSERT_EQ(Propose(kProposer, FeeChange(20)), ledger::kTransactionApplied);
  EXPECT_EQ(proposal(1).voting_start_ms - proposal(1).created_ms, 7 * kDayMs);
  EXPECT_EQ(Vote(5, 1, VoteChoice::kFor), kAppVotingClosed);  // Still in the 7-day delay.
  PastVoting(1);
  EXPECT_EQ(Vote(5, 1, VoteChoice::kFor), kAppVotingClosed);
}

// Goal: "66%" is exact integer arithmetic over For + Against. Method: the same proposal with
// For/Against of exactly 66/34 passes, one base unit less For (and more Against) fails;
// Abstain adds to the quorum but not to the ratio.
TEST_F(Governance, SixtySixThirtyFourBoundaryIsExact) {
  const uint64_t unit = 100'000 * kMelai;  // 100 units = 10M MELAI, above the 10% quorum.
  for (bool just_below : {false, true}) {
    World& w = world_;
    const int yes = just_below ? 12 : 5;
    const int no = just_below ? 13 : 6;
    w.Fund(yes, 66 * unit - (just_below ? 1 : 0));
    w.Fund(no, 34 * unit + (just_below ? 1 : 0));
    const int proposer = just_below ? 8 : kProposer;
    if (just_below) w.Fund(proposer, 2000 * kMelai);
    ASSERT_EQ(Propose(proposer, FeeChange(just_below ? 30 : 20)), ledger::kTransactionApplied);
    const uint64_t id = w.app().state().next_proposal_id - 1;
    ToVoting(id);
    ASSERT_EQ(Vote(yes, id, VoteChoice::kFor), ledger::kTransactionApplied);
    ASSERT_EQ(Vote(no, id, VoteChoice::kAgainst), ledger::kTransactionApplied);
    PastVoting(id);
    EXPECT_EQ(proposal(id).status,
              just_below ? ProposalStatus::kDefeated : ProposalStatus::kSucceeded)
        << (just_below ? "65.99/34.01" : "66/34");
  }
}

TEST_F(Governance, AbstainCountsForQuorumOnly) {
  world_.Fund(5, 1 * kMelai);
  world_.Fund(6, 9'000'000 * kMelai);
  ASSERT_EQ(Propose(kProposer, FeeChange(20)), ledger::kTransactionApplied);
  ToVoting(1);
  ASSERT_EQ(Vote(5, 1, VoteChoice::kFor), ledger::kTransactionApplied);
  ASSERT_EQ(Vote(6, 1, VoteChoice::kAbstain), ledger::kTransactionApplied);
  PastVoting(1);
  // 1 For, 0 Against, 9M Abstain: quorum met by Abstain, ratio 100% For.
  EXPECT_EQ(proposal(1).status, ProposalStatus::kSucceeded);

  // Without the abstainers the quorum fails, and the deposit goes to the treasury.
  world_.Fund(8, 2000 * kMelai);
  ASSERT_EQ(Propose(8, FeeChange(30)), ledger::kTransactionApplied);
  ToVoting(2);
  ASSERT_EQ(Vote(5, 2, VoteChoice::kFor), ledger::kTransactionApplied);
  const uint64_t reserve = world_.app().state().treasury[3];
  PastVoting(2);
  EXPECT_EQ(proposal(2).status, ProposalStatus::kDefeated);
  EXPECT_EQ(world_.app().state().treasury[3] - reserve, 5 * kMelai);  // 5% of the 100 deposit.
}

TEST_F(Governance, SecondLiveProposalIsRejected) {
  ASSERT_EQ(Propose(kProposer, FeeChange(20)), ledger::kTransactionApplied);
  EXPECT_EQ(Propose(kProposer, FeeChange(30)), kAppLiveProposalExists);
  EXPECT_EQ(world_.app().state().proposals.size(), 1u);
  PastVoting(1);  // Nobody voted: defeated, no longer live.
  EXPECT_EQ(proposal(1).status, ProposalStatus::kDefeated);
  EXPECT_EQ(Propose(kProposer, FeeChange(30)), ledger::kTransactionApplied);
}

TEST_F(Governance, NothingExecutesBeforeTheTimelock) {
  world_.Fund(5, 10'000'000 * kMelai);
  ASSERT_EQ(Propose(kProposer, FeeChange(25)), ledger::kTransactionApplied);
  EXPECT_EQ(Execute(5, 1), kAppNotPassed);
  ToVoting(1);
  ASSERT_EQ(Vote(5, 1, VoteChoice::kFor), ledger::kTransactionApplied);
  EXPECT_EQ(Execute(5, 1), kAppNotPassed);  // Vote still running.
  PastVoting(1);
  ASSERT_EQ(proposal(1).status, ProposalStatus::kSucceeded);
  // One millisecond before the 2-day timelock ends: rejected, nothing changes but the nonce.
  const int64_t wait = proposal(1).executable_ms - world_.now_ms() - 1;
  EXPECT_EQ(Execute(5, 1, wait), kAppTimelock);
  EXPECT_EQ(world_.app().state().parameters[kTransferFeeBps], 10u);
  const uint64_t proposer_before = world_.app().Balance(Pub(kProposer));
  EXPECT_EQ(Execute(5, 1, 1), ledger::kTransactionApplied);
  EXPECT_EQ(world_.app().state().parameters[kTransferFeeBps], 25u);
  EXPECT_EQ(proposal(1).status, ProposalStatus::kExecuted);
  EXPECT_EQ(world_.app().Balance(Pub(kProposer)) - proposer_before, 100 * kMelai);  // Deposit back.
  EXPECT_EQ(Execute(5, 1), kAppNotPassed);
  EXPECT_TRUE(world_.app().CheckInvariants().ok());
}

TEST_F(Governance, ParameterChangesStayWithinGovernanceBounds) {
  EXPECT_EQ(Propose(kProposer, FeeChange(51)), kAppBadProposal);  // Bounds 10-50 bps.
  ProposePayload unknown = FeeChange(10);
  unknown.parameter = 999;
  EXPECT_EQ(Propose(kProposer, unknown), kAppBadProposal);
  EXPECT_TRUE(world_.app().state().proposals.empty());
}

TEST_F(Governance, TreasurySpendByCategoryAndExpiry) {
  world_.Fund(5, 10'000'000 * kMelai);
  ProposePayload spend;
  spend.action = ProposalAction::kTreasurySpend;
  spend.category = 2;  // Marketing: 15% of the 30M unlocked treasury = 4.5M.
  spend.recipient = Pub(9);
  spend.amount = 4'500'001 * kMelai;
  ASSERT_EQ(Propose(kProposer, spend), ledger::kTransactionApplied);
  ToVoting(1);
  ASSERT_EQ(Vote(5, 1, VoteChoice::kFor), ledger::kTransactionApplied);
  PastVoting(1);
  EXPECT_EQ(Execute(5, 1, 2 * kDayMs), kAppTreasuryInsufficient);
  // Never executable: expires after the grace period and the deposit is returned.
  world_.Run({}, 15 * kDayMs);
  EXPECT_EQ(proposal(1).status, ProposalStatus::kExpired);
  spend.amount = 4'500'000 * kMelai;
  ASSERT_EQ(Propose(kProposer, spend), ledger::kTransactionApplied);
  ToVoting(2);
  ASSERT_EQ(Vote(5, 2, VoteChoice::kFor), ledger::kTransactionApplied);
  PastVoting(2);
  EXPECT_EQ(Execute(5, 2, 2 * kDayMs), ledger::kTransactionApplied);
  EXPECT_EQ(world_.app().Balance(Pub(9)), 4'500'000 * kMelai);
  EXPECT_EQ(world_.app().state().treasury[2], 0u);
}

TEST_F(Governance, ListingProposalReleasesLockedHalves) {
  world_.Fund(5, 10'000'000 * kMelai);
  ProposePayload listing;
  listing.action = ProposalAction::kListing;
  ASSERT_EQ(Propose(kProposer, listing), ledger::kTransactionApplied);
  ToVoting(1);
  ASSERT_EQ(Vote(5, 1, VoteChoice::kFor), ledger::kTransactionApplied);
  PastVoting(1);
  EXPECT_EQ(world_.app().Balance(Pub(testing::kAirdrop)), 10'000'000 * kMelai);
  ASSERT_EQ(Execute(5, 1, 2 * kDayMs), ledger::kTransactionApplied);
  EXPECT_TRUE(world_.app().state().listed);
  EXPECT_EQ(world_.app().Balance(Pub(testing::kAirdrop)), 20'000'000 * kMelai);
  EXPECT_EQ(world_.app().state().treasury_locked, 0u);
}

TEST_F(Governance, CancelByProposerBeforeVotingOrByTheCommittee) {
  const int member = testing::kFirstCommittee;
  world_.Fund(member, 1 * kMelai);
  world_.Fund(5, 1 * kMelai);
  ASSERT_EQ(Propose(kProposer, FeeChange(20)), ledger::kTransactionApplied);
  EXPECT_EQ(world_.RunOne(world_.Tx(5, kTxCancel, EncodeProposalId({1}))), kAppNotAuthorized);
  EXPECT_EQ(world_.RunOne(world_.Tx(kProposer, kTxCancel, EncodeProposalId({1}))),
            ledger::kTransactionApplied);
  EXPECT_EQ(proposal(1).status, ProposalStatus::kCanceled);
  EXPECT_EQ(world_.app().Balance(Pub(kProposer)), 2000 * kMelai);
  ASSERT_EQ(Propose(kProposer, FeeChange(20)), ledger::kTransactionApplied);
  ToVoting(2);
  EXPECT_EQ(world_.RunOne(world_.Tx(kProposer, kTxCancel, EncodeProposalId({2}))),
            kAppNotAuthorized);
  EXPECT_EQ(world_.RunOne(world_.Tx(member, kTxCancel, EncodeProposalId({2}))),
            ledger::kTransactionApplied);
  EXPECT_EQ(world_.RunOne(world_.Tx(member, kTxCancel, EncodeProposalId({2}))), kAppNotPassed);
}

// Goal: 30% of 7 seats rounds up to 3; the longest-serving rotate out every 182 days and
// elections fill the vacant seats. Method: rotate, elect 3, rotate again.
TEST_F(Governance, CommitteeRotatesThirtyPercentRoundedUp) {
  world_.Fund(5, 10'000'000 * kMelai);
  world_.AdvanceDays(181);
  EXPECT_EQ(world_.app().state().committee.size(), 7u);
  world_.AdvanceDays(1);
  ASSERT_EQ(world_.app().state().committee.size(), 4u);
  ProposePayload election;
  election.action = ProposalAction::kCommitteeElection;
  election.candidates = {Pub(20), Pub(21), Pub(22)};
  ASSERT_EQ(Propose(kProposer, election), ledger::kTransactionApplied);
  ToVoting(1);
  ASSERT_EQ(Vote(5, 1, VoteChoice::kFor), ledger::kTransactionApplied);
  PastVoting(1);
  ASSERT_EQ(Execute(5, 1, 2 * kDayMs), ledger::kTransactionApplied);
  const auto& committee = world_.app().state().committee;
  EXPECT_EQ(committee.size(), 7u);
  world_.AdvanceDays(364 - static_cast<int64_t>(world_.app().state().day));
  // The 4 remaining genesis members served longest: 3 of them leave, the elected stay.
  EXPECT_EQ(committee.size(), 4u);
  EXPECT_TRUE(committee.contains(Pub(20)) && committee.contains(Pub(21)) &&
              committee.contains(Pub(22)));
}

}  // namespace
}  // namespace melodai::app
