// MelodAI — licensed under the Apache License 2.0.
// pbft::Replica: construction, signatures with a verification cache, the persistence rule
// (sync write before any output leaves a call), stored record formats and recovery.

#include <algorithm>
#include <span>

#include "core/bytes.h"
#include "ledger/pbft/internal/replica_types.h"

namespace melodai::ledger::pbft {
namespace {

constexpr size_t kVerifiedCacheEntries = 1 << 16;

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

core::Status ReadU32(std::string_view bytes, size_t offset, uint32_t& value, const char* field) {
  if (bytes.size() < offset || bytes.size() - offset < 4) {
    return core::DataLossError(std::string(field) + ": truncated");
  }
  core::ByteReader reader(bytes.substr(offset, 4));
  return reader.GetU32(value, field);
}

}  // namespace

namespace keys {
std::string BigEndian(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}
uint64_t ParseBigEndian(std::string_view bytes) {
  MELODAI_CHECK_EQ(bytes.size(), 8u);
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<uint8_t>(c);
  return value;
}
std::string Block(uint64_t height) { return std::string(kBlockPrefix) + BigEndian(height); }
std::string Snapshot(uint64_t height) { return std::string(kSnapshotPrefix) + BigEndian(height); }
std::string OwnMessage(uint64_t sequence, uint64_t view, MessageType type) {
  return std::string(kOwnMessagePrefix) + BigEndian(sequence) + BigEndian(view) +
         static_cast<char>(type);
}
std::string Prepared(uint64_t sequence) {
  return std::string(kPreparedPrefix) + BigEndian(sequence);
}
}  // namespace keys

std::string EncodeStoredBlock(const Block& block, const CommitCertificate& certificate) {
  std::string encoded = EncodeBlock(block);
  core::ByteWriter writer;
  writer.PutU32(static_cast<uint32_t>(encoded.size()));
  writer.PutRaw(encoded.data(), encoded.size());
  std::string cert = EncodeCommitCertificate(certificate);
  writer.PutRaw(cert.data(), cert.size());
  return writer.Release();
}

core::Result<CommittedBlock> DecodeStoredBlock(std::string_view bytes) {
  uint32_t size = 0;
  MELODAI_RETURN_IF_ERROR(ReadU32(bytes, 0, size, "stored block size"));
  if (size > bytes.size() - 4) return core::DataLossError("stored block: truncated");
  CommittedBlock out;
  MELODAI_ASSIGN_OR_RETURN(out.block, DecodeBlock(bytes.substr(4, size)));
  MELODAI_ASSIGN_OR_RETURN(out.certificate, DecodeCommitCertificate(bytes.substr(4 + size)));
  return out;
}

std::string EncodeStoredSnapshot(const BlockHeader& header, std::string_view snapshot) {
  return EncodeBlockHeader(header) + std::string(snapshot);
}

core::Result<std::pair<BlockHeader, std::string>> DecodeStoredSnapshot(std::string_view bytes) {
  if (bytes.size() < kBlockHeaderBytes) return core::DataLossError("stored snapshot: truncated");
  MELODAI_ASSIGN_OR_RETURN(BlockHeader header,
                           DecodeBlockHeader(bytes.substr(0, kBlockHeaderBytes)));
  return std::make_pair(header, std::string(bytes.substr(kBlockHeaderBytes)));
}

std::string EncodeMessageList(const std::vector<SignedMessage>& messages) {
  core::ByteWriter writer;
  writer.PutU32(static_cast<uint32_t>(messages.size()));
  for (const SignedMessage& message : messages) {
    std::string encoded = EncodeSignedMessage(message);
    writer.PutU32(static_cast<uint32_t>(encoded.size()));
    writer.PutRaw(encoded.data(), encoded.size());
  }
  return writer.Release();
}

core::Result<std::vector<SignedMessage>> DecodeMessageList(std::string_view bytes) {
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(ReadU32(bytes, 0, count, "message list count"));
  if (count > kMaxProofMessages) return core::DataLossError("message list: count too large");
  size_t offset = 4;
  std::vector<SignedMessage> out;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t size = 0;
    MELODAI_RETURN_IF_ERROR(ReadU32(bytes, offset, size, "message list entry size"));
    offset += 4;
    if (size > bytes.size() - offset) return core::DataLossError("message list: truncated");
    MELODAI_ASSIGN_OR_RETURN(SignedMessage message,
                             DecodeSignedMessage(bytes.substr(offset, size)));
    out.push_back(std::move(message));
    offset += size;
  }
  if (offset != bytes.size()) return core::DataLossError("message list: trailing bytes");
  return out;
}

std::string EncodePreparedProof(const PreparedProof& proof) {
  std::vector<SignedMessage> all;
  all.push_back(proof.pre_prepare);
  all.insert(all.end(), proof.prepares.begin(), proof.prepares.end());
  return EncodeMessageList(all);
}

core::Result<PreparedProof> DecodePreparedProof(std::string_view bytes) {
  MELODAI_ASSIGN_OR_RETURN(std::vector<SignedMessage> all, DecodeMessageList(bytes));
  if (all.empty()) return core::DataLossError("prepared proof: empty");
  PreparedProof proof;
  proof.pre_prepare = std::move(all.front());
  proof.prepares.assign(std::make_move_iterator(all.begin() + 1),
                        std::make_move_iterator(all.end()));
  return proof;
}

NewViewPlan PlanNewView(uint64_t new_view, const std::vector<ViewChange>& view_changes) {
  NewViewPlan plan;
  for (size_t i = 0; i < view_changes.size(); ++i) {
    if (view_changes[i].stable_sequence > plan.min_sequence) {
      plan.min_sequence = view_changes[i].stable_sequence;
      plan.min_sequence_source = i;
    }
  }
  // For each sequence above min_s: the prepared batch of the highest view.
  std::map<uint64_t, std::pair<uint64_t, Batch>> best;
  for (const ViewChange& change : view_changes) {
    for (const PreparedProof& proof : change.prepared) {
      auto pre_prepare = DecodePrePrepare(proof.pre_prepare.body);
      MELODAI_CHECK(pre_prepare.ok());  // Verified by the caller.
      if (pre_prepare->sequence <= plan.min_sequence) continue;
      auto it = best.find(pre_prepare->sequence);
      if (it == best.end() || it->second.first < pre_prepare->view) {
        best[pre_prepare->sequence] = {pre_prepare->view, pre_prepare->batch};
      }
    }
  }
  uint64_t max_sequence = best.empty() ? plan.min_sequence : best.rbegin()->first;
  for (uint64_t sequence = plan.min_sequence + 1; sequence <= max_sequence; ++sequence) {
    auto it = best.find(sequence);
    plan.batches[sequence] = it == best.end() ? Batch{0, new_view, {}} : it->second.second;
  }
  return plan;
}

std::string_view DropReasonName(DropReason reason) {
  switch (reason) {
    case DropReason::kMalformed: return "malformed";
    case DropReason::kUnknownSender: return "unknown_sender";
    case DropReason::kBadSignature: return "bad_signature";
    case DropReason::kWrongView: return "wrong_view";
    case DropReason::kOutsideWatermarks: return "outside_watermarks";
    case DropReason::kConflicting: return "conflicting";
    case DropReason::kInvalidContent: return "invalid_content";
    case DropReason::kStale: return "stale";
    case DropReason::kRejectedTransaction: return "rejected_transaction";
    case DropReason::kCount: break;
  }
  return "unknown";
}

Replica::Replica(ReplicaConfig config, ValidatorSet validators, crypto::Ed25519KeyPair key,
                 KvStore& store, Application& app)
    : config_(config),
      validators_(std::move(validators)),
      key_(std::move(key)),
      store_(store),
      app_(app) {
  MELODAI_CHECK(validators_.Contains(config_.replica_id));
  MELODAI_CHECK(key_.public_key() == validators_.key(config_.replica_id));
  MELODAI_CHECK_GT(config_.checkpoint_interval, 0u);
  MELODAI_CHECK_EQ(config_.watermark_window % config_.checkpoint_interval, 0u);
  MELODAI_CHECK_GE(config_.watermark_window, 2 * config_.checkpoint_interval);
  MELODAI_CHECK_GT(config_.max_in_flight_batches, 0u);
  MELODAI_CHECK_GT(config_.max_batch_transactions, 0u);
  MELODAI_CHECK_LE(config_.max_batch_transactions, kMaxBlockTransactions);
  last_header_.timestamp_ms = config_.genesis_timestamp_ms;
}

Replica::~Replica() = default;

bool Replica::VerifyCached(const SignedMessage& message) {
  if (!validators_.Contains(message.replica)) return false;
  std::string signing = SigningBytes(message.type, message.replica, message.body);
  signing.append(reinterpret_cast<const char*>(message.signature.data()),
                 message.signature.size());
  crypto::Digest32 digest = crypto::Blake2b256(AsBytes(signing));
  if (verified_.contains(digest)) return true;
  if (!VerifyMessageSignature(message, validators_.key(message.replica))) return false;
  RememberVerified(digest);
  return true;
}

void Replica::RememberVerified(const crypto::Digest32& digest) {
  if (!verified_.insert(digest).second) return;
  if (verified_order_.size() < kVerifiedCacheEntries) {
    verified_order_.push_back(digest);
    return;
  }
  // FIFO eviction over a ring buffer.
  verified_.erase(verified_order_[verified_next_]);
  verified_order_[verified_next_] = digest;
  verified_next_ = (verified_next_ + 1) % kVerifiedCacheEntries;
}

bool Replica::VerifyTransactionCached(const Transaction& tx) {
  crypto::Digest32 hash = TransactionHash(tx);
  if (verified_.contains(hash)) return true;
  if (!VerifyTransactionSignature(tx)) return false;
  RememberVerified(hash);
  return true;
}

SignedMessage Replica::Sign(Context& context, MessageType type, std::string body, bool persist,
                            uint64_t sequence) {
  SignedMessage message = SignMessage(type, config_.replica_id, std::move(body), key_);
  if (persist) {
    uint64_t view = view_;
    if (type == MessageType::kPrePrepare || type == MessageType::kPrepare ||
        type == MessageType::kCommit) {
      // The view inside the body, which may differ from view_ while replaying a NEW-VIEW.
      core::ByteReader reader(message.body);
      MELODAI_CHECK(reader.GetU64(view, "view").ok());
    }
    context.batch.Put(Column::kConsensus, keys::OwnMessage(sequence, view, type),
                      EncodeSignedMessage(message));
  }
  return message;
}

void Replica::Broadcast(Context& context, const SignedMessage& message) {
  context.output.messages.push_back({OutboundMessage::kBroadcast, EncodeSignedMessage(message)});
}

void Replica::SendTo(Context& context, uint32_t target, const SignedMessage& message) {
  MELODAI_CHECK_NE(target, config_.replica_id);
  context.output.messages.push_back({target, EncodeSignedMessage(message)});
}

void Replica::Drop(DropReason reason) {
  ++metrics_.dropped[static_cast<size_t>(reason)];
}

void Replica::PersistView(Context& context) {
  core::ByteWriter writer;
  writer.PutU64(view_);
  writer.PutU8(in_view_change_ ? 1 : 0);
  context.batch.Put(Column::kConsensus, keys::kView, writer.buffer());
}

Output Replica::Finish(Context& context) {
  if (!context.batch.empty()) {
    core::Status status = store_.Write(context.batch, /*sync=*/true);
    if (!status.ok()) {
      // Fail-stop: nothing this call signed may leave, and the in-memory state is now ahead
      // of the store, so the replica stops until the host restarts and recovers it.
      halt_status_ = status.WithContext("pbft replica halted on a store write");
      return Output{};
    }
  }
  return std::move(context.output);
}

int64_t Replica::CurrentViewChangeTimeout() const {
  int64_t timeout = config_.view_change_timeout_ms;
  for (uint32_t i = 0; i < failed_view_changes_ && timeout < config_.max_view_change_timeout_ms;
       ++i) {
    timeout *= 2;
  }
  return std::min(timeout, config_.max_view_change_timeout_ms);
}

ReplicaMetrics Replica::metrics() const {
  ReplicaMetrics out = metrics_;
  out.height = last_executed_;
  out.view = view_;
  out.in_view_change = in_view_change_;
  out.stable_checkpoint = stable_checkpoint_;
  out.view_changes = view_changes_;
  out.pending_transactions = pending_.size();
  return out;
}

core::Result<CommittedBlock> Replica::ReadBlock(uint64_t height) const {
  MELODAI_ASSIGN_OR_RETURN(std::optional<std::string> value,
                           store_.Get(Column::kBlocks, keys::Block(height)));
  if (!value) return core::NotFoundError("no block at height " + std::to_string(height));
  auto block = DecodeStoredBlock(*value);
  if (!block.ok()) return block.status().WithContext("block " + std::to_string(height));
  return block;
}

}  // namespace melodai::ledger::pbft
