// MelodAI — licensed under the Apache License 2.0.
// Canonical encodings of the MelodAI transaction payloads and the ISRC check.
#include "app/app_payloads.h"

#include <fmt/format.h>

#include "core/bytes.h"

namespace melodai::app {
namespace {

using core::ByteReader;
using core::ByteWriter;

void PutKey(ByteWriter& writer, const crypto::Ed25519PublicKey& key) {
  writer.PutRaw(key.bytes.data(), key.bytes.size());
}
core::Status GetKey(ByteReader& reader, crypto::Ed25519PublicKey& key, std::string_view field) {
  return reader.GetRaw(key.bytes.data(), key.bytes.size(), field);
}
void PutDigest(ByteWriter& writer, const crypto::Digest32& digest) {
  writer.PutRaw(digest.data(), digest.size());
}
core::Status GetDigest(ByteReader& reader, crypto::Digest32& digest, std::string_view field) {
  return reader.GetRaw(digest.data(), digest.size(), field);
}
// Reads a u32 element count, rejecting counts above `max_count` or past the end.
core::Status GetCount(ByteReader& reader, uint32_t& count, std::string_view field, size_t max_count,
                      size_t element_bytes) {
  MELODAI_RETURN_IF_ERROR(reader.GetU32(count, field));
  if (count > max_count || count > reader.remaining() / element_bytes) {
    return core::DataLossError(fmt::format("{}: count {} is invalid", field, count));
  }
  return core::Status::Ok();
}
core::Status Finish(const ByteReader& reader, std::string_view what) {
  if (!reader.done()) {
    return core::DataLossError(fmt::format("{}: {} trailing bytes", what, reader.remaining()));
  }
  return core::Status::Ok();
}

}  // namespace

std::string_view TxTypeName(uint8_t type) {
  static constexpr std::array<std::string_view, 14> kNames = {"",
                                                              "transfer",
                                                              "register_node",
                                                              "node_contribution",
                                                              "round_committed",
                                                              "propose",
                                                              "vote",
                                                              "execute",
                                                              "cancel",
                                                              "register_track",
                                                              "subscribe",
                                                              "report_plays",
                                                              "mint_edition",
                                                              "trade_edition"};
  return type < kNames.size() ? kNames[type] : std::string_view();
}

std::string_view TreasuryCategoryName(uint8_t category) {
  static constexpr std::array<std::string_view, kTreasuryCategoryCount> kNames = {
      "development", "community", "marketing", "reserve"};
  return category < kNames.size() ? kNames[category] : std::string_view();
}

std::string EncodeRegisterNode(const RegisterNodePayload& payload) {
  ByteWriter writer;
  writer.PutString(payload.endpoint);
  return writer.Release();
}
core::Result<RegisterNodePayload> DecodeRegisterNode(std::string_view bytes) {
  ByteReader reader(bytes);
  RegisterNodePayload payload;
  MELODAI_RETURN_IF_ERROR(
      reader.GetString(payload.endpoint, "register_node.endpoint", kMaxEndpointBytes));
  MELODAI_RETURN_IF_ERROR(Finish(reader, "register_node"));
  return payload;
}

std::string EncodeNodeContribution(const NodeContributionPayload& payload) {
  ByteWriter writer;
  writer.PutU64(payload.epoch);
  writer.PutU32(static_cast<uint32_t>(payload.scores.size()));
  for (const NodeScore& score : payload.scores) {
    PutKey(writer, score.node);
    writer.PutU32(score.blocks);
    writer.PutU32(score.serving);
    writer.PutU32(score.compute);
  }
  writer.PutU64(payload.score_total);
  return writer.Release();
}
core::Result<NodeContributionPayload> DecodeNodeContribution(std::string_view bytes) {
  ByteReader reader(bytes);
  NodeContributionPayload payload;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.epoch, "node_contribution.epoch"));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(
      GetCount(reader, count, "node_contribution.scores", kMaxScoresPerReport, 44));
  payload.scores.resize(count);
  for (NodeScore& score : payload.scores) {
    MELODAI_RETURN_IF_ERROR(GetKey(reader, score.node, "node_contribution.node"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(score.blocks, "node_contribution.blocks"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(score.serving, "node_contribution.serving"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(score.compute, "node_contribution.compute"));
  }
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.score_total, "node_contribution.score_total"));
  MELODAI_RETURN_IF_ERROR(Finish(reader, "node_contribution"));
  return payload;
}

std::string EncodeRoundCommitted(const RoundCommittedPayload& payload) {
  ByteWriter writer;
  writer.PutU64(payload.round);
  PutDigest(writer, payload.previous_model);
  PutDigest(writer, payload.model);
  writer.PutU32(static_cast<uint32_t>(payload.participants.size()));
  for (const RoundParticipant& participant : payload.participants) {
    PutKey(writer, participant.participant);
    writer.PutU32(participant.volume);
    writer.PutU32(participant.quality);
    writer.PutU32(participant.reliability);
  }
  writer.PutU64(payload.contribution_total);
  return writer.Release();
}
core::Result<RoundCommittedPayload> DecodeRoundCommitted(std::string_view bytes) {
  ByteReader reader(bytes);
  RoundCommittedPayload payload;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.round, "round_committed.round"));
  MELODAI_RETURN_IF_ERROR(
      GetDigest(reader, payload.previous_model, "round_committed.previous_model"));
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, payload.model, "round_committed.model"));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(
      GetCount(reader, count, "round_committed.participants", kMaxRoundParticipants, 44));
  payload.participants.resize(count);
  for (RoundParticipant& participant : payload.participants) {
    MELODAI_RETURN_IF_ERROR(GetKey(reader, participant.participant, "round_committed.participant"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(participant.volume, "round_committed.volume"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(participant.quality, "round_committed.quality"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(participant.reliability, "round_committed.reliability"));
  }
  MELODAI_RETURN_IF_ERROR(
      reader.GetU64(payload.contribution_total, "round_committed.contribution_total"));
  MELODAI_RETURN_IF_ERROR(Finish(reader, "round_committed"));
  return payload;
}

// action u8 | description | then by action: parameter u32 | value u64; category u8 |
// recipient [32] | amount u64; nothing; count u32 | candidate [32]*.
std::string EncodePropose(const ProposePayload& payload) {
  ByteWriter writer;
  writer.PutU8(static_cast<uint8_t>(payload.action));
  writer.PutString(payload.description);
  switch (payload.action) {
    case ProposalAction::kParameterChange:
      writer.PutU32(payload.parameter);
      writer.PutU64(payload.value);
      break;
    case ProposalAction::kTreasurySpend:
      writer.PutU8(payload.category);
      PutKey(writer, payload.recipient);
      writer.PutU64(payload.amount);
      break;
    case ProposalAction::kListing:
      break;
    case ProposalAction::kCommitteeElection:
      writer.PutU32(static_cast<uint32_t>(payload.candidates.size()));
      for (const auto& candidate : payload.candidates) PutKey(writer, candidate);
      break;
  }
  return writer.Release();
}
core::Result<ProposePayload> DecodePropose(std::string_view bytes) {
  ByteReader reader(bytes);
  ProposePayload payload;
  uint8_t action = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(action, "propose.action"));
  if (action < 1 || action > 4) {
    return core::DataLossError(fmt::format("propose.action: {} is not an action", action));
  }
  payload.action = static_cast<ProposalAction>(action);
  MELODAI_RETURN_IF_ERROR(
      reader.GetString(payload.description, "propose.description", kMaxDescriptionBytes));
  switch (payload.action) {
    case ProposalAction::kParameterChange:
      MELODAI_RETURN_IF_ERROR(reader.GetU32(payload.parameter, "propose.parameter"));
      MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.value, "propose.value"));
      break;
    case ProposalAction::kTreasurySpend:
      MELODAI_RETURN_IF_ERROR(reader.GetU8(payload.category, "propose.category"));
      MELODAI_RETURN_IF_ERROR(GetKey(reader, payload.recipient, "propose.recipient"));
      MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.amount, "propose.amount"));
      break;
    case ProposalAction::kListing:
      break;
    case ProposalAction::kCommitteeElection: {
      uint32_t count = 0;
      MELODAI_RETURN_IF_ERROR(
          GetCount(reader, count, "propose.candidates", kMaxElectionCandidates, 32));
      payload.candidates.resize(count);
      for (auto& candidate : payload.candidates) {
        MELODAI_RETURN_IF_ERROR(GetKey(reader, candidate, "propose.candidate"));
      }
      break;
    }
  }
  MELODAI_RETURN_IF_ERROR(Finish(reader, "propose"));
  return payload;
}

std::string EncodeVote(const VotePayload& payload) {
  ByteWriter writer;
  writer.PutU64(payload.proposal_id);
  writer.PutU8(static_cast<uint8_t>(payload.choice));
  return writer.Release();
}
core::Result<VotePayload> DecodeVote(std::string_view bytes) {
  ByteReader reader(bytes);
  VotePayload payload;
  uint8_t choice = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.proposal_id, "vote.proposal_id"));
  MELODAI_RETURN_IF_ERROR(reader.GetU8(choice, "vote.choice"));
  if (choice > 2)
    return core::DataLossError(fmt::format("vote.choice: {} is not a choice", choice));
  payload.choice = static_cast<VoteChoice>(choice);
  MELODAI_RETURN_IF_ERROR(Finish(reader, "vote"));
  return payload;
}

std::string EncodeProposalId(const ProposalIdPayload& payload) {
  ByteWriter writer;
  writer.PutU64(payload.proposal_id);
  return writer.Release();
}
core::Result<ProposalIdPayload> DecodeProposalId(std::string_view bytes) {
  ByteReader reader(bytes);
  ProposalIdPayload payload;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.proposal_id, "proposal_id"));
  MELODAI_RETURN_IF_ERROR(Finish(reader, "proposal_id"));
  return payload;
}

std::string EncodeRegisterTrack(const RegisterTrackPayload& payload) {
  ByteWriter writer;
  PutDigest(writer, payload.content_hash);
  writer.PutString(payload.title);
  writer.PutString(payload.artist);
  writer.PutString(payload.isrc);
  writer.PutU32(static_cast<uint32_t>(payload.splits.size()));
  for (const RoyaltySplit& split : payload.splits) {
    PutKey(writer, split.holder);
    writer.PutU32(split.bps);
  }
  return writer.Release();
}
core::Result<RegisterTrackPayload> DecodeRegisterTrack(std::string_view bytes) {
  ByteReader reader(bytes);
  RegisterTrackPayload payload;
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, payload.content_hash, "register_track.content_hash"));
  MELODAI_RETURN_IF_ERROR(reader.GetString(payload.title, "register_track.title", kMaxTitleBytes));
  MELODAI_RETURN_IF_ERROR(
      reader.GetString(payload.artist, "register_track.artist", kMaxArtistBytes));
  MELODAI_RETURN_IF_ERROR(reader.GetString(payload.isrc, "register_track.isrc", kMaxIsrcBytes));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "register_track.splits", kMaxSplitHolders, 36));
  payload.splits.resize(count);
  for (RoyaltySplit& split : payload.splits) {
    MELODAI_RETURN_IF_ERROR(GetKey(reader, split.holder, "register_track.holder"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(split.bps, "register_track.bps"));
  }
  MELODAI_RETURN_IF_ERROR(Finish(reader, "register_track"));
  return payload;
}

std::string EncodeSubscribe(const SubscribePayload& payload) {
  ByteWriter writer;
  writer.PutU32(payload.periods);
  return writer.Release();
}
core::Result<SubscribePayload> DecodeSubscribe(std::string_view bytes) {
  ByteReader reader(bytes);
  SubscribePayload payload;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(payload.periods, "subscribe.periods"));
  MELODAI_RETURN_IF_ERROR(Finish(reader, "subscribe"));
  return payload;
}

std::string EncodeReportPlays(const ReportPlaysPayload& payload) {
  ByteWriter writer;
  writer.PutU64(payload.period);
  writer.PutU32(static_cast<uint32_t>(payload.plays.size()));
  for (const PlayCount& play : payload.plays) {
    writer.PutU64(play.track_id);
    writer.PutU32(play.count);
  }
  return writer.Release();
}
core::Result<ReportPlaysPayload> DecodeReportPlays(std::string_view bytes) {
  ByteReader reader(bytes);
  ReportPlaysPayload payload;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.period, "report_plays.period"));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "report_plays.plays", kMaxPlaysPerReport, 12));
  payload.plays.resize(count);
  for (PlayCount& play : payload.plays) {
    MELODAI_RETURN_IF_ERROR(reader.GetU64(play.track_id, "report_plays.track_id"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(play.count, "report_plays.count"));
  }
  MELODAI_RETURN_IF_ERROR(Finish(reader, "report_plays"));
  return payload;
}

std::string EncodeMintEdition(const MintEditionPayload& payload) {
  ByteWriter writer;
  writer.PutU64(payload.track_id);
  writer.PutU32(payload.supply);
  writer.PutU64(payload.price);
  writer.PutU32(payload.royalty_bps);
  return writer.Release();
}
core::Result<MintEditionPayload> DecodeMintEdition(std::string_view bytes) {
  ByteReader reader(bytes);
  MintEditionPayload payload;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.track_id, "mint_edition.track_id"));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(payload.supply, "mint_edition.supply"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.price, "mint_edition.price"));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(payload.royalty_bps, "mint_edition.royalty_bps"));
  MELODAI_RETURN_IF_ERROR(Finish(reader, "mint_edition"));
  return payload;
}

std::string EncodeTradeEdition(const TradeEditionPayload& payload) {
  ByteWriter writer;
  writer.PutU8(static_cast<uint8_t>(payload.op));
  writer.PutU64(payload.edition_id);
  writer.PutU32(payload.serial);
  writer.PutU64(payload.price);
  return writer.Release();
}
core::Result<TradeEditionPayload> DecodeTradeEdition(std::string_view bytes) {
  ByteReader reader(bytes);
  TradeEditionPayload payload;
  uint8_t op = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(op, "trade_edition.op"));
  if (op > 3)
    return core::DataLossError(fmt::format("trade_edition.op: {} is not an operation", op));
  payload.op = static_cast<TradeOp>(op);
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.edition_id, "trade_edition.edition_id"));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(payload.serial, "trade_edition.serial"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.price, "trade_edition.price"));
  MELODAI_RETURN_IF_ERROR(Finish(reader, "trade_edition"));
  return payload;
}

core::Result<std::string> CanonicalPayload(uint8_t type, std::string_view payload) {
  switch (type) {
    case kTxTransfer: {
      MELODAI_ASSIGN_OR_RETURN(TransferPayload decoded, DecodeTransferPayload(payload));
      return EncodeTransferPayload(decoded);
    }
#define MELODAI_CANONICAL_CASE(kType, Name)                        \
  case kType: {                                                    \
    MELODAI_ASSIGN_OR_RETURN(auto decoded, Decode##Name(payload)); \
    return Encode##Name(decoded);                                  \
  }
      MELODAI_CANONICAL_CASE(kTxRegisterNode, RegisterNode)
      MELODAI_CANONICAL_CASE(kTxNodeContribution, NodeContribution)
      MELODAI_CANONICAL_CASE(kTxRoundCommitted, RoundCommitted)
      MELODAI_CANONICAL_CASE(kTxPropose, Propose)
      MELODAI_CANONICAL_CASE(kTxVote, Vote)
      MELODAI_CANONICAL_CASE(kTxExecute, ProposalId)
      MELODAI_CANONICAL_CASE(kTxCancel, ProposalId)
      MELODAI_CANONICAL_CASE(kTxRegisterTrack, RegisterTrack)
      MELODAI_CANONICAL_CASE(kTxSubscribe, Subscribe)
      MELODAI_CANONICAL_CASE(kTxReportPlays, ReportPlays)
      MELODAI_CANONICAL_CASE(kTxMintEdition, MintEdition)
      MELODAI_CANONICAL_CASE(kTxTradeEdition, TradeEdition)
#undef MELODAI_CANONICAL_CASE
    default:
      return core::InvalidArgumentError(fmt::format("unknown transaction type {}", type));
  }
}

ledger::Transaction MakeAppTransaction(const crypto::Ed25519KeyPair& key, uint64_t nonce,
                                       uint8_t type, std::string payload) {
  ledger::Transaction tx;
  tx.type = type;
  tx.sender = key.public_key();
  tx.nonce = nonce;
  tx.payload = std::move(payload);
  ledger::SignTransaction(tx, key);
  return tx;
}

core::Result<std::string> NormalizeIsrc(std::string_view isrc) {
  std::string compact;
  if (isrc.size() == 15) {
    for (size_t position : {2u, 6u, 9u}) {
      if (isrc[position] != '-') {
        return core::InvalidArgumentError(
            fmt::format("isrc: expected '-' at position {}", position));
      }
    }
    compact = std::string(isrc.substr(0, 2)) + std::string(isrc.substr(3, 3)) +
              std::string(isrc.substr(7, 2)) + std::string(isrc.substr(10, 5));
  } else if (isrc.size() == 12) {
    compact = std::string(isrc);
  } else {
    return core::InvalidArgumentError(
        fmt::format("isrc: {} characters, expected 12 (or 15 with hyphens)", isrc.size()));
  }
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    const bool ok = i < 2 ? upper(c) : i < 5 ? (upper(c) || digit(c)) : digit(c);
    if (!ok) {
      return core::InvalidArgumentError(
          fmt::format("isrc: character {} of '{}' is invalid", i, compact));
    }
  }
  return compact;
}

}  // namespace melodai::app
