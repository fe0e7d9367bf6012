// MelodAI — licensed under the Apache License 2.0.
// Tests of FlatNeuralModel, the flat-weight view of the neural recommenders used by federated
// training: weights round-trip through a Recommender, local training learns, is a pure
// function of its inputs (also when replicas train concurrently), FedProx pulls towards the
// start, and bad sizes and options are refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "rec/federated.h"
#include "testing/tiny_world.h"

namespace melodai::rec {
namespace {

NeuralOptions TinyOptions(NeuralArchitecture architecture) {
  NeuralOptions options = NeuralOptions::Defaults(architecture);
  options.layers = 16;
  options.dim = 16;
  options.blocks = 1;
  options.heads = 2;
  options.max_length = 8;
  options.dropout = 0.0;
  return options;
}

// Adagrad local training over batches of 16 with `negatives` sampled negatives (0 = every row).
LocalTrainingOptions AdagradLocal(uint32_t negatives) {
  LocalTrainingOptions local;
  local.optimizer = "adagrad";
  local.learning_rate = 0.05;
  local.batch_size = 16;
  local.sampled_negatives = negatives;
  return local;
}

double SquaredDistance(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * static_cast<double>(a[i] - b[i]);
  return sum;
}

class FlatNeuralModelTest : public ::testing::TestWithParam<NeuralArchitecture> {
 protected:
  data::Catalog catalog_ = testing::TinyWorldCatalog();
  data::Interactions train_ = testing::TinyWorldChains(3, 200);
};

TEST_P(FlatNeuralModelTest, InitialWeightsArePureFunctionsOfTheSeed) {
  auto model = FlatNeuralModel::Create(TinyOptions(GetParam()), catalog_, train_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->row_count(), 20u);  // items 20..23 never appear in training
  const std::vector<float> a = (*model)->InitialWeights(1);
  EXPECT_EQ(a.size(), (*model)->parameter_count());
  EXPECT_EQ(a, (*model)->InitialWeights(1));
  EXPECT_NE(a, (*model)->InitialWeights(2));
}

TEST_P(FlatNeuralModelTest, LocalTrainingLearnsTheWorldAndTheWeightsScoreThroughARecommender) {
  auto model = FlatNeuralModel::Create(TinyOptions(GetParam()), catalog_, train_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<float> weights = (*model)->InitialWeights(5);
  auto before = (*model)->MakeRecommender(weights);
  ASSERT_TRUE(before.ok());
  const double accuracy_before = testing::TinyWorldNextItemAccuracy(**before, catalog_);
  LocalTrainingOptions local;
  local.epochs = 1;
  local.optimizer = "adagrad";
  local.learning_rate = 0.05;
  local.batch_size = 16;
  double first_loss = 0.0, last_loss = 0.0;
  for (uint32_t run = 0; run < 12; ++run) {
    local.seed = run;
    auto result = (*model)->TrainLocal(weights, train_, local);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->events, 200u * 7u);
    if (run == 0) first_loss = result->loss;
    last_loss = result->loss;
  }
  EXPECT_LT(last_loss, 0.5 * first_loss);
  auto after = (*model)->MakeRecommender(weights);
  ASSERT_TRUE(after.ok());
  EXPECT_GE(testing::TinyWorldNextItemAccuracy(**after, catalog_), 0.9);
  EXPECT_LT(accuracy_before, 0.5);
}

TEST_P(FlatNeuralModelTest, LocalTrainingIsBitIdenticalAcrossRunsAndConcurrentReplicas) {
  auto model = FlatNeuralModel::Create(TinyOptions(GetParam()), catalog_, train_);
  ASSERT_TRUE(model.ok());
  const std::vector<float> start = (*model)->InitialWeights(9);
  const data::Interactions device = testing::TinyWorldChains(11, 3);
  LocalTrainingOptions local;
  local.epochs = 3;
  local.batch_size = 2;
  local.seed = 4;
  std::vector<float> sequential = start;
  ASSERT_TRUE((*model)->TrainLocal(sequential, device, local).ok());
  EXPECT_NE(sequential, start);
  std::vector<std::vector<float>> parallel(4, start);
  std::vector<std::thread> threads;
  for (auto& weights : parallel) {
    threads.emplace_back([&] { EXPECT_TRUE((*model)->TrainLocal(weights, device, local).ok()); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& weights : parallel) EXPECT_EQ(weights, sequential);
}

TEST_P(FlatNeuralModelTest, FrozenParametersComeBackBitIdenticalAndTheRestTrains) {
  // Goal: the blocks tile the flat vector; freezing every block whose name mentions an
  // embedding or a bias leaves exactly those values untouched while the rest moves; the same
  // replica then trains everything again (trainability is set per run); unknown names are refused.
  auto model = FlatNeuralModel::Create(TinyOptions(GetParam()), catalog_, train_);
  ASSERT_TRUE(model.ok());
  const std::vector<ParameterBlock> blocks = (*model)->parameter_blocks();
  ASSERT_GE(blocks.size(), 3u);
  size_t offset = 0;
  LocalTrainingOptions local;
  local.epochs = 2;
  local.learning_rate = 0.1;
  local.seed = 3;
  for (const ParameterBlock& block : blocks) {
    EXPECT_EQ(block.offset, offset) << block.name;
    offset += block.size;
    if (block.name.find("embedding") != std::string::npos || block.name.find("bias") != std::string::npos) {
      local.frozen.push_back(block.name);
    }
  }
  EXPECT_EQ(offset, (*model)->parameter_count());
  ASSERT_FALSE(local.frozen.empty());
  ASSERT_LT(local.frozen.size(), blocks.size());
  const std::vector<float> start = (*model)->InitialWeights(9);
  std::vector<float> weights = start;
  ASSERT_TRUE((*model)->TrainLocal(weights, train_, local).ok());
  for (const ParameterBlock& block : blocks) {
    const bool frozen = std::find(local.frozen.begin(), local.frozen.end(), block.name) != local.frozen.end();
    const bool same = std::equal(weights.begin() + static_cast<std::ptrdiff_t>(block.offset),
                                 weights.begin() + static_cast<std::ptrdiff_t>(block.offset + block.size),
                                 start.begin() + static_cast<std::ptrdiff_t>(block.offset));
    EXPECT_EQ(same, frozen) << block.name;
  }
  LocalTrainingOptions all = local;
  all.frozen.clear();
  std::vector<float> everything = start;
  ASSERT_TRUE((*model)->TrainLocal(everything, train_, all).ok());
  for (const ParameterBlock& block : blocks) {
    EXPECT_FALSE(std::equal(everything.begin() + static_cast<std::ptrdiff_t>(block.offset),
                            everything.begin() + static_cast<std::ptrdiff_t>(block.offset + block.size),
                            start.begin() + static_cast<std::ptrdiff_t>(block.offset)))
        << block.name;
  }
  local.frozen = {"no_such_parameter"};
  auto refused = (*model)->TrainLocal(weights, train_, local);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no_such_parameter"), std::string::npos);
}

TEST_P(FlatNeuralModelTest, ProximalTermKeepsTheWeightsNearTheStart) {
  auto model = FlatNeuralModel::Create(TinyOptions(GetParam()), catalog_, train_);
  ASSERT_TRUE(model.ok());
  const std::vector<float> start = (*model)->InitialWeights(9);
  LocalTrainingOptions local;
  local.epochs = 5;
  local.learning_rate = 0.1;
  std::vector<float> free_run = start, prox_run = start;
  auto free_result = (*model)->TrainLocal(free_run, train_, local);
  ASSERT_TRUE(free_result.ok()) << free_result.status().ToString();
  local.prox_mu = 1.0;
  auto prox_result = (*model)->TrainLocal(prox_run, train_, local);
  ASSERT_TRUE(prox_result.ok()) << prox_result.status().ToString();
  EXPECT_LT(SquaredDistance(prox_run, start), SquaredDistance(free_run, start));
}

TEST_P(FlatNeuralModelTest, SampledSoftmaxLearnsAndIsAPureFunctionOfTheSeed) {
  // Goal: local training over the targets plus a few sampled, logQ-corrected negatives still
  // learns the world (20 item rows, 6 negatives a step, popularity^0.5), and the negatives come
  // from the run's seed only: the same seed repeats the run bit for bit, another seed differs.
  auto model = FlatNeuralModel::Create(TinyOptions(GetParam()), catalog_, train_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<float> weights = (*model)->InitialWeights(5);
  LocalTrainingOptions local = AdagradLocal(6);
  local.negative_alpha = 0.5;
  for (uint32_t run = 0; run < 12; ++run) {
    local.seed = run;
    ASSERT_TRUE((*model)->TrainLocal(weights, train_, local).ok());
  }
  auto trained = (*model)->MakeRecommender(weights);
  ASSERT_TRUE(trained.ok());
  EXPECT_GE(testing::TinyWorldNextItemAccuracy(**trained, catalog_), 0.9);

  const std::vector<float> start = (*model)->InitialWeights(9);
  std::vector<float> a = start, b = start, c = start;
  local.seed = 3;
  ASSERT_TRUE((*model)->TrainLocal(a, train_, local).ok());
  ASSERT_TRUE((*model)->TrainLocal(b, train_, local).ok());
  local.seed = 4;
  ASSERT_TRUE((*model)->TrainLocal(c, train_, local).ok());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Seeded dropout: repeatable, and it changes the run.
  local.dropout = 0.3;
  std::vector<float> d1 = start, d2 = start;
  ASSERT_TRUE((*model)->TrainLocal(d1, train_, local).ok());
  ASSERT_TRUE((*model)->TrainLocal(d2, train_, local).ok());
  EXPECT_EQ(d1, d2);
  EXPECT_NE(d1, c);
  local.dropout = 1.0;
  EXPECT_EQ((*model)->TrainLocal(a, train_, local).status().code(), core::StatusCode::kInvalidArgument);
  local.dropout = 0.0;
  local.negative_alpha = -1.0;
  EXPECT_EQ((*model)->TrainLocal(a, train_, local).status().code(), core::StatusCode::kInvalidArgument);
}

TEST_P(FlatNeuralModelTest, BprMaxLocalLossLearnsOverEveryRowAndOverSampledNegatives) {
  // Goal: the BPR-max local loss learns the world both over every item row and over the
  // targets plus sampled negatives, differs from cross-entropy, and repeats bit for bit.
  auto model = FlatNeuralModel::Create(TinyOptions(GetParam()), catalog_, train_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  for (const uint32_t negatives : {0u, 6u}) {
    std::vector<float> weights = (*model)->InitialWeights(5);
    LocalTrainingOptions local = AdagradLocal(negatives);
    local.negative_alpha = 0.5;
    local.loss = "bpr-max";
    for (uint32_t run = 0; run < 12; ++run) {
      local.seed = run;
      auto result = (*model)->TrainLocal(weights, train_, local);
      ASSERT_TRUE(result.ok()) << result.status().ToString();
      EXPECT_TRUE(std::isfinite(result->loss));
    }
    auto trained = (*model)->MakeRecommender(weights);
    ASSERT_TRUE(trained.ok());
    EXPECT_GE(testing::TinyWorldNextItemAccuracy(**trained, catalog_), 0.9) << negatives << " negatives";

    const std::vector<float> start = (*model)->InitialWeights(9);
    std::vector<float> a = start, b = start, c = start;
    ASSERT_TRUE((*model)->TrainLocal(a, train_, local).ok());
    ASSERT_TRUE((*model)->TrainLocal(b, train_, local).ok());
    local.loss = "cross-entropy";
    ASSERT_TRUE((*model)->TrainLocal(c, train_, local).ok());
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
  }
}

TEST(FlatNeuralModelRepeatTest, RepeatTermTrainsLocallyOverEveryRowAndOverSampledNegatives) {
  // Goal: devices train the attention models' repeat term too. On the replay world (the next
  // track is the one two events back, test pairs never seen) local training must raise the
  // recency value one step back above the last event's and predict the held-out pairs, over
  // every item row and over sampled negatives.
  const data::Catalog catalog = testing::TinyWorldCatalog();
  std::vector<std::pair<data::ItemId, data::ItemId>> held_out;
  const data::Interactions train = testing::TinyWorldAlternatingPairs(held_out);
  for (const NeuralArchitecture architecture : {NeuralArchitecture::kSasRec, NeuralArchitecture::kTransGru}) {
    NeuralOptions options = TinyOptions(architecture);
    options.repeat = "recency";
    auto model = FlatNeuralModel::Create(options, catalog, train);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    const std::vector<ParameterBlock> blocks = (*model)->parameter_blocks();
    const auto recency = std::find_if(blocks.begin(), blocks.end(),
                                      [](const ParameterBlock& block) { return block.name == "repeat_recency"; });
    ASSERT_NE(recency, blocks.end());
    ASSERT_EQ(recency->size, options.max_length);
    for (const uint32_t negatives : {0u, 6u}) {
      std::vector<float> weights = (*model)->InitialWeights(5);
      LocalTrainingOptions local = AdagradLocal(negatives);
      for (uint32_t run = 0; run < 8; ++run) {
        local.seed = run;
        ASSERT_TRUE((*model)->TrainLocal(weights, train, local).ok());
      }
      const float last = weights[recency->offset], two_back = weights[recency->offset + 1];
      EXPECT_GT(two_back, last + 1.0f) << NeuralArchitectureName(architecture) << ", " << negatives << " negatives";
      auto trained = (*model)->MakeRecommender(weights);
      ASSERT_TRUE(trained.ok());
      EXPECT_GE(testing::TinyWorldReplayAccuracy(**trained, catalog, held_out), 0.9)
          << NeuralArchitectureName(architecture) << ", " << negatives << " negatives";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, FlatNeuralModelTest,
                         ::testing::Values(NeuralArchitecture::kRnn, NeuralArchitecture::kGru4Rec,
                                           NeuralArchitecture::kSasRec, NeuralArchitecture::kTransGru),
                         [](const auto& test_info) { return std::string(NeuralArchitectureName(test_info.param)); });

TEST(FlatNeuralModelErrorsTest, WrongSizesAndAbsurdOptionsAreNamed) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const data::Interactions train = testing::TinyWorldChains(3, 20);
  auto model = FlatNeuralModel::Create(TinyOptions(NeuralArchitecture::kGru4Rec), catalog, train);
  ASSERT_TRUE(model.ok());
  std::vector<float> short_weights(3, 0.0f);
  auto wrong = (*model)->TrainLocal(short_weights, train, {});
  EXPECT_EQ(wrong.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(wrong.status().message().find("3 values"), std::string::npos) << wrong.status().ToString();
  EXPECT_EQ((*model)->MakeRecommender(short_weights).status().code(), core::StatusCode::kInvalidArgument);
  std::vector<float> weights = (*model)->InitialWeights(1);
  LocalTrainingOptions local;
  local.optimizer = "lbfgs";
  auto unknown = (*model)->TrainLocal(weights, train, local);
  EXPECT_NE(unknown.status().message().find("lbfgs"), std::string::npos);
  local = {};
  local.loss = "hinge";
  auto unknown_loss = (*model)->TrainLocal(weights, train, local);
  EXPECT_EQ(unknown_loss.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown_loss.status().message().find("hinge"), std::string::npos) << unknown_loss.status().ToString();
  local = {};
  local.learning_rate = -1.0;
  EXPECT_EQ((*model)->TrainLocal(weights, train, local).status().code(), core::StatusCode::kInvalidArgument);
  data::Interactions lonely;
  const std::vector<data::ItemId> one = {22};  // an item the model has no row for
  lonely.Append(one, {}, {}, 0, "");
  EXPECT_EQ((*model)->TrainLocal(weights, lonely, {}).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(FlatNeuralModel::Create(TinyOptions(NeuralArchitecture::kGru4Rec), catalog, lonely).status().code(),
            core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace melodai::rec
