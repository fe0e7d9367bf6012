// MelodAI — licensed under the Apache License 2.0.
// ItemKnn: parallel neighbour-list construction over the item -> sequence inverted index,
// scoring by summed similarities and item-based rating prediction.
#include "rec/item_knn.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace melodai::rec {
namespace {

// Similarities below this decay weight are not worth the memory traffic.
constexpr double kMinDecayWeight = 1e-3;

// Per-worker scratch of the neighbour construction: dense co-occurrence counts and the list
// of items whose count is non-zero.
struct CoocScratch {
  std::vector<uint32_t> counts;
  std::vector<uint32_t> touched;
  std::vector<ItemNeighbour> candidates;
};

bool Stronger(const ItemNeighbour& a, const ItemNeighbour& b) {
  if (a.similarity != b.similarity) return a.similarity > b.similarity;
  return a.item < b.item;
}

// Keeps the `limit` strongest candidates, sorted by Stronger.
void KeepStrongest(std::vector<ItemNeighbour>& candidates, size_t limit) {
  if (candidates.size() > limit) {
    std::nth_element(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(limit),
                     candidates.end(), Stronger);
    candidates.resize(limit);
  }
  std::sort(candidates.begin(), candidates.end(), Stronger);
}

// The inputs of one neighbour row: supp^alpha and supp^(1 - alpha) per item.
struct SimilarityTerms {
  const CsrIndex* items_by_sequence;
  const CsrIndex* sequences_by_item;
  std::vector<double> support_alpha;
  std::vector<double> support_beta;
  double lambda;
  size_t limit;
};

// Computes the kept neighbours of `item` into scratch.candidates.
void ComputeRow(const SimilarityTerms& terms, data::ItemId item, CoocScratch& scratch) {
  scratch.touched.clear();
  for (uint32_t sequence : terms.sequences_by_item->row(item)) {
    for (uint32_t other : terms.items_by_sequence->row(sequence)) {
      if (scratch.counts[other]++ == 0) scratch.touched.push_back(other);
    }
  }
  scratch.candidates.clear();
  const double left = terms.support_alpha[item];
  for (uint32_t other : scratch.touched) {
    const uint32_t cooc = scratch.counts[other];
    scratch.counts[other] = 0;
    if (other == item) continue;
    const double denominator = left * terms.support_beta[other] + terms.lambda;
    scratch.candidates.push_back(
        {other, static_cast<float>(static_cast<double>(cooc) / denominator)});
  }
  KeepStrongest(scratch.candidates, terms.limit);
}

}  // namespace

core::Result<std::unique_ptr<ItemKnn>> ItemKnn::Create(const ItemKnnOptions& options) {
  auto bad = [](std::string message) { return core::InvalidArgumentError("itemknn: " + message); };
  if (options.neighbours > kMaxNeighbours) {
    return bad(
        fmt::format("neighbours must be in [0, {}], got {}", kMaxNeighbours, options.neighbours));
  }
  if (!(options.alpha >= 0.0 && options.alpha <= 1.0)) {
    return bad(fmt::format("alpha must be in [0, 1], got {}", options.alpha));
  }
  if (!(std::isfinite(options.lambda) && options.lambda >= 0.0)) {
    return bad(fmt::format("lambda must be finite and >= 0, got {}", options.lambda));
  }
  if (!(options.history_decay >= 0.0 && options.history_decay <= 1.0)) {
    return bad(fmt::format("history_decay must be in [0, 1], got {}", options.history_decay));
  }
  if (!(std::isfinite(options.rating_shrinkage) && options.rating_shrinkage >= 0.0)) {
    return bad(
        fmt::format("rating_shrinkage must be finite and >= 0, got {}", options.rating_shrinkage));
  }
  MELODAI_RETURN_IF_ERROR(ValidateBaselineOptions(options.baseline, "itemknn"));
  return std::unique_ptr<ItemKnn>(new ItemKnn(options));
}

std::string ItemKnn::DescribeParameters() const {
  std::string out = "{";
  AppendJsonUnsigned(out, "neighbours", options_.neighbours);
  AppendJsonNumber(out, "alpha", options_.alpha);
  AppendJsonNumber(out, "lambda", options_.lambda);
  AppendJsonNumber(out, "history_decay", options_.history_decay);
  AppendJsonBool(out, "popularity_fallback", options_.popularity_fallback);
  AppendJsonNumber(out, "rating_shrinkage", options_.rating_shrinkage);
  AppendBaselineJson(options_.baseline, out);
  out += '}';
  return out;
}

core::Status ItemKnn::Fit(const data::Catalog& catalog, const data::Interactions& train,
                          core::ThreadPool& pool) {
  MELODAI_RETURN_IF_ERROR(ValidateTrainingData(catalog, train));
  const size_t item_count = catalog.size();
  const CsrIndex items_by_sequence = DistinctItemsBySequence(train);
  const CsrIndex sequences_by_item = SequencesByItem(items_by_sequence, item_count);

  SimilarityTerms terms{&items_by_sequence,
                        &sequences_by_item,
                        {},
                        {},
                        options_.lambda,
                        options_.neighbours == 0 ? kMaxNeighbours : options_.neighbours};
  terms.support_alpha.resize(item_count);
  terms.support_beta.resize(item_count);
  std::vector<data::ItemId> known_items;
  for (size_t i = 0; i < item_count; ++i) {
    const double support = static_cast<double>(sequences_by_item.row_size(i));
    terms.support_alpha[i] = std::pow(support, options_.alpha);
    terms.support_beta[i] = std::pow(support, 1.0 - options_.alpha);
    if (support > 0) known_items.push_back(static_cast<data::ItemId>(i));
  }

  // Rows are computed into per-item vectors by index, so the result does not depend on the
  // number of threads or on scheduling.
  std::vector<std::vector<ItemNeighbour>> rows(known_items.size());
  std::vector<CoocScratch> scratch(pool.thread_count());
  pool.ParallelFor(known_items.size(), 64, [&](size_t begin, size_t end, size_t worker) {
    CoocScratch& local = scratch[worker];
    if (local.counts.size() != item_count) local.counts.assign(item_count, 0);
    for (size_t k = begin; k < end; ++k) {
      ComputeRow(terms, known_items[k], local);
      rows[k] = local.candidates;
    }
  });

  offsets_.assign(item_count + 1, 0);
  for (size_t k = 0; k < known_items.size(); ++k) offsets_[known_items[k] + 1] = rows[k].size();
  for (size_t i = 0; i < item_count; ++i) offsets_[i + 1] += offsets_[i];
  neighbours_.clear();
  neighbours_.reserve(offsets_.back());
  for (const std::vector<ItemNeighbour>& row : rows) {
    neighbours_.insert(neighbours_.end(), row.begin(), row.end());
  }
  MELODAI_CHECK_EQ(neighbours_.size(), offsets_.back());

  prior_ = EvidencePrior(sequences_by_item, options_.popularity_fallback);
  baseline_.Fit(train, item_count);
  has_weights_ = train.has_weights();
  return core::Status::Ok();
}

std::span<const ItemNeighbour> ItemKnn::Neighbours(data::ItemId item) const {
  if (size_t{item} + 1 >= offsets_.size()) return {};
  return std::span<const ItemNeighbour>(neighbours_)
      .subspan(offsets_[item], offsets_[item + 1] - offsets_[item]);
}

float ItemKnn::Similarity(data::ItemId item, data::ItemId other) const {
  for (const ItemNeighbour& neighbour : Neighbours(item)) {
    if (neighbour.item == other) return neighbour.similarity;
  }
  return 0.0f;
}

void ItemKnn::AddNeighbours(data::ItemId item, float weight, std::span<float> scores) const {
  for (const ItemNeighbour& neighbour : Neighbours(item)) {
    AddEvidence(scores[neighbour.item], weight * neighbour.similarity);
  }
}

void ItemKnn::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), prior_.size());
  std::copy(prior_.begin(), prior_.end(), scores.begin());
  if (query.history.empty()) return;
  if (query.kind == data::QueryKind::kSetCompletion) {
    for (data::ItemId item : query.history) AddNeighbours(item, 1.0f, scores);
    return;
  }
  double weight = 1.0;
  for (size_t k = query.history.size(); k > 0 && weight >= kMinDecayWeight; --k) {
    AddNeighbours(query.history[k - 1], static_cast<float>(weight), scores);
    weight *= options_.history_decay;
  }
}

float ItemKnn::PredictRating(const Query& query, data::ItemId item) const {
  MELODAI_CHECK(has_weights_);
  const float user_bias = baseline_.UserBias(query.history, query.history_weights);
  const float base = baseline_.Predict(item, user_bias);
  if (query.history_weights.size() != query.history.size()) return base;
  // The history's baseline residuals, sorted by item for lookup; first occurrence wins.
  thread_local std::vector<std::pair<data::ItemId, float>> residuals;
  residuals.clear();
  for (size_t e = 0; e < query.history.size(); ++e) {
    const data::ItemId h = query.history[e];
    residuals.emplace_back(
        h, RatingOfWeight(query.history_weights[e]) - baseline_.Predict(h, user_bias));
  }
  std::stable_sort(residuals.begin(), residuals.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  double numerator = 0.0, denominator = 0.0;
  for (const ItemNeighbour& neighbour : Neighbours(item)) {
    const auto found = std::lower_bound(
        residuals.begin(), residuals.end(), neighbour.item,
        [](const std::pair<data::ItemId, float>& a, data::ItemId b) { return a.first < b; });
    if (found == residuals.end() || found->first != neighbour.item) continue;
    numerator += static_cast<double>(neighbour.similarity) * found->second;
    denominator += neighbour.similarity;
  }
  if (denominator <= 0.0) return base;
  return base + static_cast<float>(numerator / (denominator + options_.rating_shrinkage));
}

}  // namespace melodai::rec
