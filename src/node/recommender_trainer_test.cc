// MelodAI — licensed under the Apache License 2.0.
// The federated runtime driving a real neural recommender through RecommenderTrainer: on a
// tiny deterministic world, FedAvg over one client per sequence learns what central training
// learns, a seeded run replays bit-identically with any thread count, personalisation fine-tunes
// a device on its own history, and bad ids and sizes are refused.
#include <gtest/gtest.h>

#include <algorithm>

#include <vector>

#include "core/thread_pool.h"
#include "data/splits.h"
#include "fl/simulator.h"
#include "node/recommender_trainer.h"
#include "testing/tiny_world.h"

namespace melodai::node {
namespace {

class RecommenderTrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data::ProtocolOptions protocol;
    protocol.protocol = data::Protocol::kNextItem;
    protocol.preprocess.min_item_support = 1;
    protocol.seed = 5;
    auto split = data::MakeProtocolSplit(testing::TinyWorldChains(17, 300), protocol);
    ASSERT_TRUE(split.ok()) << split.status().ToString();
    split_ = std::move(*split);
    options_.neural = rec::NeuralOptions::Defaults(rec::NeuralArchitecture::kGru4Rec);
    options_.neural.layers = 16;
    options_.eval_queries = 0;
    options_.local_optimizer = "sgd";
  }

  fl::SimulationConfig Config(uint32_t threads) const {
    fl::SimulationConfig config;
    config.rounds = 30;
    config.client_fraction = 0.1;
    config.local.epochs = 2;
    config.local.learning_rate = 1.0;
    config.server_optimizer.kind = fl::ServerOptimizerKind::kFedAdam;
    config.server_optimizer.learning_rate = 0.05;
    config.server_optimizer.tau = 1e-6;
    config.eval_every = 30;
    config.threads = threads;
    config.parallel_clients = 4;
    config.seed = 3;
    return config;
  }

  data::Catalog catalog_ = testing::TinyWorldCatalog();
  data::ProtocolSplit split_;
  RecommenderTrainerOptions options_;
};

TEST_F(RecommenderTrainerTest, FederatedTrainingLearnsTheWorldAndReplaysBitIdentically) {
  core::ThreadPool pool(2);
  auto trainer = RecommenderTrainer::Create(catalog_, split_, options_, pool);
  ASSERT_TRUE(trainer.ok()) << trainer.status().ToString();
  EXPECT_EQ((*trainer)->client_count(), split_.train.size());
  auto initial = (*trainer)->Evaluate((*trainer)->InitialWeights(3));
  ASSERT_TRUE(initial.ok());
  auto one = fl::RunSimulation(**trainer, Config(1));
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  const fl::RoundRecord& last = one->rounds.back();
  ASSERT_TRUE(last.evaluated);
  // The world's next item is a function of the current one: a learned model ranks it first.
  EXPECT_GT(last.eval.ndcg_at_10, 0.8) << "initial " << initial->ndcg_at_10;
  EXPECT_LT(initial->ndcg_at_10, 0.4);
  auto three = fl::RunSimulation(**trainer, Config(3));
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(one->final_weights, three->final_weights);
}

TEST_F(RecommenderTrainerTest, PersonalisationFineTunesADeviceOnItsOwnHistory) {
  core::ThreadPool pool(1);
  auto trainer = RecommenderTrainer::Create(catalog_, split_, options_, pool);
  ASSERT_TRUE(trainer.ok());
  ASSERT_GT((*trainer)->personalization_client_count(), 0u);
  fl::LocalTrainConfig tune;
  tune.epochs = 3;
  tune.learning_rate = 0.5;
  auto result = (*trainer)->Personalize(0, (*trainer)->InitialWeights(1), tune);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->global.queries, 1u);
  EXPECT_EQ(result->personalized.queries, 1u);
  EXPECT_GE(result->global.ndcg_at_10, 0.0);
  EXPECT_GE(result->personalized.ndcg_at_10, 0.0);
}

TEST_F(RecommenderTrainerTest, BadIdsSizesAndSplitsAreRefused) {
  core::ThreadPool pool(1);
  auto trainer = RecommenderTrainer::Create(catalog_, split_, options_, pool);
  ASSERT_TRUE(trainer.ok());
  const std::vector<float> global = (*trainer)->InitialWeights(1);
  std::vector<float> update(global.size());
  const uint32_t clients = (*trainer)->client_count();
  EXPECT_EQ((*trainer)->TrainClient(clients, global, {}, update).status().code(), core::StatusCode::kInvalidArgument);
  std::vector<float> short_update(3);
  EXPECT_EQ((*trainer)->TrainClient(0, global, {}, short_update).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ((*trainer)->Personalize((*trainer)->personalization_client_count(), global, {}).status().code(),
            core::StatusCode::kInvalidArgument);
  auto trained = (*trainer)->TrainClient(0, global, {}, update);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  EXPECT_EQ(trained->examples, (*trainer)->client_examples(0));

  data::ProtocolSplit continuation = split_;
  continuation.test.kind = data::QueryKind::kSetCompletion;
  EXPECT_EQ(RecommenderTrainer::Create(catalog_, continuation, options_, pool).status().code(),
            core::StatusCode::kInvalidArgument);
  RecommenderTrainerOptions absurd = options_;
  absurd.personalization_holdout = 1.5;
  EXPECT_EQ(RecommenderTrainer::Create(catalog_, split_, absurd, pool).status().code(),
            core::StatusCode::kInvalidArgument);
}

TEST_F(RecommenderTrainerTest, FreezeSelectsBlocksByNameAndLocalTrainingKeepsThem) {
  // "item" selects the item rows and biases of GRU4Rec; a device's update is zero on them and
  // not on the GRU; a string no parameter name contains is refused with the names listed.
  core::ThreadPool pool(1);
  RecommenderTrainerOptions frozen = options_;
  frozen.freeze = {"item"};
  auto trainer = RecommenderTrainer::Create(catalog_, split_, frozen, pool);
  ASSERT_TRUE(trainer.ok()) << trainer.status().ToString();
  std::vector<std::string> names;
  for (const fl::ParameterBlock& block : (*trainer)->frozen_blocks()) names.push_back(block.name);
  EXPECT_EQ(names, (std::vector<std::string>{"item_weights", "item_bias"}));
  const std::vector<float> global = (*trainer)->InitialWeights(1);
  std::vector<float> update(global.size());
  fl::LocalTrainConfig local;
  local.learning_rate = 0.1;
  ASSERT_TRUE((*trainer)->TrainClient(0, global, local, update).ok());
  size_t frozen_end = 0;
  for (const fl::ParameterBlock& block : (*trainer)->frozen_blocks()) {
    for (size_t i = block.offset; i < block.offset + block.size; ++i) ASSERT_EQ(update[i], 0.0f) << block.name;
    frozen_end = std::max(frozen_end, block.offset + block.size);
  }
  EXPECT_TRUE(std::any_of(update.begin() + static_cast<std::ptrdiff_t>(frozen_end), update.end(),
                          [](float value) { return value != 0.0f; }));
  frozen.freeze = {"no_such_block"};
  auto refused = RecommenderTrainer::Create(catalog_, split_, frozen, pool);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("item_weights"), std::string::npos) << refused.status().ToString();
}

TEST_F(RecommenderTrainerTest, ClientRangesShareOneLayoutAndAWarmStartCarriesOver) {
  // Goal: a public-donor trainer (the first clients) and a private trainer (the rest) see
  // disjoint playlists but one weight layout, so the donors' model starts the private run.
  // Method: client k of the private trainer trains on training sequence first + k (same update
  // as the whole-range trainer's client first + k); a run started from the donors' weights
  // starts where they ended (its first evaluation beats a cold start's).
  core::ThreadPool pool(1);
  auto all = RecommenderTrainer::Create(catalog_, split_, options_, pool);
  ASSERT_TRUE(all.ok());
  const uint32_t first = (*all)->client_count() / 4;
  RecommenderTrainerOptions donors_options = options_;
  donors_options.clients = first;
  RecommenderTrainerOptions private_options = options_;
  private_options.first_client = first;
  auto donors = RecommenderTrainer::Create(catalog_, split_, donors_options, pool);
  auto devices = RecommenderTrainer::Create(catalog_, split_, private_options, pool);
  ASSERT_TRUE(donors.ok() && devices.ok());
  EXPECT_EQ((*donors)->client_count(), first);
  EXPECT_EQ((*devices)->client_count(), (*all)->client_count() - first);
  EXPECT_EQ((*devices)->parameter_count(), (*all)->parameter_count());
  const std::vector<float> global = (*all)->InitialWeights(2);
  std::vector<float> via_range(global.size()), via_all(global.size());
  ASSERT_TRUE((*devices)->TrainClient(3, global, {}, via_range).ok());
  ASSERT_TRUE((*all)->TrainClient(first + 3, global, {}, via_all).ok());
  EXPECT_EQ(via_range, via_all);
  EXPECT_EQ((*devices)->client_examples(3), (*all)->client_examples(first + 3));

  fl::SimulationConfig warm_config = Config(1);
  warm_config.client_fraction = 0.4;
  auto warm = fl::RunSimulation(**donors, warm_config);
  ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  fl::SimulationConfig cold = Config(1);
  cold.rounds = 1;
  cold.eval_every = 1;
  fl::SimulationConfig started = cold;
  started.initial_weights = warm->final_weights;
  auto cold_run = fl::RunSimulation(**devices, cold);
  auto warm_run = fl::RunSimulation(**devices, started);
  ASSERT_TRUE(cold_run.ok() && warm_run.ok());
  EXPECT_GT(warm_run->rounds[0].eval.ndcg_at_10, cold_run->rounds[0].eval.ndcg_at_10 + 0.2);

  RecommenderTrainerOptions outside = options_;
  outside.first_client = static_cast<uint32_t>(split_.train.size());
  EXPECT_EQ(RecommenderTrainer::Create(catalog_, split_, outside, pool).status().code(),
            core::StatusCode::kInvalidArgument);
  started.initial_weights.resize(3);
  EXPECT_EQ(fl::RunSimulation(**devices, started).status().code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace melodai::node
