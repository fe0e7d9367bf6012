// MelodAI — licensed under the Apache License 2.0.
// pbft::Replica state transfer (committed blocks with certificates, or a checkpoint snapshot
// with its 2f+1 CHECKPOINT proof), retransmission, and recovery from the KvStore.

#include <algorithm>

#include "core/bytes.h"
#include "ledger/pbft/internal/replica_types.h"

namespace melodai::ledger::pbft {
namespace {

constexpr size_t kMaxFetchReplyBytes = 32 * 1024 * 1024;
constexpr int64_t kProbePeriods = 10;

}  // namespace

void Replica::SendFetch(Context& context) {
  if (validators_.n() == 1) return;
  if (recovery_fetch_) {
    recovery_fetch_ = false;
    last_fetch_ms_ = now_ms_;
    Fetch fetch{last_executed_ + 1, view_};
    Broadcast(context, Sign(context, MessageType::kFetch, EncodeFetch(fetch), false, 0));
    return;
  }
  // Behind what peers showed us: fetch every retransmission period. Otherwise probe a peer
  // now and then, so that a replica that missed the end of a quiet period still catches up.
  bool behind = highest_seen_sequence_ > last_executed_ &&
                now_ms_ - last_progress_ms_ >= config_.retransmit_interval_ms;
  int64_t period = config_.retransmit_interval_ms * (behind ? 1 : kProbePeriods);
  if (now_ms_ - last_fetch_ms_ < period) return;
  last_fetch_ms_ = now_ms_;
  fetch_peer_ = (fetch_peer_ + 1) % validators_.n();
  if (fetch_peer_ == config_.replica_id) fetch_peer_ = (fetch_peer_ + 1) % validators_.n();
  Fetch fetch{last_executed_ + 1, view_};
  SendTo(context, fetch_peer_, Sign(context, MessageType::kFetch, EncodeFetch(fetch), false, 0));
}

void Replica::HandleFetch(Context& context, uint32_t from, const SignedMessage& message) {
  auto fetch = DecodeFetch(message.body);
  if (!fetch.ok()) return Drop(DropReason::kMalformed);
  // One answer per peer per retransmission period bounds the work a peer can cause.
  auto served = fetch_served_ms_.find(from);
  if (served != fetch_served_ms_.end() &&
      now_ms_ - served->second < config_.retransmit_interval_ms / 2) {
    return Drop(DropReason::kStale);
  }
  fetch_served_ms_[from] = now_ms_;
  FetchReply reply;
  if (fetch->view < view_ && latest_new_view_) reply.new_view = latest_new_view_;
  uint64_t start = fetch->from_height;
  if (start == 0) return Drop(DropReason::kInvalidContent);
  if (stable_checkpoint_ > 0 && start + config_.snapshot_transfer_threshold <= stable_checkpoint_) {
    auto stored = store_.Get(Column::kState, keys::Snapshot(stable_checkpoint_));
    if (stored.ok() && stored->has_value()) {
      auto decoded = DecodeStoredSnapshot(**stored);
      if (decoded.ok()) {
        reply.snapshot = SnapshotTransfer{decoded->first, stable_proof_, decoded->second};
        start = stable_checkpoint_ + 1;
      }
    }
  }
  size_t bytes = 0;
  for (uint64_t height = start; height <= last_executed_ &&
                                reply.blocks.size() < std::min<size_t>(config_.max_fetch_blocks, kMaxFetchBlocks) &&
                                bytes < kMaxFetchReplyBytes;
       ++height) {
    auto block = ReadBlock(height);
    if (!block.ok()) break;
    Batch batch{block->block.header.timestamp_ms, block->block.header.view,
                std::move(block->block.transactions)};
    bytes += EncodeBatch(batch).size();
    reply.blocks.push_back({std::move(block->certificate), std::move(batch)});
  }
  if (reply.blocks.empty() && !reply.snapshot && !reply.new_view) return;
  SendTo(context, from,
         Sign(context, MessageType::kFetchReply, EncodeFetchReply(reply), false, 0));
}

void Replica::HandleFetchReply(Context& context, const SignedMessage& message) {
  auto reply = DecodeFetchReply(message.body);
  if (!reply.ok()) return Drop(DropReason::kMalformed);
  if (reply->snapshot && reply->snapshot->header.height > last_executed_) {
    if (!InstallSnapshot(context, *reply->snapshot).ok()) {
      return Drop(DropReason::kInvalidContent);
    }
  }
  for (const CommittedBatch& committed : reply->blocks) {
    uint64_t height = committed.certificate.height;
    if (height <= last_executed_) continue;
    if (height != last_executed_ + 1) break;
    Block block;
    block.header.height = height;
    block.header.timestamp_ms = committed.batch.timestamp_ms;
    block.header.transactions_root = TransactionsRoot(committed.batch.transactions);
    block.header.view = committed.batch.view;
    block.header.proposer = validators_.Primary(committed.batch.view);
    block.transactions = committed.batch.transactions;
    for (const Transaction& tx : block.transactions) {
      if (!VerifyTransactionCached(tx)) return Drop(DropReason::kBadSignature);
    }
    CommitCertificate certificate = committed.certificate;
    // Transaction signatures were checked above through the cache; verify the rest.
    if (committed.certificate.view < committed.batch.view ||
        BatchDigest(height, block.header.view, block.header.timestamp_ms,
                    block.header.transactions_root) != certificate.batch_digest ||
        !VerifyCommitCertificate(certificate, validators_).ok()) {
      return Drop(DropReason::kInvalidContent);
    }
    ExecuteBatch(context, height, committed.batch, certificate);
    ++metrics_.fetched_blocks;
  }
  ExecuteReady(context);
  if (reply->new_view) {
    const SignedMessage& new_view = *reply->new_view;
    if (new_view.type != MessageType::kNewView || !VerifyCached(new_view)) {
      return Drop(DropReason::kBadSignature);
    }
    HandleNewView(context, new_view);
  }
}

core::Status Replica::InstallSnapshot(Context& context, const SnapshotTransfer& transfer) {
  const BlockHeader& header = transfer.header;
  if (header.height % config_.checkpoint_interval != 0) {
    return core::DataLossError("snapshot: height is not a checkpoint");
  }
  crypto::Digest32 proven{};
  MELODAI_RETURN_IF_ERROR(VerifyCheckpointProof(transfer.checkpoint_proof, header.height, proven));
  if (proven != BlockHash(header)) return core::DataLossError("snapshot: header not proven");
  std::string previous = app_.Snapshot();
  MELODAI_RETURN_IF_ERROR(app_.Restore(transfer.snapshot));
  if (app_.StateRoot() != header.state_root) {
    MELODAI_CHECK(app_.Restore(previous).ok());  // Our own snapshot always restores.
    return core::DataLossError("snapshot: state root differs from the proven header");
  }
  last_executed_ = header.height;
  last_header_ = header;
  last_progress_ms_ = now_ms_;
  last_timestamp_ms_ = std::max(last_timestamp_ms_, header.timestamp_ms);
  own_checkpoints_[header.height] = proven;
  stable_checkpoint_ = header.height;
  stable_proof_ = transfer.checkpoint_proof;
  context.batch.Put(Column::kState, keys::Snapshot(header.height),
                    EncodeStoredSnapshot(header, transfer.snapshot));
  context.batch.Put(Column::kMeta, keys::kHeight, keys::BigEndian(header.height));
  core::ByteWriter writer;
  writer.PutU64(header.height);
  context.batch.Put(Column::kConsensus, keys::kStableCheckpoint,
                    writer.buffer() + EncodeMessageList(stable_proof_));
  for (auto& [hash, pending] : pending_) pending.in_flight = false;
  CollectGarbage(context, header.height);
  ++metrics_.snapshots_installed;
  return core::Status::Ok();
}

void Replica::Retransmit(Context& context) {
  if (in_view_change_) {
    if (own_view_change_) Broadcast(context, *own_view_change_);
  } else {
    for (const auto& [sequence, slot] : slots_) {
      if (sequence <= last_executed_ && slot->committed) continue;
      if (!slot->has_pre_prepare || slot->view != view_) continue;
      if (validators_.Primary(view_) == config_.replica_id) Broadcast(context, slot->pre_prepare);
      if (slot->own_prepare) Broadcast(context, *slot->own_prepare);
      if (slot->own_commit) Broadcast(context, *slot->own_commit);
    }
  }
  for (const auto& [sequence, message] : own_checkpoint_messages_) {
    if (sequence >= stable_checkpoint_) Broadcast(context, message);
  }
  // Drop pending transactions the state no longer admits (their nonce was used).
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!it->second.in_flight && !app_.CheckTransaction(it->second.tx).ok()) {
      local_hashes_.erase(it->first);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  if (is_primary() || in_view_change_) return;
  Request request;
  for (auto& [hash, pending] : pending_) {
    if (pending.in_flight || request.transactions.size() >= kMaxRequestTransactions) continue;
    if (now_ms_ - pending.forwarded_ms < 4 * config_.retransmit_interval_ms) continue;
    pending.forwarded_ms = now_ms_;
    request.transactions.push_back(pending.tx);
  }
  if (!request.transactions.empty()) {
    SendTo(context, validators_.Primary(view_),
           Sign(context, MessageType::kRequest, EncodeRequest(request), false, 0));
  }
}

core::Status Replica::Recover() {
  MELODAI_CHECK(!recovered_);
  recovered_ = true;
  last_header_ = BlockHeader{};
  last_header_.timestamp_ms = config_.genesis_timestamp_ms;
  last_header_.transactions_root = TransactionsRoot({});
  last_header_.state_root = app_.StateRoot();
  MELODAI_RETURN_IF_ERROR(RecoverBlocks());
  Context context;
  MELODAI_RETURN_IF_ERROR(RecoverConsensus(context));
  last_timestamp_ms_ = last_header_.timestamp_ms;
  highest_seen_sequence_ = last_executed_;
  recovery_fetch_ = true;
  if (!context.batch.empty()) MELODAI_RETURN_IF_ERROR(store_.Write(context.batch, true));
  MELODAI_CHECK_LE(stable_checkpoint_, last_executed_);
  return core::Status::Ok();
}

core::Status Replica::RecoverBlocks() {
  // The newest checkpoint snapshot, then every stored block after it, re-executed.
  std::optional<std::string> latest;
  MELODAI_RETURN_IF_ERROR(store_.Scan(Column::kState, keys::kSnapshotPrefix, "",
                                      [&](std::string_view, std::string_view value) {
                                        latest = std::string(value);
                                        return true;
                                      }));
  if (latest) {
    MELODAI_ASSIGN_OR_RETURN(auto decoded, DecodeStoredSnapshot(*latest));
    MELODAI_RETURN_IF_ERROR(app_.Restore(decoded.second));
    if (app_.StateRoot() != decoded.first.state_root) {
      return core::DataLossError("recover: snapshot state root differs from its header");
    }
    last_header_ = decoded.first;
    last_executed_ = decoded.first.height;
    own_checkpoints_[last_executed_] = BlockHash(last_header_);
  }
  while (true) {
    uint64_t height = last_executed_ + 1;
    auto stored = ReadBlock(height);
    if (!stored.ok() && stored.status().code() == core::StatusCode::kNotFound) break;
    if (!stored.ok()) return stored.status().WithContext("recover");
    Block& block = stored->block;
    if (block.header.height != height || block.header.previous_hash != BlockHash(last_header_)) {
      return core::DataLossError("recover: block " + std::to_string(height) +
                                 " does not extend the chain");
    }
    ExecutionOutcome outcome = app_.ExecuteBlock(block);
    if (outcome.state_root != block.header.state_root) {
      return core::DataLossError("recover: block " + std::to_string(height) +
                                 " re-executes to a different state root");
    }
    last_header_ = block.header;
    last_executed_ = height;
    if (height % config_.checkpoint_interval == 0) own_checkpoints_[height] = BlockHash(block.header);
  }
  return core::Status::Ok();
}

core::Status Replica::RecoverConsensus(Context& context) {
  MELODAI_ASSIGN_OR_RETURN(auto stable, store_.Get(Column::kConsensus, keys::kStableCheckpoint));
  if (stable) {
    if (stable->size() < 8) return core::DataLossError("recover: stable checkpoint truncated");
    core::ByteReader reader(std::string_view(*stable).substr(0, 8));
    uint64_t sequence = 0;
    MELODAI_RETURN_IF_ERROR(reader.GetU64(sequence, "stable checkpoint"));
    MELODAI_ASSIGN_OR_RETURN(stable_proof_, DecodeMessageList(std::string_view(*stable).substr(8)));
    if (sequence > last_executed_) {
      return core::DataLossError("recover: stable checkpoint above the stored chain");
    }
    stable_checkpoint_ = sequence;
  }
  MELODAI_ASSIGN_OR_RETURN(auto view, store_.Get(Column::kConsensus, keys::kView));
  if (view) {
    core::ByteReader reader(*view);
    uint8_t flag = 0;
    MELODAI_RETURN_IF_ERROR(reader.GetU64(view_, "view"));
    MELODAI_RETURN_IF_ERROR(reader.GetU8(flag, "view.in_view_change"));
    in_view_change_ = flag != 0;
  }
  for (auto [key, target] : {std::pair{keys::kOwnViewChange, &own_view_change_},
                             std::pair{keys::kNewView, &latest_new_view_}}) {
    MELODAI_ASSIGN_OR_RETURN(auto stored, store_.Get(Column::kConsensus, key));
    if (!stored) continue;
    MELODAI_ASSIGN_OR_RETURN(*target, DecodeSignedMessage(*stored));
  }
  if (own_view_change_ && in_view_change_) {
    view_change_messages_[view_][config_.replica_id] = *own_view_change_;
  }
  MELODAI_RETURN_IF_ERROR(RecoverOwnMessages(context));
  next_sequence_ = std::max(next_sequence_, last_executed_ + 1);
  return core::Status::Ok();
}

core::Status Replica::RecoverOwnMessages(Context& context) {
  // Every digest this replica signed, so that it never contradicts itself after a restart; and
  // in the current view its own pre-prepares (as primary) and prepared proofs.
  std::vector<SignedMessage> own;
  MELODAI_RETURN_IF_ERROR(store_.Scan(Column::kConsensus, keys::kOwnMessagePrefix, "",
                                      [&](std::string_view, std::string_view value) {
                                        auto message = DecodeSignedMessage(value);
                                        if (message.ok()) own.push_back(std::move(message).value());
                                        return true;
                                      }));
  for (const SignedMessage& message : own) {
    if (message.type == MessageType::kPrePrepare) {
      auto pre_prepare = DecodePrePrepare(message.body);
      if (!pre_prepare.ok()) return core::DataLossError("recover: own pre-prepare malformed");
      if (pre_prepare->sequence <= stable_checkpoint_) continue;
      std::unique_ptr<Slot>& slot = slots_[pre_prepare->sequence];
      if (!slot) slot = std::make_unique<Slot>();
      slot->sequence = pre_prepare->sequence;
      slot->own_votes[pre_prepare->view] = BatchDigestOf(pre_prepare->sequence, pre_prepare->batch);
      if (pre_prepare->view == view_ && !in_view_change_) {
        AcceptPrePrepare(context, message, *pre_prepare, /*replaying_own=*/true);
        next_sequence_ = std::max(next_sequence_, pre_prepare->sequence + 1);
      }
    } else if (message.type == MessageType::kPrepare || message.type == MessageType::kCommit) {
      auto vote = DecodeVote(message.body);
      if (!vote.ok()) return core::DataLossError("recover: own vote malformed");
      if (vote->sequence <= stable_checkpoint_) continue;
      std::unique_ptr<Slot>& slot = slots_[vote->sequence];
      if (!slot) slot = std::make_unique<Slot>();
      slot->sequence = vote->sequence;
      slot->own_votes[vote->view] = vote->digest;
    }
  }
  MELODAI_RETURN_IF_ERROR(store_.Scan(
      Column::kConsensus, keys::kPreparedPrefix, "", [&](std::string_view, std::string_view value) {
        auto proof = DecodePreparedProof(value);
        if (!proof.ok()) return true;
        auto pre_prepare = DecodePrePrepare(proof->pre_prepare.body);
        if (!pre_prepare.ok() || pre_prepare->sequence <= stable_checkpoint_) return true;
        std::unique_ptr<Slot>& slot = slots_[pre_prepare->sequence];
        if (!slot) slot = std::make_unique<Slot>();
        slot->sequence = pre_prepare->sequence;
        slot->prepared_proof = std::move(proof).value();
        slot->prepared_view = pre_prepare->view;
        return true;
      }));
  return core::Status::Ok();
}

}  // namespace melodai::ledger::pbft
