// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the PBFT messages and replica: wire round trips and strict decoding, the normal
// case on a loss-free in-memory cluster, f+1 replies, dropped-message accounting, the
// persistence rule across restarts (no equivocation), recovery, and fail-stop on store errors.

#include "ledger/pbft/replica.h"

#include <deque>

#include <gtest/gtest.h>

#include "app/transfer_app.h"
#include "ledger/pbft/reply_collector.h"
#include "testing/sim_kv_store.h"

namespace melodai::ledger::pbft {
namespace {

crypto::Ed25519KeyPair KeyFor(uint8_t index) {
  std::array<uint8_t, 32> seed{};
  seed.fill(index);
  return crypto::Ed25519KeyPair::FromSeed(seed);
}

// n replicas with loss-free FIFO delivery; a replica can be stopped and recovered.
struct TestCluster {
  explicit TestCluster(uint32_t n) {
    std::vector<crypto::Ed25519PublicKey> keys;
    for (uint32_t i = 0; i < n; ++i) keys.push_back(KeyFor(static_cast<uint8_t>(10 + i)).public_key());
    validators.emplace(ValidatorSet::Create(keys).value());
    for (uint32_t i = 0; i < n; ++i) {
      stores.push_back(std::make_unique<testing::SimKvStore>());
      apps.emplace_back();
      replicas.emplace_back();
      Start(i);
    }
  }
  void Start(uint32_t id) {
    apps[id] = std::make_unique<app::TransferApp>(
        app::TransferApp::Create({{client.public_key(), 1'000'000}}).value());
    ReplicaConfig config;
    config.replica_id = id;
    config.checkpoint_interval = 2;
    config.watermark_window = 8;
    replicas[id] = std::make_unique<Replica>(config, *validators, KeyFor(static_cast<uint8_t>(10 + id)),
                                             *stores[id], *apps[id]);
    ASSERT_TRUE(replicas[id]->Recover().ok());
    Route(id, replicas[id]->OnTick(now));
  }
  void Route(uint32_t from, Output output) {
    for (auto& message : output.messages) {
      for (uint32_t to = 0; to < replicas.size(); ++to) {
        if (to == from) continue;
        if (message.target == OutboundMessage::kBroadcast || message.target == to) {
          queue.push_back({from, to, message.bytes});
        }
      }
    }
    for (auto& reply : output.replies) replies.push_back(reply.bytes);
    for (auto& block : output.committed) committed[from].push_back(block.block.header.height);
  }
  void DeliverAll() {
    while (!queue.empty()) {
      auto [from, to, bytes] = queue.front();
      queue.pop_front();
      if (stopped.contains(to) || stopped.contains(from)) continue;
      Route(to, replicas[to]->OnMessage(from, bytes));
    }
  }
  void Tick(int64_t step_ms) {
    now += step_ms;
    for (uint32_t i = 0; i < replicas.size(); ++i) {
      if (!stopped.contains(i)) Route(i, replicas[i]->OnTick(now));
    }
  }
  void Submit(uint32_t id, const Transaction& tx) {
    auto output = replicas[id]->SubmitRequest(EncodeTransaction(tx));
    ASSERT_TRUE(output.ok()) << output.status().ToString();
    Route(id, std::move(output).value());
  }

  crypto::Ed25519KeyPair client = KeyFor(1);
  std::optional<ValidatorSet> validators;
  std::vector<std::unique_ptr<testing::SimKvStore>> stores;
  std::vector<std::unique_ptr<app::TransferApp>> apps;
  std::vector<std::unique_ptr<Replica>> replicas;
  std::deque<std::tuple<uint32_t, uint32_t, std::string>> queue;
  std::vector<std::string> replies;
  std::map<uint32_t, std::vector<uint64_t>> committed;
  std::set<uint32_t> stopped;
  int64_t now = 0;
};

TEST(Messages, RoundTripsAndStrictDecoding) {
  auto key = KeyFor(10);
  Transaction tx = app::MakeTransfer(KeyFor(1), 0, KeyFor(2).public_key(), 5);
  PrePrepare pre_prepare{3, 9, Batch{1234, 3, {tx, tx}}};
  SignedMessage message = SignMessage(MessageType::kPrePrepare, 0, EncodePrePrepare(pre_prepare), key);
  std::string bytes = EncodeSignedMessage(message);
  EXPECT_TRUE(ValidateMessageBytes(bytes).ok());
  auto decoded = DecodeSignedMessage(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, message);
  EXPECT_TRUE(VerifyMessageSignature(*decoded, key.public_key()));
  auto body = DecodePrePrepare(decoded->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(body->batch, pre_prepare.batch);
  for (size_t cut = 0; cut < bytes.size(); cut += 13) {
    EXPECT_FALSE(ValidateMessageBytes(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(ValidateMessageBytes(bytes + "x").ok());
  std::string unknown_type = bytes;
  unknown_type[0] = 99;
  EXPECT_EQ(DecodeSignedMessage(unknown_type).status().code(), core::StatusCode::kDataLoss);

  ViewChange change{4, 0, {}, {PreparedProof{message, {message}}}};
  auto change_decoded = DecodeViewChange(EncodeViewChange(change));
  ASSERT_TRUE(change_decoded.ok());
  EXPECT_EQ(change_decoded->prepared.at(0).pre_prepare, message);
  FetchReply reply;
  reply.blocks.push_back({CommitCertificate{1, 2, {}, {{0, {}}}}, Batch{5, 1, {tx}}});
  reply.new_view = message;
  auto reply_decoded = DecodeFetchReply(EncodeFetchReply(reply));
  ASSERT_TRUE(reply_decoded.ok()) << reply_decoded.status().ToString();
  EXPECT_EQ(reply_decoded->blocks.at(0).batch, reply.blocks[0].batch);
  EXPECT_EQ(*reply_decoded->new_view, message);
  // COMMIT signatures use the layout that certificates verify offline.
  Vote vote{2, 7, {}};
  EXPECT_EQ(SigningBytes(MessageType::kCommit, 3, EncodeVote(vote)),
            CommitSigningBytes(2, 7, vote.digest, 3));
}

TEST(Replica, NormalCaseCommitsAndRepliesWithFPlusOne) {
  TestCluster cluster(4);
  ReplyCollector collector(*cluster.validators);
  Transaction tx = app::MakeTransfer(cluster.client, 0, KeyFor(2).public_key(), 10);
  collector.Expect(TransactionHash(tx));
  for (uint32_t id : {1u, 2u, 3u}) cluster.Submit(id, tx);
  cluster.DeliverAll();
  for (uint32_t id = 0; id < 4; ++id) {
    EXPECT_EQ(cluster.replicas[id]->height(), 1u) << id;
    EXPECT_EQ(cluster.apps[id]->GetAccount(KeyFor(2).public_key()).balance, 10u);
  }
  EXPECT_EQ(BlockHash(cluster.replicas[0]->last_header()), BlockHash(cluster.replicas[3]->last_header()));
  ASSERT_EQ(cluster.replies.size(), 3u);
  EXPECT_TRUE(collector.Add(cluster.replies[0]).value().empty());  // One reply is not enough.
  EXPECT_EQ(collector.Add(cluster.replies[1]).value().size(), 1u);  // f+1 = 2 matching.
  auto result = collector.Result(TransactionHash(tx));
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->height, 1u);
  EXPECT_EQ(result->code, kTransactionApplied);
  std::string forged = cluster.replies[2];
  forged[forged.size() - 1] ^= 1;
  EXPECT_EQ(collector.Add(forged).status().code(), core::StatusCode::kInvalidArgument);
  auto block = cluster.replicas[2]->ReadBlock(1);
  ASSERT_TRUE(block.ok());
  EXPECT_TRUE(VerifyCommittedBlock(block->block, block->certificate, *cluster.validators).ok());
}

TEST(Replica, CheckpointsBecomeStableAndCollectGarbage) {
  TestCluster cluster(4);
  for (uint64_t nonce = 0; nonce < 5; ++nonce) {
    cluster.Submit(0, app::MakeTransfer(cluster.client, nonce, KeyFor(2).public_key(), 1));
    cluster.DeliverAll();
  }
  for (uint32_t id = 0; id < 4; ++id) {
    ReplicaMetrics metrics = cluster.replicas[id]->metrics();
    EXPECT_EQ(metrics.height, 5u);
    EXPECT_EQ(metrics.stable_checkpoint, 4u);
    EXPECT_EQ(metrics.committed_transactions, 5u);
  }
  // Only the stable snapshot (and none older) is kept.
  EXPECT_EQ(cluster.stores[1]->key_count(Column::kState), 1u);
}

TEST(Replica, DropsInvalidMessagesAndCountsThem) {
  TestCluster cluster(4);
  Replica& replica = *cluster.replicas[1];
  auto dropped = [&](DropReason reason) {
    return replica.metrics().dropped[static_cast<size_t>(reason)];
  };
  EXPECT_TRUE(replica.OnMessage(0, "garbage").messages.empty());
  EXPECT_EQ(dropped(DropReason::kMalformed), 1u);
  SignedMessage prepare = SignMessage(MessageType::kPrepare, 2, EncodeVote({0, 1, {}}), KeyFor(12));
  replica.OnMessage(3, EncodeSignedMessage(prepare));  // Claims replica 2, arrives from 3.
  EXPECT_EQ(dropped(DropReason::kUnknownSender), 1u);
  SignedMessage forged = prepare;
  forged.signature[0] ^= 1;
  replica.OnMessage(2, EncodeSignedMessage(forged));
  EXPECT_EQ(dropped(DropReason::kBadSignature), 1u);
  SignedMessage wrong_view = SignMessage(MessageType::kPrepare, 2, EncodeVote({5, 1, {}}), KeyFor(12));
  replica.OnMessage(2, EncodeSignedMessage(wrong_view));
  EXPECT_EQ(dropped(DropReason::kWrongView), 1u);
  SignedMessage far = SignMessage(MessageType::kPrepare, 2, EncodeVote({0, 1000, {}}), KeyFor(12));
  replica.OnMessage(2, EncodeSignedMessage(far));
  EXPECT_EQ(dropped(DropReason::kOutsideWatermarks), 1u);
  // A pre-prepare from a backup is not a proposal.
  SignedMessage fake = SignMessage(MessageType::kPrePrepare, 2,
                                   EncodePrePrepare({0, 1, Batch{1, 0, {}}}), KeyFor(12));
  replica.OnMessage(2, EncodeSignedMessage(fake));
  EXPECT_EQ(dropped(DropReason::kWrongView), 2u);
  EXPECT_TRUE(replica.status().ok());
}

TEST(Replica, BackupNeverSignsTwoDigestsForOneSlotAcrossRestart) {
  TestCluster cluster(4);
  SignedMessage first = SignMessage(MessageType::kPrePrepare, 0,
                                    EncodePrePrepare({0, 1, Batch{10, 0, {}}}), KeyFor(10));
  Output output = cluster.replicas[1]->OnMessage(0, EncodeSignedMessage(first));
  ASSERT_EQ(output.messages.size(), 1u);  // Its PREPARE, already durable.
  // Crash and recover replica 1 from its store.
  cluster.stores[1]->CrashNow();
  cluster.stores[1]->Restart();
  cluster.Start(1);
  // An equivocating primary now offers a different batch for the same (view, sequence).
  SignedMessage second = SignMessage(MessageType::kPrePrepare, 0,
                                     EncodePrePrepare({0, 1, Batch{11, 0, {}}}), KeyFor(10));
  Output after = cluster.replicas[1]->OnMessage(0, EncodeSignedMessage(second));
  EXPECT_TRUE(after.messages.empty());
  EXPECT_EQ(cluster.replicas[1]->metrics().dropped[static_cast<size_t>(DropReason::kConflicting)], 1u);
}

TEST(Replica, PrimaryRecoversItsProposalsAndDoesNotReuseSequences) {
  TestCluster cluster(4);
  cluster.stopped = {1, 2, 3};  // Nothing reaches the backups: the proposal stays in flight.
  cluster.Submit(0, app::MakeTransfer(cluster.client, 0, KeyFor(2).public_key(), 1));
  cluster.queue.clear();
  cluster.stores[0]->CrashNow();
  cluster.stores[0]->Restart();
  cluster.Start(0);
  cluster.stopped.clear();
  cluster.Submit(0, app::MakeTransfer(cluster.client, 1, KeyFor(2).public_key(), 1));
  for (auto& [from, to, bytes] : cluster.queue) {
    auto message = DecodeSignedMessage(bytes);
    ASSERT_TRUE(message.ok());
    if (message->type != MessageType::kPrePrepare) continue;
    EXPECT_EQ(DecodePrePrepare(message->body)->sequence, 2u);  // Sequence 1 is taken.
  }
}

TEST(Replica, RecoversChainAndStateFromItsStore) {
  TestCluster cluster(4);
  for (uint64_t nonce = 0; nonce < 3; ++nonce) {
    cluster.Submit(2, app::MakeTransfer(cluster.client, nonce, KeyFor(2).public_key(), 7));
    cluster.DeliverAll();
  }
  BlockHeader head = cluster.replicas[3]->last_header();
  cluster.stores[3]->CrashNow();
  cluster.stores[3]->Restart();
  cluster.Start(3);
  EXPECT_EQ(cluster.replicas[3]->height(), 3u);
  EXPECT_EQ(BlockHash(cluster.replicas[3]->last_header()), BlockHash(head));
  EXPECT_EQ(cluster.apps[3]->GetAccount(KeyFor(2).public_key()).balance, 21u);
  // And it keeps participating.
  cluster.Submit(2, app::MakeTransfer(cluster.client, 3, KeyFor(2).public_key(), 7));
  cluster.DeliverAll();
  EXPECT_EQ(cluster.replicas[3]->height(), 4u);
}

TEST(Replica, HaltsOnStoreFailureAndSendsNothing) {
  TestCluster cluster(4);
  cluster.stores[1]->ArmCrash(1, /*apply_crashing_write=*/false);
  SignedMessage pre_prepare = SignMessage(MessageType::kPrePrepare, 0,
                                          EncodePrePrepare({0, 1, Batch{10, 0, {}}}), KeyFor(10));
  Output output = cluster.replicas[1]->OnMessage(0, EncodeSignedMessage(pre_prepare));
  EXPECT_TRUE(output.messages.empty());  // The PREPARE was not durable, so it never leaves.
  EXPECT_FALSE(cluster.replicas[1]->status().ok());
  EXPECT_TRUE(cluster.replicas[1]->OnTick(1000).messages.empty());
}

}  // namespace
}  // namespace melodai::ledger::pbft
