// MelodAI — licensed under the Apache License 2.0.
// MelodaiApp core tests: genesis (file format, errors, initial balances), transfers with fees,
// invalid transactions (each rejected with a code and a reason, changing nothing but the
// documented nonce), signatures, vesting, listing, node and training rewards, the sweep, the
// fee pool after year 5, and snapshots.
#include "app/melodai_app.h"

#include <gtest/gtest.h>

#include "app/app_test_util.h"
#include "crypto/hash.h"

namespace melodai::app {
namespace {

using testing::Key;
using testing::Pub;
using testing::World;
constexpr uint64_t M = 1'000'000 * kUnit;

TEST(MelodaiGenesis, InitialStateFollowsTheAllocation) {
  World world;
  MelodaiApp& app = world.app();
  EXPECT_EQ(app.Balance(Pub(testing::kLiquidity)), 70 * M);
  EXPECT_EQ(app.Balance(Pub(testing::kAirdrop)), 10 * M);
  EXPECT_EQ(app.Balance(Pub(testing::kTeam)), 0u);
  EXPECT_EQ(app.state().treasury_locked, 30 * M);
  EXPECT_EQ(app.state().treasury[0], 15 * M);  // Development 50%.
  EXPECT_EQ(app.state().treasury[1], 9 * M);   // Community 30%.
  EXPECT_EQ(app.state().treasury[2], 4'500'000 * kUnit);
  EXPECT_EQ(app.state().treasury[3], 1'500'000 * kUnit);
  const SupplyAudit audit = app.Audit();
  EXPECT_EQ(audit.total(), kTotalSupply);
  EXPECT_EQ(audit.node_reserve, 500 * M);
  EXPECT_EQ(audit.training_reserve, 150 * M);
  EXPECT_TRUE(app.CheckInvariants().ok());
}

TEST(MelodaiGenesis, JsonRoundTripsAndGivesTheSameStateRoot) {
  const AppGenesis genesis = testing::TestGenesis();
  const std::string text = AppGenesisToJson(genesis);
  auto parsed = ParseAppGenesis(text, "genesis.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(AppGenesisToJson(*parsed), text);
  EXPECT_EQ(GenesisStateRoot(*parsed).value(), GenesisStateRoot(genesis).value());
}

TEST(MelodaiGenesis, AppSectionSharesTheNodeGenesisFile) {
  // The node's fields (chain id, addresses, consensus) sit next to "app" and are ignored here.
  std::string text = AppGenesisToJson(testing::TestGenesis());
  text.replace(0, 1,
               "{\"chain_id\": \"melodai\", \"accounts\": [], \"consensus\": {\"tick_ms\": 10},");
  const std::string key =
      "\"public_key\": \"" + crypto::ToHex(Pub(testing::kValidator).bytes) + "\"";
  text.replace(text.find(key), key.size(), key + ", \"address\": \"127.0.0.1:7000\"");
  auto parsed = ParseAppGenesis(text, "genesis.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->validators, testing::TestGenesis().validators);
  // Without an "app" object every application field takes its default.
  auto minimal = ParseAppGenesis(R"({"timestamp_ms": 5, "validators": []})", "genesis.json");
  ASSERT_FALSE(minimal.ok());  // The default grants are empty, so the allocations do not sum.
  EXPECT_NE(minimal.status().message().find("app.allocations.team"), std::string::npos);
}

TEST(MelodaiGenesis, ErrorsNameTheBadField) {
  const std::string base = AppGenesisToJson(testing::TestGenesis());
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    const size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    return ParseAppGenesis(text, "genesis.json");
  };
  auto type = with("\"transfer_fee_bps\": 10", "\"transfer_fee_bps\": \"ten\"");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(type.status().message().find("app.parameters.transfer_fee_bps"), std::string::npos)
      << type.status().message();
  auto bounds = with("\"transfer_fee_bps\": 10", "\"transfer_fee_bps\": 70");
  ASSERT_FALSE(bounds.ok());
  EXPECT_NE(bounds.status().message().find("transfer_fee_bps"), std::string::npos);
  auto grants = with("\"amount\": 70000000000000000", "\"amount\": 69000000000000000");
  ASSERT_FALSE(grants.ok());
  EXPECT_NE(grants.status().message().find("app.allocations.liquidity"), std::string::npos)
      << grants.status().message();
  auto unknown = with("\"payout_model\": 0", "\"payout_modle\": 0");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("payout_modle"), std::string::npos);
  EXPECT_FALSE(ParseAppGenesis("[1, 2]", "genesis.json").ok());
}

TEST(MelodaiTransfer, FeeInBasisPointsGoesToTheFeePool) {
  World world;
  const uint64_t before = world.app().Balance(Pub(testing::kLiquidity));
  world.Fund(5, 1000 * kUnit);
  EXPECT_EQ(world.app().Balance(Pub(5)), 1000 * kUnit);
  // 10 bps of 1,000 MELAI = 1 MELAI, paid by the sender on top of the amount.
  EXPECT_EQ(world.app().Balance(Pub(testing::kLiquidity)), before - 1001 * kUnit);
  EXPECT_EQ(world.app().state().fee_pool, 1 * kUnit);
  // Rounding goes down: 10 bps of 999 base units is 0.999, so no fee.
  EXPECT_EQ(world.RunOne(world.Transfer(5, Pub(6), 999)), ledger::kTransactionApplied);
  EXPECT_EQ(world.app().state().fee_pool, 1 * kUnit);
  EXPECT_TRUE(world.app().CheckInvariants().ok());
}

// Goal: every invalid transaction gets its code and a reason, and changes nothing except the
// sender's nonce (and not even that for an unknown sender or a wrong nonce). Method: execute
// each in its own block at the same timestamp and compare the whole state with a copy.
TEST(MelodaiInvalid, RejectedWithAReasonAndNoChange) {
  World world;
  world.Fund(5, 900 * kUnit);  // Below the 1,000 MELAI proposal threshold.
  world.Fund(testing::kValidator, 10 * kUnit);
  world.Run({});  // Leaves a non-zero nonce for user 5 so that a replay can be tried.
  ASSERT_EQ(world.RunOne(world.Transfer(5, Pub(6), 1)), ledger::kTransactionApplied);
  struct Case {
    const char* name;
    int sender;
    int nonce_offset;  // Added to the sender's next nonce.
    uint8_t type;
    std::string payload;
    ledger::TransactionCode code;
    bool consumes_nonce;
  };
  RegisterTrackPayload bad_isrc{{1}, "Song", "Artist", "US-AB1-2X-00001", {{Pub(5), 10000}}};
  RegisterTrackPayload bad_splits{
      {2}, "Song", "Artist", "USAB12400001", {{Pub(5), 6000}, {Pub(6), 3000}}};
  const int v = testing::kValidator;
  const std::vector<Case> cases = {
      {"unknown sender", 20, 0, kTxTransfer, EncodeTransferPayload({Pub(6), 1}), kAppUnknownSender,
       false},
      {"wrong nonce", 5, 1, kTxTransfer, EncodeTransferPayload({Pub(6), 1}), kAppBadNonce, false},
      {"replayed nonce", 5, -1, kTxTransfer, EncodeTransferPayload({Pub(6), 1}), kAppBadNonce,
       false},
      {"overspend", 5, 0, kTxTransfer, EncodeTransferPayload({Pub(6), 2000 * kUnit}),
       kAppInsufficientFunds, true},
      {"zero amount", 5, 0, kTxTransfer, EncodeTransferPayload({Pub(6), 0}), kAppBadAmount, true},
      {"unknown type", 5, 0, 99, "", kAppUnknownType, true},
      {"malformed", 5, 0, kTxTransfer, "short", kAppMalformedPayload, true},
      {"bad isrc", 5, 0, kTxRegisterTrack, EncodeRegisterTrack(bad_isrc), kAppBadIsrc, true},
      {"splits not 10000", 5, 0, kTxRegisterTrack, EncodeRegisterTrack(bad_splits), kAppBadSplits,
       true},
      {"unknown proposal vote", 5, 0, kTxVote, EncodeVote({42, VoteChoice::kFor}),
       kAppUnknownProposal, true},
      {"unknown proposal execute", 5, 0, kTxExecute, EncodeProposalId({42}), kAppUnknownProposal,
       true},
      {"unknown proposal cancel", 5, 0, kTxCancel, EncodeProposalId({42}), kAppUnknownProposal,
       true},
      {"below threshold", 5, 0, kTxPropose,
       EncodePropose({ProposalAction::kListing, "list", 0, 0, 0, {}, 0, {}}),
       kAppBelowProposalThreshold, true},
      {"not validator", 5, 0, kTxRoundCommitted, EncodeRoundCommitted({1, {}, {}, {}, 0}),
       kAppNotValidator, true},
      {"wrong round", v, 0, kTxRoundCommitted, EncodeRoundCommitted({7, {}, {}, {}, 0}),
       kAppWrongRound, true},
      {"unregistered node", v, 0, kTxNodeContribution,
       EncodeNodeContribution({0, {{Pub(5), 1, 1, 1}}, 100}), kAppNotRegisteredNode, true},
      {"not subscribed", 5, 0, kTxReportPlays, EncodeReportPlays({0, {}}), kAppNotSubscribed, true},
      {"unknown edition", 5, 0, kTxTradeEdition,
       EncodeTradeEdition({TradeOp::kBuyPrimary, 3, 0, 1}), kAppUnknownEdition, true},
      {"unknown track mint", 5, 0, kTxMintEdition, EncodeMintEdition({9, 10, kUnit, 300}),
       kAppUnknownTrack, true},
  };
  std::vector<ledger::Transaction> rejected;
  for (const Case& c : cases) {
    const PublicKey& sender = Pub(c.sender);
    const uint64_t nonce =
        world.app().NextNonce(sender) + static_cast<uint64_t>(static_cast<int64_t>(c.nonce_offset));
    const ledger::Transaction tx = world.RawTx(c.sender, nonce, c.type, c.payload);
    rejected.push_back(tx);
    AppState expected = world.app().state();
    if (c.consumes_nonce) ++expected.accounts.at(sender).next_nonce;
    const auto codes = world.Run({tx}, /*advance_ms=*/0);
    EXPECT_EQ(codes.at(0), c.code) << c.name << ": " << world.app().last_reasons().at(0);
    EXPECT_FALSE(world.app().last_reasons().at(0).empty()) << c.name;
    EXPECT_NE(AppCodeReason(c.code), "unknown code");
    EXPECT_TRUE(world.app().state() == expected) << c.name;
    EXPECT_TRUE(world.app().CheckInvariants().ok()) << c.name;
  }
  // Admission rejects what it can see without executing.
  EXPECT_FALSE(world.app().CheckTransaction(rejected[0]).ok());
  EXPECT_FALSE(world.app().CheckTransaction(rejected[2]).ok());
  EXPECT_FALSE(
      world.app().CheckTransaction(world.RawTx(5, world.app().NextNonce(Pub(5)), 99, "")).ok());
  EXPECT_FALSE(world.app()
                   .CheckTransaction(world.RawTx(5, world.app().NextNonce(Pub(5)), kTxVote, "x"))
                   .ok());
  EXPECT_TRUE(world.app().CheckTransaction(world.Transfer(5, Pub(6), 1)).ok());
}

// The signature is checked by the caller (replica admission and VerifyCommittedBlock) through
// ledger::VerifyTransactionSignature; a tampered transaction fails there, and survives the
// wire encoding as still-invalid.
TEST(MelodaiInvalid, BadSignatureFailsTheChainCheck) {
  World world;
  ledger::Transaction tx = world.Transfer(testing::kLiquidity, Pub(5), 10 * kUnit);
  EXPECT_TRUE(ledger::VerifyTransactionSignature(tx));
  ledger::Transaction tampered = tx;
  tampered.payload = EncodeTransferPayload({Pub(5), 10'000 * kUnit});
  EXPECT_FALSE(ledger::VerifyTransactionSignature(tampered));
  auto decoded = ledger::DecodeTransaction(ledger::EncodeTransaction(tampered));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(ledger::VerifyTransactionSignature(*decoded));
  ledger::Transaction wrong_sender = tx;
  wrong_sender.sender = Pub(6);
  EXPECT_FALSE(ledger::VerifyTransactionSignature(wrong_sender));
}

TEST(MelodaiVesting, TeamAndVcBalancesAtMonths0To36) {
  World world;
  struct Point {
    int64_t day;
    uint64_t expected;
  };
  // Months of 30 days: 0, 11, 12, 18, 24, 36.
  const Point points[] = {{0, 0},        {330, 0},       {360, 0},
                          {540, 50 * M}, {720, 100 * M}, {1080, 100 * M}};
  int64_t day = 0;
  uint64_t previous = 0;
  for (const Point& point : points) {
    world.Run({}, (point.day - day) * kDayMs);
    day = point.day;
    EXPECT_EQ(world.app().Balance(Pub(testing::kTeam)), point.expected) << "day " << day;
    EXPECT_EQ(world.app().Balance(Pub(testing::kVc)), point.expected) << "day " << day;
    EXPECT_GE(world.app().Balance(Pub(testing::kTeam)), previous);
    previous = world.app().Balance(Pub(testing::kTeam));
    EXPECT_TRUE(world.app().CheckInvariants().ok());
  }
}

TEST(MelodaiVesting, ListingLongStopReleasesAirdropAndTreasuryHalves) {
  World world;
  world.AdvanceDays(729);
  EXPECT_FALSE(world.app().state().listed);
  EXPECT_EQ(world.app().Balance(Pub(testing::kAirdrop)), 10 * M);
  world.AdvanceDays(1);
  EXPECT_TRUE(world.app().state().listed);
  EXPECT_EQ(world.app().Balance(Pub(testing::kAirdrop)), 20 * M);
  EXPECT_EQ(world.app().state().treasury_locked, 0u);
  EXPECT_EQ(world.app().state().treasury[0], 30 * M);
}

class MelodaiRewards : public ::testing::Test {
 protected:
  void SetUp() override {
    world_.Fund(testing::kValidator, 10 * kUnit);
    for (int node = 5; node <= 7; ++node) {
      world_.Fund(node, 1 * kUnit);
      ASSERT_EQ(
          world_.RunOne(world_.Tx(node, kTxRegisterNode, EncodeRegisterNode({"127.0.0.1:7000"}))),
          ledger::kTransactionApplied);
    }
  }
  ledger::Transaction Report(uint64_t epoch, std::vector<NodeScore> scores) {
    uint64_t total = 0;
    const auto& p = world_.app().state().parameters;
    for (const NodeScore& s : scores) {
      total += p[kWeightBlocks] * s.blocks + p[kWeightServing] * s.serving +
               p[kWeightCompute] * s.compute;
    }
    return world_.Tx(testing::kValidator, kTxNodeContribution,
                     EncodeNodeContribution({epoch, std::move(scores), total}));
  }
  World world_;
};

TEST_F(MelodaiRewards, DailyNodeEmissionSplitByContributionScore) {
  // C = 50·B + 30·S + 20·P: node 5 -> 50*10 + 30*0 + 20*5 = 600, node 6 -> 300, node 7 -> 100.
  ASSERT_EQ(world_.RunOne(Report(0, {{Pub(5), 10, 0, 5}, {Pub(6), 0, 10, 0}, {Pub(7), 2, 0, 0}})),
            ledger::kTransactionApplied);
  EXPECT_EQ(world_.RunOne(Report(0, {})), kAppDuplicateReport);
  const uint64_t before[] = {world_.app().Balance(Pub(5)), world_.app().Balance(Pub(6)),
                             world_.app().Balance(Pub(7))};
  world_.AdvanceDays(1);
  const uint64_t day0 = 273'972'602'739'726ull;
  // The split runs over the nodes in key order; ties of remainders go to the lower key.
  std::map<PublicKey, std::pair<int, uint64_t>> by_key = {
      {Pub(5), {0, 600}}, {Pub(6), {1, 300}}, {Pub(7), {2, 100}}};
  std::vector<uint64_t> weights;
  for (const auto& [key, entry] : by_key) weights.push_back(entry.second);
  const auto parts = SplitLargestRemainder(day0, weights);
  uint64_t paid = 0;
  size_t index = 0;
  for (const auto& [key, entry] : by_key) {
    EXPECT_EQ(world_.app().Balance(key) - before[entry.first], parts[index]);
    paid += parts[index++];
  }
  EXPECT_EQ(paid, day0);
  EXPECT_EQ(world_.app().state().node_paid, day0);
  EXPECT_EQ(world_.app().state().node_pool, 0u);
  // Days without reports carry their emission to the next paid day.
  world_.AdvanceDays(3);
  EXPECT_EQ(world_.app().state().node_pool, 3 * day0);
  ASSERT_EQ(world_.RunOne(Report(4, {{Pub(6), 1, 0, 0}})), ledger::kTransactionApplied);
  EXPECT_EQ(world_.RunOne(Report(3, {{Pub(6), 1, 0, 0}})), kAppWrongEpoch);
  const uint64_t node6 = world_.app().Balance(Pub(6));
  world_.AdvanceDays(1);
  EXPECT_EQ(world_.app().Balance(Pub(6)) - node6, 4 * day0);
  EXPECT_TRUE(world_.app().CheckInvariants().ok());
}

TEST_F(MelodaiRewards, AfterYearFiveTheFeePoolPaysNodes) {
  world_.AdvanceDays(1825);
  EXPECT_EQ(world_.app().state().node_emitted, 500 * M);
  const uint64_t fees = world_.app().state().fee_pool;
  const uint64_t pool = world_.app().state().node_pool;  // Unpaid emission carried.
  ASSERT_GT(fees, 0u);
  ASSERT_EQ(world_.RunOne(Report(1825, {{Pub(7), 1, 1, 1}})), ledger::kTransactionApplied);
  const uint64_t node7 = world_.app().Balance(Pub(7));
  world_.AdvanceDays(1);
  EXPECT_EQ(world_.app().Balance(Pub(7)) - node7, fees + pool);
  EXPECT_EQ(world_.app().state().fee_pool, 0u);
  EXPECT_EQ(world_.app().state().node_emitted, 500 * M);
  EXPECT_TRUE(world_.app().CheckInvariants().ok());
}

TEST_F(MelodaiRewards, RoundCommittedPaysTrainingEmissionByDataContribution) {
  const auto& p = world_.app().state().parameters;
  auto d = [&](uint32_t v, uint32_t q, uint32_t r) {
    return p[kWeightVolume] * v + p[kWeightQuality] * q + p[kWeightReliability] * r;
  };
  crypto::Digest32 model1{};
  model1[0] = 1;
  RoundCommittedPayload round{1, {}, model1, {{Pub(8), 3, 1, 1}, {Pub(9), 1, 1, 0}}, 0};
  round.contribution_total = d(3, 1, 1) + d(1, 1, 0);
  RoundCommittedPayload mismatch = round;
  mismatch.contribution_total += 1;
  EXPECT_EQ(world_.RunOne(
                world_.Tx(testing::kValidator, kTxRoundCommitted, EncodeRoundCommitted(mismatch))),
            kAppTotalMismatch);
  ASSERT_EQ(
      world_.RunOne(world_.Tx(testing::kValidator, kTxRoundCommitted, EncodeRoundCommitted(round))),
      ledger::kTransactionApplied);
  // Day 0 releases 75M / 730 = 102,739.726027397 MELAI (rounded down).
  const uint64_t released = 102'739'726'027'397ull;
  EXPECT_EQ(world_.app().state().training_emitted, released);
  const std::vector<uint64_t> weights = {d(3, 1, 1), d(1, 1, 0)};
  const auto parts = SplitLargestRemainder(released, weights);
  EXPECT_EQ(world_.app().Balance(Pub(8)), parts[0]);
  EXPECT_EQ(world_.app().Balance(Pub(9)), parts[1]);
  EXPECT_EQ(world_.app().state().training_pool, 0u);
  // The chain of model hashes must continue.
  RoundCommittedPayload next{2, {}, {}, {}, 0};
  EXPECT_EQ(
      world_.RunOne(world_.Tx(testing::kValidator, kTxRoundCommitted, EncodeRoundCommitted(next))),
      kAppWrongModelChain);
  next.previous_model = model1;
  EXPECT_EQ(
      world_.RunOne(world_.Tx(testing::kValidator, kTxRoundCommitted, EncodeRoundCommitted(next))),
      ledger::kTransactionApplied);
  // Without participants the released emission stays in the pool.
  EXPECT_EQ(world_.app().state().training_pool, 0u);  // Same day: nothing new accrued.
  EXPECT_TRUE(world_.app().CheckInvariants().ok());
}

TEST(MelodaiRewardsSweep, TrainingRestGoesToTheTreasuryAfterTheLastPeriod) {
  World world;
  world.AdvanceDays(7299);
  EXPECT_FALSE(world.app().state().training_swept);
  const uint64_t treasury_before =
      world.app().Audit().pools - world.app().state().node_pool - world.app().state().fee_pool;
  world.AdvanceDays(1);
  EXPECT_TRUE(world.app().state().training_swept);
  EXPECT_EQ(world.app().Audit().training_reserve, 0u);
  uint64_t treasury = 0;
  for (uint64_t amount : world.app().state().treasury) treasury += amount;
  EXPECT_EQ(treasury - treasury_before, 150 * M);  // No round ever ran: everything is swept.
  EXPECT_TRUE(world.app().CheckInvariants().ok());
}

TEST(MelodaiSnapshot, RestoreGivesTheSameStateAndRejectsCorruption) {
  World world;
  world.Fund(5, 5000 * kUnit);
  ASSERT_EQ(world.RunOne(world.Tx(
                5, kTxRegisterTrack,
                EncodeRegisterTrack(
                    {{7}, "Song", "Artist", "USAB12400001", {{Pub(5), 7000}, {Pub(6), 3000}}}))),
            ledger::kTransactionApplied);
  ASSERT_EQ(world.RunOne(world.Tx(5, kTxSubscribe, EncodeSubscribe({2}))),
            ledger::kTransactionApplied);
  world.AdvanceDays(400);
  const std::string snapshot = world.app().Snapshot();
  auto other = MelodaiApp::Create(testing::TestGenesis()).value();
  const crypto::Digest32 genesis_root = other->StateRoot();
  ASSERT_TRUE(other->Restore(snapshot).ok()) << other->Restore(snapshot).ToString();
  EXPECT_TRUE(other->state() == world.app().state());
  EXPECT_EQ(other->StateRoot(), world.app().StateRoot());
  EXPECT_EQ(other->Snapshot(), snapshot);

  auto fresh = MelodaiApp::Create(testing::TestGenesis()).value();
  auto expect_rejected = [&](const std::string& bytes, const char* what) {
    core::Status status = fresh->Restore(bytes);
    EXPECT_EQ(status.code(), core::StatusCode::kDataLoss) << what << ": " << status.ToString();
    EXPECT_EQ(fresh->StateRoot(), genesis_root) << what;
  };
  expect_rejected(snapshot.substr(0, snapshot.size() - 1), "truncated");
  expect_rejected(snapshot + "x", "trailing");
  expect_rejected("XAPP" + snapshot.substr(4), "magic");
  // Flip a byte inside every position of the globals record in turn: never accepted silently
  // unless the state is still consistent and canonical.
  for (size_t i = 20; i < 200; i += 7) {
    std::string bad = snapshot;
    bad[i] = static_cast<char>(bad[i] ^ 0x40);
    core::Status status = fresh->Restore(bad);
    if (status.ok()) {
      EXPECT_TRUE(fresh->CheckInvariants().ok());
      fresh = MelodaiApp::Create(testing::TestGenesis()).value();
    } else {
      EXPECT_EQ(status.code(), core::StatusCode::kDataLoss);
      EXPECT_EQ(fresh->StateRoot(), genesis_root);
    }
  }
  AppGenesis other_genesis = testing::TestGenesis();
  other_genesis.timestamp_ms += 1;
  auto foreign = MelodaiApp::Create(other_genesis).value();
  EXPECT_EQ(foreign->Restore(snapshot).code(), core::StatusCode::kDataLoss);
}

TEST(MelodaiDeterminism, SameBlockTwiceGivesTheSameRoot) {
  World a;
  auto b = MelodaiApp::Create(testing::TestGenesis()).value();
  a.Fund(5, 100 * kUnit);
  EXPECT_EQ(b->ExecuteBlock(a.last_block()).state_root, a.app().StateRoot());
  ledger::Block block = a.last_block();
  block.header.timestamp_ms += 3 * kDayMs;
  block.transactions = {a.Transfer(5, Pub(6), 7 * kUnit)};
  const auto first = a.app().ExecuteBlock(block);
  const auto second = b->ExecuteBlock(block);
  EXPECT_EQ(first.state_root, second.state_root);
  EXPECT_EQ(first.codes, second.codes);
  EXPECT_NE(first.state_root, crypto::Digest32{});
}

}  // namespace
}  // namespace melodai::app

namespace melodai::app {
namespace {

// Golden state roots: the encoding and the root must not change across runs, compilers or
// platforms. A deliberate format change updates these values (and docs/APP.md).
TEST(MelodaiGolden, StateRootsAreStable) {
  World world;
  EXPECT_EQ(crypto::ToHex(world.app().StateRoot()),
            "b8f2c90dff8986bae42f2a86c6c3aba5a71c2ad9c9376d8e1794f38a302b122e");
  world.Fund(5, 1000 * kUnit);
  ASSERT_EQ(world.RunOne(world.Tx(
                5, kTxRegisterTrack,
                EncodeRegisterTrack(
                    {{7}, "Song", "Artist", "USAB12400001", {{Pub(5), 7000}, {Pub(6), 3000}}}))),
            ledger::kTransactionApplied);
  ASSERT_EQ(world.RunOne(world.Tx(5, kTxSubscribe, EncodeSubscribe({2}))),
            ledger::kTransactionApplied);
  world.AdvanceDays(400);
  EXPECT_EQ(crypto::ToHex(world.app().StateRoot()),
            "a830c9293c30f2a98efb30be418378bf77d2e1c76ba2577efb8279654f8b1c0c");
  EXPECT_EQ(crypto::ToHex(crypto::Blake2b256(crypto::AsBytes(world.app().Snapshot()))),
            "7baa3312d5cfa9b12855bd1e64be5f306e8c683765a75829288ec1e17b93323b");
}

}  // namespace
}  // namespace melodai::app
