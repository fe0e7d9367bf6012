// MelodAI — licensed under the Apache License 2.0.
// Tests of the neural serving path (rec/internal/neural_serving.h). Goal: the fast top-k is the
// exact top-k, and the recurrent cell is the LibTorch cell. Method: (1) the int8 upper bounds
// never undercut an exact score, on seeded random matrices of awkward shapes; (2) the certified
// top-k equals full scoring + SelectTopK bit for bit (items and scores), with ties, exclusions,
// tiny candidate sets that force the second pass, and non-finite values that force the exact
// fallback; (3) the recurrent cell matches a double-precision reference; (4) on trained tiny
// models of every architecture, the serving top-k with LibTorch's state equals Score + SelectTopK
// bit for bit, the serving encoder's state matches LibTorch's to 1e-5, and the serving top-10
// equals the exact one. Kernel tests run with the best kernels the CPU has, with AVX2 at most and
// with the portable ones.
#include "rec/internal/neural_serving.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "rec/neural.h"
#include "rec/top_k.h"
#include "testing/tiny_world.h"

namespace melodai::rec::internal {
namespace {

using data::ItemId;

// Restores the default kernels when a test ends.
class KernelChoice {
 public:
  explicit KernelChoice(ServingKernels kernels) { UseServingKernelsForTesting(kernels); }
  ~KernelChoice() { UseServingKernelsForTesting(ServingKernels::kBest); }
  KernelChoice(const KernelChoice&) = delete;
  KernelChoice& operator=(const KernelChoice&) = delete;
};

struct RandomMatrix {
  std::vector<float> matrix, bias;
  size_t rows = 0, width = 0;
  ItemMatrixView view() const { return {matrix.data(), bias.data(), rows, width}; }
};

// Gaussian rows with per-row magnitudes spread over two decades; every `duplicate_every`-th row
// copies its predecessor (exact ties), 0 = none.
RandomMatrix MakeMatrix(core::Rng& rng, size_t rows, size_t width, size_t duplicate_every = 0) {
  RandomMatrix m;
  m.rows = rows;
  m.width = width;
  m.matrix.resize(rows * width);
  m.bias.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const double magnitude = std::pow(10.0, rng.UniformDouble() * 2.0 - 1.0);
    for (size_t j = 0; j < width; ++j) m.matrix[r * width + j] = static_cast<float>(rng.Normal() * magnitude);
    m.bias[r] = static_cast<float>(rng.Normal() * 0.5);
    if (duplicate_every > 0 && r > 0 && r % duplicate_every == 0) {
      std::copy_n(m.matrix.begin() + static_cast<std::ptrdiff_t>((r - 1) * width), width,
                  m.matrix.begin() + static_cast<std::ptrdiff_t>(r * width));
      m.bias[r] = m.bias[r - 1];
    }
  }
  return m;
}

std::vector<float> MakeState(core::Rng& rng, size_t width, double scale = 1.0) {
  std::vector<float> state(width);
  for (float& value : state) value = static_cast<float>(rng.Normal() * scale);
  return state;
}

std::vector<ItemId> MakeExcluded(core::Rng& rng, size_t rows, size_t count) {
  std::vector<ItemId> excluded;
  for (size_t i = 0; i < count; ++i) excluded.push_back(static_cast<ItemId>(rng.Uniform(rows)));
  std::sort(excluded.begin(), excluded.end());  // duplicates allowed
  return excluded;
}

std::vector<ScoredItem> ReferenceTopK(const RandomMatrix& m, std::span<const float> state,
                                      std::span<const ItemId> excluded, size_t k) {
  std::vector<float> scores(m.rows);
  ExactScores(m.view(), state, 0, m.rows, scores);
  std::vector<ScoredItem> top(k);
  top.resize(SelectTopKExcludingSorted(scores, excluded, k, top));
  return top;
}

class ServingKernelTest : public ::testing::TestWithParam<ServingKernels> {};

TEST_P(ServingKernelTest, UpperBoundsNeverUndercutTheExactScore) {
  KernelChoice kernels(GetParam());
  core::Rng rng(11);
  for (const size_t width : {1u, 7u, 32u, 33u, 100u, 512u}) {
    const RandomMatrix m = MakeMatrix(rng, 301, width);
    const QuantizedItemMatrix quantized = QuantizedItemMatrix::Build(m.view());
    ASSERT_TRUE(quantized.usable());
    for (const double scale : {1e-3, 1.0, 40.0}) {
      const std::vector<float> state = MakeState(rng, width, scale);
      std::vector<float> exact(m.rows), upper(m.rows);
      ExactScores(m.view(), state, 0, m.rows, exact);
      ASSERT_TRUE(quantized.UpperBounds(m.view(), state, upper));
      double slack = 0.0, spread = 0.0, mean = 0.0;
      for (const float score : exact) mean += score / static_cast<double>(m.rows);
      for (size_t r = 0; r < m.rows; ++r) {
        ASSERT_GE(upper[r], exact[r]) << "width " << width << " row " << r;
        slack += (upper[r] - exact[r]) / static_cast<double>(m.rows);
        spread += (exact[r] - mean) * (exact[r] - mean) / static_cast<double>(m.rows);
      }
      // Loose enough for any correct quantizer, tight enough that a broken scale or norm (and
      // with it a candidate set of most of the catalogue) fails.
      EXPECT_LT(slack, 0.5 * std::sqrt(spread)) << "width " << width << " scale " << scale;
    }
  }
}

TEST_P(ServingKernelTest, CertifiedTopKEqualsFullScoringBitForBit) {
  KernelChoice kernels(GetParam());
  core::Rng rng(12);
  struct Shape {
    size_t rows, width;
  };
  // Row counts around the 8-row blocks of the exact kernel (a lone last row included).
  for (const Shape shape : {Shape{1, 4}, Shape{2, 3}, Shape{3, 64}, Shape{9, 5}, Shape{17, 32},
                            Shape{1001, 64}, Shape{4099, 100}, Shape{2000, 512}}) {
    const RandomMatrix m = MakeMatrix(rng, shape.rows, shape.width, /*duplicate_every=*/7);
    const QuantizedItemMatrix quantized = QuantizedItemMatrix::Build(m.view());
    ASSERT_TRUE(quantized.usable());
    for (int trial = 0; trial < 6; ++trial) {
      const std::vector<float> state = MakeState(rng, shape.width, trial % 2 == 0 ? 1.0 : 1e-2);
      const std::vector<ItemId> excluded = MakeExcluded(rng, shape.rows, trial * 3);
      for (const size_t k : {size_t{1}, size_t{10}, size_t{50}}) {
        for (const size_t candidates : {size_t{0}, size_t{1}, k + 1}) {
          ServingOptions options;
          options.candidates = candidates;
          ServingStats stats;
          std::vector<ScoredItem> top(k);
          top.resize(CertifiedTopK(m.view(), quantized, state, excluded, k, top, options, &stats));
          const std::vector<ScoredItem> expected = ReferenceTopK(m, state, excluded, k);
          ASSERT_EQ(top, expected) << "rows " << shape.rows << " width " << shape.width << " k " << k
                                   << " candidates " << candidates << " trial " << trial;
          EXPECT_LE(stats.rescored_rows, shape.rows + (stats.exact_fallback ? shape.rows : 0));
        }
      }
    }
  }
}

TEST_P(ServingKernelTest, FirstPassUsuallyCertifiesAndRescoresFewRows) {
  KernelChoice kernels(GetParam());
  core::Rng rng(13);
  const RandomMatrix m = MakeMatrix(rng, 20000, 128);
  const QuantizedItemMatrix quantized = QuantizedItemMatrix::Build(m.view());
  size_t second_passes = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<float> state = MakeState(rng, 128);
    ServingStats stats;
    std::vector<ScoredItem> top(10);
    ASSERT_EQ(CertifiedTopK(m.view(), quantized, state, {}, 10, top, ServingOptions{}, &stats), 10u);
    EXPECT_EQ(top, ReferenceTopK(m, state, {}, 10));
    EXPECT_FALSE(stats.exact_fallback);
    EXPECT_LT(stats.rescored_rows, 1000u);
    second_passes += stats.second_pass ? 1 : 0;
  }
  EXPECT_LE(second_passes, 2u);
}

TEST_P(ServingKernelTest, NonFiniteValuesFallBackToExactScoring) {
  KernelChoice kernels(GetParam());
  core::Rng rng(14);
  RandomMatrix m = MakeMatrix(rng, 100, 16);
  std::vector<float> state = MakeState(rng, 16);
  // Finite weights whose bounds overflow (the row norm exceeds the float range): the exact path
  // decides.
  m.matrix[5 * 16] = 3e38f;
  m.matrix[5 * 16 + 1] = -3e38f;
  const QuantizedItemMatrix huge = QuantizedItemMatrix::Build(m.view());
  ASSERT_TRUE(huge.usable());
  ServingStats stats;
  std::vector<ScoredItem> top(5);
  top.resize(CertifiedTopK(m.view(), huge, state, {}, 5, top, ServingOptions{}, &stats));
  EXPECT_TRUE(stats.exact_fallback);
  EXPECT_EQ(top, ReferenceTopK(m, state, {}, 5));
  // A NaN weight makes the copy unusable; a NaN state has no bounds.
  m.matrix[5 * 16] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(QuantizedItemMatrix::Build(m.view()).usable());
  m.matrix[5 * 16] = 1.0f;
  m.matrix[5 * 16 + 1] = 1.0f;
  const QuantizedItemMatrix fine = QuantizedItemMatrix::Build(m.view());
  state[3] = std::numeric_limits<float>::infinity();
  std::vector<float> upper(m.rows);
  EXPECT_FALSE(fine.UpperBounds(m.view(), state, upper));
}

// Double-precision GRUCell / RNNCell, step by step, as LibTorch defines them.
std::vector<double> ReferenceCell(const RecurrentCell& cell, const std::vector<float>& inputs, size_t steps) {
  const size_t h = cell.hidden_dim, rows = cell.gates() * h;
  std::vector<double> state(h, 0.0), gi(rows), gh(rows);
  for (size_t step = 0; step < steps; ++step) {
    for (size_t r = 0; r < rows; ++r) {
      gi[r] = cell.bias_ih[r];
      for (size_t j = 0; j < cell.input_dim; ++j) gi[r] += double{cell.weight_ih[r * cell.input_dim + j]} * inputs[step * cell.input_dim + j];
      gh[r] = cell.bias_hh[r];
      for (size_t j = 0; j < h; ++j) gh[r] += double{cell.weight_hh[r * h + j]} * state[j];
    }
    auto sigmoid = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
    for (size_t i = 0; i < h; ++i) {
      if (!cell.gru) {
        state[i] = std::tanh(gi[i] + gh[i]);
        continue;
      }
      const double reset = sigmoid(gi[i] + gh[i]), update = sigmoid(gi[h + i] + gh[h + i]);
      const double candidate = std::tanh(gi[2 * h + i] + reset * gh[2 * h + i]);
      state[i] = (1.0 - update) * candidate + update * state[i];
    }
  }
  return state;
}

TEST_P(ServingKernelTest, RecurrentCellMatchesADoublePrecisionReference) {
  KernelChoice kernels(GetParam());
  core::Rng rng(15);
  struct Shape {
    bool gru;
    size_t input_dim, hidden_dim, steps;
  };
  for (const Shape shape : {Shape{true, 13, 7, 5}, Shape{true, 64, 64, 50}, Shape{false, 32, 40, 9},
                            Shape{true, 512, 512, 3}, Shape{false, 5, 3, 0}}) {
    RecurrentCell cell;
    cell.gru = shape.gru;
    cell.input_dim = shape.input_dim;
    cell.hidden_dim = shape.hidden_dim;
    const size_t rows = cell.gates() * shape.hidden_dim;
    const double sigma = std::sqrt(6.0 / static_cast<double>(rows / cell.gates() + shape.input_dim));
    auto fill = [&](std::vector<float>& values, size_t count) {
      values.resize(count);
      for (float& value : values) value = static_cast<float>((rng.UniformDouble() * 2.0 - 1.0) * 2.0 * sigma);
    };
    fill(cell.weight_ih, rows * shape.input_dim);
    fill(cell.weight_hh, rows * shape.hidden_dim);
    fill(cell.bias_ih, rows);
    fill(cell.bias_hh, rows);
    cell.Pack();
    std::vector<float> inputs;
    fill(inputs, shape.steps * shape.input_dim);
    std::vector<float> state(shape.hidden_dim, 99.0f);
    cell.Run(inputs, shape.steps, state);
    const std::vector<double> expected = ReferenceCell(cell, inputs, shape.steps);
    for (size_t i = 0; i < shape.hidden_dim; ++i) {
      EXPECT_NEAR(state[i], expected[i], 2e-6) << "hidden " << shape.hidden_dim << " unit " << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kernels, ServingKernelTest,
                         ::testing::Values(ServingKernels::kBest, ServingKernels::kAvx2, ServingKernels::kPortable),
                         [](const auto& test_info) {
                           switch (test_info.param) {
                             case ServingKernels::kBest: return std::string("Best");
                             case ServingKernels::kAvx2: return std::string("Avx2");
                             case ServingKernels::kPortable: return std::string("Portable");
                           }
                           return std::string("Unknown");
                         });

// ---- Trained tiny models of every architecture, through the hooks.

NeuralOptions TinyServingOptions(NeuralArchitecture architecture, bool constrained = true) {
  NeuralOptions options = NeuralOptions::Defaults(architecture);
  options.seed = 5;
  options.valid_queries = 0;
  options.layers = 48;
  options.n_sample = 8;
  options.batch_size = 16;
  options.n_epochs = 3;
  options.constrained_embedding = constrained;
  options.embedding = constrained ? 0 : 24;
  options.dim = 32;
  options.blocks = 1;
  options.max_length = 8;
  options.dropout = 0.0;
  return options;
}

class ServingModelTest : public ::testing::TestWithParam<NeuralArchitecture> {};

TEST_P(ServingModelTest, TopKMatchesExactScoringAndTheCellMatchesLibTorch) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  core::ThreadPool pool(2);
  for (const bool constrained : {true, false}) {
    const bool session = GetParam() == NeuralArchitecture::kRnn || GetParam() == NeuralArchitecture::kGru4Rec;
    if (!constrained && !session) continue;
    auto model = NeuralRecommender::Create(TinyServingOptions(GetParam(), constrained));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    ASSERT_TRUE((*model)->Fit(catalog, testing::TinyWorldChains(4, 200), pool).ok());
    core::Rng rng(16);
    std::vector<float> scores(catalog.size());
    for (int trial = 0; trial < 30; ++trial) {
      // Histories of 1..60 items, some never seen in training (20..23), some repeated.
      std::vector<ItemId> history(1 + rng.Uniform(60));
      for (ItemId& item : history) item = static_cast<ItemId>(rng.Uniform(catalog.size()));
      Query query;
      query.kind = data::QueryKind::kNextItem;
      query.history = history;
      std::vector<ItemId> excluded(history);
      std::sort(excluded.begin(), excluded.end());
      if (trial % 3 == 0) excluded.clear();
      (*model)->Score(query, scores);
      // k = 24 asks for more than the known items left: unknown items fill the tail.
      for (const size_t k : {size_t{1}, size_t{10}, size_t{24}}) {
        std::vector<ScoredItem> expected(k), reference(k), served(k);
        expected.resize(SelectTopKExcludingSorted(scores, excluded, k, expected));
        ServingOptions libtorch_state;
        libtorch_state.serving_encoder = false;
        reference.resize(ServingTopK(**model, query, excluded, k, reference, libtorch_state));
        EXPECT_EQ(reference, expected) << "trial " << trial << " k " << k;
        served.resize(ServingTopK(**model, query, excluded, k, served));
        ASSERT_EQ(served.size(), expected.size());
        for (size_t i = 0; i < served.size(); ++i) {
          EXPECT_EQ(served[i].item, expected[i].item) << "trial " << trial << " k " << k << " rank " << i;
          EXPECT_NEAR(served[i].score, expected[i].score, 1e-4);
        }
      }
      const std::vector<float> libtorch = HistoryState(**model, history, /*reference=*/true);
      const std::vector<float> serving = HistoryState(**model, history, /*reference=*/false);
      ASSERT_EQ(libtorch.size(), serving.size());
      for (size_t i = 0; i < libtorch.size(); ++i) {
        EXPECT_NEAR(serving[i], libtorch[i], 1e-5) << "trial " << trial << " unit " << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, ServingModelTest,
                         ::testing::Values(NeuralArchitecture::kRnn, NeuralArchitecture::kGru4Rec,
                                           NeuralArchitecture::kSasRec, NeuralArchitecture::kTransGru),
                         [](const auto& test_info) { return std::string(NeuralArchitectureName(test_info.param)); });

}  // namespace
}  // namespace melodai::rec::internal
