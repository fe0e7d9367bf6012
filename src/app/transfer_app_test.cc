// MelodAI — licensed under the Apache License 2.0.
// Tests of the token-transfer application: execution codes, nonces (exactly once), supply
// conservation, admission checks, queries, snapshots and hostile snapshot bytes.

#include "app/transfer_app.h"

#include <gtest/gtest.h>

#include "crypto/hash.h"

namespace melodai::app {
namespace {

crypto::Ed25519KeyPair KeyFor(uint8_t index) {
  std::array<uint8_t, 32> seed{};
  seed.fill(index);
  return crypto::Ed25519KeyPair::FromSeed(seed);
}

struct Fixture {
  crypto::Ed25519KeyPair alice = KeyFor(1);
  crypto::Ed25519KeyPair bob = KeyFor(2);
  crypto::Ed25519KeyPair carol = KeyFor(3);
  TransferApp app = TransferApp::Create({{alice.public_key(), 1000}, {bob.public_key(), 50}}).value();
};

ledger::Block BlockOf(std::vector<ledger::Transaction> transactions) {
  ledger::Block block;
  block.header.height = 1;
  block.transactions = std::move(transactions);
  return block;
}

TEST(TransferApp, ExecutesTransfersExactlyOncePerNonce) {
  Fixture f;
  ledger::Transaction pay = MakeTransfer(f.alice, 0, f.carol.public_key(), 300);
  ledger::ExecutionOutcome outcome = f.app.ExecuteBlock(BlockOf({pay, pay}));
  ASSERT_EQ(outcome.codes.size(), 2u);
  EXPECT_EQ(outcome.codes[0], ledger::kTransactionApplied);
  EXPECT_EQ(outcome.codes[1], kCodeBadNonce);  // The replay of the same transaction.
  EXPECT_EQ(f.app.GetAccount(f.alice.public_key()), (Account{700, 1}));
  EXPECT_EQ(f.app.GetAccount(f.carol.public_key()), (Account{300, 0}));
  EXPECT_EQ(f.app.SumOfBalances(), f.app.total_supply());
  EXPECT_EQ(outcome.state_root, f.app.StateRoot());
}

TEST(TransferApp, FailureCodesConsumeNonceButNotFunds) {
  Fixture f;
  ledger::Transaction overdraft = MakeTransfer(f.bob, 0, f.alice.public_key(), 51);
  ledger::Transaction from_nobody = MakeTransfer(f.carol, 0, f.alice.public_key(), 1);
  ledger::Transaction bad_payload = MakeTransfer(f.bob, 1, f.alice.public_key(), 1);
  bad_payload.payload.pop_back();
  ledger::SignTransaction(bad_payload, f.bob);
  ledger::Transaction future = MakeTransfer(f.bob, 9, f.alice.public_key(), 1);
  auto outcome = f.app.ExecuteBlock(BlockOf({overdraft, from_nobody, bad_payload, future}));
  EXPECT_EQ(outcome.codes, (std::vector<ledger::TransactionCode>{
                               kCodeInsufficientFunds, kCodeUnknownSender, kCodeMalformedPayload,
                               kCodeBadNonce}));
  EXPECT_EQ(f.app.GetAccount(f.bob.public_key()), (Account{50, 2}));
  EXPECT_EQ(f.app.GetAccount(f.alice.public_key()).balance, 1000u);
}

TEST(TransferApp, CheckTransactionAdmission) {
  Fixture f;
  EXPECT_TRUE(f.app.CheckTransaction(MakeTransfer(f.alice, 0, f.bob.public_key(), 10)).ok());
  EXPECT_TRUE(f.app.CheckTransaction(MakeTransfer(f.alice, 5, f.bob.public_key(), 10)).ok());
  EXPECT_EQ(f.app.CheckTransaction(MakeTransfer(f.alice, kMaxNonceGap, f.bob.public_key(), 1)).code(),
            core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(f.app.CheckTransaction(MakeTransfer(f.bob, 0, f.alice.public_key(), 51)).code(),
            core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(f.app.CheckTransaction(MakeTransfer(f.carol, 0, f.alice.public_key(), 1)).code(),
            core::StatusCode::kFailedPrecondition);
  ledger::Transaction unknown = MakeTransfer(f.alice, 0, f.bob.public_key(), 1);
  unknown.type = 77;
  EXPECT_EQ(f.app.CheckTransaction(unknown).code(), core::StatusCode::kInvalidArgument);
  f.app.ExecuteBlock(BlockOf({MakeTransfer(f.alice, 0, f.bob.public_key(), 10)}));
  EXPECT_FALSE(f.app.CheckTransaction(MakeTransfer(f.alice, 0, f.bob.public_key(), 10)).ok());
}

TEST(TransferApp, QueriesAnswerInDecimal) {
  Fixture f;
  std::string alice = crypto::ToHex(f.alice.public_key().bytes);
  EXPECT_EQ(f.app.Query("balance/" + alice).value(), "1000");
  EXPECT_EQ(f.app.Query("nonce/" + alice).value(), "0");
  EXPECT_EQ(f.app.Query("supply").value(), "1050");
  EXPECT_EQ(f.app.Query("balance/" + crypto::ToHex(f.carol.public_key().bytes)).status().code(),
            core::StatusCode::kNotFound);
  EXPECT_EQ(f.app.Query("balance/zz").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(f.app.Query("what").status().code(), core::StatusCode::kInvalidArgument);
}

TEST(TransferApp, SnapshotRestoresTheSameStateRoot) {
  Fixture f;
  f.app.ExecuteBlock(BlockOf({MakeTransfer(f.alice, 0, f.carol.public_key(), 123)}));
  std::string snapshot = f.app.Snapshot();
  Fixture g;
  ASSERT_TRUE(g.app.Restore(snapshot).ok());
  EXPECT_EQ(g.app.StateRoot(), f.app.StateRoot());
  EXPECT_EQ(g.app.GetAccount(f.carol.public_key()).balance, 123u);
  EXPECT_NE(Fixture().app.StateRoot(), f.app.StateRoot());
}

TEST(TransferApp, RestoreRejectsHostileSnapshots) {
  Fixture f;
  crypto::Digest32 root = f.app.StateRoot();
  std::string good = f.app.Snapshot();
  for (size_t cut = 0; cut < good.size(); cut += 7) {
    EXPECT_EQ(f.app.Restore(good.substr(0, cut)).code(), core::StatusCode::kDataLoss) << cut;
  }
  EXPECT_FALSE(f.app.Restore(good + "x").ok());
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_FALSE(f.app.Restore(bad_magic).ok());
  std::string inflated = good;
  inflated[4 + 8 + 32] = static_cast<char>(0xff);  // First balance: supply no longer matches.
  EXPECT_FALSE(f.app.Restore(inflated).ok());
  std::string huge_count = good;
  huge_count[4 + 7] = 0x7f;
  EXPECT_FALSE(f.app.Restore(huge_count).ok());
  EXPECT_EQ(f.app.StateRoot(), root);  // Unchanged after every failure.
}

TEST(TransferApp, GenesisValidation) {
  auto key = KeyFor(1).public_key();
  EXPECT_FALSE(TransferApp::Create({{key, 1}, {key, 2}}).ok());
  EXPECT_FALSE(TransferApp::Create({{key, UINT64_MAX}, {KeyFor(2).public_key(), 1}}).ok());
}

}  // namespace
}  // namespace melodai::app
