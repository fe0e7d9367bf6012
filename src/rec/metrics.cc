// MelodAI — licensed under the Apache License 2.0.
// Ranking and beyond-accuracy metrics. Membership tests use binary search when the relevant
// set is sorted (as the evaluator passes it) and a linear scan otherwise; nothing allocates
// except Gini and the artist exposure, which run once per evaluation.
#include "rec/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/check.h"

namespace melodai::rec {
namespace {

// Membership in a relevant set that may or may not be sorted.
class RelevantSet {
 public:
  explicit RelevantSet(std::span<const data::ItemId> relevant)
      : relevant_(relevant), sorted_(std::is_sorted(relevant.begin(), relevant.end())) {}

  bool Contains(data::ItemId item) const {
    if (sorted_) return std::binary_search(relevant_.begin(), relevant_.end(), item);
    return std::find(relevant_.begin(), relevant_.end(), item) != relevant_.end();
  }
  size_t size() const { return relevant_.size(); }

 private:
  std::span<const data::ItemId> relevant_;
  bool sorted_;
};

// The first min(k, ranked.size()) entries of `ranked`.
std::span<const data::ItemId> Head(std::span<const data::ItemId> ranked, size_t k) {
  return ranked.first(std::min(k, ranked.size()));
}

size_t CountHits(std::span<const data::ItemId> list, const RelevantSet& relevant) {
  size_t hits = 0;
  for (const data::ItemId item : list) hits += relevant.Contains(item) ? 1 : 0;
  return hits;
}

// Discount of rank r (from 1): 1 / log2(r + 1).
double Discount(size_t rank) { return 1.0 / std::log2(static_cast<double>(rank) + 1.0); }

bool IsNegligibleScore(float score) {
  return std::isnan(score) || score == -std::numeric_limits<float>::infinity();
}

// Scores per block of the counting loops: a fixed trip count lets the compiler vectorise the
// inner loop without a scalar epilogue.
constexpr size_t kCountBlockSize = 16;

// Number of scores >= threshold (NaN compares false and never counts).
size_t CountAtLeast(std::span<const float> scores, float threshold) {
  size_t count = 0;
  size_t i = 0;
  for (; i + kCountBlockSize <= scores.size(); i += kCountBlockSize) {
    uint32_t block_count = 0;
    for (size_t j = 0; j < kCountBlockSize; ++j) block_count += scores[i + j] >= threshold ? 1 : 0;
    count += block_count;
  }
  for (; i < scores.size(); ++i) count += scores[i] >= threshold ? 1 : 0;
  return count;
}

// Number of excluded items with score >= threshold (or all excluded items when `everything`).
// Masks are almost all zero, so they are skipped eight bytes at a time.
size_t CountExcludedAtLeast(std::span<const float> scores, std::span<const uint8_t> excluded,
                            float threshold, bool everything) {
  auto counts = [&](size_t item) {
    return excluded[item] != 0 && (everything || scores[item] >= threshold) ? 1 : 0;
  };
  size_t count = 0;
  size_t i = 0;
  for (; i + sizeof(uint64_t) <= excluded.size(); i += sizeof(uint64_t)) {
    uint64_t word = 0;
    std::memcpy(&word, excluded.data() + i, sizeof(word));
    if (word == 0) continue;
    for (size_t j = i; j < i + sizeof(uint64_t); ++j) count += counts(j);
  }
  for (; i < excluded.size(); ++i) count += counts(i);
  return count;
}

}  // namespace

double PrecisionAtK(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant,
                    size_t k) {
  if (relevant.empty() || k == 0) return 0.0;
  const size_t hits = CountHits(Head(ranked, k), RelevantSet(relevant));
  return static_cast<double>(hits) / static_cast<double>(k);
}

double RecallAtK(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant,
                 size_t k) {
  if (relevant.empty()) return 0.0;
  const size_t hits = CountHits(Head(ranked, k), RelevantSet(relevant));
  return static_cast<double>(hits) / static_cast<double>(relevant.size());
}

double NdcgAtK(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant,
               size_t k) {
  if (relevant.empty() || k == 0) return 0.0;
  const RelevantSet set(relevant);
  const std::span<const data::ItemId> head = Head(ranked, k);
  double dcg = 0.0;
  for (size_t i = 0; i < head.size(); ++i) {
    if (set.Contains(head[i])) dcg += Discount(i + 1);
  }
  double ideal = 0.0;
  const size_t ideal_hits = std::min(relevant.size(), k);
  for (size_t rank = 1; rank <= ideal_hits; ++rank) ideal += Discount(rank);
  const double ndcg = dcg / ideal;
  MELODAI_DCHECK(ndcg <= 1.0 + 1e-12);
  return ndcg;
}

double AveragePrecisionAtK(std::span<const data::ItemId> ranked,
                           std::span<const data::ItemId> relevant, size_t k) {
  if (relevant.empty() || k == 0) return 0.0;
  const RelevantSet set(relevant);
  const std::span<const data::ItemId> head = Head(ranked, k);
  size_t hits = 0;
  double precision_sum = 0.0;
  for (size_t i = 0; i < head.size(); ++i) {
    if (!set.Contains(head[i])) continue;
    ++hits;
    precision_sum += static_cast<double>(hits) / static_cast<double>(i + 1);
  }
  return precision_sum / static_cast<double>(std::min(relevant.size(), k));
}

double ReciprocalRankAtK(std::span<const data::ItemId> ranked,
                         std::span<const data::ItemId> relevant, size_t k) {
  if (relevant.empty()) return 0.0;
  const RelevantSet set(relevant);
  const std::span<const data::ItemId> head = Head(ranked, k);
  for (size_t i = 0; i < head.size(); ++i) {
    if (set.Contains(head[i])) return 1.0 / static_cast<double>(i + 1);
  }
  return 0.0;
}

double RPrecision(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant) {
  if (relevant.empty()) return 0.0;
  const size_t hits = CountHits(Head(ranked, relevant.size()), RelevantSet(relevant));
  return static_cast<double>(hits) / static_cast<double>(relevant.size());
}

// NaN scores rank like -infinity (as in SelectTopK). When the best relevant score is such a
// bottom score, every non-excluded item ties with it and the conservative rank is their count.
double FullReciprocalRank(std::span<const float> scores, std::span<const uint8_t> excluded,
                          std::span<const data::ItemId> relevant) {
  MELODAI_CHECK_EQ(scores.size(), excluded.size());
  if (relevant.empty()) return 0.0;
  float best = -std::numeric_limits<float>::infinity();
  for (const data::ItemId item : relevant) {
    MELODAI_CHECK_LT(item, scores.size());
    if (!IsNegligibleScore(scores[item])) best = std::max(best, scores[item]);
  }
  // With a negligible best score every item ties with it (threshold -infinity counts all).
  const bool everything = IsNegligibleScore(best);
  const size_t at_least = everything ? scores.size() : CountAtLeast(scores, best);
  size_t rank = at_least - CountExcludedAtLeast(scores, excluded, best, everything);
  // Relevant items count as never excluded, whatever the mask says.
  for (const data::ItemId item : relevant) {
    if (excluded[item] != 0 && (everything || scores[item] >= best)) ++rank;
  }
  MELODAI_CHECK_GE(rank, 1);
  MELODAI_CHECK_LE(rank, scores.size());
  return 1.0 / static_cast<double>(rank);
}

double Rmse(std::span<const double> predictions, std::span<const double> truths) {
  MELODAI_CHECK_EQ(predictions.size(), truths.size());
  if (predictions.empty()) return 0.0;
  double squared_error_sum = 0.0;
  for (size_t i = 0; i < predictions.size(); ++i) {
    const double error = predictions[i] - truths[i];
    squared_error_sum += error * error;
  }
  return std::sqrt(squared_error_sum / static_cast<double>(predictions.size()));
}

double IntraListArtistDiversity(std::span<const data::ItemId> list, const data::Catalog& catalog) {
  if (list.size() < 2) return 1.0;
  // Quadratic, which is cheaper than sorting for the short top lists this is called on.
  size_t different_pairs = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    MELODAI_CHECK_LT(list[i], catalog.size());
    const data::ArtistId artist = catalog.artist(list[i]);
    for (size_t j = i + 1; j < list.size(); ++j) {
      different_pairs += catalog.artist(list[j]) != artist ? 1 : 0;
    }
  }
  const double pairs = static_cast<double>(list.size()) * static_cast<double>(list.size() - 1) / 2;
  return static_cast<double>(different_pairs) / pairs;
}

double Novelty(std::span<const data::ItemId> list, std::span<const uint32_t> item_sequence_counts,
               size_t sequence_count) {
  if (list.empty()) return 0.0;
  const double denominator = static_cast<double>(sequence_count) + 1.0;
  double information_sum = 0.0;
  for (const data::ItemId item : list) {
    MELODAI_CHECK_LT(item, item_sequence_counts.size());
    MELODAI_CHECK_LE(item_sequence_counts[item], sequence_count);
    const double probability =
        (static_cast<double>(item_sequence_counts[item]) + 1.0) / denominator;
    information_sum -= std::log2(probability);
  }
  return information_sum / static_cast<double>(list.size());
}

double Gini(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  double total = 0.0;
  double weighted = 0.0;
  const double n = static_cast<double>(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    MELODAI_CHECK_GE(sorted[i], 0.0);
    total += sorted[i];
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * sorted[i];
  }
  if (sorted.empty() || total == 0.0) return 0.0;
  return weighted / (n * total);
}

ExposureCounter::ExposureCounter(const data::Catalog& catalog)
    : catalog_(&catalog), item_exposure_(catalog.size(), 0) {}

void ExposureCounter::Add(std::span<const data::ItemId> list) {
  for (const data::ItemId item : list) {
    MELODAI_CHECK_LT(item, item_exposure_.size());
    ++item_exposure_[item];
  }
}

void ExposureCounter::Merge(const ExposureCounter& other) {
  MELODAI_CHECK_EQ(other.catalog_, catalog_);
  MELODAI_CHECK_EQ(other.item_exposure_.size(), item_exposure_.size());
  for (size_t i = 0; i < item_exposure_.size(); ++i) item_exposure_[i] += other.item_exposure_[i];
}

double ExposureCounter::CatalogCoverage() const {
  if (item_exposure_.empty()) return 0.0;
  const auto covered = std::count_if(item_exposure_.begin(), item_exposure_.end(),
                                     [](uint64_t count) { return count > 0; });
  return static_cast<double>(covered) / static_cast<double>(item_exposure_.size());
}

double ExposureCounter::ArtistExposureGini() const {
  std::vector<double> artist_exposure(catalog_->artist_count(), 0.0);
  for (size_t item = 0; item < item_exposure_.size(); ++item) {
    artist_exposure[catalog_->artist(static_cast<data::ItemId>(item))] +=
        static_cast<double>(item_exposure_[item]);
  }
  return Gini(artist_exposure);
}

}  // namespace melodai::rec
