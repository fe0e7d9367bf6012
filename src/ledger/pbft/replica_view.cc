// MelodAI — licensed under the Apache License 2.0.
// pbft::Replica checkpoints (2f+1 signed CHECKPOINTs, watermarks, garbage collection) and view
// changes (VIEW-CHANGE with prepared certificates, NEW-VIEW with re-issued pre-prepares).

#include <algorithm>
#include <iterator>
#include <set>

#include "core/bytes.h"
#include "ledger/pbft/internal/replica_types.h"

namespace melodai::ledger::pbft {

void Replica::SendCheckpoint(Context& context, uint64_t sequence,
                             const crypto::Digest32& block_hash) {
  MELODAI_CHECK_EQ(sequence % config_.checkpoint_interval, 0u);
  own_checkpoints_[sequence] = block_hash;
  SignedMessage message = Sign(context, MessageType::kCheckpoint,
                               EncodeCheckpoint({sequence, block_hash}), false, sequence);
  std::unique_ptr<CheckpointVotes>& votes = checkpoints_[sequence];
  if (!votes) votes = std::make_unique<CheckpointVotes>();
  votes->votes[config_.replica_id] = {block_hash, message};
  own_checkpoint_messages_[sequence] = message;
  Broadcast(context, message);
  MaybeStabilize(context, sequence);
}

void Replica::HandleCheckpoint(Context& context, const SignedMessage& message) {
  auto checkpoint = DecodeCheckpoint(message.body);
  if (!checkpoint.ok()) return Drop(DropReason::kMalformed);
  if (checkpoint->sequence % config_.checkpoint_interval != 0 || checkpoint->sequence == 0) {
    return Drop(DropReason::kInvalidContent);
  }
  if (checkpoint->sequence <= stable_checkpoint_) return Drop(DropReason::kStale);
  // Bound memory: far-future checkpoints only matter as a hint that this replica lags.
  if (checkpoint->sequence > high_watermark() + config_.watermark_window) {
    highest_seen_sequence_ = std::max(highest_seen_sequence_, last_executed_ + 1);
    return Drop(DropReason::kOutsideWatermarks);
  }
  std::unique_ptr<CheckpointVotes>& votes = checkpoints_[checkpoint->sequence];
  if (!votes) votes = std::make_unique<CheckpointVotes>();
  votes->votes[message.replica] = {checkpoint->block_hash, message};
  MaybeStabilize(context, checkpoint->sequence);
}

void Replica::MaybeStabilize(Context& context, uint64_t sequence) {
  auto it = checkpoints_.find(sequence);
  if (it == checkpoints_.end() || sequence <= stable_checkpoint_) return;
  std::map<crypto::Digest32, std::vector<const SignedMessage*>> by_hash;
  for (const auto& [replica, entry] : it->second->votes) by_hash[entry.first].push_back(&entry.second);
  for (const auto& [hash, messages] : by_hash) {
    if (messages.size() < validators_.quorum()) continue;
    auto own = own_checkpoints_.find(sequence);
    if (own == own_checkpoints_.end()) {
      // 2f+1 replicas executed past us: fetch the missing blocks.
      highest_seen_sequence_ = std::max(highest_seen_sequence_, sequence);
      return;
    }
    if (own->second != hash) {
      // A quorum disagrees with our own execution: it cannot happen with f or fewer faults.
      Drop(DropReason::kInvalidContent);
      return;
    }
    std::vector<SignedMessage> proof;
    for (size_t i = 0; i < validators_.quorum(); ++i) proof.push_back(*messages[i]);
    AdoptStableCheckpoint(context, sequence, std::move(proof));
    return;
  }
}

void Replica::AdoptStableCheckpoint(Context& context, uint64_t sequence,
                                    std::vector<SignedMessage> proof) {
  MELODAI_CHECK_GT(sequence, stable_checkpoint_);
  MELODAI_CHECK_LE(sequence, last_executed_);
  stable_proof_ = std::move(proof);
  stable_checkpoint_ = sequence;
  core::ByteWriter writer;
  writer.PutU64(sequence);
  context.batch.Put(Column::kConsensus, keys::kStableCheckpoint,
                    writer.buffer() + EncodeMessageList(stable_proof_));
  CollectGarbage(context, sequence);
}

void Replica::CollectGarbage(Context& context, uint64_t stable_sequence) {
  MELODAI_CHECK_LE(stable_sequence, last_executed_);
  slots_.erase(slots_.begin(), slots_.upper_bound(stable_sequence));
  checkpoints_.erase(checkpoints_.begin(), checkpoints_.lower_bound(stable_sequence));
  own_checkpoints_.erase(own_checkpoints_.begin(), own_checkpoints_.lower_bound(stable_sequence));
  // The stable one is kept: it is retransmitted for replicas that reach it late.
  own_checkpoint_messages_.erase(own_checkpoint_messages_.begin(),
                                 own_checkpoint_messages_.lower_bound(stable_sequence));
  std::string limit = keys::BigEndian(stable_sequence + 1);
  auto delete_below = [&](Column column, std::string_view prefix, std::string_view bound) {
    std::vector<std::string> doomed;
    core::Status status = store_.Scan(column, prefix, "", [&](std::string_view key, std::string_view) {
      if (key.substr(prefix.size()) >= bound) return false;
      doomed.emplace_back(key);
      return true;
    });
    // A failed scan only delays garbage collection to the next checkpoint.
    status.IgnoreError();
    for (const std::string& key : doomed) context.batch.Delete(column, key);
  };
  delete_below(Column::kConsensus, keys::kOwnMessagePrefix, limit);
  delete_below(Column::kConsensus, keys::kPreparedPrefix, limit);
  delete_below(Column::kState, keys::kSnapshotPrefix, keys::BigEndian(stable_sequence));
}

void Replica::StartViewChange(Context& context, uint64_t new_view) {
  MELODAI_CHECK_GT(new_view, view_);
  view_ = new_view;
  in_view_change_ = true;
  view_change_started_ms_ = now_ms_;
  ++view_changes_;
  ViewChange change{new_view, stable_checkpoint_, stable_proof_, {}};
  for (const auto& [sequence, slot] : slots_) {
    if (sequence > stable_checkpoint_ && slot->prepared_proof) {
      change.prepared.push_back(*slot->prepared_proof);
    }
  }
  SignedMessage message =
      Sign(context, MessageType::kViewChange, EncodeViewChange(change), false, 0);
  context.batch.Put(Column::kConsensus, keys::kOwnViewChange, EncodeSignedMessage(message));
  PersistView(context);
  own_view_change_ = message;
  view_change_messages_[new_view][config_.replica_id] = message;
  view_change_messages_.erase(view_change_messages_.begin(),
                              view_change_messages_.lower_bound(new_view));
  for (auto& [hash, pending] : pending_) pending.in_flight = false;
  Broadcast(context, message);
  MaybeSendNewView(context, new_view);
}

core::Status Replica::VerifyCheckpointProof(const std::vector<SignedMessage>& proof,
                                            uint64_t sequence, crypto::Digest32& block_hash) {
  std::set<uint32_t> seen;
  for (const SignedMessage& message : proof) {
    if (message.type != MessageType::kCheckpoint || !VerifyCached(message)) {
      return core::DataLossError("checkpoint proof: bad message");
    }
    auto checkpoint = DecodeCheckpoint(message.body);
    if (!checkpoint.ok() || checkpoint->sequence != sequence) {
      return core::DataLossError("checkpoint proof: wrong sequence");
    }
    if (seen.empty()) block_hash = checkpoint->block_hash;
    if (checkpoint->block_hash != block_hash) {
      return core::DataLossError("checkpoint proof: digests differ");
    }
    seen.insert(message.replica);
  }
  if (seen.size() < validators_.quorum()) {
    return core::DataLossError("checkpoint proof: fewer than 2f+1 distinct replicas");
  }
  return core::Status::Ok();
}

core::Status Replica::VerifyViewChange(const SignedMessage& message, ViewChange& value) {
  if (message.type != MessageType::kViewChange || !VerifyCached(message)) {
    return core::DataLossError("view-change: bad signature");
  }
  MELODAI_ASSIGN_OR_RETURN(value, DecodeViewChange(message.body));
  if (value.stable_sequence > 0) {
    crypto::Digest32 hash{};
    MELODAI_RETURN_IF_ERROR(
        VerifyCheckpointProof(value.checkpoint_proof, value.stable_sequence, hash));
  }
  std::set<uint64_t> sequences;
  for (const PreparedProof& proof : value.prepared) {
    if (proof.pre_prepare.type != MessageType::kPrePrepare || !VerifyCached(proof.pre_prepare)) {
      return core::DataLossError("view-change: bad pre-prepare");
    }
    MELODAI_ASSIGN_OR_RETURN(PrePrepare pre_prepare, DecodePrePrepare(proof.pre_prepare.body));
    if (proof.pre_prepare.replica != validators_.Primary(pre_prepare.view) ||
        pre_prepare.view >= value.new_view || pre_prepare.sequence <= value.stable_sequence ||
        pre_prepare.sequence > value.stable_sequence + config_.watermark_window ||
        !sequences.insert(pre_prepare.sequence).second) {
      return core::DataLossError("view-change: pre-prepare out of place");
    }
    crypto::Digest32 digest = BatchDigestOf(pre_prepare.sequence, pre_prepare.batch);
    std::set<uint32_t> voters;
    for (const SignedMessage& prepare : proof.prepares) {
      if (prepare.type != MessageType::kPrepare || !VerifyCached(prepare) ||
          prepare.replica == proof.pre_prepare.replica) {
        return core::DataLossError("view-change: bad prepare");
      }
      MELODAI_ASSIGN_OR_RETURN(Vote vote, DecodeVote(prepare.body));
      if (vote.view != pre_prepare.view || vote.sequence != pre_prepare.sequence ||
          vote.digest != digest) {
        return core::DataLossError("view-change: prepare does not match");
      }
      voters.insert(prepare.replica);
    }
    if (voters.size() < 2 * validators_.f()) {
      return core::DataLossError("view-change: fewer than 2f prepares");
    }
  }
  return core::Status::Ok();
}

void Replica::HandleViewChange(Context& context, const SignedMessage& message) {
  ViewChange value;
  if (!VerifyViewChange(message, value).ok() || value.new_view == 0) {
    return Drop(DropReason::kInvalidContent);
  }
  if (value.new_view < view_ || (value.new_view == view_ && !in_view_change_)) {
    // The sender is behind: help it with the NEW-VIEW that installed our view.
    if (latest_new_view_ && value.new_view <= view_) SendTo(context, message.replica, *latest_new_view_);
    return Drop(DropReason::kStale);
  }
  // Only each replica's latest VIEW-CHANGE is kept, so memory stays bounded by n messages
  // however many views a Byzantine replica names; nobody goes back to a lower view.
  for (const auto& [view, by] : view_change_messages_) {
    if (view > value.new_view && by.contains(message.replica)) return Drop(DropReason::kStale);
  }
  for (auto it = view_change_messages_.begin(); it != view_change_messages_.end();) {
    if (it->first < value.new_view) it->second.erase(message.replica);
    it = it->second.empty() ? view_change_messages_.erase(it) : std::next(it);
  }
  view_change_messages_[value.new_view][message.replica] = message;
  // Liveness: f+1 replicas want a higher view, so at least one correct one does: join the
  // smallest such view.
  std::set<uint32_t> ahead;
  uint64_t smallest = UINT64_MAX;
  for (const auto& [view, senders] : view_change_messages_) {
    if (view <= view_ || (view == view_ && in_view_change_)) continue;
    for (const auto& [replica, unused] : senders) ahead.insert(replica);
    smallest = std::min(smallest, view);
  }
  if (ahead.size() >= validators_.f() + 1 && smallest > view_) {
    StartViewChange(context, smallest);
  }
  if (in_view_change_) MaybeSendNewView(context, view_);
}

void Replica::MaybeSendNewView(Context& context, uint64_t new_view) {
  if (validators_.Primary(new_view) != config_.replica_id || !in_view_change_ ||
      view_ != new_view) {
    return;
  }
  auto it = view_change_messages_.find(new_view);
  if (it == view_change_messages_.end() || it->second.size() < validators_.quorum()) return;
  NewView value{new_view, {}, {}};
  std::vector<ViewChange> decoded;
  for (const auto& [replica, message] : it->second) {
    if (value.view_changes.size() == validators_.quorum()) break;
    ViewChange change;
    MELODAI_CHECK(VerifyViewChange(message, change).ok());  // Verified on receipt.
    value.view_changes.push_back(message);
    decoded.push_back(std::move(change));
  }
  NewViewPlan plan = PlanNewView(new_view, decoded);
  for (auto& [sequence, batch] : plan.batches) {
    PrePrepare pre_prepare{new_view, sequence, batch};
    value.pre_prepares.push_back(
        Sign(context, MessageType::kPrePrepare, EncodePrePrepare(pre_prepare), true, sequence));
  }
  SignedMessage message = Sign(context, MessageType::kNewView, EncodeNewView(value), false, 0);
  Broadcast(context, message);
  InstallNewView(context, value, message);
}

void Replica::HandleNewView(Context& context, const SignedMessage& message) {
  auto value = DecodeNewView(message.body);
  if (!value.ok()) return Drop(DropReason::kMalformed);
  if (message.replica != validators_.Primary(value->view) ||
      value->view < view_ || (value->view == view_ && !in_view_change_)) {
    return Drop(DropReason::kStale);
  }
  std::vector<ViewChange> decoded;
  std::set<uint32_t> senders;
  for (const SignedMessage& change_message : value->view_changes) {
    ViewChange change;
    if (!VerifyViewChange(change_message, change).ok() || change.new_view != value->view ||
        !senders.insert(change_message.replica).second) {
      return Drop(DropReason::kInvalidContent);
    }
    decoded.push_back(std::move(change));
  }
  if (senders.size() < validators_.quorum()) return Drop(DropReason::kInvalidContent);
  NewViewPlan plan = PlanNewView(value->view, decoded);
  if (plan.batches.size() != value->pre_prepares.size()) return Drop(DropReason::kInvalidContent);
  size_t index = 0;
  for (const auto& [sequence, batch] : plan.batches) {
    const SignedMessage& pre_prepare_message = value->pre_prepares[index++];
    auto pre_prepare = DecodePrePrepare(pre_prepare_message.body);
    if (pre_prepare_message.type != MessageType::kPrePrepare ||
        pre_prepare_message.replica != message.replica || !pre_prepare.ok() ||
        !VerifyCached(pre_prepare_message) || pre_prepare->view != value->view ||
        pre_prepare->sequence != sequence ||
        BatchDigestOf(sequence, pre_prepare->batch) != BatchDigestOf(sequence, batch)) {
      return Drop(DropReason::kInvalidContent);
    }
  }
  InstallNewView(context, *value, message);
}

void Replica::InstallNewView(Context& context, const NewView& value,
                             const SignedMessage& message) {
  MELODAI_CHECK_GE(value.view, view_);
  if (value.view > view_) ++view_changes_;
  view_ = value.view;
  in_view_change_ = false;
  latest_new_view_ = message;
  idle_since_ms_ = now_ms_;
  PersistView(context);
  context.batch.Put(Column::kConsensus, keys::kNewView, EncodeSignedMessage(message));
  view_change_messages_.erase(view_change_messages_.begin(),
                              view_change_messages_.upper_bound(view_));
  for (auto& [hash, pending] : pending_) pending.in_flight = false;
  for (auto& [sequence, slot] : slots_) {
    if (slot->view < view_) {
      slot->has_pre_prepare = false;
      slot->prepared = false;
      slot->committed = false;
      slot->own_prepare.reset();
      slot->own_commit.reset();
    }
  }
  uint64_t max_sequence = 0;
  for (const SignedMessage& pre_prepare_message : value.pre_prepares) {
    auto pre_prepare = DecodePrePrepare(pre_prepare_message.body);
    MELODAI_CHECK(pre_prepare.ok());  // Verified by the caller.
    max_sequence = std::max(max_sequence, pre_prepare->sequence);
    highest_seen_sequence_ = std::max(highest_seen_sequence_, pre_prepare->sequence);
    if (pre_prepare->sequence <= low_watermark()) continue;
    AcceptPrePrepare(context, pre_prepare_message, *pre_prepare, /*replaying_own=*/false);
  }
  // The highest stable checkpoint named in the VIEW-CHANGEs (verified with its proof): adopt it
  // when this replica executed it with the same block hash, else fetch up to it.
  for (const SignedMessage& change_message : value.view_changes) {
    auto change = DecodeViewChange(change_message.body);
    if (!change.ok()) continue;
    uint64_t sequence = change->stable_sequence;
    highest_seen_sequence_ = std::max(highest_seen_sequence_, sequence);
    max_sequence = std::max(max_sequence, sequence);
    auto own = own_checkpoints_.find(sequence);
    if (sequence > stable_checkpoint_ && own != own_checkpoints_.end()) {
      crypto::Digest32 proven{};
      if (VerifyCheckpointProof(change->checkpoint_proof, sequence, proven).ok() &&
          proven == own->second) {
        AdoptStableCheckpoint(context, sequence, change->checkpoint_proof);
      }
    }
  }
  next_sequence_ = std::max(max_sequence, last_executed_) + 1;
  MaybePropose(context, /*force=*/false);
}

}  // namespace melodai::ledger::pbft
