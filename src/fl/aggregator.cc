// MelodAI — licensed under the Apache License 2.0.
// Aggregation rules: the streaming weighted sum behind FedAvg/FedProx and the robust rules
// (median, trimmed mean, Krum / Multi-Krum) that hold every update of the round.
#include "fl/aggregator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "fl/dp.h"

namespace melodai::fl {
namespace {

constexpr std::array<std::string_view, 8> kAggregatorNames = {
    "fedavg", "fedprox",    "median",           "trimmed_mean",
    "krum",   "multi_krum", "geometric_median", "norm_bounded"};

double MedianOf(std::vector<double> values) {
  MELODAI_CHECK(!values.empty());
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2.0;
}

core::Status CheckUpdate(size_t dimension, bool has_previous, ClientId previous, ClientId client,
                         double weight, std::span<const float> update) {
  if (update.size() != dimension) {
    return core::InvalidArgumentError(fmt::format("update of client {} has {} elements, expected {}",
                                                  client, update.size(), dimension));
  }
  if (!(weight > 0.0) || !std::isfinite(weight)) {
    return core::InvalidArgumentError(fmt::format("client {} has weight {}", client, weight));
  }
  if (has_previous && client <= previous) {
    return core::InvalidArgumentError(
        fmt::format("client {} added after client {}: updates must come in client order", client,
                    previous));
  }
  for (float value : update) {
    if (!std::isfinite(value)) {
      return core::InvalidArgumentError(fmt::format("update of client {} is not finite", client));
    }
  }
  return core::Status::Ok();
}

// FedAvg / FedProx: the example-weighted mean, accumulated in client order.
class SumAggregator final : public Aggregator {
 public:
  explicit SumAggregator(AggregatorKind kind) : kind_(kind) {}
  AggregatorKind kind() const override { return kind_; }
  bool needs_individual_updates() const override { return false; }
  void Begin(size_t dimension) override {
    sum_.Reset(dimension);
    selected_.clear();
  }
  core::Status Add(ClientId client, double weight, std::span<const float> update) override {
    MELODAI_RETURN_IF_ERROR(CheckUpdate(sum_.dimension(), !selected_.empty(),
                                        selected_.empty() ? 0 : selected_.back(), client, weight,
                                        update));
    sum_.Add(weight, update);
    selected_.push_back(client);
    return core::Status::Ok();
  }
  core::Result<AggregateResult> Finish() override {
    if (selected_.empty()) return core::FailedPreconditionError("no updates to aggregate");
    AggregateResult result;
    result.update = sum_.Divided(sum_.total_weight());
    result.input_count = static_cast<uint32_t>(selected_.size());
    result.selected = std::move(selected_);
    selected_.clear();
    return result;
  }

 private:
  AggregatorKind kind_;
  WeightedSum sum_;
  std::vector<ClientId> selected_;
};

// Median, trimmed mean, Krum: keep a copy of every update, decide in Finish.
class RobustAggregator final : public Aggregator {
 public:
  explicit RobustAggregator(const AggregatorConfig& config) : config_(config) {}
  AggregatorKind kind() const override { return config_.kind; }
  bool needs_individual_updates() const override { return true; }
  void Begin(size_t dimension) override {
    dimension_ = dimension;
    clients_.clear();
    weights_.clear();
    updates_.clear();
  }
  core::Status Add(ClientId client, double weight, std::span<const float> update) override {
    MELODAI_RETURN_IF_ERROR(CheckUpdate(dimension_, !clients_.empty(),
                                        clients_.empty() ? 0 : clients_.back(), client, weight,
                                        update));
    clients_.push_back(client);
    weights_.push_back(weight);
    updates_.emplace_back(update.begin(), update.end());
    return core::Status::Ok();
  }
  core::Result<AggregateResult> Finish() override;

 private:
  AggregatorConfig config_;
  size_t dimension_ = 0;
  std::vector<ClientId> clients_;
  std::vector<double> weights_;
  std::vector<std::vector<float>> updates_;
};

core::Result<AggregateResult> RobustAggregator::Finish() {
  const size_t n = updates_.size();
  if (n == 0) return core::FailedPreconditionError("no updates to aggregate");
  std::vector<std::span<const float>> views(updates_.begin(), updates_.end());
  AggregateResult result;
  result.input_count = static_cast<uint32_t>(n);
  switch (config_.kind) {
    case AggregatorKind::kMedian:
      result.update = CoordinateMedian(views);
      result.selected = clients_;
      break;
    case AggregatorKind::kTrimmedMean: {
      const auto trim = static_cast<size_t>(std::floor(config_.trim_fraction * static_cast<double>(n)));
      if (2 * trim >= n) {
        return core::FailedPreconditionError(
            fmt::format("trimmed mean drops {} of {} updates on each side", trim, n));
      }
      result.update = TrimmedMean(views, trim);
      result.selected = clients_;
      break;
    }
    case AggregatorKind::kKrum:
    case AggregatorKind::kMultiKrum: {
      const size_t f = config_.krum_byzantine;
      if (n <= 2 * f + 2) {
        return core::FailedPreconditionError(
            fmt::format("Krum with f = {} needs more than {} updates, got {}", f, 2 * f + 2, n));
      }
      size_t m = 1;
      if (config_.kind == AggregatorKind::kMultiKrum) {
        m = config_.krum_selected == 0 ? n - f : std::min<size_t>(config_.krum_selected, n);
      }
      const std::vector<size_t> chosen = KrumSelect(views, f, m);
      WeightedSum sum;
      sum.Reset(dimension_);
      for (size_t index : chosen) {
        sum.Add(1.0, views[index]);
        result.selected.push_back(clients_[index]);
      }
      result.update = sum.Divided(static_cast<double>(chosen.size()));
      break;
    }
    case AggregatorKind::kGeometricMedian:
      result.update = GeometricMedian(views, config_.median_iterations);
      result.selected = clients_;
      break;
    case AggregatorKind::kNormBounded: {
      std::vector<size_t> kept;
      result.update = NormBoundedMean(views, weights_, config_, &kept);
      for (size_t index : kept) result.selected.push_back(clients_[index]);
      break;
    }
    default:
      MELODAI_CHECK_MSG(false, "not a robust aggregator");
  }
  clients_.clear();
  weights_.clear();
  updates_.clear();
  return result;
}

}  // namespace

std::string_view AggregatorKindName(AggregatorKind kind) {
  const auto index = static_cast<size_t>(kind);
  MELODAI_CHECK_LT(index, kAggregatorNames.size());
  return kAggregatorNames[index];
}

core::Result<AggregatorKind> ParseAggregatorKind(std::string_view name) {
  for (size_t i = 0; i < kAggregatorNames.size(); ++i) {
    if (kAggregatorNames[i] == name) return static_cast<AggregatorKind>(i);
  }
  return core::InvalidArgumentError(fmt::format(
      "unknown aggregator '{}' (expected one of: {})", name, fmt::join(kAggregatorNames, ", ")));
}

core::Status ValidateAggregatorConfig(const AggregatorConfig& config) {
  if (!(config.trim_fraction >= 0.0 && config.trim_fraction < 0.5)) {
    return core::InvalidArgumentError(
        fmt::format("trim fraction {} is outside [0, 0.5)", config.trim_fraction));
  }
  if (config.median_iterations < 1 || config.median_iterations > 1000) {
    return core::InvalidArgumentError(
        fmt::format("median_iterations {} is outside [1, 1000]", config.median_iterations));
  }
  if (!(config.bound_factor > 0.0 && config.bound_factor <= 1000.0)) {
    return core::InvalidArgumentError(
        fmt::format("norm bound factor {} is outside (0, 1000]", config.bound_factor));
  }
  if (!(config.reject_factor == 0.0 ||
        (config.reject_factor >= 1.0 && config.reject_factor <= 1000.0))) {
    return core::InvalidArgumentError(fmt::format(
        "reject factor {} is neither 0 (off) nor in [1, 1000]", config.reject_factor));
  }
  if (!(config.min_cosine <= 1.0) || std::isnan(config.min_cosine)) {
    return core::InvalidArgumentError(fmt::format("min cosine {} is above 1", config.min_cosine));
  }
  if (!(config.weight_cap > 0.0 && config.weight_cap <= 1000.0)) {
    return core::InvalidArgumentError(
        fmt::format("weight cap {} is outside (0, 1000]", config.weight_cap));
  }
  if (static_cast<size_t>(config.kind) >= kAggregatorNames.size()) {
    return core::InvalidArgumentError("unknown aggregator kind");
  }
  return core::Status::Ok();
}

bool NeedsIndividualUpdates(AggregatorKind kind) {
  return kind != AggregatorKind::kFedAvg && kind != AggregatorKind::kFedProx;
}

std::unique_ptr<Aggregator> MakeAggregator(const AggregatorConfig& config) {
  MELODAI_CHECK(ValidateAggregatorConfig(config).ok());
  if (NeedsIndividualUpdates(config.kind)) return std::make_unique<RobustAggregator>(config);
  return std::make_unique<SumAggregator>(config.kind);
}

void WeightedSum::Reset(size_t dimension) {
  sum_.assign(dimension, 0.0);
  total_weight_ = 0.0;
  count_ = 0;
}

void WeightedSum::Add(double weight, std::span<const float> update) {
  MELODAI_CHECK_EQ(update.size(), sum_.size());
  for (size_t i = 0; i < update.size(); ++i) sum_[i] += weight * static_cast<double>(update[i]);
  total_weight_ += weight;
  ++count_;
}

void WeightedSum::AddDouble(std::span<const double> values) {
  MELODAI_CHECK_EQ(values.size(), sum_.size());
  for (size_t i = 0; i < values.size(); ++i) sum_[i] += values[i];
}

std::vector<float> WeightedSum::Divided(double denominator) const {
  MELODAI_CHECK_GT(denominator, 0.0);
  std::vector<float> result(sum_.size());
  for (size_t i = 0; i < sum_.size(); ++i) result[i] = static_cast<float>(sum_[i] / denominator);
  return result;
}

std::vector<float> CoordinateMedian(UpdateList updates) {
  MELODAI_CHECK(!updates.empty());
  const size_t n = updates.size();
  const size_t dimension = updates[0].size();
  std::vector<float> result(dimension);
  std::vector<float> column(n);
  for (size_t j = 0; j < dimension; ++j) {
    for (size_t i = 0; i < n; ++i) column[i] = updates[i][j];
    std::sort(column.begin(), column.end());
    result[j] = n % 2 == 1 ? column[n / 2]
                           : static_cast<float>((static_cast<double>(column[n / 2 - 1]) +
                                                 static_cast<double>(column[n / 2])) / 2.0);
  }
  return result;
}

std::vector<float> TrimmedMean(UpdateList updates, size_t trim) {
  MELODAI_CHECK(!updates.empty());
  const size_t n = updates.size();
  MELODAI_CHECK_LT(2 * trim, n);
  const size_t dimension = updates[0].size();
  std::vector<float> result(dimension);
  std::vector<float> column(n);
  for (size_t j = 0; j < dimension; ++j) {
    for (size_t i = 0; i < n; ++i) column[i] = updates[i][j];
    std::sort(column.begin(), column.end());
    double total = 0.0;
    for (size_t i = trim; i < n - trim; ++i) total += column[i];
    result[j] = static_cast<float>(total / static_cast<double>(n - 2 * trim));
  }
  return result;
}

std::vector<double> KrumScores(UpdateList updates, size_t byzantine) {
  const size_t n = updates.size();
  MELODAI_CHECK_GT(n, 2 * byzantine + 2);
  std::vector<double> distance(n * n, 0.0);
  for (size_t a = 0; a < n; ++a) {
    MELODAI_CHECK_EQ(updates[a].size(), updates[0].size());
    for (size_t b = a + 1; b < n; ++b) {
      double total = 0.0;
      for (size_t j = 0; j < updates[a].size(); ++j) {
        const double diff = static_cast<double>(updates[a][j]) - static_cast<double>(updates[b][j]);
        total += diff * diff;
      }
      distance[a * n + b] = total;
      distance[b * n + a] = total;
    }
  }
  const size_t neighbours = n - byzantine - 2;
  std::vector<double> scores(n);
  std::vector<double> row;
  for (size_t a = 0; a < n; ++a) {
    row.clear();
    for (size_t b = 0; b < n; ++b) {
      if (b != a) row.push_back(distance[a * n + b]);
    }
    std::partial_sort(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(neighbours), row.end());
    scores[a] = std::accumulate(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(neighbours), 0.0);
  }
  return scores;
}

std::vector<size_t> KrumSelect(UpdateList updates, size_t byzantine, size_t selected) {
  MELODAI_CHECK_GE(selected, 1u);
  MELODAI_CHECK_LE(selected, updates.size());
  const std::vector<double> scores = KrumScores(updates, byzantine);
  std::vector<size_t> order(updates.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  order.resize(selected);
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<float> GeometricMedian(UpdateList updates, uint32_t max_iterations, uint32_t* iterations) {
  MELODAI_CHECK(!updates.empty());
  MELODAI_CHECK_GE(max_iterations, 1u);
  const size_t n = updates.size();
  const size_t dimension = updates[0].size();
  double largest_norm = 0.0;
  std::vector<double> z(dimension, 0.0);
  for (const auto& update : updates) {
    MELODAI_CHECK_EQ(update.size(), dimension);
    double norm = 0.0;
    for (size_t j = 0; j < dimension; ++j) {
      z[j] += update[j];
      norm += static_cast<double>(update[j]) * update[j];
    }
    largest_norm = std::max(largest_norm, std::sqrt(norm));
  }
  for (double& value : z) value /= static_cast<double>(n);
  const double floor = std::max(1e-9 * largest_norm, std::numeric_limits<double>::min());
  std::vector<double> next(dimension);
  std::vector<double> beta(n);
  uint32_t steps = 0;
  while (steps < max_iterations) {
    ++steps;
    double beta_total = 0.0;
    for (size_t i = 0; i < n; ++i) {
      double distance = 0.0;
      for (size_t j = 0; j < dimension; ++j) {
        const double diff = z[j] - static_cast<double>(updates[i][j]);
        distance += diff * diff;
      }
      beta[i] = 1.0 / std::max(floor, std::sqrt(distance));
      beta_total += beta[i];
    }
    std::fill(next.begin(), next.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      const double share = beta[i] / beta_total;
      for (size_t j = 0; j < dimension; ++j) next[j] += share * static_cast<double>(updates[i][j]);
    }
    double moved = 0.0;
    double norm = 0.0;
    for (size_t j = 0; j < dimension; ++j) {
      moved += (next[j] - z[j]) * (next[j] - z[j]);
      norm += next[j] * next[j];
    }
    z.swap(next);
    if (std::sqrt(moved) <= 1e-6 * std::sqrt(norm)) break;
  }
  if (iterations != nullptr) *iterations = steps;
  return std::vector<float>(z.begin(), z.end());
}

std::vector<float> NormBoundedMean(UpdateList updates, std::span<const double> weights,
                                   const AggregatorConfig& config, std::vector<size_t>* kept) {
  MELODAI_CHECK(!updates.empty());
  MELODAI_CHECK_EQ(weights.size(), updates.size());
  const size_t n = updates.size();
  const size_t dimension = updates[0].size();
  std::vector<double> norms(n);
  for (size_t i = 0; i < n; ++i) {
    MELODAI_CHECK_EQ(updates[i].size(), dimension);
    MELODAI_CHECK_GT(weights[i], 0.0);
    norms[i] = L2Norm(updates[i]);
  }
  const double cap = config.weight_cap * MedianOf(std::vector<double>(weights.begin(), weights.end()));
  const double median_norm = MedianOf(norms);
  const double bound = config.bound_factor * median_norm;
  std::vector<double> shrink(n);
  for (size_t i = 0; i < n; ++i) shrink[i] = norms[i] > bound ? bound / norms[i] : 1.0;
  std::vector<bool> keep(n, true);
  if (config.reject_factor > 0.0) {
    for (size_t i = 0; i < n; ++i) keep[i] = norms[i] <= config.reject_factor * median_norm;
  }
  if (config.min_cosine >= -1.0 && n >= 2) {
    // Cosine of b_i = shrink_i x_i with T - b_i, T = sum_j b_j: (b_i.T - |b_i|^2) / (|b_i| |T - b_i|).
    // Rejected updates are out of T and stay out.
    std::vector<double> total(dimension, 0.0);
    for (size_t i = 0; i < n; ++i) {
      if (!keep[i]) continue;
      for (size_t j = 0; j < dimension; ++j) total[j] += shrink[i] * static_cast<double>(updates[i][j]);
    }
    double total_squared = 0.0;
    for (double value : total) total_squared += value * value;
    for (size_t i = 0; i < n; ++i) {
      if (!keep[i]) continue;
      double dot = 0.0;
      for (size_t j = 0; j < dimension; ++j) dot += shrink[i] * static_cast<double>(updates[i][j]) * total[j];
      const double own = shrink[i] * norms[i];
      const double cross = dot - own * own;                            // b_i . (T - b_i)
      const double others = std::sqrt(std::max(0.0, total_squared - 2.0 * dot + own * own));  // |T - b_i|
      const double cosine = own > 0.0 && others > 0.0 ? cross / (own * others) : 0.0;
      keep[i] = cosine >= config.min_cosine;
    }
  }
  WeightedSum sum;
  sum.Reset(dimension);
  double denominator = 0.0;  // Full weights: shrinking an update does not raise the others' share.
  if (kept != nullptr) kept->clear();
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    const double weight = std::min(weights[i], cap);
    sum.Add(weight * shrink[i], updates[i]);
    denominator += weight;
    if (kept != nullptr) kept->push_back(i);
  }
  if (denominator == 0.0) return std::vector<float>(dimension, 0.0f);
  return sum.Divided(denominator);
}

}  // namespace melodai::fl
