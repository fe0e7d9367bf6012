// MelodAI — licensed under the Apache License 2.0.
// Shapes and gradients of the LibTorch modules of rec (SessionNet, SelfAttention, EncoderBlock,
// AttentionNet in every SASRec/TransGRU variant): output shapes, zero states at padding,
// causality (a later item never changes an earlier state), a gradient for every parameter the
// forward pass uses, and analytic gradients equal to central finite differences in double
// precision.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "rec/internal/neural_model.h"
#include "rec/internal/neural_nets.h"

namespace melodai::rec::internal {
namespace {

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
  // item_bias belongs to the scoring layer, not to the states; artist and position embeddings
  // feed the Transformer branch only.
  std::vector<std::string> unused = {"item_bias"};
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
