// MelodAI — licensed under the Apache License 2.0.
// Bpr: seeded single-threaded SGD over (sequence, positive, negative) triples, and the
// deterministic per-query fold-in used by Score.
#include "rec/bpr.h"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>

#include "core/bytes.h"
#include "core/rng.h"
#include "rec/popularity.h"

namespace melodai::rec {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr uint32_t kNoRow = KnownItems::kNoRow;
constexpr uint32_t kMaxFactors = 1024;
// Rejection sampling of negatives gives up after this many draws (only sequences that hold
// nearly every item get there) and skips the step.
constexpr int kMaxNegativeDraws = 32;

struct StepSizes {
  float learning_rate;
  float regularization;
  float bias_regularization;
};

// sigmoid(-x) = 1 / (1 + e^x): the gradient scale of ln sigmoid(x). Saturates to 0 or 1 for
// large |x| (never NaN for finite x).
inline float SigmoidOfNegative(float x) { return 1.0f / (1.0f + std::exp(x)); }

// One step on user u, positive i, negative j: ascends ln sigmoid(s_ui - s_uj) - penalties.
// All three vectors move from their values before the step. REQUIRES: equal sizes <=
// kMaxFactors, and the three rows distinct.
void Update(std::span<float> user, std::span<float> positive, std::span<float> negative,
            float& positive_bias, float& negative_bias, const StepSizes& step) {
  const auto factors = static_cast<Eigen::Index>(user.size());
  Eigen::Map<Eigen::VectorXf> u(user.data(), factors);
  Eigen::Map<Eigen::VectorXf> p(positive.data(), factors);
  Eigen::Map<Eigen::VectorXf> n(negative.data(), factors);
  float old_user_buffer[kMaxFactors];
  Eigen::Map<Eigen::VectorXf> old_user(old_user_buffer, factors);
  old_user = u;
  const float g = SigmoidOfNegative(positive_bias - negative_bias + u.dot(p - n));
  const float lr = step.learning_rate;
  const float decay = 1.0f - lr * step.regularization;
  u = decay * u + (lr * g) * (p - n);
  p = decay * p + (lr * g) * old_user;
  n = decay * n - (lr * g) * old_user;
  positive_bias += lr * (g - step.bias_regularization * positive_bias);
  negative_bias += lr * (-g - step.bias_regularization * negative_bias);
}

// A uniformly drawn row in [0, item_count) that is not in the sorted `positives`, or kNoRow.
uint32_t DrawNegative(core::Rng& rng, size_t item_count, std::span<const uint32_t> positives) {
  for (int draw = 0; draw < kMaxNegativeDraws; ++draw) {
    const auto candidate = static_cast<uint32_t>(rng.Uniform(item_count));
    if (!std::binary_search(positives.begin(), positives.end(), candidate)) return candidate;
  }
  return kNoRow;
}

std::span<float> RowOf(std::vector<float>& matrix, size_t row, size_t factors) {
  return std::span<float>(matrix).subspan(row * factors, factors);
}

// The distinct known rows of a history, ascending.
void KnownRows(std::span<const data::ItemId> history, const KnownItems& known,
               std::vector<uint32_t>& rows) {
  rows.clear();
  for (data::ItemId item : history) {
    const uint32_t row = known.RowOf(item);
    if (row != kNoRow) rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end());
  rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
}

struct QueryScratch {
  std::vector<uint32_t> rows;
  std::vector<float> user;
  Eigen::VectorXf item_scores;
};

QueryScratch& ThreadQueryScratch() {
  thread_local QueryScratch scratch;
  return scratch;
}

}  // namespace

core::Result<std::unique_ptr<Bpr>> Bpr::Create(const BprOptions& options) {
  auto bad = [](std::string message) { return core::InvalidArgumentError("bpr: " + message); };
  auto positive = [](double value) { return std::isfinite(value) && value > 0.0; };
  auto non_negative = [](double value) { return std::isfinite(value) && value >= 0.0; };
  if (options.factors < 1 || options.factors > kMaxFactors) {
    return bad(fmt::format("factors must be in [1, {}], got {}", kMaxFactors, options.factors));
  }
  if (!positive(options.learning_rate)) {
    return bad(fmt::format("learning_rate must be > 0, got {}", options.learning_rate));
  }
  if (!non_negative(options.regularization)) {
    return bad(fmt::format("regularization must be >= 0, got {}", options.regularization));
  }
  if (!non_negative(options.bias_regularization)) {
    return bad(
        fmt::format("bias_regularization must be >= 0, got {}", options.bias_regularization));
  }
  if (options.epochs < 1 || options.epochs > 10000) {
    return bad(fmt::format("epochs must be in [1, 10000], got {}", options.epochs));
  }
  if (!positive(options.init_stddev)) {
    return bad(fmt::format("init_stddev must be > 0, got {}", options.init_stddev));
  }
  if (options.fold_in_epochs > 1000) {
    return bad(fmt::format("fold_in_epochs must be in [0, 1000], got {}", options.fold_in_epochs));
  }
  if (!positive(options.fold_in_learning_rate)) {
    return bad(
        fmt::format("fold_in_learning_rate must be > 0, got {}", options.fold_in_learning_rate));
  }
  return std::unique_ptr<Bpr>(new Bpr(options));
}

std::string Bpr::DescribeParameters() const {
  std::string out = "{";
  AppendJsonUnsigned(out, "factors", options_.factors);
  AppendJsonNumber(out, "learning_rate", options_.learning_rate);
  AppendJsonNumber(out, "regularization", options_.regularization);
  AppendJsonNumber(out, "bias_regularization", options_.bias_regularization);
  AppendJsonUnsigned(out, "epochs", options_.epochs);
  AppendJsonNumber(out, "init_stddev", options_.init_stddev);
  AppendJsonUnsigned(out, "fold_in_epochs", options_.fold_in_epochs);
  AppendJsonNumber(out, "fold_in_learning_rate", options_.fold_in_learning_rate);
  AppendJsonUnsigned(out, "seed", options_.seed);
  out += '}';
  return out;
}

core::Status Bpr::Fit(const data::Catalog& catalog, const data::Interactions& train,
                      core::ThreadPool& /*pool*/) {
  MELODAI_RETURN_IF_ERROR(ValidateTrainingData(catalog, train));
  const CsrIndex items_by_sequence = DistinctItemsBySequence(train);
  const CsrIndex sequences_by_item = SequencesByItem(items_by_sequence, catalog.size());
  known_ = BuildKnownItems(sequences_by_item);
  if (known_.size() < 2) {
    return core::InvalidArgumentError("bpr: training data needs at least two distinct items");
  }

  // Positive pairs in compact rows; the mapping is monotone, so rows stay sorted.
  CsrIndex positives = items_by_sequence;
  for (uint32_t& value : positives.values) value = known_.row_of[value];
  std::vector<uint32_t> pair_sequence(positives.values.size());
  for (size_t s = 0; s < positives.rows(); ++s) {
    std::fill(pair_sequence.begin() + static_cast<ptrdiff_t>(positives.offsets[s]),
              pair_sequence.begin() + static_cast<ptrdiff_t>(positives.offsets[s + 1]),
              static_cast<uint32_t>(s));
  }

  const size_t f = options_.factors;
  core::Rng rng(options_.seed);
  item_factors_.resize(known_.size() * f);
  user_factors_.resize(train.size() * f);
  for (float& value : item_factors_)
    value = static_cast<float>(rng.Normal(0.0, options_.init_stddev));
  for (float& value : user_factors_)
    value = static_cast<float>(rng.Normal(0.0, options_.init_stddev));
  item_bias_.assign(known_.size(), 0.0f);

  const StepSizes step{static_cast<float>(options_.learning_rate),
                       static_cast<float>(options_.regularization),
                       static_cast<float>(options_.bias_regularization)};
  const size_t pair_count = pair_sequence.size();
  for (uint32_t epoch = 0; epoch < options_.epochs; ++epoch) {
    for (size_t t = 0; t < pair_count; ++t) {
      const size_t pair = static_cast<size_t>(rng.Uniform(pair_count));
      const uint32_t sequence = pair_sequence[pair];
      const uint32_t i = positives.values[pair];
      const uint32_t j = DrawNegative(rng, known_.size(), positives.row(sequence));
      if (j == kNoRow) continue;
      Update(RowOf(user_factors_, sequence, f), RowOf(item_factors_, i, f),
             RowOf(item_factors_, j, f), item_bias_[i], item_bias_[j], step);
    }
  }
  MELODAI_CHECK_EQ(item_bias_.size(), known_.size());
  return core::Status::Ok();
}

void Bpr::FoldInto(std::span<const uint32_t> positives, std::span<float> user) const {
  const size_t f = options_.factors;
  MELODAI_CHECK_EQ(user.size(), f);
  std::fill(user.begin(), user.end(), 0.0f);
  if (positives.empty()) return;
  for (uint32_t row : positives) {
    for (size_t k = 0; k < f; ++k) user[k] += item_factors_[row * f + k];
  }
  for (float& value : user) value /= static_cast<float>(positives.size());
  // Seeded from the history's content, so equal queries give equal vectors on any thread.
  const std::string_view bytes(reinterpret_cast<const char*>(positives.data()),
                               positives.size() * sizeof(uint32_t));
  core::Rng rng(core::Hash64(bytes, options_.seed));
  const float lr = static_cast<float>(options_.fold_in_learning_rate);
  const float decay = 1.0f - lr * static_cast<float>(options_.regularization);
  const auto size = static_cast<Eigen::Index>(f);
  Eigen::Map<Eigen::VectorXf> x(user.data(), size);
  const size_t steps = size_t{options_.fold_in_epochs} * positives.size();
  for (size_t t = 0; t < steps; ++t) {
    const uint32_t i = positives[rng.Uniform(positives.size())];
    const uint32_t j = DrawNegative(rng, known_.size(), positives);
    if (j == kNoRow) continue;
    // The same gradient as Update, applied to the user vector only (items are frozen).
    const Eigen::Map<const Eigen::VectorXf> positive(item_factors_.data() + size_t{i} * f, size);
    const Eigen::Map<const Eigen::VectorXf> negative(item_factors_.data() + size_t{j} * f, size);
    const float g = SigmoidOfNegative(item_bias_[i] - item_bias_[j] + x.dot(positive - negative));
    x = decay * x + (lr * g) * (positive - negative);
  }
}

std::vector<float> Bpr::FoldIn(std::span<const data::ItemId> history) const {
  QueryScratch& scratch = ThreadQueryScratch();
  KnownRows(history, known_, scratch.rows);
  std::vector<float> user(options_.factors);
  FoldInto(scratch.rows, user);
  return user;
}

void Bpr::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), known_.row_of.size());
  QueryScratch& scratch = ThreadQueryScratch();
  KnownRows(query.history, known_, scratch.rows);
  if (scratch.rows.empty()) {
    known_.Scatter(known_.fallback_scores, scores);
    return;
  }
  const size_t f = options_.factors;
  scratch.user.resize(f);
  FoldInto(scratch.rows, scratch.user);
  const auto rows = static_cast<Eigen::Index>(known_.size());
  const Eigen::Map<const RowMatrix> items(item_factors_.data(), rows, static_cast<Eigen::Index>(f));
  scratch.item_scores.noalias() =
      items * Eigen::Map<const Eigen::VectorXf>(scratch.user.data(), static_cast<Eigen::Index>(f));
  scratch.item_scores += Eigen::Map<const Eigen::VectorXf>(item_bias_.data(), rows);
  known_.Scatter(std::span<const float>(scratch.item_scores.data(), known_.size()), scores);
}

std::span<const float> Bpr::UserFactors(size_t sequence) const {
  MELODAI_CHECK_LT(sequence, user_factors_.size() / options_.factors);
  return std::span<const float>(user_factors_)
      .subspan(sequence * options_.factors, options_.factors);
}

std::span<const float> Bpr::ItemFactors(data::ItemId item) const {
  const uint32_t row = known_.RowOf(item);
  if (row == kNoRow) return {};
  return std::span<const float>(item_factors_)
      .subspan(size_t{row} * options_.factors, options_.factors);
}

}  // namespace melodai::rec
