// MelodAI — licensed under the Apache License 2.0.
// The canonical encoding of the MelodAI state: one record per object (tag byte, then fields,
// little-endian), in a fixed order. The state root is the Merkle root of the records' leaf
// hashes; the snapshot is the records themselves. Restore decodes into a fresh state and
// accepts it only if re-encoding gives back exactly the same records, so every accepted
// snapshot is canonical, and only if the supply invariants hold.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "app/melodai_app.h"
#include "core/bytes.h"
#include "crypto/merkle.h"

namespace melodai::app {
namespace {

using core::ByteReader;
using core::ByteWriter;

constexpr std::string_view kSnapshotMagic = "MAPP";
constexpr uint32_t kSnapshotVersion = 1;
constexpr uint32_t kMaxRecordBytes = 1u << 30;
constexpr size_t kMaxStringBytes = 1 << 20;
constexpr size_t kMaxListCount = 1u << 26;

enum RecordTag : uint8_t {
  kTagGlobals = 1,
  kTagAccount = 2,
  kTagVesting = 3,
  kTagNode = 4,
  kTagContribution = 5,
  kTagProposal = 6,
  kTagCommittee = 7,
  kTagTrack = 8,
  kTagSubscription = 9,
  kTagPeriodFee = 10,
  kTagPlays = 11,
  kTagEdition = 12,
  kTagCopy = 13,
};

void PutKey(ByteWriter& writer, const PublicKey& key) { writer.PutRaw(key.bytes.data(), 32); }
core::Status GetKey(ByteReader& reader, PublicKey& key, std::string_view field) {
  return reader.GetRaw(key.bytes.data(), 32, field);
}
void PutDigest(ByteWriter& writer, const crypto::Digest32& digest) {
  writer.PutRaw(digest.data(), 32);
}
core::Status GetDigest(ByteReader& reader, crypto::Digest32& digest, std::string_view field) {
  return reader.GetRaw(digest.data(), 32, field);
}
core::Status GetBool(ByteReader& reader, bool& value, std::string_view field) {
  uint8_t byte = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(byte, field));
  if (byte > 1) return core::DataLossError(fmt::format("{}: {} is not a boolean", field, byte));
  value = byte == 1;
  return core::Status::Ok();
}
core::Status GetCount(ByteReader& reader, uint64_t& count, std::string_view field,
                      size_t min_bytes) {
  MELODAI_RETURN_IF_ERROR(reader.GetU64(count, field));
  if (count > kMaxListCount || count > reader.remaining() / min_bytes) {
    return core::DataLossError(fmt::format("{}: count {} is invalid", field, count));
  }
  return core::Status::Ok();
}

// A writer holding the tag byte of a new record.
ByteWriter Begin(uint8_t tag) {
  ByteWriter writer;
  writer.PutU8(tag);
  return writer;
}

void PutGlobals(ByteWriter& w, const AppState& s) {
  PutDigest(w, s.genesis_digest);
  w.PutI64(s.now_ms);
  w.PutU64(s.day);
  for (uint64_t value : s.parameters) w.PutU64(value);
  w.PutU64(s.balance_sum);
  for (uint64_t value : {s.fee_pool, s.node_pool, s.training_pool, s.subscription_pool,
                         s.subscription_carry, s.deposits, s.treasury_locked}) {
    w.PutU64(value);
  }
  for (uint64_t value : s.treasury) w.PutU64(value);
  for (uint64_t value :
       {s.node_emitted, s.node_paid, s.node_fees_in, s.training_emitted, s.training_paid}) {
    w.PutU64(value);
  }
  w.PutU8(s.training_swept ? 1 : 0);
  w.PutU8(s.listed ? 1 : 0);
  w.PutU8(s.day_reported ? 1 : 0);
  w.PutU64(s.last_round);
  PutDigest(w, s.model_hash);
  for (uint64_t value :
       {s.next_proposal_id, s.rotations_done, s.next_track_id, s.period, s.next_edition_id}) {
    w.PutU64(value);
  }
  const PayoutReport& report = s.last_payout;
  for (uint64_t value : {report.period, report.model, report.pool, report.paid}) w.PutU64(value);
  w.PutU64(report.lines.size());
  for (const PayoutLine& line : report.lines) {
    w.PutU64(line.track_id);
    w.PutU64(line.pro_rata);
    w.PutU64(line.user_centric);
  }
}

core::Status GetGlobals(ByteReader& r, AppState& s) {
  MELODAI_RETURN_IF_ERROR(GetDigest(r, s.genesis_digest, "globals.genesis_digest"));
  MELODAI_RETURN_IF_ERROR(r.GetI64(s.now_ms, "globals.now_ms"));
  MELODAI_RETURN_IF_ERROR(r.GetU64(s.day, "globals.day"));
  for (uint64_t& value : s.parameters)
    MELODAI_RETURN_IF_ERROR(r.GetU64(value, "globals.parameters"));
  MELODAI_RETURN_IF_ERROR(r.GetU64(s.balance_sum, "globals.balance_sum"));
  for (uint64_t* value : {&s.fee_pool, &s.node_pool, &s.training_pool, &s.subscription_pool,
                          &s.subscription_carry, &s.deposits, &s.treasury_locked}) {
    MELODAI_RETURN_IF_ERROR(r.GetU64(*value, "globals.pool"));
  }
  for (uint64_t& value : s.treasury) MELODAI_RETURN_IF_ERROR(r.GetU64(value, "globals.treasury"));
  for (uint64_t* value :
       {&s.node_emitted, &s.node_paid, &s.node_fees_in, &s.training_emitted, &s.training_paid}) {
    MELODAI_RETURN_IF_ERROR(r.GetU64(*value, "globals.emission"));
  }
  MELODAI_RETURN_IF_ERROR(GetBool(r, s.training_swept, "globals.training_swept"));
  MELODAI_RETURN_IF_ERROR(GetBool(r, s.listed, "globals.listed"));
  MELODAI_RETURN_IF_ERROR(GetBool(r, s.day_reported, "globals.day_reported"));
  MELODAI_RETURN_IF_ERROR(r.GetU64(s.last_round, "globals.last_round"));
  MELODAI_RETURN_IF_ERROR(GetDigest(r, s.model_hash, "globals.model_hash"));
  for (uint64_t* value :
       {&s.next_proposal_id, &s.rotations_done, &s.next_track_id, &s.period, &s.next_edition_id}) {
    MELODAI_RETURN_IF_ERROR(r.GetU64(*value, "globals.counter"));
  }
  PayoutReport& report = s.last_payout;
  for (uint64_t* value : {&report.period, &report.model, &report.pool, &report.paid}) {
    MELODAI_RETURN_IF_ERROR(r.GetU64(*value, "globals.last_payout"));
  }
  uint64_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(r, count, "globals.last_payout.lines", 24));
  report.lines.resize(count);
  for (PayoutLine& line : report.lines) {
    MELODAI_RETURN_IF_ERROR(r.GetU64(line.track_id, "globals.line.track_id"));
    MELODAI_RETURN_IF_ERROR(r.GetU64(line.pro_rata, "globals.line.pro_rata"));
    MELODAI_RETURN_IF_ERROR(r.GetU64(line.user_centric, "globals.line.user_centric"));
  }
  return core::Status::Ok();
}

void PutProposal(ByteWriter& w, uint64_t id, const Proposal& p) {
  w.PutU64(id);
  PutKey(w, p.proposer);
  w.PutString(EncodePropose(p.body));
  for (int64_t value :
       {p.created_ms, p.voting_start_ms, p.voting_end_ms, p.executable_ms, p.expires_ms}) {
    w.PutI64(value);
  }
  for (uint64_t value : {p.deposit, p.snapshot_supply}) w.PutU64(value);
  w.PutU32(p.quorum_bps);
  w.PutU32(p.required_bps);
  for (uint64_t value : {p.votes_for, p.votes_against, p.votes_abstain}) w.PutU64(value);
  w.PutU8(static_cast<uint8_t>(p.status));
  w.PutU64(p.votes.size());
  for (const auto& [voter, choice] : p.votes) {
    PutKey(w, voter);
    w.PutU8(static_cast<uint8_t>(choice));
  }
  w.PutU64(p.snapshot.size());
  for (const auto& [holder, balance] : p.snapshot) {
    PutKey(w, holder);
    w.PutU64(balance);
  }
}

core::Status GetProposal(ByteReader& r, AppState& s) {
  uint64_t id = 0;
  Proposal p;
  MELODAI_RETURN_IF_ERROR(r.GetU64(id, "proposal.id"));
  MELODAI_RETURN_IF_ERROR(GetKey(r, p.proposer, "proposal.proposer"));
  std::string body;
  MELODAI_RETURN_IF_ERROR(r.GetString(body, "proposal.body", kMaxStringBytes));
  auto decoded = DecodePropose(body);
  if (!decoded.ok()) return core::DataLossError("proposal.body: " + decoded.status().message());
  p.body = std::move(*decoded);
  for (int64_t* value :
       {&p.created_ms, &p.voting_start_ms, &p.voting_end_ms, &p.executable_ms, &p.expires_ms}) {
    MELODAI_RETURN_IF_ERROR(r.GetI64(*value, "proposal.time"));
  }
  MELODAI_RETURN_IF_ERROR(r.GetU64(p.deposit, "proposal.deposit"));
  MELODAI_RETURN_IF_ERROR(r.GetU64(p.snapshot_supply, "proposal.snapshot_supply"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(p.quorum_bps, "proposal.quorum_bps"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(p.required_bps, "proposal.required_bps"));
  for (uint64_t* value : {&p.votes_for, &p.votes_against, &p.votes_abstain}) {
    MELODAI_RETURN_IF_ERROR(r.GetU64(*value, "proposal.votes"));
  }
  uint8_t status = 0;
  MELODAI_RETURN_IF_ERROR(r.GetU8(status, "proposal.status"));
  if (status > static_cast<uint8_t>(ProposalStatus::kExpired)) {
    return core::DataLossError(fmt::format("proposal.status: {} is invalid", status));
  }
  p.status = static_cast<ProposalStatus>(status);
  if (p.quorum_bps > kBpsDenominator || p.required_bps > kBpsDenominator) {
    return core::DataLossError("proposal: bps above 10000");
  }
  uint64_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(r, count, "proposal.votes", 33));
  for (uint64_t i = 0; i < count; ++i) {
    PublicKey voter;
    uint8_t choice = 0;
    MELODAI_RETURN_IF_ERROR(GetKey(r, voter, "proposal.voter"));
    MELODAI_RETURN_IF_ERROR(r.GetU8(choice, "proposal.choice"));
    if (choice > 2) return core::DataLossError("proposal.choice: invalid");
    p.votes[voter] = static_cast<VoteChoice>(choice);
  }
  MELODAI_RETURN_IF_ERROR(GetCount(r, count, "proposal.snapshot", 40));
  for (uint64_t i = 0; i < count; ++i) {
    PublicKey holder;
    uint64_t balance = 0;
    MELODAI_RETURN_IF_ERROR(GetKey(r, holder, "proposal.snapshot.key"));
    MELODAI_RETURN_IF_ERROR(r.GetU64(balance, "proposal.snapshot.balance"));
    p.snapshot[holder] = balance;
  }
  s.proposals[id] = std::move(p);
  return core::Status::Ok();
}

void PutTrack(ByteWriter& w, uint64_t id, const Track& t) {
  w.PutU64(id);
  PutKey(w, t.owner);
  PutDigest(w, t.content_hash);
  w.PutString(t.title);
  w.PutString(t.artist);
  w.PutString(t.isrc);
  w.PutU64(t.splits.size());
  for (const RoyaltySplit& split : t.splits) {
    PutKey(w, split.holder);
    w.PutU32(split.bps);
  }
  w.PutI64(t.registered_ms);
}

core::Status GetTrack(ByteReader& r, AppState& s) {
  uint64_t id = 0;
  Track t;
  MELODAI_RETURN_IF_ERROR(r.GetU64(id, "track.id"));
  MELODAI_RETURN_IF_ERROR(GetKey(r, t.owner, "track.owner"));
  MELODAI_RETURN_IF_ERROR(GetDigest(r, t.content_hash, "track.content_hash"));
  MELODAI_RETURN_IF_ERROR(r.GetString(t.title, "track.title", kMaxTitleBytes));
  MELODAI_RETURN_IF_ERROR(r.GetString(t.artist, "track.artist", kMaxArtistBytes));
  MELODAI_RETURN_IF_ERROR(r.GetString(t.isrc, "track.isrc", kMaxIsrcBytes));
  uint64_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(r, count, "track.splits", 36));
  if (count == 0 || count > kMaxSplitHolders) return core::DataLossError("track.splits: bad count");
  uint64_t sum = 0;
  t.splits.resize(count);
  for (RoyaltySplit& split : t.splits) {
    MELODAI_RETURN_IF_ERROR(GetKey(r, split.holder, "track.split.holder"));
    MELODAI_RETURN_IF_ERROR(r.GetU32(split.bps, "track.split.bps"));
    sum += split.bps;
  }
  if (sum != kBpsDenominator)
    return core::DataLossError(fmt::format("track {}: splits sum to {}", id, sum));
  MELODAI_RETURN_IF_ERROR(r.GetI64(t.registered_ms, "track.registered_ms"));
  if (!s.track_by_isrc.emplace(t.isrc, id).second ||
      !s.track_by_content.emplace(t.content_hash, id).second) {
    return core::DataLossError(fmt::format("track {}: duplicate ISRC or content hash", id));
  }
  s.tracks[id] = std::move(t);
  return core::Status::Ok();
}

// Decodes one record into `s`.
core::Status GetRecord(std::string_view record, AppState& s) {
  ByteReader r(record);
  uint8_t tag = 0;
  MELODAI_RETURN_IF_ERROR(r.GetU8(tag, "record.tag"));
  PublicKey key;
  switch (tag) {
    case kTagGlobals:
      MELODAI_RETURN_IF_ERROR(GetGlobals(r, s));
      break;
    case kTagAccount: {
      AppAccount account;
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "account.key"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(account.balance, "account.balance"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(account.next_nonce, "account.next_nonce"));
      s.accounts[key] = account;
      break;
    }
    case kTagVesting: {
      uint8_t category = 0;
      VestingState vesting;
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "vesting.key"));
      MELODAI_RETURN_IF_ERROR(r.GetU8(category, "vesting.category"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(vesting.total, "vesting.total"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(vesting.released, "vesting.released"));
      if (vesting.released > vesting.total)
        return core::DataLossError("vesting: released above total");
      const auto allocation = static_cast<Allocation>(category);
      if (allocation != Allocation::kTeam && allocation != Allocation::kVc &&
          allocation != Allocation::kAirdrop) {
        return core::DataLossError(fmt::format("vesting.category: {} is invalid", category));
      }
      s.vesting[{key, category}] = vesting;
      break;
    }
    case kTagNode: {
      NodeInfo node;
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "node.key"));
      MELODAI_RETURN_IF_ERROR(r.GetI64(node.registered_ms, "node.registered_ms"));
      MELODAI_RETURN_IF_ERROR(r.GetString(node.endpoint, "node.endpoint", kMaxEndpointBytes));
      MELODAI_RETURN_IF_ERROR(r.GetU64(node.rewards, "node.rewards"));
      s.nodes[key] = std::move(node);
      break;
    }
    case kTagContribution: {
      uint64_t score = 0;
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "contribution.key"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(score, "contribution.score"));
      s.day_contributions[key] = score;
      break;
    }
    case kTagProposal:
      MELODAI_RETURN_IF_ERROR(GetProposal(r, s));
      break;
    case kTagCommittee: {
      int64_t joined = 0;
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "committee.key"));
      MELODAI_RETURN_IF_ERROR(r.GetI64(joined, "committee.joined_ms"));
      s.committee[key] = joined;
      break;
    }
    case kTagTrack:
      MELODAI_RETURN_IF_ERROR(GetTrack(r, s));
      break;
    case kTagSubscription: {
      uint64_t until = 0;
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "subscription.key"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(until, "subscription.until"));
      s.subscribed_until[key] = until;
      break;
    }
    case kTagPeriodFee: {
      uint64_t period = 0;
      uint64_t fee = 0;
      MELODAI_RETURN_IF_ERROR(r.GetU64(period, "period_fee.period"));
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "period_fee.key"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(fee, "period_fee.fee"));
      s.period_fees[{period, key}] = fee;
      break;
    }
    case kTagPlays: {
      uint64_t period = 0;
      uint64_t track = 0;
      uint64_t count = 0;
      MELODAI_RETURN_IF_ERROR(r.GetU64(period, "plays.period"));
      MELODAI_RETURN_IF_ERROR(GetKey(r, key, "plays.key"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(track, "plays.track"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(count, "plays.count"));
      s.plays[{period, key, track}] = count;
      break;
    }
    case kTagEdition: {
      uint64_t id = 0;
      Edition e;
      MELODAI_RETURN_IF_ERROR(r.GetU64(id, "edition.id"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(e.track_id, "edition.track_id"));
      MELODAI_RETURN_IF_ERROR(r.GetU32(e.supply, "edition.supply"));
      MELODAI_RETURN_IF_ERROR(r.GetU32(e.sold, "edition.sold"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(e.price, "edition.price"));
      MELODAI_RETURN_IF_ERROR(r.GetU32(e.royalty_bps, "edition.royalty_bps"));
      if (e.sold > e.supply || e.royalty_bps > kBpsDenominator) {
        return core::DataLossError(fmt::format("edition {}: sold above supply or bad royalty", id));
      }
      s.editions[id] = e;
      break;
    }
    case kTagCopy: {
      uint64_t edition = 0;
      uint32_t serial = 0;
      EditionCopy copy;
      MELODAI_RETURN_IF_ERROR(r.GetU64(edition, "copy.edition"));
      MELODAI_RETURN_IF_ERROR(r.GetU32(serial, "copy.serial"));
      MELODAI_RETURN_IF_ERROR(GetKey(r, copy.holder, "copy.holder"));
      MELODAI_RETURN_IF_ERROR(r.GetU64(copy.ask, "copy.ask"));
      s.copies[{edition, serial}] = copy;
      break;
    }
    default:
      return core::DataLossError(fmt::format("record tag {} is unknown", tag));
  }
  if (!r.done()) return core::DataLossError(fmt::format("record tag {}: trailing bytes", tag));
  return core::Status::Ok();
}

}  // namespace

std::vector<std::string> MelodaiApp::StateRecords() const {
  const AppState& s = state_;
  std::vector<std::string> records;
  ByteWriter globals = Begin(kTagGlobals);
  PutGlobals(globals, s);
  records.push_back(globals.Release());
  for (const auto& [key, account] : s.accounts) {
    ByteWriter w = Begin(kTagAccount);
    PutKey(w, key);
    w.PutU64(account.balance);
    w.PutU64(account.next_nonce);
    records.push_back(w.Release());
  }
  for (const auto& [key, vesting] : s.vesting) {
    ByteWriter w = Begin(kTagVesting);
    PutKey(w, key.first);
    w.PutU8(key.second);
    w.PutU64(vesting.total);
    w.PutU64(vesting.released);
    records.push_back(w.Release());
  }
  for (const auto& [key, node] : s.nodes) {
    ByteWriter w = Begin(kTagNode);
    PutKey(w, key);
    w.PutI64(node.registered_ms);
    w.PutString(node.endpoint);
    w.PutU64(node.rewards);
    records.push_back(w.Release());
  }
  for (const auto& [key, score] : s.day_contributions) {
    ByteWriter w = Begin(kTagContribution);
    PutKey(w, key);
    w.PutU64(score);
    records.push_back(w.Release());
  }
  for (const auto& [id, proposal] : s.proposals) {
    ByteWriter w = Begin(kTagProposal);
    PutProposal(w, id, proposal);
    records.push_back(w.Release());
  }
  for (const auto& [key, joined] : s.committee) {
    ByteWriter w = Begin(kTagCommittee);
    PutKey(w, key);
    w.PutI64(joined);
    records.push_back(w.Release());
  }
  for (const auto& [id, track] : s.tracks) {
    ByteWriter w = Begin(kTagTrack);
    PutTrack(w, id, track);
    records.push_back(w.Release());
  }
  for (const auto& [key, until] : s.subscribed_until) {
    ByteWriter w = Begin(kTagSubscription);
    PutKey(w, key);
    w.PutU64(until);
    records.push_back(w.Release());
  }
  for (const auto& [key, fee] : s.period_fees) {
    ByteWriter w = Begin(kTagPeriodFee);
    w.PutU64(key.first);
    PutKey(w, key.second);
    w.PutU64(fee);
    records.push_back(w.Release());
  }
  for (const auto& [key, count] : s.plays) {
    ByteWriter w = Begin(kTagPlays);
    w.PutU64(std::get<0>(key));
    PutKey(w, std::get<1>(key));
    w.PutU64(std::get<2>(key));
    w.PutU64(count);
    records.push_back(w.Release());
  }
  for (const auto& [id, e] : s.editions) {
    ByteWriter w = Begin(kTagEdition);
    w.PutU64(id);
    w.PutU64(e.track_id);
    w.PutU32(e.supply);
    w.PutU32(e.sold);
    w.PutU64(e.price);
    w.PutU32(e.royalty_bps);
    records.push_back(w.Release());
  }
  for (const auto& [key, copy] : s.copies) {
    ByteWriter w = Begin(kTagCopy);
    w.PutU64(key.first);
    w.PutU32(key.second);
    PutKey(w, copy.holder);
    w.PutU64(copy.ask);
    records.push_back(w.Release());
  }
  return records;
}

crypto::Digest32 MelodaiApp::StateRoot() const {
  const std::vector<std::string> records = StateRecords();
  std::vector<crypto::Digest32> leaves;
  leaves.reserve(records.size());
  for (const std::string& record : records) {
    leaves.push_back(crypto::MerkleLeafHash(crypto::AsBytes(record)));
  }
  return crypto::MerkleRoot(leaves);
}

std::string MelodaiApp::Snapshot() const {
  const std::vector<std::string> records = StateRecords();
  ByteWriter writer;
  writer.PutRaw(kSnapshotMagic.data(), kSnapshotMagic.size());
  writer.PutU32(kSnapshotVersion);
  writer.PutU64(records.size());
  for (const std::string& record : records) {
    writer.PutU32(static_cast<uint32_t>(record.size()));
    writer.PutRaw(record.data(), record.size());
  }
  return writer.Release();
}

core::Status MelodaiApp::Restore(std::string_view snapshot) {
  ByteReader reader(snapshot);
  std::string magic(kSnapshotMagic.size(), '\0');
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(magic.data(), magic.size(), "snapshot.magic"));
  if (magic != kSnapshotMagic) return core::DataLossError("snapshot: bad magic");
  uint32_t version = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(version, "snapshot.version"));
  if (version != kSnapshotVersion) {
    return core::DataLossError(fmt::format("snapshot: version {} is not supported", version));
  }
  uint64_t count = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(count, "snapshot.record_count"));
  if (count == 0 || count > reader.remaining() / 5) {
    return core::DataLossError(fmt::format("snapshot.record_count: {} is invalid", count));
  }
  std::vector<std::string> records;
  records.reserve(count);
  MelodaiApp candidate(genesis_);
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t size = 0;
    MELODAI_RETURN_IF_ERROR(reader.GetU32(size, "snapshot.record_size"));
    if (size == 0 || size > kMaxRecordBytes || size > reader.remaining()) {
      return core::DataLossError(fmt::format("snapshot: record {} size {} is invalid", i, size));
    }
    std::string record(size, '\0');
    MELODAI_RETURN_IF_ERROR(reader.GetRaw(record.data(), size, "snapshot.record"));
    if (i == 0 && static_cast<uint8_t>(record[0]) != kTagGlobals) {
      return core::DataLossError("snapshot: the first record must be the globals");
    }
    if (i > 0 && static_cast<uint8_t>(record[0]) == kTagGlobals) {
      return core::DataLossError("snapshot: more than one globals record");
    }
    core::Status decoded = GetRecord(record, candidate.state_);
    if (!decoded.ok()) return decoded.WithContext(fmt::format("snapshot record {}", i));
    records.push_back(std::move(record));
  }
  if (!reader.done()) {
    return core::DataLossError(fmt::format("snapshot: {} trailing bytes", reader.remaining()));
  }
  MELODAI_RETURN_IF_ERROR(candidate.ValidateRestored());
  if (candidate.StateRecords() != records) {
    return core::DataLossError("snapshot: records are not in canonical order or repeat a key");
  }
  state_ = std::move(candidate.state_);
  return core::Status::Ok();
}

// Checks what execution relies on beyond the supply invariants, and rebuilds the indexes.
core::Status MelodaiApp::ValidateRestored() {
  AppState& s = state_;
  if (s.genesis_digest != crypto::Blake2b256(crypto::AsBytes(AppGenesisToJson(genesis_)))) {
    return core::DataLossError("snapshot: belongs to another genesis");
  }
  const int64_t since = s.now_ms - genesis_.timestamp_ms;
  const uint64_t day = since > 0 ? static_cast<uint64_t>(since / kDayMs) : 0;
  if (s.now_ms < genesis_.timestamp_ms ||
      s.now_ms > std::max(kMaxTimestampMs, genesis_.timestamp_ms) || s.day != day ||
      s.period != day / genesis_.payout_period_days ||
      s.rotations_done != day / genesis_.committee_rotation_days) {
    return core::DataLossError("snapshot: clock fields are inconsistent");
  }
  for (uint32_t id = 0; id < kParameterCount; ++id) {
    if (s.parameters[id] < genesis_.minimum[id] || s.parameters[id] > genesis_.maximum[id]) {
      return core::DataLossError(
          fmt::format("snapshot: parameter {} out of bounds", ParameterName(id)));
    }
  }
  const ScheduleParameters& schedule = genesis_.schedule;
  if (s.node_emitted != NodeEmissionCumulative(schedule, s.day) ||
      s.training_emitted > AllocationAmount(schedule, Allocation::kTrainingRewards)) {
    return core::DataLossError("snapshot: emission counters are inconsistent with the clock");
  }
  for (const auto& [id, proposal] : s.proposals) {
    if (id == 0 || id >= s.next_proposal_id)
      return core::DataLossError("snapshot: proposal id out of range");
    if (proposal.status == ProposalStatus::kOpen || proposal.status == ProposalStatus::kSucceeded) {
      if (!s.live_proposal.emplace(proposal.proposer, id).second) {
        return core::DataLossError("snapshot: two live proposals of one proposer");
      }
    }
  }
  for (const auto& [id, track] : s.tracks) {
    if (id == 0 || id >= s.next_track_id)
      return core::DataLossError("snapshot: track id out of range");
  }
  for (const auto& [key, count] : s.plays) {
    if (!s.tracks.contains(std::get<2>(key)))
      return core::DataLossError("snapshot: plays of an unknown track");
  }
  for (const auto& [id, edition] : s.editions) {
    if (id == 0 || id >= s.next_edition_id || !s.tracks.contains(edition.track_id)) {
      return core::DataLossError("snapshot: edition id or track out of range");
    }
  }
  for (const auto& [key, copy] : s.copies) {
    auto edition = s.editions.find(key.first);
    if (edition == s.editions.end() || key.second >= edition->second.sold) {
      return core::DataLossError("snapshot: copy of an unknown edition or serial");
    }
  }
  for (const auto& [key, score] : s.day_contributions) {
    if (!s.nodes.contains(key))
      return core::DataLossError("snapshot: contribution of an unknown node");
  }
  for (const auto& [key, vesting] : s.vesting) {
    const auto category = static_cast<Allocation>(key.second);
    const uint64_t expected = category == Allocation::kAirdrop
                                  ? (s.listed ? vesting.total : 0)
                                  : LinearVested(vesting.total, s.day, schedule.vesting_cliff_days,
                                                 schedule.vesting_end_days);
    if (vesting.released != expected)
      return core::DataLossError("snapshot: vesting inconsistent with the clock");
  }
  // Sum in 128 bits so that no wrapped sum can pass the audit.
  __extension__ unsigned __int128 total = 0;
  for (const auto& [key, account] : s.accounts) total += account.balance;
  for (const auto& [key, vesting] : s.vesting) total += vesting.total - vesting.released;
  for (uint64_t value : {s.fee_pool, s.node_pool, s.training_pool, s.subscription_pool, s.deposits,
                         s.treasury_locked}) {
    total += value;
  }
  for (uint64_t value : s.treasury) total += value;
  if (total > schedule.total_supply)
    return core::DataLossError("snapshot: amounts exceed the supply");
  uint64_t deposits = 0;
  for (const auto& [id, proposal] : s.proposals) {
    if (proposal.deposit > schedule.total_supply)
      return core::DataLossError("snapshot: deposit too large");
    const bool live =
        proposal.status == ProposalStatus::kOpen || proposal.status == ProposalStatus::kSucceeded;
    if (live) deposits += proposal.deposit;
    if (deposits > schedule.total_supply)
      return core::DataLossError("snapshot: deposits too large");
  }
  core::Status invariants = CheckInvariants();
  if (!invariants.ok()) return core::DataLossError("snapshot: " + invariants.message());
  return core::Status::Ok();
}

}  // namespace melodai::app
