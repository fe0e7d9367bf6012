// MelodAI — licensed under the Apache License 2.0.
// Ranking and beyond-accuracy metrics as pure functions over one ranked list (accuracy) or
// over all the lists of an evaluation (coverage, diversity, novelty, exposure Gini). Binary
// relevance throughout; each function states its exact definition.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "data/catalog.h"

namespace melodai::rec {

// `ranked` is the model's top list (best first, no duplicates); `relevant` the target set
// (no duplicates, any order; a sorted set is searched in O(log |R|), an unsorted one linearly).
// A relevant set of size 0 makes every accuracy metric 0, and so does k = 0. A ranked list
// shorter than k is scored as if padded with non-relevant items. All functions are pure and
// thread-safe.

// |top-k ∩ relevant| / k (k, not the list length, so a short list is not rewarded).
double PrecisionAtK(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant,
                    size_t k);
// |top-k ∩ relevant| / |relevant|.
double RecallAtK(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant,
                 size_t k);
// DCG@k / IDCG@k with gain 1 / log2(rank + 1), ranks from 1; IDCG over min(|relevant|, k).
double NdcgAtK(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant,
               size_t k);
// (1 / min(|relevant|, k)) * sum over hits at rank r <= k of precision@r.
double AveragePrecisionAtK(std::span<const data::ItemId> ranked,
                           std::span<const data::ItemId> relevant, size_t k);
// 1 / rank of the first relevant item within the top k, 0 if none.
double ReciprocalRankAtK(std::span<const data::ItemId> ranked,
                         std::span<const data::ItemId> relevant, size_t k);
// RecSys Challenge 2018 R-precision, track level: |top-|R| ∩ R| / |R|.
double RPrecision(std::span<const data::ItemId> ranked, std::span<const data::ItemId> relevant);

// Full-catalogue reciprocal rank of the best-ranked relevant item, 1 / rank, where the rank
// of item t is the number of non-excluded items (t included) with score >= score(t): ties
// count against the model ("conservative", as the GRU4Rec reference evaluation), so a model
// that gives every item the same score cannot look good. excluded[i] != 0 removes item i;
// the mask is ignored for relevant items, which always count. A NaN score ranks like
// -infinity (as in SelectTopK). O(scores.size()).
// REQUIRES: scores.size() == excluded.size(); every relevant id < scores.size().
double FullReciprocalRank(std::span<const float> scores, std::span<const uint8_t> excluded,
                          std::span<const data::ItemId> relevant);

// sqrt(mean((prediction - truth)^2)); 0 for empty input. REQUIRES: equal sizes.
double Rmse(std::span<const double> predictions, std::span<const double> truths);

// Intra-list artist diversity: share of item pairs in `list` by different artists
// (1 = all different, 0 = one artist). Lists with fewer than 2 items give 1. O(|list|^2),
// meant for top-k lists. REQUIRES: every id < catalog.size().
double IntraListArtistDiversity(std::span<const data::ItemId> list, const data::Catalog& catalog);

// Mean self-information -log2(p(i)) of the items in `list`, with p(i) = (count(i) + 1) /
// (sequence_count + 1) from training popularity (count = sequences containing i). An empty
// list gives 0. REQUIRES: every id < item_sequence_counts.size(), every count <=
// sequence_count.
double Novelty(std::span<const data::ItemId> list, std::span<const uint32_t> item_sequence_counts,
               size_t sequence_count);

// Gini coefficient of non-negative values (0 = equal, -> 1 = all mass on one entry).
// Computed as sum_i (2i - n - 1) x_(i) / (n * sum x) over the ascending order; 0 for an
// empty or all-zero input. REQUIRES: no negative or NaN value.
double Gini(std::span<const double> values);

// Accumulates the lists of an evaluation for the catalogue-level metrics. Borrows the
// catalog, which must outlive the counter and not grow. Not thread-safe: give each worker its
// own counter and Merge them (integer counts, so the merge order does not matter).
// Invariant: item_exposure_.size() == catalog size at construction.
class ExposureCounter {
 public:
  explicit ExposureCounter(const data::Catalog& catalog);
  // Counts one exposure of every item of `list`. REQUIRES: every id < catalog size.
  void Add(std::span<const data::ItemId> list);
  // Adds the counts of `other`. REQUIRES: both count over the same catalog.
  void Merge(const ExposureCounter& other);
  // Distinct recommended items / catalogue size.
  double CatalogCoverage() const;
  // Gini of the exposure counts over all artists of the catalogue (zeros included).
  double ArtistExposureGini() const;

 private:
  const data::Catalog* catalog_;
  std::vector<uint64_t> item_exposure_;
};

}  // namespace melodai::rec
