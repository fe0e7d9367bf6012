// MelodAI — licensed under the Apache License 2.0.
// Feature standardization and the cosine feature-neighbour baseline (featknn).
#include "rec/feature_knn.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "rec/popularity.h"

namespace melodai::rec {
namespace {

constexpr double kMinDeviation = 1e-12;

// Scales every row of `rows` (row-major, `dim` wide) to unit L2 norm; zero rows stay zero.
void NormalizeRows(std::vector<float>& rows, size_t dim) {
  for (size_t begin = 0; begin + dim <= rows.size(); begin += dim) {
    double norm_squared = 0.0;
    for (size_t c = 0; c < dim; ++c) norm_squared += double{rows[begin + c]} * rows[begin + c];
    if (norm_squared <= 0.0) continue;
    const double inverse = 1.0 / std::sqrt(norm_squared);
    for (size_t c = 0; c < dim; ++c)
      rows[begin + c] = static_cast<float>(rows[begin + c] * inverse);
  }
}

}  // namespace

core::Result<std::vector<float>> StandardizeFeatures(const data::Catalog& catalog,
                                                     std::span<const data::ItemId> reference) {
  const size_t dim = catalog.feature_dim();
  if (dim == 0) return core::InvalidArgumentError("the catalogue has no content features");
  if (reference.empty())
    return core::InvalidArgumentError("no reference items to standardize features with");
  for (size_t item = 0; item < catalog.size(); ++item) {
    const auto row = catalog.features(static_cast<data::ItemId>(item));
    for (size_t c = 0; c < dim; ++c) {
      if (!std::isfinite(row[c])) {
        return core::InvalidArgumentError(
            fmt::format("feature {} of item {} ('{}') is not finite", c, item,
                        catalog.uri(static_cast<data::ItemId>(item))));
      }
    }
  }
  std::vector<double> mean(dim, 0.0), second(dim, 0.0);
  for (data::ItemId item : reference) {
    if (item >= catalog.size()) {
      return core::InvalidArgumentError(fmt::format(
          "reference item {} is outside the catalogue of {} items", item, catalog.size()));
    }
    const auto row = catalog.features(item);
    for (size_t c = 0; c < dim; ++c) mean[c] += row[c];
  }
  const double count = static_cast<double>(reference.size());
  for (double& m : mean) m /= count;
  for (data::ItemId item : reference) {
    const auto row = catalog.features(item);
    for (size_t c = 0; c < dim; ++c) second[c] += (row[c] - mean[c]) * (row[c] - mean[c]);
  }
  std::vector<double> inverse_deviation(dim, 0.0);
  for (size_t c = 0; c < dim; ++c) {
    const double deviation = std::sqrt(second[c] / count);
    inverse_deviation[c] = deviation < kMinDeviation ? 0.0 : 1.0 / deviation;
  }
  std::vector<float> standardized(catalog.size() * dim);
  for (size_t item = 0; item < catalog.size(); ++item) {
    const auto row = catalog.features(static_cast<data::ItemId>(item));
    for (size_t c = 0; c < dim; ++c) {
      standardized[item * dim + c] = static_cast<float>((row[c] - mean[c]) * inverse_deviation[c]);
    }
  }
  MELODAI_CHECK_EQ(standardized.size(), catalog.size() * dim);
  return standardized;
}

std::vector<data::ItemId> DistinctTrainingItems(const data::Interactions& train) {
  std::vector<data::ItemId> items(train.all_items().begin(), train.all_items().end());
  std::sort(items.begin(), items.end());
  items.erase(std::unique(items.begin(), items.end()), items.end());
  return items;
}

core::Result<FeatureAggregation> ParseFeatureAggregation(std::string_view text) {
  if (text == "mean") return FeatureAggregation::kMean;
  if (text == "max") return FeatureAggregation::kMax;
  return core::InvalidArgumentError(fmt::format("aggregation must be mean or max, got '{}'", text));
}

std::string_view FeatureAggregationName(FeatureAggregation aggregation) {
  return aggregation == FeatureAggregation::kMean ? "mean" : "max";
}

std::string FeatureKnn::DescribeParameters() const {
  std::string out = "{";
  AppendJsonString(out, "aggregation", FeatureAggregationName(options_.aggregation));
  AppendJsonString(out, "similarity", "cosine_of_standardized_features");
  out += '}';
  return out;
}

core::Status FeatureKnn::Fit(const data::Catalog& catalog, const data::Interactions& train,
                             core::ThreadPool& pool) {
  (void)pool;  // One pass over a few thousand rows: not worth a parallel loop.
  MELODAI_RETURN_IF_ERROR(ValidateTrainingData(catalog, train));
  const std::vector<data::ItemId> reference = DistinctTrainingItems(train);
  MELODAI_ASSIGN_OR_RETURN(std::vector<float> standardized,
                           StandardizeFeatures(catalog, reference));
  dim_ = catalog.feature_dim();
  item_count_ = catalog.size();
  NormalizeRows(standardized, dim_);
  unit_ = std::move(standardized);
  MELODAI_CHECK_EQ(unit_.size(), item_count_ * dim_);
  return core::Status::Ok();
}

float FeatureKnn::Cosine(data::ItemId a, data::ItemId b) const {
  MELODAI_CHECK_LT(a, item_count_);
  MELODAI_CHECK_LT(b, item_count_);
  const auto row_a = Row(a);
  const auto row_b = Row(b);
  double dot = 0.0;
  for (size_t c = 0; c < dim_; ++c) dot += double{row_a[c]} * row_b[c];
  return static_cast<float>(dot);
}

void FeatureKnn::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), item_count_);
  std::fill(scores.begin(), scores.end(), 0.0f);
  std::vector<data::ItemId> history;
  history.reserve(query.history.size());
  for (data::ItemId item : query.history) {
    if (item < item_count_) history.push_back(item);
  }
  if (history.empty()) return;
  if (options_.aggregation == FeatureAggregation::kMean) {
    // Mean of cosines = cosine to the mean of the unit rows (up to its constant norm).
    std::vector<double> centroid(dim_, 0.0);
    for (data::ItemId item : history) {
      const auto row = Row(item);
      for (size_t c = 0; c < dim_; ++c) centroid[c] += row[c];
    }
    const double inverse_count = 1.0 / static_cast<double>(history.size());
    for (size_t item = 0; item < item_count_; ++item) {
      const auto row = Row(static_cast<data::ItemId>(item));
      double dot = 0.0;
      for (size_t c = 0; c < dim_; ++c) dot += centroid[c] * row[c];
      scores[item] = static_cast<float>(dot * inverse_count);
    }
    return;
  }
  std::fill(scores.begin(), scores.end(), -2.0f);  // below every cosine
  for (size_t item = 0; item < item_count_; ++item) {
    for (data::ItemId h : history) {
      scores[item] = std::max(scores[item], Cosine(static_cast<data::ItemId>(item), h));
    }
  }
}

}  // namespace melodai::rec
