// MelodAI — licensed under the Apache License 2.0.
// Als: confidence-weighted alternating least squares with Eigen (per-row Cholesky on the
// shared Gram matrix plus a sparse rank-k correction), parallel over rows, and fold-in.
#include "rec/als.h"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <utility>

#include "core/rng.h"
#include "rec/popularity.h"

namespace melodai::rec {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstRowMap = Eigen::Map<const RowMatrix>;
using ConstSquareMap = Eigen::Map<const Eigen::MatrixXf>;

constexpr uint32_t kMaxFactors = 1024;

// Rows of (column, strength) entries, columns ascending within a row.
struct SparseRows {
  std::vector<uint64_t> offsets{0};
  std::vector<uint32_t> columns;
  std::vector<float> strengths;
  size_t rows() const { return offsets.size() - 1; }
};

// One history as ascending (compact item, strength) entries.
using Entries = std::vector<std::pair<uint32_t, float>>;

float Strength(AlsConfidence confidence, double summed_weight) {
  switch (confidence) {
    case AlsConfidence::kBinary:
      return 1.0f;
    case AlsConfidence::kWeight:
      return static_cast<float>(summed_weight);
    case AlsConfidence::kLogWeight:
      return static_cast<float>(std::log1p(summed_weight));
  }
  return 1.0f;
}

// Merges repeated items of a history (weights summed; unknown items dropped) into `entries`,
// with strengths multiplied by `strength_scale`.
// Training rows and queries both go through here, so a training sequence folds in to exactly
// the system its user row was solved with.
void AggregateHistory(std::span<const data::ItemId> items, std::span<const float> weights,
                      const KnownItems& known, AlsConfidence confidence, float strength_scale,
                      Entries& entries) {
  entries.clear();
  const bool weighted = weights.size() == items.size() && confidence != AlsConfidence::kBinary;
  for (size_t e = 0; e < items.size(); ++e) {
    const uint32_t row = known.RowOf(items[e]);
    if (row == KnownItems::kNoRow) continue;
    const float weight = weighted ? std::max(0.0f, weights[e]) : 1.0f;
    entries.emplace_back(row, std::isfinite(weight) ? weight : 0.0f);
  }
  std::sort(entries.begin(), entries.end());
  size_t out = 0;
  for (size_t e = 0; e < entries.size();) {
    double sum = 0.0;
    size_t next = e;
    for (; next < entries.size() && entries[next].first == entries[e].first; ++next) {
      sum += entries[next].second;
    }
    const AlsConfidence rule = weighted ? confidence : AlsConfidence::kBinary;
    entries[out++] = {entries[e].first, Strength(rule, sum) * strength_scale};
    e = next;
  }
  entries.resize(out);
}

// Per-thread buffers of the row solver, reused across rows.
struct SolverScratch {
  Eigen::MatrixXf system;
  Eigen::VectorXf rhs;
  RowMatrix gathered;
  Eigen::LLT<Eigen::MatrixXf> llt;
};

// target = (gram + sum_k (c_k - 1) s_k s_k^T)^-1 sum_k c_k s_k, c_k = 1 + alpha * strength_k,
// s_k = row columns[k] of `source`. An empty row gives 0.
void SolveRow(ConstSquareMap gram, ConstRowMap source, std::span<const uint32_t> columns,
              std::span<const float> strengths, float alpha, SolverScratch& scratch,
              Eigen::Map<Eigen::VectorXf> target) {
  const Eigen::Index factors = gram.rows();
  if (columns.empty()) {
    target.setZero();
    return;
  }
  scratch.gathered.resize(static_cast<Eigen::Index>(columns.size()), factors);
  scratch.rhs.setZero(factors);
  for (size_t k = 0; k < columns.size(); ++k) {
    const float confidence = 1.0f + alpha * strengths[k];
    const auto source_row = source.row(columns[k]);
    scratch.gathered.row(static_cast<Eigen::Index>(k)) = std::sqrt(confidence - 1.0f) * source_row;
    scratch.rhs.noalias() += confidence * source_row.transpose();
  }
  scratch.system = gram;
  scratch.system.selfadjointView<Eigen::Lower>().rankUpdate(scratch.gathered.transpose());
  scratch.llt.compute(scratch.system);
  if (scratch.llt.info() == Eigen::Success) {
    target = scratch.llt.solve(scratch.rhs);
  } else {
    // Round-off can break positive definiteness for extreme confidences; LDLT still solves.
    target = scratch.system.selfadjointView<Eigen::Lower>().ldlt().solve(scratch.rhs);
  }
}

// gram = S^T S + lambda I for the factor matrix S.
std::vector<float> Gram(ConstRowMap source, float lambda) {
  const Eigen::Index factors = source.cols();
  std::vector<float> gram(static_cast<size_t>(factors * factors));
  Eigen::Map<Eigen::MatrixXf> map(gram.data(), factors, factors);
  map.noalias() = source.transpose() * source;
  map.diagonal().array() += lambda;
  return gram;
}

// Solves every row of `rows` against `source` into `target` (rows x factors, row-major).
void SolveSide(const SparseRows& rows, const std::vector<float>& source, size_t factors,
               float lambda, float alpha, core::ThreadPool& pool,
               std::vector<SolverScratch>& scratch, std::vector<float>& target) {
  const auto f = static_cast<Eigen::Index>(factors);
  const ConstRowMap source_map(source.data(), static_cast<Eigen::Index>(source.size() / factors),
                               f);
  const std::vector<float> gram = Gram(source_map, lambda);
  const ConstSquareMap gram_map(gram.data(), f, f);
  MELODAI_CHECK_EQ(target.size(), rows.rows() * factors);
  pool.ParallelFor(rows.rows(), 8, [&](size_t begin, size_t end, size_t worker) {
    for (size_t r = begin; r < end; ++r) {
      const size_t first = rows.offsets[r];
      const size_t count = rows.offsets[r + 1] - first;
      SolveRow(gram_map, source_map, std::span<const uint32_t>(rows.columns).subspan(first, count),
               std::span<const float>(rows.strengths).subspan(first, count), alpha, scratch[worker],
               Eigen::Map<Eigen::VectorXf>(target.data() + r * factors, f));
    }
  });
}

// The transpose of `rows` with `column_count` rows.
SparseRows Transpose(const SparseRows& rows, size_t column_count) {
  SparseRows out;
  out.offsets.assign(column_count + 1, 0);
  for (uint32_t column : rows.columns) ++out.offsets[column + 1];
  for (size_t c = 0; c < column_count; ++c) out.offsets[c + 1] += out.offsets[c];
  out.columns.resize(rows.columns.size());
  out.strengths.resize(rows.strengths.size());
  std::vector<uint64_t> cursor(out.offsets.begin(), out.offsets.end() - 1);
  for (size_t r = 0; r < rows.rows(); ++r) {
    for (size_t k = rows.offsets[r]; k < rows.offsets[r + 1]; ++k) {
      const uint64_t slot = cursor[rows.columns[k]]++;
      out.columns[slot] = static_cast<uint32_t>(r);
      out.strengths[slot] = rows.strengths[k];
    }
  }
  return out;
}

// The user rows of the training sequences. Weighted strengths are scaled to mean 1 over the
// training observations; the scale is returned in `strength_scale` for the fold-in.
SparseRows BuildUserRows(const data::Interactions& train, const KnownItems& known,
                         AlsConfidence confidence, float& strength_scale) {
  Entries entries;
  double strength_sum = 0.0;
  size_t strength_count = 0;
  for (size_t s = 0; s < train.size(); ++s) {
    AggregateHistory(train[s].items, train[s].weights, known, confidence, 1.0f, entries);
    for (const auto& entry : entries) strength_sum += entry.second;
    strength_count += entries.size();
  }
  strength_scale = strength_sum > 0.0
                       ? static_cast<float>(static_cast<double>(strength_count) / strength_sum)
                       : 1.0f;
  SparseRows users;
  for (size_t s = 0; s < train.size(); ++s) {
    AggregateHistory(train[s].items, train[s].weights, known, confidence, strength_scale, entries);
    for (const auto& [column, strength] : entries) {
      users.columns.push_back(column);
      users.strengths.push_back(strength);
    }
    users.offsets.push_back(users.columns.size());
  }
  MELODAI_CHECK_EQ(users.rows(), train.size());
  return users;
}

// Per-thread buffers of Score and FoldIn.
struct QueryScratch {
  Entries entries;
  std::vector<uint32_t> columns;
  std::vector<float> strengths;
  SolverScratch solver;
  Eigen::VectorXf user;
  Eigen::VectorXf item_scores;
};

QueryScratch& ThreadQueryScratch() {
  thread_local QueryScratch scratch;
  return scratch;
}

}  // namespace

core::Result<AlsConfidence> ParseAlsConfidence(std::string_view text) {
  if (text == "binary") return AlsConfidence::kBinary;
  if (text == "weight") return AlsConfidence::kWeight;
  if (text == "log") return AlsConfidence::kLogWeight;
  return core::InvalidArgumentError(
      fmt::format("unknown confidence '{}' (valid: binary, weight, log)", text));
}

std::string_view AlsConfidenceName(AlsConfidence confidence) {
  switch (confidence) {
    case AlsConfidence::kBinary:
      return "binary";
    case AlsConfidence::kWeight:
      return "weight";
    case AlsConfidence::kLogWeight:
      return "log";
  }
  return "binary";
}

core::Result<std::unique_ptr<Als>> Als::Create(const AlsOptions& options) {
  auto bad = [](std::string message) { return core::InvalidArgumentError("als: " + message); };
  if (options.factors < 1 || options.factors > kMaxFactors) {
    return bad(fmt::format("factors must be in [1, {}], got {}", kMaxFactors, options.factors));
  }
  if (!(std::isfinite(options.regularization) && options.regularization > 0.0)) {
    return bad(
        fmt::format("regularization must be finite and > 0, got {}", options.regularization));
  }
  if (!(std::isfinite(options.alpha) && options.alpha >= 0.0)) {
    return bad(fmt::format("alpha must be finite and >= 0, got {}", options.alpha));
  }
  if (options.iterations < 1 || options.iterations > 1000) {
    return bad(fmt::format("iterations must be in [1, 1000], got {}", options.iterations));
  }
  if (!(std::isfinite(options.init_stddev) && options.init_stddev > 0.0)) {
    return bad(fmt::format("init_stddev must be finite and > 0, got {}", options.init_stddev));
  }
  return std::unique_ptr<Als>(new Als(options));
}

std::string Als::DescribeParameters() const {
  std::string out = "{";
  AppendJsonUnsigned(out, "factors", options_.factors);
  AppendJsonNumber(out, "regularization", options_.regularization);
  AppendJsonNumber(out, "alpha", options_.alpha);
  AppendJsonUnsigned(out, "iterations", options_.iterations);
  AppendJsonString(out, "confidence", AlsConfidenceName(options_.confidence));
  AppendJsonNumber(out, "init_stddev", options_.init_stddev);
  AppendJsonUnsigned(out, "seed", options_.seed);
  out += '}';
  return out;
}

core::Status Als::Fit(const data::Catalog& catalog, const data::Interactions& train,
                      core::ThreadPool& pool) {
  MELODAI_RETURN_IF_ERROR(ValidateTrainingData(catalog, train));
  effective_confidence_ = train.has_weights() ? options_.confidence : AlsConfidence::kBinary;
  known_ = BuildKnownItems(SequencesByItem(DistinctItemsBySequence(train), catalog.size()));
  const SparseRows users = BuildUserRows(train, known_, effective_confidence_, strength_scale_);
  const SparseRows items = Transpose(users, known_.size());
  const size_t f = options_.factors;
  core::Rng rng(options_.seed);
  item_factors_.resize(known_.size() * f);
  for (float& value : item_factors_)
    value = static_cast<float>(rng.Normal(0.0, options_.init_stddev));
  user_factors_.assign(train.size() * f, 0.0f);
  std::vector<SolverScratch> scratch(pool.thread_count());
  const auto lambda = static_cast<float>(options_.regularization);
  const auto alpha = static_cast<float>(options_.alpha);
  for (uint32_t iteration = 0; iteration < options_.iterations; ++iteration) {
    SolveSide(users, item_factors_, f, lambda, alpha, pool, scratch, user_factors_);
    SolveSide(items, user_factors_, f, lambda, alpha, pool, scratch, item_factors_);
  }
  SolveSide(users, item_factors_, f, lambda, alpha, pool, scratch, user_factors_);
  const auto factors = static_cast<Eigen::Index>(f);
  gram_ = Gram(ConstRowMap(item_factors_.data(), static_cast<Eigen::Index>(known_.size()), factors),
               lambda);
  MELODAI_CHECK_EQ(gram_.size(), f * f);
  return core::Status::Ok();
}

std::vector<float> Als::FoldIn(std::span<const data::ItemId> history,
                               std::span<const float> weights) const {
  MELODAI_CHECK_EQ(gram_.size(), size_t{options_.factors} * options_.factors);
  QueryScratch& scratch = ThreadQueryScratch();
  AggregateHistory(history, weights, known_, effective_confidence_, strength_scale_,
                   scratch.entries);
  scratch.columns.clear();
  scratch.strengths.clear();
  for (const auto& [column, strength] : scratch.entries) {
    scratch.columns.push_back(column);
    scratch.strengths.push_back(strength);
  }
  const auto f = static_cast<Eigen::Index>(options_.factors);
  std::vector<float> user(options_.factors, 0.0f);
  SolveRow(ConstSquareMap(gram_.data(), f, f),
           ConstRowMap(item_factors_.data(), static_cast<Eigen::Index>(known_.size()), f),
           scratch.columns, scratch.strengths, static_cast<float>(options_.alpha), scratch.solver,
           Eigen::Map<Eigen::VectorXf>(user.data(), f));
  return user;
}

void Als::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), known_.row_of.size());
  const std::vector<float> user = FoldIn(query.history, query.history_weights);
  if (ThreadQueryScratch().entries.empty()) {
    known_.Scatter(known_.fallback_scores, scores);
    return;
  }
  const auto f = static_cast<Eigen::Index>(options_.factors);
  const ConstRowMap item_map(item_factors_.data(), static_cast<Eigen::Index>(known_.size()), f);
  Eigen::VectorXf& item_scores = ThreadQueryScratch().item_scores;
  item_scores.noalias() = item_map * Eigen::Map<const Eigen::VectorXf>(user.data(), f);
  known_.Scatter(std::span<const float>(item_scores.data(), known_.size()), scores);
}

std::span<const float> Als::UserFactors(size_t sequence) const {
  MELODAI_CHECK_LT(sequence, user_factors_.size() / options_.factors);
  return std::span<const float>(user_factors_)
      .subspan(sequence * options_.factors, options_.factors);
}

std::span<const float> Als::ItemFactors(data::ItemId item) const {
  const uint32_t row = known_.RowOf(item);
  if (row == KnownItems::kNoRow) return {};
  return std::span<const float>(item_factors_)
      .subspan(size_t{row} * options_.factors, options_.factors);
}

}  // namespace melodai::rec
