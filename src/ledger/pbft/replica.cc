// MelodAI — licensed under the Apache License 2.0.
// pbft::Replica normal case: input dispatch, request admission and batching, pre-prepare /
// prepare / commit with 2f+1 quorums, in-order execution and client replies.

#include "ledger/pbft/replica.h"

#include <algorithm>
#include <set>

#include "ledger/pbft/internal/replica_types.h"

namespace melodai::ledger::pbft {

Output Replica::OnMessage(uint32_t from, std::string_view bytes) {
  MELODAI_CHECK(recovered_);
  if (!halt_status_.ok()) return Output{};
  Context context;
  auto message = DecodeSignedMessage(bytes);
  if (!message.ok()) {
    Drop(DropReason::kMalformed);
    return Output{};
  }
  // The transport authenticates `from`; a message must come from its signer, and never
  // claims to be from this replica (a duplicated identity is Byzantine).
  if (!validators_.Contains(message->replica) || message->replica != from ||
      from == config_.replica_id) {
    Drop(DropReason::kUnknownSender);
    return Output{};
  }
  if (!VerifyCached(*message)) {
    Drop(DropReason::kBadSignature);
    return Output{};
  }
  HandleMessage(context, from, *message);
  return Finish(context);
}

void Replica::HandleMessage(Context& context, uint32_t from, const SignedMessage& message) {
  switch (message.type) {
    case MessageType::kRequest: return HandleRequest(context, message);
    case MessageType::kPrePrepare: return HandlePrePrepare(context, message);
    case MessageType::kPrepare:
    case MessageType::kCommit: return HandleVote(context, message);
    case MessageType::kCheckpoint: return HandleCheckpoint(context, message);
    case MessageType::kViewChange: return HandleViewChange(context, message);
    case MessageType::kNewView: return HandleNewView(context, message);
    case MessageType::kFetch: return HandleFetch(context, from, message);
    case MessageType::kFetchReply: return HandleFetchReply(context, message);
    case MessageType::kReply: return Drop(DropReason::kInvalidContent);
  }
  Drop(DropReason::kMalformed);
}

Output Replica::OnTick(int64_t now_ms) {
  MELODAI_CHECK(recovered_);
  if (!halt_status_.ok()) return Output{};
  MELODAI_CHECK_GE(now_ms, now_ms_);
  now_ms_ = now_ms;
  if (!started_) {
    started_ = true;
    idle_since_ms_ = now_ms;
    last_progress_ms_ = now_ms;
  }
  Context context;
  MaybePropose(context, /*force=*/false);
  bool work_outstanding = HasUnexecutedWork();
  if (!work_outstanding) idle_since_ms_ = now_ms;
  int64_t timeout = CurrentViewChangeTimeout();
  if (in_view_change_) {
    // Castro & Liskov: the timer towards view v+1 runs only once 2f+1 VIEW-CHANGEs for v are
    // in, so a replica that is alone in suspecting the primary cannot run away through views.
    auto it = view_change_messages_.find(view_);
    bool quorum = it != view_change_messages_.end() && it->second.size() >= validators_.quorum();
    if (!quorum) {
      view_change_started_ms_ = now_ms;
    } else if (now_ms - view_change_started_ms_ >= timeout) {
      ++failed_view_changes_;
      StartViewChange(context, view_ + 1);
    }
  } else if (work_outstanding && now_ms - std::max(idle_since_ms_, last_progress_ms_) >= timeout) {
    StartViewChange(context, view_ + 1);
  }
  if (now_ms - last_retransmit_ms_ >= config_.retransmit_interval_ms) {
    last_retransmit_ms_ = now_ms;
    Retransmit(context);
  }
  SendFetch(context);
  return Finish(context);
}

core::Result<Output> Replica::SubmitRequest(std::string_view transaction_bytes) {
  MELODAI_CHECK(recovered_);
  if (!halt_status_.ok()) return core::UnavailableError("replica halted: " + halt_status_.message());
  auto tx = DecodeTransaction(transaction_bytes);
  if (!tx.ok()) return tx.status();
  if (!VerifyTransactionCached(*tx)) {
    return core::InvalidArgumentError("transaction: bad signature");
  }
  MELODAI_RETURN_IF_ERROR(app_.CheckTransaction(*tx));
  crypto::Digest32 hash = TransactionHash(*tx);
  if (pending_.contains(hash)) return core::AlreadyExistsError("transaction already pending");
  if (pending_.size() >= config_.max_pending_transactions) {
    return core::ResourceExhaustedError("transaction pool full (" +
                                        std::to_string(pending_.size()) + ")");
  }
  Context context;
  Transaction copy = *tx;
  AddPendingTransaction(context, std::move(copy), /*local=*/true);
  if (!is_primary()) {
    // Every replica learns the request, so that a primary that ignores it is suspected by
    // enough replicas to change the view.
    Request request;
    request.transactions.push_back(std::move(tx).value());
    pending_[hash].forwarded_ms = now_ms_;
    Broadcast(context, Sign(context, MessageType::kRequest, EncodeRequest(request), false, 0));
  }
  MaybePropose(context, /*force=*/false);
  return Finish(context);
}

bool Replica::HasUnexecutedWork() const {
  if (!pending_.empty()) return true;
  for (auto it = slots_.upper_bound(last_executed_); it != slots_.end(); ++it) {
    if (it->second->has_pre_prepare) return true;
  }
  return false;
}

bool Replica::AdmitTransaction(const Transaction& tx, DropReason& reason) {
  if (!VerifyTransactionCached(tx)) {
    reason = DropReason::kBadSignature;
    return false;
  }
  if (!app_.CheckTransaction(tx).ok() || pending_.size() >= config_.max_pending_transactions) {
    reason = DropReason::kRejectedTransaction;
    return false;
  }
  return true;
}

void Replica::AddPendingTransaction(Context& /*context*/, Transaction tx, bool local) {
  crypto::Digest32 hash = TransactionHash(tx);
  auto [it, inserted] = pending_.try_emplace(hash);
  if (inserted) {
    if (pending_.size() == 1) idle_since_ms_ = now_ms_;
    it->second.tx = std::move(tx);
    it->second.arrival_ms = now_ms_;
    it->second.forwarded_ms = now_ms_;
    pending_order_.push_back(hash);
  }
  if (local) {
    it->second.local = true;
    local_hashes_.insert(hash);
  }
}

void Replica::HandleRequest(Context& context, const SignedMessage& message) {
  auto request = DecodeRequest(message.body);
  if (!request.ok()) return Drop(DropReason::kMalformed);
  for (Transaction& tx : request->transactions) {
    if (pending_.contains(TransactionHash(tx))) continue;
    DropReason reason = DropReason::kCount;
    if (!AdmitTransaction(tx, reason)) {
      Drop(reason);
      continue;
    }
    AddPendingTransaction(context, std::move(tx), /*local=*/false);
  }
  MaybePropose(context, /*force=*/false);
}

void Replica::MaybePropose(Context& context, bool force) {
  if (!is_primary() || in_view_change_ || !started_) return;
  if (pending_order_.size() > 2 * pending_.size() + 1024) {
    std::vector<crypto::Digest32> compact;
    for (const crypto::Digest32& hash : pending_order_) {
      if (pending_.contains(hash)) compact.push_back(hash);
    }
    pending_order_ = std::move(compact);
  }
  while (next_sequence_ <= last_executed_ + config_.max_in_flight_batches &&
         next_sequence_ <= high_watermark()) {
    Batch batch;
    int64_t oldest_ms = now_ms_;
    std::set<crypto::Digest32> seen;  // pending_order_ may list a hash twice.
    for (const crypto::Digest32& hash : pending_order_) {
      auto it = pending_.find(hash);
      if (it == pending_.end() || it->second.in_flight) continue;
      if (batch.transactions.size() >= config_.max_batch_transactions) break;
      if (!seen.insert(hash).second) continue;
      oldest_ms = std::min(oldest_ms, it->second.arrival_ms);
      batch.transactions.push_back(it->second.tx);
    }
    if (batch.transactions.empty()) return;
    if (!force && batch.transactions.size() < config_.max_batch_transactions &&
        now_ms_ - oldest_ms < config_.batch_delay_ms) {
      return;
    }
    last_timestamp_ms_ = std::max(last_timestamp_ms_, now_ms_);
    batch.timestamp_ms = last_timestamp_ms_;
    batch.view = view_;
    PrePrepare pre_prepare{view_, next_sequence_, std::move(batch)};
    SignedMessage message = Sign(context, MessageType::kPrePrepare,
                                 EncodePrePrepare(pre_prepare), true, next_sequence_);
    ++next_sequence_;
    if (AcceptPrePrepare(context, message, pre_prepare, /*replaying_own=*/false)) {
      Broadcast(context, message);
    }
  }
}

void Replica::HandlePrePrepare(Context& context, const SignedMessage& message) {
  auto pre_prepare = DecodePrePrepare(message.body);
  if (!pre_prepare.ok()) return Drop(DropReason::kMalformed);
  highest_seen_sequence_ = std::max(highest_seen_sequence_, pre_prepare->sequence);
  if (in_view_change_ || pre_prepare->view != view_ ||
      message.replica != validators_.Primary(view_)) {
    return Drop(DropReason::kWrongView);
  }
  // Fresh proposals carry their own view; re-proposed batches arrive inside a NEW-VIEW, and
  // alone only as the primary's retransmission of a pre-prepare this replica already holds.
  if (pre_prepare->batch.view != pre_prepare->view) {
    auto slot = slots_.find(pre_prepare->sequence);
    bool known = slot != slots_.end() && slot->second->has_pre_prepare &&
                 slot->second->view == pre_prepare->view &&
                 slot->second->digest == BatchDigestOf(pre_prepare->sequence, pre_prepare->batch);
    return Drop(known ? DropReason::kStale : DropReason::kInvalidContent);
  }
  for (const Transaction& tx : pre_prepare->batch.transactions) {
    if (!VerifyTransactionCached(tx)) return Drop(DropReason::kBadSignature);
  }
  AcceptPrePrepare(context, message, *pre_prepare, /*replaying_own=*/false);
}

bool Replica::AcceptPrePrepare(Context& context, const SignedMessage& message,
                               const PrePrepare& value, bool replaying_own) {
  if (value.sequence <= low_watermark() || value.sequence > high_watermark()) {
    Drop(DropReason::kOutsideWatermarks);
    return false;
  }
  crypto::Digest32 digest = BatchDigestOf(value.sequence, value.batch);
  std::unique_ptr<Slot>& owned = slots_[value.sequence];
  if (!owned) owned = std::make_unique<Slot>();
  Slot& slot = *owned;
  slot.sequence = value.sequence;
  auto own = slot.own_votes.find(value.view);
  if (own != slot.own_votes.end() && own->second != digest) {
    Drop(DropReason::kConflicting);  // We signed another digest in this view: never switch.
    return false;
  }
  if (slot.has_pre_prepare && slot.view == value.view) {
    if (slot.digest != digest) Drop(DropReason::kConflicting);
    return false;
  }
  if (slot.has_pre_prepare && slot.view > value.view) {
    Drop(DropReason::kStale);
    return false;
  }
  slot.has_pre_prepare = true;
  slot.view = value.view;
  slot.pre_prepare = message;
  slot.batch = value.batch;
  slot.digest = digest;
  slot.prepared = false;
  slot.committed = false;
  slot.own_prepare.reset();
  slot.own_commit.reset();
  slot.own_votes[value.view] = digest;
  for (const Transaction& tx : value.batch.transactions) {
    auto it = pending_.find(TransactionHash(tx));
    if (it != pending_.end()) it->second.in_flight = true;
  }
  if (!replaying_own && validators_.Primary(value.view) != config_.replica_id) {
    Vote vote{value.view, value.sequence, digest};
    SignedMessage prepare =
        Sign(context, MessageType::kPrepare, EncodeVote(vote), true, value.sequence);
    slot.own_prepare = prepare;
    slot.prepares[config_.replica_id] = {vote, prepare};
    Broadcast(context, prepare);
  }
  AdvanceSlot(context, value.sequence);
  return true;
}

void Replica::HandleVote(Context& context, const SignedMessage& message) {
  auto vote = DecodeVote(message.body);
  if (!vote.ok()) return Drop(DropReason::kMalformed);
  // Any signed vote shows how far the cluster got, whatever its view: a hint for state
  // transfer (a lying peer only causes a wasted fetch).
  highest_seen_sequence_ = std::max(highest_seen_sequence_, vote->sequence);
  if (in_view_change_ || vote->view != view_) return Drop(DropReason::kWrongView);
  if (vote->sequence <= low_watermark() || vote->sequence > high_watermark()) {
    return Drop(DropReason::kOutsideWatermarks);
  }
  if (message.type == MessageType::kPrepare && message.replica == validators_.Primary(view_)) {
    return Drop(DropReason::kInvalidContent);  // The primary's pre-prepare is its prepare.
  }
  highest_seen_sequence_ = std::max(highest_seen_sequence_, vote->sequence);
  AddVote(context, message, *vote);
}

void Replica::AddVote(Context& context, const SignedMessage& message, const Vote& vote) {
  std::unique_ptr<Slot>& owned = slots_[vote.sequence];
  if (!owned) owned = std::make_unique<Slot>();
  owned->sequence = vote.sequence;
  auto& votes = message.type == MessageType::kPrepare ? owned->prepares : owned->commits;
  auto it = votes.find(message.replica);
  if (it != votes.end() && it->second.first.view > vote.view) return Drop(DropReason::kStale);
  votes[message.replica] = {vote, message};
  AdvanceSlot(context, vote.sequence);
}

namespace {

template <typename Votes>
std::vector<const SignedMessage*> Matching(const Votes& votes, uint64_t view,
                                           const crypto::Digest32& digest) {
  std::vector<const SignedMessage*> out;
  for (const auto& [replica, entry] : votes) {
    if (entry.first.view == view && entry.first.digest == digest) out.push_back(&entry.second);
  }
  return out;
}

}  // namespace

void Replica::AdvanceSlot(Context& context, uint64_t sequence) {
  Slot& slot = *slots_.at(sequence);
  if (!slot.has_pre_prepare) return;
  if (!slot.prepared) {
    auto prepares = Matching(slot.prepares, slot.view, slot.digest);
    if (prepares.size() < 2 * validators_.f()) return;
    slot.prepared = true;
    PreparedProof proof{slot.pre_prepare, {}};
    for (size_t i = 0; i < 2 * validators_.f(); ++i) proof.prepares.push_back(*prepares[i]);
    context.batch.Put(Column::kConsensus, keys::Prepared(sequence), EncodePreparedProof(proof));
    slot.prepared_proof = std::move(proof);
    slot.prepared_view = slot.view;
    if (!in_view_change_ && slot.view == view_) {
      Vote vote{slot.view, sequence, slot.digest};
      SignedMessage commit = Sign(context, MessageType::kCommit, EncodeVote(vote), true, sequence);
      slot.own_commit = commit;
      slot.commits[config_.replica_id] = {vote, commit};
      Broadcast(context, commit);
    }
  }
  if (!slot.committed) {
    if (Matching(slot.commits, slot.view, slot.digest).size() < validators_.quorum()) return;
    slot.committed = true;
    ExecuteReady(context);
  }
}

void Replica::ExecuteReady(Context& context) {
  while (true) {
    auto it = slots_.find(last_executed_ + 1);
    if (it == slots_.end() || !it->second->committed) break;
    Slot& slot = *it->second;
    CommitCertificate certificate{slot.view, slot.sequence, slot.digest, {}};
    for (const SignedMessage* commit : Matching(slot.commits, slot.view, slot.digest)) {
      if (certificate.votes.size() == validators_.quorum()) break;
      certificate.votes.push_back({commit->replica, commit->signature});
    }
    MELODAI_CHECK_EQ(certificate.votes.size(), validators_.quorum());
    ExecuteBatch(context, slot.sequence, slot.batch, certificate);
  }
  MaybePropose(context, /*force=*/false);
}

void Replica::ExecuteBatch(Context& context, uint64_t sequence, const Batch& batch,
                           const CommitCertificate& certificate) {
  MELODAI_CHECK_EQ(sequence, last_executed_ + 1);
  MELODAI_CHECK_EQ(certificate.height, sequence);
  MELODAI_CHECK_GE(certificate.view, batch.view);
  CommittedBlock committed;
  Block& block = committed.block;
  block.header.height = sequence;
  block.header.previous_hash = BlockHash(last_header_);
  block.header.timestamp_ms = batch.timestamp_ms;
  block.header.transactions_root = TransactionsRoot(batch.transactions);
  block.header.view = batch.view;
  block.header.proposer = validators_.Primary(batch.view);
  block.transactions = batch.transactions;
  ExecutionOutcome outcome = app_.ExecuteBlock(block);
  MELODAI_CHECK_EQ(outcome.codes.size(), block.transactions.size());
  block.header.state_root = outcome.state_root;
  committed.codes = std::move(outcome.codes);
  committed.certificate = certificate;
  context.batch.Put(Column::kBlocks, keys::Block(sequence), EncodeStoredBlock(block, certificate));
  context.batch.Put(Column::kMeta, keys::kHeight, keys::BigEndian(sequence));
  last_header_ = block.header;
  last_executed_ = sequence;
  last_timestamp_ms_ = std::max(last_timestamp_ms_, block.header.timestamp_ms);
  last_progress_ms_ = now_ms_;
  failed_view_changes_ = 0;
  metrics_.committed_transactions += block.transactions.size();
  Reply reply{view_, sequence, BlockHash(block.header), {}};
  ClientReply client_reply;
  for (size_t i = 0; i < block.transactions.size(); ++i) {
    crypto::Digest32 hash = TransactionHash(block.transactions[i]);
    pending_.erase(hash);
    if (local_hashes_.erase(hash) > 0) {
      reply.entries.push_back({hash, committed.codes[i]});
      client_reply.transaction_hashes.push_back(hash);
    }
  }
  if (!reply.entries.empty()) {
    client_reply.bytes = EncodeSignedMessage(
        Sign(context, MessageType::kReply, EncodeReply(reply), false, sequence));
    context.output.replies.push_back(std::move(client_reply));
  }
  if (sequence % config_.checkpoint_interval == 0) {
    context.batch.Put(Column::kState, keys::Snapshot(sequence),
                      EncodeStoredSnapshot(block.header, app_.Snapshot()));
    SendCheckpoint(context, sequence, BlockHash(block.header));
  }
  context.output.committed.push_back(std::move(committed));
}

}  // namespace melodai::ledger::pbft
