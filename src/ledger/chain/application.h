// MelodAI — licensed under the Apache License 2.0.
// The interface between consensus and the replicated state machine. Consensus orders opaque
// transactions and calls these functions; it knows nothing of tokens.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/hash.h"
#include "ledger/chain/block.h"
#include "ledger/chain/transaction.h"

namespace melodai::ledger {

// Per-transaction result of execution; 0 means applied. Other values are Application-defined
// and deterministic (the same on every replica), so clients can match f+1 replies.
using TransactionCode = uint32_t;
inline constexpr TransactionCode kTransactionApplied = 0;

struct ExecutionOutcome {
  crypto::Digest32 state_root{};
  std::vector<TransactionCode> codes;  // One per transaction of the block, in order.
};

// Implementations are deterministic functions of (state, input): no clocks, no randomness,
// no unordered iteration in anything that reaches the state root. Not thread-safe: the replica
// calls them from its single thread.
class Application {
 public:
  virtual ~Application() = default;

  // Admission check of a signed transaction against the current state (known type, payload
  // well formed, nonce not already used). Signatures are checked by the caller. Returns
  // kInvalidArgument or kFailedPrecondition naming the problem.
  virtual core::Status CheckTransaction(const Transaction& tx) const = 0;

  // Executes the transactions of `block` in order and returns the new state root and one code
  // per transaction. Total: a transaction that cannot apply gets a non-zero code and leaves the
  // state unchanged except for what the Application documents (e.g. a consumed nonce).
  // block.header.state_root is ignored (it is the output).
  virtual ExecutionOutcome ExecuteBlock(const Block& block) = 0;

  // The current state root (of the empty state before any block).
  virtual crypto::Digest32 StateRoot() const = 0;

  // Answers a read-only request; the format is Application-defined. kInvalidArgument on a
  // malformed request, kNotFound when the object is absent.
  virtual core::Result<std::string> Query(std::string_view request) const = 0;

  // A self-contained encoding of the whole state, for checkpoints and state transfer.
  virtual std::string Snapshot() const = 0;

  // Replaces the state by a decoded snapshot. kDataLoss on malformed bytes; then the state is
  // unchanged.
  virtual core::Status Restore(std::string_view snapshot) = 0;
};

}  // namespace melodai::ledger
