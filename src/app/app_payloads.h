// MelodAI — licensed under the Apache License 2.0.
// Transaction types and payload encodings of the MelodAI application. Every payload has one
// canonical little-endian encoding; decoding is strict (kDataLoss naming the field on
// truncation, absurd counts, bad enum values or trailing bytes), so Encode(Decode(x)) == x.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/transfer_app.h"
#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "ledger/chain/transaction.h"

namespace melodai::app {

// Transaction types (ledger::Transaction::type). Transfer keeps TransferApp's type and payload.
enum TxType : uint8_t {
  kTxTransfer = kTransferType,  // 1: TransferPayload.
  kTxRegisterNode = 2,
  kTxNodeContribution = 3,
  kTxRoundCommitted = 4,
  kTxPropose = 5,
  kTxVote = 6,
  kTxExecute = 7,
  kTxCancel = 8,
  kTxRegisterTrack = 9,
  kTxSubscribe = 10,
  kTxReportPlays = 11,
  kTxMintEdition = 12,
  kTxTradeEdition = 13,
};
inline constexpr uint8_t kTxTypeFirst = 1;
inline constexpr uint8_t kTxTypeLast = 13;
// "transfer", "register_node", ... ("" for an unknown type).
std::string_view TxTypeName(uint8_t type);

// Limits on payload contents.
inline constexpr size_t kMaxEndpointBytes = 128;
inline constexpr size_t kMaxScoresPerReport = 1024;
inline constexpr size_t kMaxRoundParticipants = 4096;
inline constexpr size_t kMaxDescriptionBytes = 1024;
inline constexpr size_t kMaxElectionCandidates = 64;
inline constexpr size_t kMaxTitleBytes = 256;
inline constexpr size_t kMaxArtistBytes = 256;
inline constexpr size_t kMaxIsrcBytes = 15;  // "CC-XXX-YY-NNNNN" with hyphens.
inline constexpr size_t kMaxSplitHolders = 16;
inline constexpr size_t kMaxPlaysPerReport = 1024;

struct RegisterNodePayload {
  std::string endpoint;  // Where the node serves (informational), at most kMaxEndpointBytes.
  friend bool operator==(const RegisterNodePayload&, const RegisterNodePayload&) = default;
};

// One node's scores for a day: B (blocks), S (serving), P (compute/uptime).
struct NodeScore {
  crypto::Ed25519PublicKey node;
  uint32_t blocks = 0;
  uint32_t serving = 0;
  uint32_t compute = 0;
  friend bool operator==(const NodeScore&, const NodeScore&) = default;
};
struct NodeContributionPayload {
  uint64_t epoch = 0;             // The daily epoch the scores belong to (the current day).
  std::vector<NodeScore> scores;  // Distinct registered nodes.
  uint64_t score_total = 0;       // Σ C_j as obtained from the secure sum; must match.
  friend bool operator==(const NodeContributionPayload&, const NodeContributionPayload&) = default;
};

// One participant of a federated round: V (data volume), Q (quality), R (reliability).
struct RoundParticipant {
  crypto::Ed25519PublicKey participant;
  uint32_t volume = 0;
  uint32_t quality = 0;
  uint32_t reliability = 0;
  friend bool operator==(const RoundParticipant&, const RoundParticipant&) = default;
};
struct RoundCommittedPayload {
  uint64_t round = 0;                 // The next round number (1 for the first).
  crypto::Digest32 previous_model{};  // h_{r-1}: the last committed model hash.
  crypto::Digest32 model{};           // h_r.
  std::vector<RoundParticipant> participants;
  uint64_t contribution_total = 0;  // Σ D_j from the secure sum; must match.
  friend bool operator==(const RoundCommittedPayload&, const RoundCommittedPayload&) = default;
};

enum class ProposalAction : uint8_t {
  kParameterChange = 1,    // Major: needs the supermajority.
  kTreasurySpend = 2,      // Simple majority.
  kListing = 3,            // Major: releases the locked airdrop and treasury halves.
  kCommitteeElection = 4,  // Simple majority: fills vacant committee seats.
};
// Treasury budget categories (DESIGN.md: 50% development, 30% community, 15% marketing, 5%
// reserve).
inline constexpr size_t kTreasuryCategoryCount = 4;
inline constexpr std::array<uint64_t, kTreasuryCategoryCount> kTreasuryCategoryBps = {5000, 3000,
                                                                                      1500, 500};
std::string_view TreasuryCategoryName(uint8_t category);

struct ProposePayload {
  ProposalAction action = ProposalAction::kParameterChange;
  std::string description;
  // kParameterChange.
  uint32_t parameter = 0;
  uint64_t value = 0;
  // kTreasurySpend.
  uint8_t category = 0;
  crypto::Ed25519PublicKey recipient;
  uint64_t amount = 0;
  // kCommitteeElection.
  std::vector<crypto::Ed25519PublicKey> candidates;
  friend bool operator==(const ProposePayload&, const ProposePayload&) = default;
};

enum class VoteChoice : uint8_t { kAgainst = 0, kFor = 1, kAbstain = 2 };
struct VotePayload {
  uint64_t proposal_id = 0;
  VoteChoice choice = VoteChoice::kFor;
  friend bool operator==(const VotePayload&, const VotePayload&) = default;
};
// Execute and Cancel.
struct ProposalIdPayload {
  uint64_t proposal_id = 0;
  friend bool operator==(const ProposalIdPayload&, const ProposalIdPayload&) = default;
};

struct RoyaltySplit {
  crypto::Ed25519PublicKey holder;
  uint32_t bps = 0;
  friend bool operator==(const RoyaltySplit&, const RoyaltySplit&) = default;
};
struct RegisterTrackPayload {
  crypto::Digest32 content_hash{};
  std::string title;
  std::string artist;
  std::string isrc;
  std::vector<RoyaltySplit> splits;
  friend bool operator==(const RegisterTrackPayload&, const RegisterTrackPayload&) = default;
};

struct SubscribePayload {
  uint32_t periods = 1;  // Consecutive payout periods paid from the current one.
  friend bool operator==(const SubscribePayload&, const SubscribePayload&) = default;
};

struct PlayCount {
  uint64_t track_id = 0;
  uint32_t count = 0;
  friend bool operator==(const PlayCount&, const PlayCount&) = default;
};
struct ReportPlaysPayload {
  uint64_t period = 0;  // The current payout period.
  std::vector<PlayCount> plays;
  friend bool operator==(const ReportPlaysPayload&, const ReportPlaysPayload&) = default;
};

struct MintEditionPayload {
  uint64_t track_id = 0;
  uint32_t supply = 0;       // Number of numbered copies.
  uint64_t price = 0;        // Primary price per copy (base units).
  uint32_t royalty_bps = 0;  // Resale royalty to the split holders, within the bounds.
  friend bool operator==(const MintEditionPayload&, const MintEditionPayload&) = default;
};

enum class TradeOp : uint8_t {
  kBuyPrimary = 0,  // Buy the next unsold copy at the edition price.
  kList = 1,        // Holder offers copy `serial` at `price`.
  kDelist = 2,      // Holder withdraws the offer.
  kBuyListed = 3,   // Buy copy `serial` at its listed price; `price` must equal it.
};
struct TradeEditionPayload {
  TradeOp op = TradeOp::kBuyPrimary;
  uint64_t edition_id = 0;
  uint32_t serial = 0;
  uint64_t price = 0;
  friend bool operator==(const TradeEditionPayload&, const TradeEditionPayload&) = default;
};

std::string EncodeRegisterNode(const RegisterNodePayload& payload);
core::Result<RegisterNodePayload> DecodeRegisterNode(std::string_view bytes);
std::string EncodeNodeContribution(const NodeContributionPayload& payload);
core::Result<NodeContributionPayload> DecodeNodeContribution(std::string_view bytes);
std::string EncodeRoundCommitted(const RoundCommittedPayload& payload);
core::Result<RoundCommittedPayload> DecodeRoundCommitted(std::string_view bytes);
std::string EncodePropose(const ProposePayload& payload);
core::Result<ProposePayload> DecodePropose(std::string_view bytes);
std::string EncodeVote(const VotePayload& payload);
core::Result<VotePayload> DecodeVote(std::string_view bytes);
std::string EncodeProposalId(const ProposalIdPayload& payload);
core::Result<ProposalIdPayload> DecodeProposalId(std::string_view bytes);
std::string EncodeRegisterTrack(const RegisterTrackPayload& payload);
core::Result<RegisterTrackPayload> DecodeRegisterTrack(std::string_view bytes);
std::string EncodeSubscribe(const SubscribePayload& payload);
core::Result<SubscribePayload> DecodeSubscribe(std::string_view bytes);
std::string EncodeReportPlays(const ReportPlaysPayload& payload);
core::Result<ReportPlaysPayload> DecodeReportPlays(std::string_view bytes);
std::string EncodeMintEdition(const MintEditionPayload& payload);
core::Result<MintEditionPayload> DecodeMintEdition(std::string_view bytes);
std::string EncodeTradeEdition(const TradeEditionPayload& payload);
core::Result<TradeEditionPayload> DecodeTradeEdition(std::string_view bytes);

// Decodes the payload of a transaction of `type` and re-encodes it (checks that the payload
// is canonical). kInvalidArgument for an unknown type or a malformed payload. Used by
// admission checks and by the fuzz target.
core::Result<std::string> CanonicalPayload(uint8_t type, std::string_view payload);

// A signed transaction of `type` with an encoded `payload` from `key` at `nonce`.
// REQUIRES: payload.size() <= ledger::kMaxTransactionPayloadBytes.
ledger::Transaction MakeAppTransaction(const crypto::Ed25519KeyPair& key, uint64_t nonce,
                                       uint8_t type, std::string payload);

// ISRC (ISO 3901) check: "CC-XXX-YY-NNNNN" or the same 12 characters without hyphens: a
// two-letter country code, a three-character alphanumeric registrant, two digits of year and
// five digits of designation, letters upper-case. Returns the 12-character canonical form,
// or kInvalidArgument naming the first bad character.
core::Result<std::string> NormalizeIsrc(std::string_view isrc);

}  // namespace melodai::app
