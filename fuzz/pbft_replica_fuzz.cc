// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the replica's message handlers. The input is a list of records
// {sender u8, type u8, ticks u8, body_size u16, body}; each body is signed with the real key of
// its sender, so that arbitrary well-signed (Byzantine) content reaches every handler of a
// replica, which must never crash and must keep its invariants.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "crypto/hash.h"
#include "ledger/pbft/replica.h"

namespace {

using namespace melodai;

// A minimal in-memory store (the simulated store lives in testing/, which fuzzers do not link).
class MemoryStore final : public ledger::KvStore {
 public:
  core::Result<std::optional<std::string>> Get(ledger::Column column,
                                               std::string_view key) const override {
    auto it = tables_[static_cast<size_t>(column)].find(std::string(key));
    if (it == tables_[static_cast<size_t>(column)].end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  core::Status Write(const ledger::WriteBatch& batch, bool) override {
    for (const auto& op : batch.operations()) {
      auto& table = tables_[static_cast<size_t>(op.column)];
      if (op.is_delete) table.erase(op.key); else table[op.key] = op.value;
    }
    return core::Status::Ok();
  }
  core::Status Scan(ledger::Column column, std::string_view prefix, std::string_view start,
                    const Visitor& visit) const override {
    const auto& table = tables_[static_cast<size_t>(column)];
    std::string first(start.empty() ? prefix : start);
    for (auto it = table.lower_bound(first); it != table.end(); ++it) {
      if (!std::string_view(it->first).starts_with(prefix)) break;
      if (!visit(it->first, it->second)) break;
    }
    return core::Status::Ok();
  }

 private:
  std::map<std::string, std::string> tables_[ledger::kColumnCount];
};

// Counts executed transactions; the state root is a hash of the count.
class CountingApp final : public ledger::Application {
 public:
  core::Status CheckTransaction(const ledger::Transaction&) const override { return {}; }
  ledger::ExecutionOutcome ExecuteBlock(const ledger::Block& block) override {
    count_ += block.transactions.size();
    return {StateRoot(), std::vector<ledger::TransactionCode>(block.transactions.size(), 0)};
  }
  crypto::Digest32 StateRoot() const override {
    return crypto::Blake2b256({reinterpret_cast<const uint8_t*>(&count_), sizeof(count_)});
  }
  core::Result<std::string> Query(std::string_view) const override { return std::to_string(count_); }
  std::string Snapshot() const override { return std::string(reinterpret_cast<const char*>(&count_), 8); }
  core::Status Restore(std::string_view snapshot) override {
    if (snapshot.size() != 8) return core::DataLossError("counting app: bad snapshot");
    std::memcpy(&count_, snapshot.data(), 8);
    return {};
  }

 private:
  uint64_t count_ = 0;
};

crypto::Ed25519KeyPair KeyFor(uint8_t index) {
  std::array<uint8_t, 32> seed{};
  seed.fill(static_cast<uint8_t>(index + 1));
  return crypto::Ed25519KeyPair::FromSeed(seed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint32_t kReplicas = 4;
  static const std::vector<crypto::Ed25519KeyPair>* keys = [] {
    auto* out = new std::vector<crypto::Ed25519KeyPair>();
    for (uint8_t i = 0; i < kReplicas; ++i) out->push_back(KeyFor(i));
    return out;
  }();
  std::vector<crypto::Ed25519PublicKey> public_keys;
  for (const auto& key : *keys) public_keys.push_back(key.public_key());
  auto validators = ledger::ValidatorSet::Create(public_keys).value();
  MemoryStore store;
  CountingApp app;
  ledger::pbft::ReplicaConfig config;
  config.replica_id = 1;
  config.checkpoint_interval = 2;
  config.watermark_window = 8;
  ledger::pbft::Replica replica(config, validators, KeyFor(1), store, app);
  MELODAI_CHECK(replica.Recover().ok());
  int64_t now = 0;
  (void)replica.OnTick(now);
  size_t offset = 0;
  while (size - offset >= 5) {
    uint32_t sender = data[offset] % kReplicas;
    uint8_t type = static_cast<uint8_t>(1 + data[offset + 1] % ledger::pbft::kMaxMessageType);
    now += 50 * data[offset + 2];
    size_t body_size = data[offset + 3] | (static_cast<size_t>(data[offset + 4]) << 8);
    offset += 5;
    body_size = std::min(body_size, size - offset);
    std::string body(reinterpret_cast<const char*>(data + offset), body_size);
    offset += body_size;
    (void)replica.OnTick(now);
    if (sender == config.replica_id) {
      (void)replica.SubmitRequest(body);
      continue;
    }
    auto message = ledger::pbft::SignMessage(static_cast<ledger::pbft::MessageType>(type), sender,
                                             std::move(body), (*keys)[sender]);
    (void)replica.OnMessage(sender, ledger::pbft::EncodeSignedMessage(message));
    MELODAI_CHECK(replica.status().ok());
    MELODAI_CHECK_LE(replica.metrics().stable_checkpoint, replica.height());
  }
  return 0;
}
