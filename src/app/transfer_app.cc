// MelodAI — licensed under the Apache License 2.0.
// The token-transfer application: execution, admission, state root, queries, snapshots.

#include "app/transfer_app.h"

#include <span>

#include "core/bytes.h"
#include "crypto/hash.h"
#include "crypto/merkle.h"

namespace melodai::app {
namespace {

constexpr std::string_view kSnapshotMagic = "MTA1";
constexpr size_t kAccountRecordBytes = 32 + 8 + 8;

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void PutAccount(core::ByteWriter& writer, const crypto::Ed25519PublicKey& key,
                const Account& account) {
  writer.PutRaw(key.bytes.data(), key.bytes.size());
  writer.PutU64(account.balance);
  writer.PutU64(account.next_nonce);
}

core::Result<crypto::Ed25519PublicKey> ParseKey(std::string_view hex) {
  auto bytes = crypto::FromHex(hex);
  if (!bytes.ok() || bytes->size() != 32) {
    return core::InvalidArgumentError("query: expected a 64-digit hex key, got '" +
                                      std::string(hex.substr(0, 80)) + "'");
  }
  crypto::Ed25519PublicKey key;
  std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
  return key;
}

}  // namespace

std::string EncodeTransferPayload(const TransferPayload& payload) {
  core::ByteWriter writer;
  writer.PutRaw(payload.recipient.bytes.data(), payload.recipient.bytes.size());
  writer.PutU64(payload.amount);
  return writer.Release();
}

core::Result<TransferPayload> DecodeTransferPayload(std::string_view bytes) {
  if (bytes.size() != kTransferPayloadBytes) {
    return core::InvalidArgumentError("transfer payload: " + std::to_string(bytes.size()) +
                                      " bytes, expected " +
                                      std::to_string(kTransferPayloadBytes));
  }
  core::ByteReader reader(bytes);
  TransferPayload payload;
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(payload.recipient.bytes.data(), 32, "recipient"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(payload.amount, "amount"));
  return payload;
}

ledger::Transaction MakeTransfer(const crypto::Ed25519KeyPair& key, uint64_t nonce,
                                 const crypto::Ed25519PublicKey& recipient, uint64_t amount) {
  ledger::Transaction tx;
  tx.type = kTransferType;
  tx.sender = key.public_key();
  tx.nonce = nonce;
  tx.payload = EncodeTransferPayload({recipient, amount});
  ledger::SignTransaction(tx, key);
  return tx;
}

core::Result<TransferApp> TransferApp::Create(
    std::vector<std::pair<crypto::Ed25519PublicKey, uint64_t>> genesis_balances) {
  TransferApp app;
  for (const auto& [key, balance] : genesis_balances) {
    if (!app.accounts_.emplace(key, Account{balance, 0}).second) {
      return core::InvalidArgumentError("transfer app genesis: duplicate account " +
                                        crypto::ToHex(key.bytes));
    }
    if (balance > UINT64_MAX - app.total_supply_) {
      return core::InvalidArgumentError("transfer app genesis: total supply overflows");
    }
    app.total_supply_ += balance;
  }
  return app;
}

core::Status TransferApp::CheckTransaction(const ledger::Transaction& tx) const {
  if (tx.type != kTransferType) {
    return core::InvalidArgumentError("transfer app: unknown transaction type " +
                                      std::to_string(tx.type));
  }
  MELODAI_ASSIGN_OR_RETURN(TransferPayload payload, DecodeTransferPayload(tx.payload));
  auto it = accounts_.find(tx.sender);
  if (it == accounts_.end()) {
    return core::FailedPreconditionError("transfer app: sender has no account");
  }
  const Account& account = it->second;
  if (tx.nonce < account.next_nonce || tx.nonce - account.next_nonce >= kMaxNonceGap) {
    return core::FailedPreconditionError("transfer app: nonce " + std::to_string(tx.nonce) +
                                         " outside [" + std::to_string(account.next_nonce) +
                                         ", +" + std::to_string(kMaxNonceGap) + ")");
  }
  if (payload.amount > account.balance) {
    return core::FailedPreconditionError("transfer app: insufficient funds");
  }
  return core::Status::Ok();
}

ledger::TransactionCode TransferApp::Apply(const ledger::Transaction& tx) {
  auto sender = accounts_.find(tx.sender);
  if (sender == accounts_.end()) return kCodeUnknownSender;
  if (tx.nonce != sender->second.next_nonce) return kCodeBadNonce;
  ++sender->second.next_nonce;
  if (tx.type != kTransferType) return kCodeUnknownType;
  auto payload = DecodeTransferPayload(tx.payload);
  if (!payload.ok()) return kCodeMalformedPayload;
  if (payload->amount > sender->second.balance) return kCodeInsufficientFunds;
  if (!accounts_.contains(payload->recipient) && accounts_.size() >= kMaxAccounts) {
    return kCodeMalformedPayload;
  }
  sender->second.balance -= payload->amount;
  // The recipient's balance cannot overflow: all balances sum to total_supply_.
  accounts_[payload->recipient].balance += payload->amount;
  return ledger::kTransactionApplied;
}

ledger::ExecutionOutcome TransferApp::ExecuteBlock(const ledger::Block& block) {
  ledger::ExecutionOutcome outcome;
  outcome.codes.reserve(block.transactions.size());
  for (const ledger::Transaction& tx : block.transactions) outcome.codes.push_back(Apply(tx));
  outcome.state_root = StateRoot();
  MELODAI_DCHECK(SumOfBalances() == total_supply_);
  return outcome;
}

crypto::Digest32 TransferApp::StateRoot() const {
  std::vector<crypto::Digest32> leaves;
  leaves.reserve(accounts_.size());
  for (const auto& [key, account] : accounts_) {
    core::ByteWriter writer;
    PutAccount(writer, key, account);
    leaves.push_back(crypto::MerkleLeafHash(AsBytes(writer.buffer())));
  }
  return crypto::MerkleRoot(leaves);
}

core::Result<std::string> TransferApp::Query(std::string_view request) const {
  if (request == "supply") return std::to_string(total_supply_);
  for (std::string_view prefix : {std::string_view("balance/"), std::string_view("nonce/")}) {
    if (!request.starts_with(prefix)) continue;
    MELODAI_ASSIGN_OR_RETURN(crypto::Ed25519PublicKey key, ParseKey(request.substr(prefix.size())));
    auto it = accounts_.find(key);
    if (it == accounts_.end()) return core::NotFoundError("no account " + crypto::ToHex(key.bytes));
    return std::to_string(prefix == "nonce/" ? it->second.next_nonce : it->second.balance);
  }
  return core::InvalidArgumentError("transfer app: unknown query '" +
                                    std::string(request.substr(0, 80)) + "'");
}

std::string TransferApp::Snapshot() const {
  core::ByteWriter writer;
  writer.Reserve(kSnapshotMagic.size() + 8 + accounts_.size() * kAccountRecordBytes);
  writer.PutRaw(kSnapshotMagic.data(), kSnapshotMagic.size());
  writer.PutU64(accounts_.size());
  for (const auto& [key, account] : accounts_) PutAccount(writer, key, account);
  return writer.Release();
}

core::Status TransferApp::Restore(std::string_view snapshot) {
  core::ByteReader reader(snapshot);
  std::string magic(kSnapshotMagic.size(), '\0');
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(magic.data(), magic.size(), "snapshot.magic"));
  if (magic != kSnapshotMagic) return core::DataLossError("snapshot: bad magic");
  uint64_t count = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(count, "snapshot.account_count"));
  if (count > kMaxAccounts || count > reader.remaining() / kAccountRecordBytes) {
    return core::DataLossError("snapshot.account_count: " + std::to_string(count) +
                               " is invalid");
  }
  std::map<crypto::Ed25519PublicKey, Account> accounts;
  uint64_t supply = 0;
  for (uint64_t i = 0; i < count; ++i) {
    crypto::Ed25519PublicKey key;
    Account account;
    MELODAI_RETURN_IF_ERROR(reader.GetRaw(key.bytes.data(), 32, "snapshot.key"));
    MELODAI_RETURN_IF_ERROR(reader.GetU64(account.balance, "snapshot.balance"));
    MELODAI_RETURN_IF_ERROR(reader.GetU64(account.next_nonce, "snapshot.next_nonce"));
    if (!accounts.empty() && !(accounts.rbegin()->first < key)) {
      return core::DataLossError("snapshot: account " + std::to_string(i) + " out of order");
    }
    if (account.balance > UINT64_MAX - supply) {
      return core::DataLossError("snapshot: balances overflow");
    }
    supply += account.balance;
    accounts.emplace_hint(accounts.end(), key, account);
  }
  if (!reader.done()) {
    return core::DataLossError("snapshot: " + std::to_string(reader.remaining()) +
                               " trailing bytes");
  }
  if (supply != total_supply_) {
    return core::DataLossError("snapshot: balances sum to " + std::to_string(supply) +
                               ", the genesis supply is " + std::to_string(total_supply_));
  }
  accounts_ = std::move(accounts);
  return core::Status::Ok();
}

uint64_t TransferApp::SumOfBalances() const {
  uint64_t sum = 0;
  for (const auto& entry : accounts_) sum += entry.second.balance;
  return sum;
}

Account TransferApp::GetAccount(const crypto::Ed25519PublicKey& key) const {
  auto it = accounts_.find(key);
  return it == accounts_.end() ? Account{} : it->second;
}

}  // namespace melodai::app
