// MelodAI — licensed under the Apache License 2.0.
// Client side of PBFT replies: a transaction's result is accepted once f+1 replicas sent
// matching signed REPLY messages for it (at least one of them is correct).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "core/status.h"
#include "crypto/hash.h"
#include "ledger/chain/validator_set.h"
#include "ledger/pbft/messages.h"

namespace melodai::ledger::pbft {

struct AcceptedReply {
  uint64_t height = 0;
  crypto::Digest32 block_hash{};
  TransactionCode code = 0;
  friend bool operator==(const AcceptedReply&, const AcceptedReply&) = default;
};

// Collects replies for the transactions one client waits for.
// Invariants: at most one counted reply per (transaction, replica) — the latest; a result is
// returned only with f+1 distinct replicas agreeing on (height, block hash, code).
// Borrows `validators`, which must outlive it. Not thread-safe.
class ReplyCollector {
 public:
  explicit ReplyCollector(const ValidatorSet& validators) : validators_(validators) {}

  // Starts waiting for `transaction_hash` (replies for other hashes are ignored).
  void Expect(const crypto::Digest32& transaction_hash);

  // Adds one encoded REPLY message. Returns the hashes newly accepted by this reply.
  // kDataLoss when the bytes are malformed, kInvalidArgument on a bad signature or a message
  // that is not a REPLY from a validator.
  core::Result<std::vector<crypto::Digest32>> Add(std::string_view reply_bytes);

  // The accepted result for `transaction_hash`, if f+1 replicas agreed.
  std::optional<AcceptedReply> Result(const crypto::Digest32& transaction_hash) const;
  size_t waiting() const { return votes_.size(); }

 private:
  const ValidatorSet& validators_;
  // transaction -> replica -> its reply.
  std::map<crypto::Digest32, std::map<uint32_t, AcceptedReply>> votes_;
  std::map<crypto::Digest32, AcceptedReply> accepted_;
};

}  // namespace melodai::ledger::pbft
