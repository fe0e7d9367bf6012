// MelodAI — licensed under the Apache License 2.0.
// Test helpers for MelodaiApp: deterministic keys, a standard test genesis, and a small world
// that builds blocks with the right nonces and a controllable clock. Used only by *_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "app/melodai_app.h"
#include "ledger/chain/block.h"

namespace melodai::app::testing {

// Key roles in the test genesis.
inline constexpr int kValidator = 0;
inline constexpr int kTeam = 1;
inline constexpr int kVc = 2;
inline constexpr int kLiquidity = 3;  // Holds the whole 70M liquidity allocation.
inline constexpr int kAirdrop = 4;
inline constexpr int kFirstUser = 5;        // Users 5..9.
inline constexpr int kFirstCommittee = 10;  // Committee members 10..16.
inline constexpr int kKeyCount = 24;
inline constexpr int64_t kGenesisMs = 1'700'000'000'000;

// The deterministic key pair number `index` (seed = index repeated).
inline const crypto::Ed25519KeyPair& Key(int index) {
  static const std::vector<crypto::Ed25519KeyPair>* keys = [] {
    auto* list = new std::vector<crypto::Ed25519KeyPair>();
    for (int i = 0; i < kKeyCount; ++i) {
      std::array<uint8_t, 32> seed{};
      seed.fill(static_cast<uint8_t>(i + 1));
      list->push_back(crypto::Ed25519KeyPair::FromSeed(seed));
    }
    return list;
  }();
  return keys->at(static_cast<size_t>(index));
}
inline const PublicKey& Pub(int index) { return Key(index).public_key(); }

inline AppGenesis TestGenesis() {
  AppGenesis genesis = DefaultAppGenesis();
  genesis.timestamp_ms = kGenesisMs;
  genesis.validators = {Pub(kValidator)};
  GrantWholeCategories(genesis, Pub(kTeam), Pub(kVc), Pub(kLiquidity), Pub(kAirdrop));
  for (int i = 0; i < 7; ++i) genesis.committee.push_back(Pub(kFirstCommittee + i));
  return genesis;
}

// A MelodaiApp with a clock and nonce bookkeeping. Tx() numbers nonces consecutively per
// sender from the app's next nonce plus what is queued in the current block.
class World {
 public:
  explicit World(AppGenesis genesis = TestGenesis(), bool sign = true)
      : genesis_(genesis), sign_(sign), now_ms_(genesis.timestamp_ms) {
    app_ = MelodaiApp::Create(std::move(genesis)).value();
  }

  MelodaiApp& app() { return *app_; }
  int64_t now_ms() const { return now_ms_; }

  ledger::Transaction Tx(int sender, uint8_t type, std::string payload) {
    const PublicKey& key = Pub(sender);
    const uint64_t nonce = app_->NextNonce(key) + queued_[key]++;
    return RawTx(sender, nonce, type, std::move(payload));
  }
  ledger::Transaction RawTx(int sender, uint64_t nonce, uint8_t type, std::string payload) const {
    if (sign_) return MakeAppTransaction(Key(sender), nonce, type, std::move(payload));
    ledger::Transaction tx;
    tx.type = type;
    tx.sender = Pub(sender);
    tx.nonce = nonce;
    tx.payload = std::move(payload);
    return tx;
  }

  // Executes one block `advance_ms` after the previous one.
  std::vector<ledger::TransactionCode> Run(std::vector<ledger::Transaction> txs,
                                           int64_t advance_ms = 1000) {
    now_ms_ += advance_ms;
    ledger::Block block;
    block.header.height = ++height_;
    block.header.timestamp_ms = now_ms_;
    block.transactions = std::move(txs);
    queued_.clear();
    last_block_ = block;
    return app_->ExecuteBlock(block).codes;
  }
  ledger::TransactionCode RunOne(ledger::Transaction tx, int64_t advance_ms = 1000) {
    return Run({std::move(tx)}, advance_ms).at(0);
  }
  void AdvanceDays(int64_t days) { Run({}, days * kDayMs); }
  const ledger::Block& last_block() const { return last_block_; }

  ledger::Transaction Transfer(int from, const PublicKey& to, uint64_t amount) {
    return Tx(from, kTxTransfer, EncodeTransferPayload({to, amount}));
  }
  // Gives `to` exactly `amount` from the liquidity account (the liquidity key pays the fee).
  void Fund(int to, uint64_t amount) {
    ASSERT_EQ(RunOne(Transfer(kLiquidity, Pub(to), amount), 1), ledger::kTransactionApplied);
  }

 private:
  AppGenesis genesis_;
  bool sign_;
  int64_t now_ms_;
  uint64_t height_ = 0;
  std::unique_ptr<MelodaiApp> app_;
  std::map<PublicKey, uint64_t> queued_;
  ledger::Block last_block_;
};

}  // namespace melodai::app::testing
