// MelodAI — licensed under the Apache License 2.0.
// A minimal token-transfer ledger::Application: accounts with integer balances and nonces,
// created at genesis or on first receipt; one transaction type, Transfer. Total supply is
// fixed at genesis and conserved by every block.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "ledger/chain/application.h"

namespace melodai::app {

// Transaction type of a transfer; payload = recipient key [32] | amount u64 (base units).
inline constexpr uint8_t kTransferType = 1;
inline constexpr size_t kTransferPayloadBytes = 32 + 8;
// CheckTransaction admits nonces in [next, next + kMaxNonceGap) so clients may pipeline.
inline constexpr uint64_t kMaxNonceGap = 64;
inline constexpr size_t kMaxAccounts = 10'000'000;

// Execution codes (ledger::TransactionCode); 0 is ledger::kTransactionApplied.
enum TransferCode : ledger::TransactionCode {
  kCodeBadNonce = 1,           // Nonce != the sender's next nonce; nothing changes.
  kCodeUnknownSender = 2,      // The sender has no account; nothing changes.
  kCodeUnknownType = 3,        // Nonce consumed, nothing else.
  kCodeMalformedPayload = 4,   // Nonce consumed, nothing else.
  kCodeInsufficientFunds = 5,  // Nonce consumed, nothing else.
};

struct Account {
  uint64_t balance = 0;
  uint64_t next_nonce = 0;
  friend bool operator==(const Account&, const Account&) = default;
};

struct TransferPayload {
  crypto::Ed25519PublicKey recipient;
  uint64_t amount = 0;
};
std::string EncodeTransferPayload(const TransferPayload& payload);
// kInvalidArgument unless exactly kTransferPayloadBytes.
core::Result<TransferPayload> DecodeTransferPayload(std::string_view bytes);

// A signed transfer of `amount` from key's account to `recipient` with `nonce`.
ledger::Transaction MakeTransfer(const crypto::Ed25519KeyPair& key, uint64_t nonce,
                                 const crypto::Ed25519PublicKey& recipient, uint64_t amount);

// Invariants: the sum of balances equals total_supply() (fits in uint64_t); accounts_ is
// ordered by key, which fixes the state root and snapshot bytes. Not thread-safe.
class TransferApp final : public ledger::Application {
 public:
  // kInvalidArgument on duplicate genesis keys or a total supply overflowing uint64_t.
  static core::Result<TransferApp> Create(
      std::vector<std::pair<crypto::Ed25519PublicKey, uint64_t>> genesis_balances);

  core::Status CheckTransaction(const ledger::Transaction& tx) const override;
  ledger::ExecutionOutcome ExecuteBlock(const ledger::Block& block) override;
  crypto::Digest32 StateRoot() const override;
  // Requests: "balance/<hex key>", "nonce/<hex key>", "supply". Answers in decimal.
  core::Result<std::string> Query(std::string_view request) const override;
  // Snapshot: "MTA1" | account_count u64 | (key [32] | balance u64 | next_nonce u64)* in key
  // order. Restore rejects bad magic, unsorted/duplicate keys, overflow or trailing bytes.
  std::string Snapshot() const override;
  core::Status Restore(std::string_view snapshot) override;

  uint64_t total_supply() const { return total_supply_; }
  // Sum of all balances, recomputed (for invariant checks).
  uint64_t SumOfBalances() const;
  Account GetAccount(const crypto::Ed25519PublicKey& key) const;
  size_t account_count() const { return accounts_.size(); }

 private:
  TransferApp() = default;
  ledger::TransactionCode Apply(const ledger::Transaction& tx);

  std::map<crypto::Ed25519PublicKey, Account> accounts_;
  uint64_t total_supply_ = 0;
};

}  // namespace melodai::app
