// MelodAI — licensed under the Apache License 2.0.
// Shapes and gradients of the LibTorch modules of rec (SessionNet, SelfAttention, EncoderBlock,
// AttentionNet in every SASRec/TransGRU variant): output shapes, zero states at padding,
// causality (a later item never changes an earlier state), a gradient for every parameter the
// forward pass uses, and analytic gradients equal to central finite differences in double
// precision. The repeat term of the attention models: its values and scores against the
// definition, that training learns a replay pattern no item embedding can, and that the serving
// top-k with it stays the exact top-k.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/internal/neural_model.h"
#include "rec/internal/neural_nets.h"
#include "rec/internal/neural_serving.h"
#include "rec/top_k.h"
#include "testing/test_paths.h"
#include "testing/tiny_world.h"

namespace melodai::rec::internal {
namespace {

using data::ItemId;
using torch::indexing::Slice;

constexpr int64_t kItems = 20;
constexpr int64_t kArtists = 4;
constexpr int64_t kBatch = 3;
constexpr int64_t kLength = 5;

// Row 1 is left-padded by two positions, as MakeWindowBatch pads.
WindowBatch MakeBatch(torch::Dtype dtype) {
  torch::manual_seed(11);
  WindowBatch batch;
  batch.items = torch::randint(0, kItems, {kBatch, kLength}, torch::kLong);
  batch.artists = torch::randint(0, kArtists, {kBatch, kLength}, torch::kLong);
  batch.feedback = torch::rand({kBatch, kLength, kFeedbackFeatures}).to(dtype);
  batch.padding = torch::zeros({kBatch, kLength}, torch::kBool);
  batch.padding.index_put_({1, Slice(0, 2)}, true);
  batch.items.index_put_({1, Slice(0, 2)}, kItems);
  batch.artists.index_put_({1, Slice(0, 2)}, kArtists);
  batch.feedback.index_put_({1, Slice(0, 2)}, 0.0);
  return batch;
}

NeuralOptions AttentionOptions(NeuralArchitecture architecture, const std::string& branches,
                               const std::string& fusion) {
  NeuralOptions options = NeuralOptions::Defaults(architecture);
  options.dim = 8;
  options.heads = 2;
  options.blocks = 2;
  options.max_length = 7;
  options.dropout = 0.1;
  options.branches = branches;
  options.fusion = fusion;
  return options;
}

// Compares each parameter's analytic gradient of loss() with central differences at up to
// `probes` coordinates; the module must be in double precision and in eval mode.
void ExpectGradientsMatchFiniteDifferences(torch::nn::Module& module, const std::function<torch::Tensor()>& loss,
                                           const std::vector<std::string>& unused, int probes = 3) {
  for (auto& parameter : module.parameters()) parameter.mutable_grad() = torch::Tensor();
  loss().backward();
  torch::NoGradGuard no_grad;
  for (const auto& named : module.named_parameters()) {
    const std::string& name = named.key();
    torch::Tensor parameter = named.value();
    const bool expected_unused = std::find(unused.begin(), unused.end(), name) != unused.end();
    if (expected_unused) {
      EXPECT_FALSE(parameter.grad().defined() && parameter.grad().abs().sum().item<double>() > 0) << name;
      continue;
    }
    ASSERT_TRUE(parameter.grad().defined()) << name << " got no gradient";
    EXPECT_GT(parameter.grad().abs().sum().item<double>(), 0.0) << name << " got a zero gradient";
    torch::Tensor flat = parameter.view({-1});
    const torch::Tensor grad = parameter.grad().reshape({-1});
    // Probe the coordinates with the largest gradients (rows of unused items have none).
    const int64_t count = std::min<int64_t>(probes, flat.numel());
    const torch::Tensor top = std::get<1>(grad.abs().topk(count));
    for (int64_t p = 0; p < count; ++p) {
      const int64_t i = top[p].item<int64_t>();
      const double saved = flat[i].item<double>();
      const double h = 1e-6;
      flat[i] = saved + h;
      const double up = loss().item<double>();
      flat[i] = saved - h;
      const double down = loss().item<double>();
      flat[i] = saved;
      const double numeric = (up - down) / (2 * h);
      const double analytic = grad[i].item<double>();
      EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-5 * std::abs(numeric)) << name << "[" << i << "]";
    }
  }
}

TEST(BprMaxLossTest, MatchesTheHandComputedValueWhereverTheTargetColumnIs) {
  // Row scores (2, 0, 1) with the target 2 in column 0: the softmax over the other columns is
  // (e^0, e^1) / (e^0 + e^1) = (0.26894, 0.73106); the loss is
  // -log(sigmoid(2) * 0.26894 + sigmoid(1) * 0.73106) + bpreg * (0^2 * 0.26894 + 1^2 * 0.73106).
  const double softmax0 = 1.0 / (1.0 + std::exp(1.0)), softmax1 = 1.0 - softmax0;
  const auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  const double expected = -std::log(sigmoid(2.0) * softmax0 + sigmoid(1.0) * softmax1) + 0.5 * softmax1;
  const torch::Tensor scores = torch::tensor({2.0, 0.0, 1.0}, torch::kDouble).reshape({1, 3});
  EXPECT_NEAR(BprMaxLoss(scores, torch::tensor({0}, torch::kLong), 0.0, 0.5).item<double>(), expected, 1e-12);
  // The same row with its columns permuted (target now in column 2) and a second copy: twice
  // the value, since rows are summed.
  const torch::Tensor permuted = torch::tensor({1.0, 0.0, 2.0, 0.0, 2.0, 1.0}, torch::kDouble).reshape({2, 3});
  EXPECT_NEAR(BprMaxLoss(permuted, torch::tensor({2, 1}, torch::kLong), 0.0, 0.5).item<double>(), 2 * expected,
              1e-12);
  // ELU leaves positive scores unchanged and maps 0 to 0: same value here.
  EXPECT_NEAR(BprMaxLoss(scores, torch::tensor({0}, torch::kLong), 0.5, 0.5).item<double>(), expected, 1e-12);
}

// The repeat term against its definition: value[b, t, j] = r[t - j] + u·S[b, t] for the positions
// j <= t that are not padding; AddRepeatTerm adds each value to the score of the item at j, over
// every item or over a sorted candidate list (items outside it add nothing); and the gradients of
// scores that include it (r and u included) equal finite differences.
TEST(RepeatTermTest, ValuesScoresAndGradientsMatchTheDefinition) {
  NeuralOptions options = AttentionOptions(NeuralArchitecture::kSasRec, "both", "residual");
  options.repeat = "recency";
  torch::manual_seed(9);
  AttentionNet net(kItems, kArtists, options);
  net->to(torch::kDouble);
  net->eval();
  ASSERT_TRUE(net->has_repeat());
  {
    torch::NoGradGuard no_grad;
    net->repeat_recency.copy_(torch::arange(static_cast<int64_t>(options.max_length), torch::kDouble) * 0.5 - 1.0);
    net->repeat_gate.normal_();
  }
  const WindowBatch batch = MakeBatch(torch::kDouble);
  std::optional<torch::NoGradGuard> no_grad(std::in_place);
  const torch::Tensor states = net->Forward(batch);
  const torch::Tensor values = net->RepeatValues(states, batch.padding);
  ASSERT_EQ(values.sizes(), (std::vector<int64_t>{kBatch, kLength, kLength}));
  for (int64_t b = 0; b < kBatch; ++b) {
    for (int64_t t = 0; t < kLength; ++t) {
      const double gate = (states[b][t] * net->repeat_gate).sum().item<double>();
      for (int64_t j = 0; j < kLength; ++j) {
        const bool seen = j <= t && !batch.padding[b][j].item<bool>();
        const double expected = seen ? net->repeat_recency[t - j].item<double>() + gate : 0.0;
        EXPECT_NEAR(values[b][t][j].item<double>(), expected, 1e-12) << b << "," << t << "," << j;
      }
    }
  }
  // Every non-padding position is a scored row.
  const torch::Tensor rows = batch.padding.reshape({-1}).logical_not().nonzero().squeeze(1);
  const int64_t count = rows.size(0);
  const std::vector<int64_t> candidates = {1, 4, 5, 9, 12, 17};
  const torch::Tensor candidate_rows = torch::tensor(candidates, torch::kLong);
  const torch::Tensor base = torch::randn({count, kItems}, torch::kDouble);
  const torch::Tensor base_sampled = torch::randn({count, static_cast<int64_t>(candidates.size())}, torch::kDouble);
  const torch::Tensor full = AddRepeatTerm(base, values, batch.items, rows, torch::Tensor());
  const torch::Tensor sampled = AddRepeatTerm(base_sampled, values, batch.items, rows, candidate_rows);
  torch::Tensor expected_full = base.clone(), expected_sampled = base_sampled.clone();
  for (int64_t m = 0; m < count; ++m) {
    const int64_t position = rows[m].item<int64_t>(), b = position / kLength, t = position % kLength;
    for (int64_t j = 0; j <= t; ++j) {
      if (batch.padding[b][j].item<bool>()) continue;
      const int64_t item = batch.items[b][j].item<int64_t>();
      const double value = values[b][t][j].item<double>();
      expected_full[m][item] += value;
      const auto at = std::find(candidates.begin(), candidates.end(), item);
      if (at != candidates.end()) expected_sampled[m][at - candidates.begin()] += value;
    }
  }
  EXPECT_TRUE(torch::allclose(full, expected_full, 0, 1e-12));
  EXPECT_TRUE(torch::allclose(sampled, expected_sampled, 0, 1e-12));
  EXPECT_FALSE(torch::allclose(full, base, 0, 1e-6)) << "the batch repeats no item: the test proves nothing";

  no_grad.reset();
  const torch::Tensor weights = torch::randn({count, kItems}, torch::kDouble);
  auto loss = [&] {
    const torch::Tensor s = net->Forward(batch);
    const torch::Tensor scores =
        s.reshape({kBatch * kLength, options.dim}).index_select(0, rows).mm(net->OutputWeights().t()) +
        net->item_bias.unsqueeze(0);
    return (AddRepeatTerm(scores, net->RepeatValues(s, batch.padding), batch.items, rows, torch::Tensor()) * weights)
        .sum();
  };
  ExpectGradientsMatchFiniteDifferences(*net, loss, {});
}


// Tiny training options for the repeat-term tests.
NeuralOptions TinyTrainingOptions(NeuralArchitecture architecture = NeuralArchitecture::kSasRec) {
  NeuralOptions options = NeuralOptions::Defaults(architecture);
  options.seed = 7;
  options.valid_queries = 0;
  options.batch_size = 16;
  options.n_epochs = 10;
  options.learning_rate = 0.01;
  options.dim = 32;
  options.blocks = 1;
  options.max_length = 8;
  options.dropout = 0.0;
  options.repeat = "recency";
  return options;
}

// The repeat term learns a pattern no item embedding can: every playlist alternates two tracks
// (a b a b ...), a different pair each time, and the test pairs never occur in training. The
// next track is the one played two events back, so the learned recency value one step back
// must rise above the last event's, and the model must predict unseen pairs from it. The model
// with its repeat term reloads bit for bit.
TEST(RepeatTermTest, LearnsToReplayTheTrackTwoBackAndReloadsBitForBit) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  std::vector<std::pair<ItemId, ItemId>> test_pairs;
  const data::Interactions train = testing::TinyWorldAlternatingPairs(test_pairs);
  core::ThreadPool pool(2);
  NeuralOptions options = TinyTrainingOptions();
  auto model = NeuralRecommender::Create(options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_TRUE((*model)->Fit(catalog, train, pool).ok());
  const auto& net = *dynamic_cast<const NeuralModel&>(**model).attention_;
  ASSERT_TRUE(net.has_repeat());
  const float last = net.repeat_recency[0].item<float>(), two_back = net.repeat_recency[1].item<float>();
  EXPECT_GT(two_back, last + 1.0f) << "r[0] " << last << " r[1] " << two_back;
  EXPECT_GE(testing::TinyWorldReplayAccuracy(**model, catalog, test_pairs), 0.9);

  const std::filesystem::path path = testing::MakeTempDir("neural-repeat") / "model.bin";
  ASSERT_TRUE((*model)->Save(path).ok());
  auto loaded = NeuralRecommender::Load(path, catalog);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->options().repeat, "recency");
  const std::vector<ItemId> history = {3, 8, 3, 8, 3};
  Query query;
  query.kind = data::QueryKind::kNextItem;
  query.history = history;
  std::vector<float> scores(catalog.size()), reloaded(catalog.size());
  (*model)->Score(query, scores);
  (*loaded)->Score(query, reloaded);
  EXPECT_EQ(0, std::memcmp(scores.data(), reloaded.data(), scores.size() * sizeof(float)));
}

// The serving top-k of a model with a repeat term equals Score + SelectTopK bit for bit: the
// repeat values are set far apart so that history items both enter and leave the top-k.
TEST(RepeatTermTest, ServingTopKEqualsExactScoringBitForBit) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  core::ThreadPool pool(2);
  for (const NeuralArchitecture architecture : {NeuralArchitecture::kSasRec, NeuralArchitecture::kTransGru}) {
    NeuralOptions options = TinyTrainingOptions(architecture);
    options.n_epochs = 2;
    auto model = NeuralRecommender::Create(options);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ASSERT_TRUE((*model)->Fit(catalog, testing::TinyWorldChains(4, 200), pool).ok());
    {
      AttentionNetImpl& net = *dynamic_cast<NeuralModel&>(**model).attention_;
      torch::NoGradGuard no_grad;
      net.repeat_recency.copy_(torch::tensor({9.0f, -9.0f, 4.0f, -3.0f, 2.0f, 0.0f, -1.0f, 1.0f}));
    }
    core::Rng rng(16);
    std::vector<float> scores(catalog.size());
    int changed = 0;
    for (int trial = 0; trial < 30; ++trial) {
      std::vector<ItemId> history(1 + rng.Uniform(12));
      for (ItemId& item : history) item = static_cast<ItemId>(rng.Uniform(catalog.size()));
      Query query;
      query.kind = data::QueryKind::kNextItem;
      query.history = history;
      std::vector<ItemId> excluded;
      if (trial % 3 == 0) excluded = {history.back()};
      (*model)->Score(query, scores);
      for (const size_t k : {size_t{1}, size_t{5}, size_t{10}}) {
        std::vector<ScoredItem> expected(k), served(k);
        expected.resize(SelectTopKExcludingSorted(scores, excluded, k, expected));
        served.resize(ServingTopK(**model, query, excluded, k, served));
        EXPECT_EQ(served, expected) << NeuralArchitectureName(architecture) << " trial " << trial << " k " << k;
        changed += std::any_of(expected.begin(), expected.end(), [&](const ScoredItem& entry) {
          return std::find(history.begin(), history.end(), entry.item) != history.end();
        });
      }
    }
    EXPECT_GT(changed, 0) << "no history item reached the top-k: the merge was not exercised";
  }
}

TEST(SessionNetTest, StepShapesAndGradients) {
  for (const NeuralArchitecture architecture : {NeuralArchitecture::kGru4Rec, NeuralArchitecture::kRnn}) {
    for (const bool constrained : {true, false}) {
      NeuralOptions options = NeuralOptions::Defaults(architecture);
      options.layers = 6;
      options.constrained_embedding = constrained;
      options.embedding = constrained ? 0 : 4;
      torch::manual_seed(3);
      SessionNet net(kItems, options);
      net->to(torch::kDouble);
      net->eval();
      const std::string label = std::string(NeuralArchitectureName(architecture)) + (constrained ? " tied" : " untied");
      EXPECT_EQ(net->input_dim(), constrained ? 6 : 4) << label;
      const torch::Tensor rows = torch::tensor({3, 7, 3, 19}, torch::kLong);
      const torch::Tensor hidden = torch::rand({4, 6}, torch::kDouble);
      const torch::Tensor weights = torch::randn({4, 6}, torch::kDouble);
      auto loss = [&] {
        const torch::Tensor table = constrained ? net->item_weights : net->input_table;
        const torch::Tensor state = net->Step(table.index_select(0, rows), hidden);
        return (state * weights).sum();
      };
      {
        torch::NoGradGuard no_grad;
        const torch::Tensor table = constrained ? net->item_weights : net->input_table;
        const torch::Tensor state = net->Step(table.index_select(0, rows), hidden);
        EXPECT_EQ(state.sizes(), (std::vector<int64_t>{4, 6})) << label;
        EXPECT_TRUE(state.isfinite().all().item<bool>()) << label;
      }
      // item_bias scores items and is not used by a step; unconstrained steps read input_table.
      std::vector<std::string> unused = {"item_bias"};
      if (!constrained) unused.push_back("item_weights");
      ExpectGradientsMatchFiniteDifferences(*net, loss, unused);
    }
  }
}

TEST(SelfAttentionTest, ShapesAndCausality) {
  torch::manual_seed(5);
  SelfAttention attention(8, 2, 0.0);
  attention->eval();
  const WindowBatch batch = MakeBatch(torch::kFloat);
  const torch::Tensor mask = AttentionMask(batch.padding);
  EXPECT_EQ(mask.sizes(), (std::vector<int64_t>{kBatch, 1, kLength, kLength}));
  torch::Tensor x = torch::randn({kBatch, kLength, 8});
  const torch::Tensor y = attention->forward(x, mask);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{kBatch, kLength, 8}));
  x.index_put_({0, kLength - 1}, torch::randn({8}));
  const torch::Tensor changed = attention->forward(x, mask);
  EXPECT_TRUE(changed.index({0, Slice(0, kLength - 1)}).equal(y.index({0, Slice(0, kLength - 1)})));
  EXPECT_FALSE(changed.index({0, kLength - 1}).equal(y.index({0, kLength - 1})));

  EncoderBlock block(8, 2, 0.0);
  block->eval();
  EXPECT_EQ(block->forward(x, mask).sizes(), (std::vector<int64_t>{kBatch, kLength, 8}));
}

struct AttentionCase {
  NeuralArchitecture architecture;
  std::string branches;
  std::string fusion;
};

class AttentionNetTest : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(AttentionNetTest, ShapesPaddingCausalityAndGradients) {
  const AttentionCase& c = GetParam();
  const NeuralOptions options = AttentionOptions(c.architecture, c.branches, c.fusion);
  torch::manual_seed(9);
  AttentionNet net(kItems, kArtists, options);
  net->to(torch::kDouble);
  net->eval();
  WindowBatch batch = MakeBatch(torch::kDouble);
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor states = net->Forward(batch);
    EXPECT_EQ(states.sizes(), (std::vector<int64_t>{kBatch, kLength, options.dim}));
    EXPECT_EQ(states.index({1, Slice(0, 2)}).abs().sum().item<double>(), 0.0) << "padding states are zero";
    // Causality: a new last item changes the last state only.
    WindowBatch changed = batch;
    changed.items = batch.items.clone();
    changed.items.index_put_({0, kLength - 1}, (batch.items[0][kLength - 1].item<int64_t>() + 1) % kItems);
    const torch::Tensor after = net->Forward(changed);
    EXPECT_TRUE(torch::allclose(after.index({0, Slice(0, kLength - 1)}), states.index({0, Slice(0, kLength - 1)}), 0,
                                1e-12));
    EXPECT_FALSE(torch::allclose(after.index({0, kLength - 1}), states.index({0, kLength - 1})));
    // Other sequences of the batch are untouched.
    EXPECT_TRUE(torch::allclose(after.index({2}), states.index({2}), 0, 1e-12));
  }
  const torch::Tensor weights = torch::randn({kBatch, kLength, options.dim}, torch::kDouble);
  auto loss = [&] { return (net->Forward(batch) * weights).sum(); };
  // Artist and position embeddings feed the Transformer branch only; item_bias and the repeat
  // term belong to the scoring layer, not to the states (the repeat term's gradients are checked
  // in RepeatTermTest).
  std::vector<std::string> unused = {"item_bias"};
  if (net->has_repeat()) unused.insert(unused.end(), {"repeat_recency", "repeat_gate"});
  if (c.branches == "gru") unused.insert(unused.end(), {"artist_embedding.weight", "position_embedding.weight"});
  ExpectGradientsMatchFiniteDifferences(*net, loss, unused);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, AttentionNetTest,
    ::testing::Values(AttentionCase{NeuralArchitecture::kSasRec, "both", "residual"},
                      AttentionCase{NeuralArchitecture::kTransGru, "both", "residual"},
                      AttentionCase{NeuralArchitecture::kTransGru, "transformer", "residual"},
                      AttentionCase{NeuralArchitecture::kTransGru, "gru", "residual"},
                      AttentionCase{NeuralArchitecture::kTransGru, "both", "plain"}),
    [](const auto& test_info) {
      return std::string(NeuralArchitectureName(test_info.param.architecture)) + "_" + test_info.param.branches + "_" +
             test_info.param.fusion;
    });

}  // namespace
}  // namespace melodai::rec::internal
