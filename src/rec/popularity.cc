// MelodAI — licensed under the Apache License 2.0.
// MostPopular, the baseline rating predictor and the shared training statistics (validation,
// distinct item sets, inverted index, JSON helpers for DescribeParameters).
#include "rec/popularity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace melodai::rec {

core::Status ValidateTrainingData(const data::Catalog& catalog, const data::Interactions& train) {
  if (train.empty() || train.event_count() == 0) {
    return core::InvalidArgumentError("training data has no events");
  }
  const size_t item_count = catalog.size();
  for (data::ItemId item : train.all_items()) {
    if (item >= item_count) {
      return core::InvalidArgumentError(fmt::format(
          "training item id {} is outside the catalogue of {} items", item, item_count));
    }
  }
  if (train.has_weights()) {
    for (size_t s = 0; s < train.size(); ++s) {
      for (float weight : train[s].weights) {
        if (!std::isfinite(weight) || weight < 0.0f) {
          return core::InvalidArgumentError(fmt::format(
              "training sequence {} has weight {}; weights must be finite and >= 0", s, weight));
        }
      }
    }
  }
  return core::Status::Ok();
}

float RatingOfWeight(float weight) {
  if (!(weight > 0.0f) || !std::isfinite(weight)) return 0.0f;
  return std::log1p(weight);
}

CsrIndex DistinctItemsBySequence(const data::Interactions& train) {
  CsrIndex index;
  index.offsets.reserve(train.size() + 1);
  index.values.reserve(train.event_count());
  for (size_t s = 0; s < train.size(); ++s) {
    const size_t begin = index.values.size();
    const std::span<const data::ItemId> items = train.items(s);
    index.values.insert(index.values.end(), items.begin(), items.end());
    const auto row_begin = index.values.begin() + static_cast<ptrdiff_t>(begin);
    std::sort(row_begin, index.values.end());
    index.values.erase(std::unique(row_begin, index.values.end()), index.values.end());
    index.offsets.push_back(index.values.size());
  }
  MELODAI_CHECK_EQ(index.rows(), train.size());
  return index;
}

CsrIndex SequencesByItem(const CsrIndex& items_by_sequence, size_t item_count) {
  CsrIndex index;
  index.offsets.assign(item_count + 1, 0);
  for (uint32_t item : items_by_sequence.values) {
    MELODAI_CHECK_LT(item, item_count);
    ++index.offsets[item + 1];
  }
  for (size_t i = 0; i < item_count; ++i) index.offsets[i + 1] += index.offsets[i];
  index.values.resize(items_by_sequence.values.size());
  std::vector<uint64_t> cursor(index.offsets.begin(), index.offsets.end() - 1);
  // Visiting sequences in ascending order keeps every row sorted.
  for (size_t s = 0; s < items_by_sequence.rows(); ++s) {
    for (uint32_t item : items_by_sequence.row(s)) {
      index.values[cursor[item]++] = static_cast<uint32_t>(s);
    }
  }
  MELODAI_CHECK_EQ(index.offsets.back(), index.values.size());
  return index;
}

std::vector<float> EvidencePrior(const CsrIndex& sequences_by_item, bool popularity_fallback) {
  size_t max_support = 0;
  for (size_t i = 0; i < sequences_by_item.rows(); ++i) {
    max_support = std::max(max_support, sequences_by_item.row_size(i));
  }
  std::vector<float> prior(sequences_by_item.rows(), kUnseenItemScore);
  const double scale = 1.0 / (static_cast<double>(max_support) + 1.0);
  for (size_t i = 0; i < prior.size(); ++i) {
    const size_t support = sequences_by_item.row_size(i);
    if (support == 0) continue;
    prior[i] = popularity_fallback ? static_cast<float>(-1.0 + static_cast<double>(support) * scale)
                                   : 0.0f;
    MELODAI_DCHECK(prior[i] < 0.0f || !popularity_fallback);
  }
  return prior;
}

void KnownItems::Scatter(std::span<const float> row_scores, std::span<float> scores) const {
  MELODAI_CHECK_EQ(row_scores.size(), items.size());
  MELODAI_CHECK_EQ(scores.size(), row_of.size());
  std::fill(scores.begin(), scores.end(), kUnseenItemScore);
  for (size_t r = 0; r < items.size(); ++r) scores[items[r]] = row_scores[r];
}

KnownItems BuildKnownItems(const CsrIndex& sequences_by_item) {
  KnownItems known;
  known.row_of.assign(sequences_by_item.rows(), KnownItems::kNoRow);
  const std::vector<float> prior = EvidencePrior(sequences_by_item, /*popularity_fallback=*/true);
  for (size_t i = 0; i < sequences_by_item.rows(); ++i) {
    if (sequences_by_item.row_size(i) == 0) continue;
    known.row_of[i] = static_cast<uint32_t>(known.items.size());
    known.items.push_back(static_cast<data::ItemId>(i));
    known.fallback_scores.push_back(prior[i]);
  }
  MELODAI_CHECK_EQ(known.fallback_scores.size(), known.items.size());
  return known;
}

void BaselinePredictor::Fit(const data::Interactions& train, size_t item_count) {
  MELODAI_CHECK_GT(train.event_count(), 0u);
  MELODAI_CHECK_GE(options_.iterations, 1u);
  item_bias_.assign(item_count, 0.0f);
  train_user_bias_.assign(train.size(), 0.0f);
  if (!train.has_weights()) {
    global_mean_ = std::log(2.0f);
    return;
  }
  double total = 0.0;
  for (size_t s = 0; s < train.size(); ++s) {
    for (float weight : train[s].weights) total += RatingOfWeight(weight);
  }
  global_mean_ = static_cast<float>(total / static_cast<double>(train.event_count()));
  std::vector<double> sum(item_count);
  std::vector<uint32_t> count(item_count);
  for (uint32_t round = 0; round < options_.iterations; ++round) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(count.begin(), count.end(), 0u);
    for (size_t s = 0; s < train.size(); ++s) {
      const data::SequenceView sequence = train[s];
      for (size_t e = 0; e < sequence.size(); ++e) {
        sum[sequence.items[e]] +=
            RatingOfWeight(sequence.weights[e]) - global_mean_ - train_user_bias_[s];
        ++count[sequence.items[e]];
      }
    }
    for (size_t i = 0; i < item_count; ++i) {
      item_bias_[i] = static_cast<float>(sum[i] / (count[i] + options_.item_shrinkage));
    }
    for (size_t s = 0; s < train.size(); ++s) {
      train_user_bias_[s] = UserBias(train[s].items, train[s].weights);
    }
  }
}

float BaselinePredictor::UserBias(std::span<const data::ItemId> history,
                                  std::span<const float> weights) const {
  if (weights.empty()) return 0.0f;
  MELODAI_CHECK_EQ(weights.size(), history.size());
  double sum = 0.0;
  for (size_t e = 0; e < history.size(); ++e) {
    sum += RatingOfWeight(weights[e]) - global_mean_ - ItemBias(history[e]);
  }
  return static_cast<float>(sum / (static_cast<double>(history.size()) + options_.user_shrinkage));
}

float BaselinePredictor::ItemBias(data::ItemId item) const {
  return item < item_bias_.size() ? item_bias_[item] : 0.0f;
}

float BaselinePredictor::Predict(data::ItemId item, float user_bias) const {
  return global_mean_ + ItemBias(item) + user_bias;
}

core::Status ValidateBaselineOptions(const BaselineOptions& options, std::string_view model) {
  if (!std::isfinite(options.item_shrinkage) || options.item_shrinkage < 0.0) {
    return core::InvalidArgumentError(fmt::format(
        "{}: item_shrinkage must be finite and >= 0, got {}", model, options.item_shrinkage));
  }
  if (!std::isfinite(options.user_shrinkage) || options.user_shrinkage < 0.0) {
    return core::InvalidArgumentError(fmt::format(
        "{}: user_shrinkage must be finite and >= 0, got {}", model, options.user_shrinkage));
  }
  if (options.iterations < 1 || options.iterations > 100) {
    return core::InvalidArgumentError(
        fmt::format("{}: bias_iterations must be in [1, 100], got {}", model, options.iterations));
  }
  return core::Status::Ok();
}

namespace {

void AppendKey(std::string& out, std::string_view key) {
  if (out.size() > 1) out += ',';
  out += '"';
  out += key;
  out += "\":";
}

}  // namespace

void AppendJsonNumber(std::string& out, std::string_view key, double value) {
  AppendKey(out, key);
  out += std::isfinite(value) ? fmt::format("{}", value) : std::string("null");
}

void AppendJsonUnsigned(std::string& out, std::string_view key, uint64_t value) {
  AppendKey(out, key);
  out += fmt::format("{}", value);
}

void AppendJsonString(std::string& out, std::string_view key, std::string_view value) {
  AppendKey(out, key);
  out += '"';
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void AppendJsonBool(std::string& out, std::string_view key, bool value) {
  AppendKey(out, key);
  out += value ? "true" : "false";
}

void AppendBaselineJson(const BaselineOptions& options, std::string& out) {
  AppendJsonNumber(out, "item_shrinkage", options.item_shrinkage);
  AppendJsonNumber(out, "user_shrinkage", options.user_shrinkage);
  AppendJsonUnsigned(out, "bias_iterations", options.iterations);
}

core::Result<std::unique_ptr<MostPopular>> MostPopular::Create(const MostPopularOptions& options) {
  MELODAI_RETURN_IF_ERROR(ValidateBaselineOptions(options.baseline, "pop"));
  return std::unique_ptr<MostPopular>(new MostPopular(options));
}

std::string MostPopular::DescribeParameters() const {
  std::string out = "{";
  AppendJsonString(out, "score", "sequence_support");
  AppendBaselineJson(options_.baseline, out);
  out += '}';
  return out;
}

core::Status MostPopular::Fit(const data::Catalog& catalog, const data::Interactions& train,
                              core::ThreadPool& /*pool*/) {
  MELODAI_RETURN_IF_ERROR(ValidateTrainingData(catalog, train));
  const CsrIndex items_by_sequence = DistinctItemsBySequence(train);
  support_.assign(catalog.size(), 0);
  for (uint32_t item : items_by_sequence.values) ++support_[item];
  scores_.resize(catalog.size());
  for (size_t i = 0; i < catalog.size(); ++i) {
    scores_[i] = support_[i] > 0 ? static_cast<float>(support_[i]) : kUnseenItemScore;
  }
  baseline_.Fit(train, catalog.size());
  has_weights_ = train.has_weights();
  return core::Status::Ok();
}

void MostPopular::Score(const Query& /*query*/, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), scores_.size());
  std::copy(scores_.begin(), scores_.end(), scores.begin());
}

float MostPopular::PredictRating(const Query& query, data::ItemId item) const {
  MELODAI_CHECK(has_weights_);
  const float user_bias = baseline_.UserBias(query.history, query.history_weights);
  return baseline_.Predict(item, user_bias);
}

uint32_t MostPopular::Support(data::ItemId item) const {
  return item < support_.size() ? support_[item] : 0u;
}

}  // namespace melodai::rec
