// MelodAI — licensed under the Apache License 2.0.
// LedgerClient: talks to the client ports of a validator set, as PBFT clients do. It submits
// signed transactions, verifies each replica's signed REPLY against the genesis validator
// keys, and reports a transaction as committed once f+1 distinct replicas sent matching
// results (height, block hash, code). Used by `melodai tx`, `melodai bench ledger` and tests.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "crypto/hash.h"
#include "ledger/chain/transaction.h"
#include "net/blocking_client.h"
#include "net/client_protocol.h"
#include "node/genesis.h"

namespace melodai::node {

struct Confirmation {
  crypto::Digest32 transaction_hash{};
  uint32_t code = 0;  // ledger::TransactionCode; 0 = applied.
  uint64_t height = 0;
  crypto::Digest32 block_hash{};
};

struct ClientRejection {
  uint32_t validator = 0;
  net::Rejection rejection;
};

// Invariants: one receiver thread per connected validator runs until destruction; a
// transaction is confirmed at most once; votes are keyed by distinct validator ids whose
// signatures verified. Thread-safe: any thread may submit and wait.
class LedgerClient {
 public:
  // Connects to every validator's client port; unreachable ones are skipped (logged).
  // kUnavailable when fewer than f+1 are reachable.
  static core::Result<std::unique_ptr<LedgerClient>> Connect(const Genesis& genesis,
                                                             int timeout_ms);
  ~LedgerClient();
  LedgerClient(const LedgerClient&) = delete;
  LedgerClient& operator=(const LedgerClient&) = delete;

  // Submits `tx` to the validators in `targets` (all connected ones when empty). Returns its
  // hash. kUnavailable when no target could be written.
  core::Result<crypto::Digest32> Submit(const ledger::Transaction& tx,
                                        const std::vector<uint32_t>& targets = {});
  // Submits many transactions, each to the targets chosen by `targets_of(index)`.
  core::Status SubmitMany(const std::vector<std::string>& encoded,
                          const std::vector<std::vector<uint32_t>>& targets);

  // Asks validator targets[i] to reply for hashes[i] once it commits, without submitting it
  // there (the transaction goes to the primary only). kUnavailable when nothing was written.
  core::Status WatchMany(const std::vector<crypto::Digest32>& hashes,
                         const std::vector<uint32_t>& targets);

  // Waits up to timeout_ms for confirmations; returns those not returned before.
  std::vector<Confirmation> TakeConfirmations(int timeout_ms);
  // Rejections received so far (cleared by the call).
  std::vector<ClientRejection> TakeRejections();

  // Asks validator `validator` for its status / an application query.
  core::Result<net::NodeStatus> Status(uint32_t validator, int timeout_ms);
  core::Result<std::string> Query(uint32_t validator, const std::string& request, int timeout_ms);

  std::vector<uint32_t> connected() const;
  uint32_t reply_quorum() const { return static_cast<uint32_t>(genesis_.max_faulty() + 1); }
  uint64_t invalid_replies() const;

 private:
  struct Peer;
  explicit LedgerClient(Genesis genesis);
  void ReceiveLoop(Peer& peer);
  void OnReply(uint32_t validator, std::string_view bytes);
  void OnOther(uint32_t validator, const net::ClientMessage& message);

  const Genesis genesis_;
  std::vector<std::unique_ptr<Peer>> peers_;  // Index = validator id; null when unreachable.
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  struct VoteKey {
    uint32_t code;
    uint64_t height;
    crypto::Digest32 block_hash;
    auto operator<=>(const VoteKey&) const = default;
  };
  std::map<crypto::Digest32, std::map<VoteKey, std::set<uint32_t>>> votes_;  // GUARDED_BY(mutex_)
  std::set<crypto::Digest32> confirmed_;                   // GUARDED_BY(mutex_)
  std::vector<Confirmation> new_confirmations_;            // GUARDED_BY(mutex_)
  std::vector<ClientRejection> rejections_;                // GUARDED_BY(mutex_)
  std::map<uint32_t, std::vector<net::ClientMessage>> answers_;  // GUARDED_BY(mutex_)
  uint64_t invalid_replies_ = 0;                           // GUARDED_BY(mutex_)
  bool stopping_ = false;                                  // GUARDED_BY(mutex_)
};

}  // namespace melodai::node
