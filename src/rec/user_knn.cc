// MelodAI — licensed under the Apache License 2.0.
// UserKnn: per-query neighbour search over the item -> sequence inverted index with
// per-thread scratch, voting, and neighbour-based rating prediction.
#include "rec/user_knn.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace melodai::rec {
namespace {

bool Closer(const SequenceNeighbour& a, const SequenceNeighbour& b) {
  if (a.similarity != b.similarity) return a.similarity > b.similarity;
  return a.sequence < b.sequence;
}

// Per-thread scratch of the neighbour search. `overlap` is all zero between calls.
struct SearchScratch {
  std::vector<uint32_t> overlap;
  std::vector<uint32_t> touched;
  std::vector<data::ItemId> distinct;
  std::vector<SequenceNeighbour> neighbours;
};

SearchScratch& ThreadScratch() {
  thread_local SearchScratch scratch;
  return scratch;
}

// The rating residual r_sj - b(s, j) of every (sequence, distinct item) entry, first
// occurrence of an item in a sequence wins.
std::vector<float> ComputeResiduals(const data::Interactions& train, const CsrIndex& items,
                                    const BaselinePredictor& baseline) {
  std::vector<float> residuals(items.values.size(), 0.0f);
  if (!train.has_weights()) return residuals;
  std::vector<uint8_t> filled(items.values.size(), 0);
  for (size_t s = 0; s < train.size(); ++s) {
    const data::SequenceView sequence = train[s];
    const std::span<const uint32_t> row = items.row(s);
    const float user_bias = baseline.TrainUserBias(s);
    for (size_t e = 0; e < sequence.size(); ++e) {
      const auto found = std::lower_bound(row.begin(), row.end(), sequence.items[e]);
      MELODAI_CHECK(found != row.end());
      const size_t index = items.offsets[s] + static_cast<size_t>(found - row.begin());
      if (filled[index]) continue;
      filled[index] = 1;
      residuals[index] =
          RatingOfWeight(sequence.weights[e]) - baseline.Predict(sequence.items[e], user_bias);
    }
  }
  return residuals;
}

}  // namespace

core::Result<std::unique_ptr<UserKnn>> UserKnn::Create(const UserKnnOptions& options) {
  auto bad = [](std::string message) { return core::InvalidArgumentError("userknn: " + message); };
  if (options.neighbours < 1 || options.neighbours > kMaxNeighbours) {
    return bad(
        fmt::format("neighbours must be in [1, {}], got {}", kMaxNeighbours, options.neighbours));
  }
  if (!(std::isfinite(options.exponent) && options.exponent > 0.0 && options.exponent <= 100.0)) {
    return bad(fmt::format("exponent must be in (0, 100], got {}", options.exponent));
  }
  if (!(std::isfinite(options.rating_shrinkage) && options.rating_shrinkage >= 0.0)) {
    return bad(
        fmt::format("rating_shrinkage must be finite and >= 0, got {}", options.rating_shrinkage));
  }
  MELODAI_RETURN_IF_ERROR(ValidateBaselineOptions(options.baseline, "userknn"));
  return std::unique_ptr<UserKnn>(new UserKnn(options));
}

std::string UserKnn::DescribeParameters() const {
  std::string out = "{";
  AppendJsonUnsigned(out, "neighbours", options_.neighbours);
  AppendJsonNumber(out, "exponent", options_.exponent);
  AppendJsonBool(out, "popularity_fallback", options_.popularity_fallback);
  AppendJsonNumber(out, "rating_shrinkage", options_.rating_shrinkage);
  AppendBaselineJson(options_.baseline, out);
  out += '}';
  return out;
}

core::Status UserKnn::Fit(const data::Catalog& catalog, const data::Interactions& train,
                          core::ThreadPool& /*pool*/) {
  MELODAI_RETURN_IF_ERROR(ValidateTrainingData(catalog, train));
  if (train.size() > std::numeric_limits<uint32_t>::max()) {
    return core::InvalidArgumentError("userknn: more than 2^32 training sequences");
  }
  items_by_sequence_ = DistinctItemsBySequence(train);
  sequences_by_item_ = SequencesByItem(items_by_sequence_, catalog.size());
  baseline_.Fit(train, catalog.size());
  residuals_ = ComputeResiduals(train, items_by_sequence_, baseline_);
  prior_ = EvidencePrior(sequences_by_item_, options_.popularity_fallback);
  has_weights_ = train.has_weights();
  MELODAI_CHECK_EQ(residuals_.size(), items_by_sequence_.values.size());
  return core::Status::Ok();
}

void UserKnn::FindNeighboursInto(std::span<const data::ItemId> history,
                                 std::vector<SequenceNeighbour>& neighbours) const {
  SearchScratch& scratch = ThreadScratch();
  neighbours.clear();
  scratch.distinct.assign(history.begin(), history.end());
  std::sort(scratch.distinct.begin(), scratch.distinct.end());
  scratch.distinct.erase(std::unique(scratch.distinct.begin(), scratch.distinct.end()),
                         scratch.distinct.end());
  if (scratch.distinct.empty()) return;
  if (scratch.overlap.size() < items_by_sequence_.rows()) {
    scratch.overlap.resize(items_by_sequence_.rows(), 0);
  }
  scratch.touched.clear();
  for (data::ItemId item : scratch.distinct) {
    if (item >= sequences_by_item_.rows()) continue;
    for (uint32_t sequence : sequences_by_item_.row(item)) {
      if (scratch.overlap[sequence]++ == 0) scratch.touched.push_back(sequence);
    }
  }
  const double query_size = static_cast<double>(scratch.distinct.size());
  for (uint32_t sequence : scratch.touched) {
    const double shared = scratch.overlap[sequence];
    scratch.overlap[sequence] = 0;
    const double size = static_cast<double>(items_by_sequence_.row_size(sequence));
    neighbours.push_back({sequence, static_cast<float>(shared / std::sqrt(query_size * size))});
  }
  const size_t limit = options_.neighbours;
  if (neighbours.size() > limit) {
    std::nth_element(neighbours.begin(), neighbours.begin() + static_cast<ptrdiff_t>(limit),
                     neighbours.end(), Closer);
    neighbours.resize(limit);
  }
  std::sort(neighbours.begin(), neighbours.end(), Closer);
}

std::vector<SequenceNeighbour> UserKnn::FindNeighbours(
    std::span<const data::ItemId> history) const {
  std::vector<SequenceNeighbour> neighbours;
  FindNeighboursInto(history, neighbours);
  return neighbours;
}

float UserKnn::Vote(float similarity) const {
  if (options_.exponent == 1.0) return similarity;
  return static_cast<float>(std::pow(static_cast<double>(similarity), options_.exponent));
}

void UserKnn::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), prior_.size());
  std::copy(prior_.begin(), prior_.end(), scores.begin());
  std::vector<SequenceNeighbour>& neighbours = ThreadScratch().neighbours;
  FindNeighboursInto(query.history, neighbours);
  for (const SequenceNeighbour& neighbour : neighbours) {
    const float vote = Vote(neighbour.similarity);
    if (!(vote > 0.0f)) continue;  // An underflowed vote carries no evidence.
    for (uint32_t item : items_by_sequence_.row(neighbour.sequence)) {
      AddEvidence(scores[item], vote);
    }
  }
}

float UserKnn::PredictRating(const Query& query, data::ItemId item) const {
  MELODAI_CHECK(has_weights_);
  const float user_bias = baseline_.UserBias(query.history, query.history_weights);
  const float base = baseline_.Predict(item, user_bias);
  std::vector<SequenceNeighbour>& neighbours = ThreadScratch().neighbours;
  FindNeighboursInto(query.history, neighbours);
  double numerator = 0.0, denominator = 0.0;
  for (const SequenceNeighbour& neighbour : neighbours) {
    const std::span<const uint32_t> row = items_by_sequence_.row(neighbour.sequence);
    const auto found = std::lower_bound(row.begin(), row.end(), item);
    if (found == row.end() || *found != item) continue;
    const size_t index =
        items_by_sequence_.offsets[neighbour.sequence] + static_cast<size_t>(found - row.begin());
    const double vote = Vote(neighbour.similarity);
    numerator += vote * residuals_[index];
    denominator += vote;
  }
  if (denominator <= 0.0) return base;
  return base + static_cast<float>(numerator / (denominator + options_.rating_shrinkage));
}

}  // namespace melodai::rec
