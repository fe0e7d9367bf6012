// MelodAI — licensed under the Apache License 2.0.
// The PBFT replica (Castro & Liskov, OSDI 1999 / TOCS 2002) as a deterministic state machine:
// bytes from peers, ticks and client transactions go in; messages to send, client replies and
// committed blocks come out. No threads, no clocks, no randomness: the host drives it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "ledger/chain/application.h"
#include "ledger/chain/block.h"
#include "ledger/chain/certificate.h"
#include "ledger/chain/validator_set.h"
#include "ledger/pbft/messages.h"
#include "ledger/storage/kv_store.h"

namespace melodai::ledger::pbft {

struct ReplicaConfig {
  uint32_t replica_id = 0;
  // Checkpoint every K executed blocks; the log window L (high - low watermark) is a multiple.
  uint64_t checkpoint_interval = 16;
  uint64_t watermark_window = 64;
  // Batches the primary may have pre-prepared but not yet executed.
  uint64_t max_in_flight_batches = 4;
  uint32_t max_batch_transactions = 2000;
  uint64_t max_pending_transactions = 200'000;
  // With fewer than max_batch_transactions pending the primary waits this long for more.
  int64_t batch_delay_ms = 0;
  // No execution progress for this long while work is outstanding starts a view change; the
  // timeout doubles for each consecutive view change without progress (capped).
  int64_t view_change_timeout_ms = 1000;
  int64_t max_view_change_timeout_ms = 32'000;
  // Period of retransmissions (own in-progress messages, forwarded requests, fetches).
  int64_t retransmit_interval_ms = 200;
  uint32_t max_fetch_blocks = 64;
  // A lagging replica more than this many blocks behind a stable checkpoint asks for a snapshot.
  uint64_t snapshot_transfer_threshold = 256;
  // Block timestamp of the genesis header (height 0).
  int64_t genesis_timestamp_ms = 0;
};

// Why an input was dropped. Values index Replica::dropped().
enum class DropReason : uint8_t {
  kMalformed = 0,       // Bytes did not decode.
  kUnknownSender,       // Replica id outside the validator set, or sender != claimed id.
  kBadSignature,        // Signature invalid (envelope, nested message or transaction).
  kWrongView,           // For a view other than the current one, or sent by a non-primary.
  kOutsideWatermarks,   // Sequence outside (low, high].
  kConflicting,         // A second, different pre-prepare for the same (view, sequence).
  kInvalidContent,      // Well-signed but wrong: bad batch, proof or certificate.
  kStale,               // Already executed or garbage-collected.
  kRejectedTransaction, // A client transaction failed admission.
  kCount,
};
inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);
std::string_view DropReasonName(DropReason reason);

struct OutboundMessage {
  static constexpr uint32_t kBroadcast = UINT32_MAX;  // To every other replica.
  uint32_t target = kBroadcast;
  std::string bytes;  // An encoded SignedMessage.
};

// A signed REPLY for the transactions of one block that this replica received from clients
// through SubmitRequest. The host routes it to those clients (they wait for f+1 matches).
struct ClientReply {
  std::vector<crypto::Digest32> transaction_hashes;
  std::string bytes;  // An encoded SignedMessage of type kReply.
};

struct CommittedBlock {
  Block block;
  std::vector<TransactionCode> codes;
  CommitCertificate certificate;
};

// Everything one call produced. Messages may be sent only after the call returns: the replica
// has already made durable (sync write) everything it signed.
struct Output {
  std::vector<OutboundMessage> messages;
  std::vector<ClientReply> replies;
  std::vector<CommittedBlock> committed;
};

struct ReplicaMetrics {
  uint64_t height = 0;              // Last executed block.
  uint64_t view = 0;
  bool in_view_change = false;
  uint64_t stable_checkpoint = 0;   // The low watermark.
  uint64_t view_changes = 0;        // Views entered since start (or recovery).
  uint64_t committed_transactions = 0;
  uint64_t pending_transactions = 0;
  uint64_t fetched_blocks = 0;      // Blocks executed from state transfer.
  uint64_t snapshots_installed = 0;
  std::array<uint64_t, kDropReasonCount> dropped{};
};

// Invariants (checked with MELODAI_CHECK where cheap):
//  * stable_checkpoint <= height and every log slot has low < sequence <= low + L;
//  * a slot holds at most one accepted pre-prepare per view, and this replica never signs two
//    different digests for the same (view, sequence) — also across restarts, because every
//    signed message is written (sync) to the KvStore before the call that made it returns;
//  * blocks are executed exactly once, in height order, and block h is stored with its commit
//    certificate before any output mentioning it leaves the call;
//  * after a store failure the replica halts: status() is the error and it produces nothing.
//
// Threading: none. Every method must be called from one thread at a time (the caller
// serialises); the replica never blocks except inside KvStore::Write.
// Ownership: `store` and `app` are borrowed and must outlive the replica; the replica is the
// only writer of its KvStore columns kBlocks, kConsensus, kState and of kMeta keys "pbft/*".
class Replica {
 public:
  // REQUIRES: config.replica_id < validators.n(); key.public_key() equals
  // validators.key(config.replica_id); watermark_window is a positive multiple of
  // checkpoint_interval and >= 2 * checkpoint_interval; `app` is in its genesis state.
  Replica(ReplicaConfig config, ValidatorSet validators, crypto::Ed25519KeyPair key,
          KvStore& store, Application& app);
  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Loads the replica's state from the store: the latest checkpoint snapshot, the blocks after
  // it (re-executed and checked against their stored state roots), the view and every message
  // it signed. A fresh store starts at genesis. REQUIRES: called once, before any other input.
  // kDataLoss when the store holds malformed or inconsistent data, kIoError when it fails.
  core::Status Recover();

  // Handles one message from peer `from` (the authenticated transport identity). Invalid
  // messages are dropped and counted in metrics().dropped, never trusted.
  Output OnMessage(uint32_t from, std::string_view bytes);

  // Advances time: batching, retransmission, view-change and fetch timers. `now_ms` is the
  // host's monotonic milliseconds (the primary also uses it as block timestamp, clamped so
  // timestamps never decrease); it must not decrease between calls.
  Output OnTick(int64_t now_ms);

  // Admits a client transaction (its wire encoding) and forwards it to the primary.
  // kDataLoss when it does not decode, kInvalidArgument on a bad signature, the Application's
  // code when CheckTransaction refuses it, kResourceExhausted when the pool is full,
  // kAlreadyExists when it is already pending, kUnavailable after a store failure.
  core::Result<Output> SubmitRequest(std::string_view transaction_bytes);

  ReplicaMetrics metrics() const;
  uint64_t height() const { return last_executed_; }
  uint64_t view() const { return view_; }
  uint32_t id() const { return config_.replica_id; }
  bool is_primary() const { return validators_.Primary(view_) == config_.replica_id; }
  // OK, or the storage error that halted the replica.
  const core::Status& status() const { return halt_status_; }
  const BlockHeader& last_header() const { return last_header_; }

  // Reads a committed block and its certificate from the store; kNotFound above height().
  core::Result<CommittedBlock> ReadBlock(uint64_t height) const;

 private:
  struct Slot;
  struct CheckpointVotes;
  class Context;  // Per-call accumulator: outputs and the pending WriteBatch.

  // Input handlers (replica.cc).
  void HandleMessage(Context& context, uint32_t from, const SignedMessage& message);
  void HandleRequest(Context& context, const SignedMessage& message);
  void HandlePrePrepare(Context& context, const SignedMessage& message);
  void HandleVote(Context& context, const SignedMessage& message);
  void HandleCheckpoint(Context& context, const SignedMessage& message);
  void HandleViewChange(Context& context, const SignedMessage& message);
  void HandleNewView(Context& context, const SignedMessage& message);
  void HandleFetch(Context& context, uint32_t from, const SignedMessage& message);
  void HandleFetchReply(Context& context, const SignedMessage& message);

  // Normal case (replica.cc).
  void MaybePropose(Context& context, bool force);
  bool AcceptPrePrepare(Context& context, const SignedMessage& message, const PrePrepare& value,
                        bool replaying_own);
  void AddVote(Context& context, const SignedMessage& message, const Vote& vote);
  void AdvanceSlot(Context& context, uint64_t sequence);
  void ExecuteReady(Context& context);
  void ExecuteBatch(Context& context, uint64_t sequence, const Batch& batch,
                    const CommitCertificate& certificate);
  void AddPendingTransaction(Context& context, Transaction tx, bool local);
  bool AdmitTransaction(const Transaction& tx, DropReason& reason);
  bool HasUnexecutedWork() const;

  // Checkpoints, view change and state transfer (replica_view.cc).
  void SendCheckpoint(Context& context, uint64_t sequence, const crypto::Digest32& block_hash);
  void MaybeStabilize(Context& context, uint64_t sequence);
  void CollectGarbage(Context& context, uint64_t stable_sequence);
  void AdoptStableCheckpoint(Context& context, uint64_t sequence,
                             std::vector<SignedMessage> proof);
  void StartViewChange(Context& context, uint64_t new_view);
  void MaybeSendNewView(Context& context, uint64_t new_view);
  void InstallNewView(Context& context, const NewView& value, const SignedMessage& message);
  core::Status VerifyViewChange(const SignedMessage& message, ViewChange& value);
  core::Status VerifyCheckpointProof(const std::vector<SignedMessage>& proof, uint64_t sequence,
                                     crypto::Digest32& block_hash);
  void SendFetch(Context& context);
  void Retransmit(Context& context);
  core::Status InstallSnapshot(Context& context, const SnapshotTransfer& transfer);

  // Signatures, persistence, helpers (replica_state.cc).
  bool VerifyCached(const SignedMessage& message);
  bool VerifyTransactionCached(const Transaction& tx);
  void RememberVerified(const crypto::Digest32& digest);
  SignedMessage Sign(Context& context, MessageType type, std::string body, bool persist,
                     uint64_t sequence);
  void Broadcast(Context& context, const SignedMessage& message);
  void SendTo(Context& context, uint32_t target, const SignedMessage& message);
  void Drop(DropReason reason);
  void PersistView(Context& context);
  Output Finish(Context& context);
  core::Status RecoverBlocks();
  core::Status RecoverConsensus(Context& context);
  core::Status RecoverOwnMessages(Context& context);
  uint64_t low_watermark() const { return stable_checkpoint_; }
  uint64_t high_watermark() const { return stable_checkpoint_ + config_.watermark_window; }
  int64_t CurrentViewChangeTimeout() const;

  const ReplicaConfig config_;
  const ValidatorSet validators_;
  const crypto::Ed25519KeyPair key_;
  KvStore& store_;
  Application& app_;

  core::Status halt_status_;
  bool recovered_ = false;
  int64_t now_ms_ = 0;

  // View state.
  uint64_t view_ = 0;
  bool in_view_change_ = false;
  uint64_t view_changes_ = 0;
  uint32_t failed_view_changes_ = 0;  // Consecutive, for the timeout back-off.
  int64_t view_change_started_ms_ = 0;
  std::map<uint64_t, std::map<uint32_t, SignedMessage>> view_change_messages_;  // view -> from
  std::optional<SignedMessage> own_view_change_;
  std::optional<SignedMessage> latest_new_view_;  // For the current view, if view > 0.

  // Log.
  std::map<uint64_t, std::unique_ptr<Slot>> slots_;
  uint64_t next_sequence_ = 1;  // Primary only: the next sequence to pre-prepare.
  uint64_t last_executed_ = 0;
  BlockHeader last_header_;
  int64_t last_progress_ms_ = 0;
  uint64_t highest_seen_sequence_ = 0;

  // Checkpoints.
  uint64_t stable_checkpoint_ = 0;
  std::vector<SignedMessage> stable_proof_;
  std::map<uint64_t, std::unique_ptr<CheckpointVotes>> checkpoints_;
  std::map<uint64_t, crypto::Digest32> own_checkpoints_;  // Executed checkpoint -> block hash.
  std::map<uint64_t, SignedMessage> own_checkpoint_messages_;

  // Requests.
  struct PendingTransaction {
    Transaction tx;
    int64_t arrival_ms = 0;
    int64_t forwarded_ms = -1;
    bool local = false;        // Submitted here: this replica replies for it.
    bool in_flight = false;    // Part of an accepted pre-prepare not yet executed.
  };
  std::map<crypto::Digest32, PendingTransaction> pending_;
  std::vector<crypto::Digest32> pending_order_;  // Arrival order (may hold removed hashes).
  std::set<crypto::Digest32> local_hashes_;       // Submitted here, awaiting execution.

  // Timers.
  int64_t last_retransmit_ms_ = 0;
  int64_t last_fetch_ms_ = -1'000'000'000;
  uint32_t fetch_peer_ = 0;
  std::map<uint32_t, int64_t> fetch_served_ms_;  // Peer -> when we last answered its FETCH.
  bool started_ = false;          // The first OnTick initialises the timers.
  bool recovery_fetch_ = false;   // Ask every peer for newer blocks once after Recover.
  int64_t idle_since_ms_ = 0;     // Start of the current wait for work to progress.
  int64_t last_timestamp_ms_ = 0; // Highest block timestamp proposed or executed.

  // Signature cache: digests of signed bytes + signature (messages) and transaction hashes
  // already verified, FIFO-bounded. Only valid signatures enter it.
  std::set<crypto::Digest32> verified_;
  std::vector<crypto::Digest32> verified_order_;
  size_t verified_next_ = 0;

  ReplicaMetrics metrics_;
};

}  // namespace melodai::ledger::pbft
