// MelodAI — licensed under the Apache License 2.0.
// DAO governance of the MelodAI application: proposals with a threshold, a deposit and one
// live proposal per proposer; voting power snapshotted at proposal time; voting delay, voting
// period, quorum, the exact integer supermajority rule, timelock and execution; cancellation;
// the treasury categories, the listing event and the rotating committee.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "app/melodai_app.h"

namespace melodai::app {
namespace {

__extension__ typedef unsigned __int128 Uint128;

bool IsMajor(ProposalAction action) {
  return action == ProposalAction::kParameterChange || action == ProposalAction::kListing;
}

// The exact integer vote rule: a major proposal passes when For > 0 and
// For * 10,000 >= required_bps * (For + Against) (66/34 passes, 65.99/34.01 does not); a
// simple one when For * 10,000 > 5,000 * (For + Against). Abstain never enters this rule.
bool VotePasses(const Proposal& proposal) {
  const Uint128 lhs = static_cast<Uint128>(proposal.votes_for) * kBpsDenominator;
  const Uint128 rhs = static_cast<Uint128>(proposal.required_bps) *
                      (static_cast<Uint128>(proposal.votes_for) + proposal.votes_against);
  if (IsMajor(proposal.body.action)) return proposal.votes_for > 0 && lhs >= rhs;
  return lhs > rhs;
}

bool QuorumReached(const Proposal& proposal) {
  const Uint128 votes =
      static_cast<Uint128>(proposal.votes_for) + proposal.votes_against + proposal.votes_abstain;
  return votes * kBpsDenominator >=
         static_cast<Uint128>(proposal.quorum_bps) * proposal.snapshot_supply;
}

}  // namespace

ledger::TransactionCode MelodaiApp::CheckProposalBody(const ProposePayload& body,
                                                      std::string& reason) const {
  switch (body.action) {
    case ProposalAction::kParameterChange: {
      if (body.parameter >= kParameterCount) {
        reason = fmt::format("parameter {} does not exist", body.parameter);
        return kAppBadProposal;
      }
      const uint64_t low = genesis_.minimum[body.parameter];
      const uint64_t high = genesis_.maximum[body.parameter];
      if (body.value < low || body.value > high) {
        reason = fmt::format("{} = {} outside the governance bounds [{}, {}]",
                             ParameterName(body.parameter), body.value, low, high);
        return kAppBadProposal;
      }
      ParameterValues next = state_.parameters;
      next[body.parameter] = body.value;
      if (next[kResaleRoyaltyMinBps] > next[kResaleRoyaltyMaxBps]) {
        reason = "resale royalty minimum would exceed the maximum";
        return kAppBadProposal;
      }
      return ledger::kTransactionApplied;
    }
    case ProposalAction::kTreasurySpend:
      if (body.category >= kTreasuryCategoryCount || body.amount == 0) {
        reason = "treasury spend needs a category 0-3 and a positive amount";
        return kAppBadProposal;
      }
      return ledger::kTransactionApplied;
    case ProposalAction::kListing:
      if (state_.listed) {
        reason = "the listing event already happened";
        return kAppBadProposal;
      }
      return ledger::kTransactionApplied;
    case ProposalAction::kCommitteeElection: {
      const std::set<PublicKey> distinct(body.candidates.begin(), body.candidates.end());
      if (body.candidates.empty() || distinct.size() != body.candidates.size() ||
          body.candidates.size() > genesis_.committee_seats) {
        reason = "election needs 1 to seats distinct candidates";
        return kAppBadProposal;
      }
      return ledger::kTransactionApplied;
    }
  }
  return kAppBadProposal;
}

ledger::TransactionCode MelodaiApp::ApplyPropose(const ledger::Transaction& tx,
                                                 std::string& reason) {
  auto payload = DecodePropose(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (state_.live_proposal.contains(tx.sender)) {
    reason = fmt::format("proposal {} of this proposer is still live",
                         state_.live_proposal.at(tx.sender));
    return kAppLiveProposalExists;
  }
  const ParameterValues& p = state_.parameters;
  const uint64_t balance = Balance(tx.sender);
  if (balance < p[kProposalThreshold]) {
    reason = fmt::format("balance {} below the threshold {}", balance, p[kProposalThreshold]);
    return kAppBelowProposalThreshold;
  }
  if (balance < p[kProposalDeposit]) return kAppInsufficientFunds;
  const ledger::TransactionCode body_code = CheckProposalBody(*payload, reason);
  if (body_code != ledger::kTransactionApplied) return body_code;
  const uint64_t id = state_.next_proposal_id++;
  Proposal proposal;
  proposal.proposer = tx.sender;
  proposal.body = std::move(*payload);
  proposal.created_ms = state_.now_ms;
  proposal.voting_start_ms = state_.now_ms + static_cast<int64_t>(p[kVotingDelayMs]);
  proposal.voting_end_ms = proposal.voting_start_ms + static_cast<int64_t>(p[kVotingPeriodMs]);
  proposal.executable_ms = proposal.voting_end_ms + static_cast<int64_t>(p[kTimelockMs]);
  proposal.expires_ms = proposal.executable_ms + static_cast<int64_t>(p[kExecutionGraceMs]);
  proposal.deposit = p[kProposalDeposit];
  proposal.snapshot_supply = state_.balance_sum;
  proposal.quorum_bps = static_cast<uint32_t>(p[kQuorumBps]);
  proposal.required_bps =
      IsMajor(proposal.body.action) ? static_cast<uint32_t>(p[kSupermajorityBps]) : 5000;
  state_.proposals[id] = std::move(proposal);
  state_.live_proposal[tx.sender] = id;
  // After the proposal exists, so its snapshot records the proposer's balance before the deposit.
  Debit(tx.sender, state_.proposals[id].deposit);
  state_.deposits += state_.proposals[id].deposit;
  return ledger::kTransactionApplied;
}

uint64_t MelodaiApp::VotingPower(uint64_t id, const PublicKey& voter) const {
  auto proposal = state_.proposals.find(id);
  if (proposal == state_.proposals.end()) return 0;
  auto snapshot = proposal->second.snapshot.find(voter);
  if (snapshot != proposal->second.snapshot.end()) return snapshot->second;
  return Balance(voter);
}

ledger::TransactionCode MelodaiApp::ApplyVote(const ledger::Transaction& tx, std::string& reason) {
  auto payload = DecodeVote(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  auto it = state_.proposals.find(payload->proposal_id);
  if (it == state_.proposals.end()) return kAppUnknownProposal;
  Proposal& proposal = it->second;
  if (proposal.status != ProposalStatus::kOpen || state_.now_ms < proposal.voting_start_ms ||
      state_.now_ms >= proposal.voting_end_ms) {
    reason = fmt::format("voting on proposal {} runs from {} to {} ms; now is {}", it->first,
                         proposal.voting_start_ms, proposal.voting_end_ms, state_.now_ms);
    return kAppVotingClosed;
  }
  if (proposal.votes.contains(tx.sender)) return kAppAlreadyVoted;
  const uint64_t power = VotingPower(it->first, tx.sender);
  if (power == 0) return kAppNoVotingPower;
  proposal.votes[tx.sender] = payload->choice;
  switch (payload->choice) {
    case VoteChoice::kFor:
      proposal.votes_for += power;
      break;
    case VoteChoice::kAgainst:
      proposal.votes_against += power;
      break;
    case VoteChoice::kAbstain:
      proposal.votes_abstain += power;
      break;
  }
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ExecuteAction(const ProposePayload& body, std::string& reason) {
  const ledger::TransactionCode check = CheckProposalBody(body, reason);
  if (check != ledger::kTransactionApplied) return check;
  switch (body.action) {
    case ProposalAction::kParameterChange:
      state_.parameters[body.parameter] = body.value;
      return ledger::kTransactionApplied;
    case ProposalAction::kTreasurySpend:
      if (state_.treasury[body.category] < body.amount) {
        reason =
            fmt::format("{} budget holds {}, the spend is {}", TreasuryCategoryName(body.category),
                        state_.treasury[body.category], body.amount);
        return kAppTreasuryInsufficient;
      }
      if (!CanReceive(body.recipient)) return kAppAccountLimit;
      state_.treasury[body.category] -= body.amount;
      Credit(body.recipient, body.amount);
      return ledger::kTransactionApplied;
    case ProposalAction::kListing:
      TriggerListing();
      return ledger::kTransactionApplied;
    case ProposalAction::kCommitteeElection: {
      const size_t vacant = genesis_.committee_seats - state_.committee.size();
      for (const PublicKey& candidate : body.candidates) {
        if (state_.committee.contains(candidate)) {
          reason = "candidate " + crypto::ToHex(candidate.bytes) + " already sits on the committee";
          return kAppBadProposal;
        }
      }
      if (body.candidates.size() > vacant) {
        reason = fmt::format("{} candidates for {} vacant seats", body.candidates.size(), vacant);
        return kAppBadProposal;
      }
      for (const PublicKey& candidate : body.candidates)
        state_.committee[candidate] = state_.now_ms;
      return ledger::kTransactionApplied;
    }
  }
  return kAppBadProposal;
}

ledger::TransactionCode MelodaiApp::ApplyExecute(const ledger::Transaction& tx,
                                                 std::string& reason) {
  auto payload = DecodeProposalId(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  auto it = state_.proposals.find(payload->proposal_id);
  if (it == state_.proposals.end()) return kAppUnknownProposal;
  const Proposal& proposal = it->second;
  if (proposal.status != ProposalStatus::kSucceeded) {
    reason = fmt::format("proposal {} is {}", it->first, ProposalStatusName(proposal.status));
    return kAppNotPassed;
  }
  if (state_.now_ms < proposal.executable_ms) {
    reason = fmt::format("executable from {} ms; now is {}", proposal.executable_ms, state_.now_ms);
    return kAppTimelock;
  }
  const ledger::TransactionCode code = ExecuteAction(proposal.body, reason);
  if (code != ledger::kTransactionApplied) return code;
  CloseProposal(it->first, ProposalStatus::kExecuted, /*refund=*/true);
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ApplyCancel(const ledger::Transaction& tx,
                                                std::string& reason) {
  auto payload = DecodeProposalId(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  auto it = state_.proposals.find(payload->proposal_id);
  if (it == state_.proposals.end()) return kAppUnknownProposal;
  const Proposal& proposal = it->second;
  if (proposal.status != ProposalStatus::kOpen && proposal.status != ProposalStatus::kSucceeded) {
    reason = fmt::format("proposal {} is {}", it->first, ProposalStatusName(proposal.status));
    return kAppNotPassed;
  }
  // The proposer may withdraw before voting starts; a committee member may cancel any live
  // proposal (the guardian role).
  const bool proposer_early = tx.sender == proposal.proposer &&
                              proposal.status == ProposalStatus::kOpen &&
                              state_.now_ms < proposal.voting_start_ms;
  if (!proposer_early && !state_.committee.contains(tx.sender)) return kAppNotAuthorized;
  CloseProposal(it->first, ProposalStatus::kCanceled, /*refund=*/true);
  return ledger::kTransactionApplied;
}

void MelodaiApp::CloseProposal(uint64_t id, ProposalStatus status, bool refund) {
  Proposal& proposal = state_.proposals.at(id);
  MELODAI_CHECK(proposal.status == ProposalStatus::kOpen ||
                proposal.status == ProposalStatus::kSucceeded);
  proposal.status = status;
  proposal.snapshot.clear();
  state_.live_proposal.erase(proposal.proposer);
  MELODAI_CHECK(state_.deposits >= proposal.deposit);
  state_.deposits -= proposal.deposit;
  if (refund) {
    Credit(proposal.proposer, proposal.deposit);
  } else {
    AddToTreasury(proposal.deposit);
  }
}

void MelodaiApp::FinalizeProposals() {
  std::vector<uint64_t> live;
  for (const auto& [proposer, id] : state_.live_proposal) live.push_back(id);
  std::sort(live.begin(), live.end());
  for (uint64_t id : live) {
    Proposal& proposal = state_.proposals.at(id);
    if (proposal.status == ProposalStatus::kOpen && state_.now_ms >= proposal.voting_end_ms) {
      const bool quorum = QuorumReached(proposal);
      if (quorum && VotePasses(proposal)) {
        proposal.status = ProposalStatus::kSucceeded;
        proposal.snapshot.clear();
      } else {
        // A deposit is forfeited to the treasury only when the quorum was missed.
        CloseProposal(id, ProposalStatus::kDefeated, /*refund=*/quorum);
        continue;
      }
    }
    if (proposal.status == ProposalStatus::kSucceeded && state_.now_ms >= proposal.expires_ms) {
      CloseProposal(id, ProposalStatus::kExpired, /*refund=*/true);
    }
  }
}

// Removes ceil(seats * rotation_bps / 10,000) members, the longest-serving first (earliest
// joined_ms, ties by key); their seats are filled by CommitteeElection proposals.
void MelodaiApp::RotateCommittee() {
  const uint64_t seats = genesis_.committee_seats;
  const uint64_t count =
      (seats * genesis_.committee_rotation_bps + kBpsDenominator - 1) / kBpsDenominator;
  std::vector<std::pair<int64_t, PublicKey>> order;
  for (const auto& [member, joined] : state_.committee) order.emplace_back(joined, member);
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size() && i < count; ++i) state_.committee.erase(order[i].second);
}

void MelodaiApp::TriggerListing() {
  MELODAI_CHECK(!state_.listed);
  state_.listed = true;
  for (auto& [key, vesting] : state_.vesting) {
    if (static_cast<Allocation>(key.second) != Allocation::kAirdrop) continue;
    Credit(key.first, vesting.total - vesting.released);
    vesting.released = vesting.total;
  }
  AddToTreasury(state_.treasury_locked);
  state_.treasury_locked = 0;
}

}  // namespace melodai::app
