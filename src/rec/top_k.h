// MelodAI — licensed under the Apache License 2.0.
// Partial selection of the k best items of a full-catalogue score array: the inner loop of
// evaluation and serving. One pass over the scores with a bounded heap in caller-provided
// memory, so a call never allocates; ties are broken by item id so results are reproducible.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "data/catalog.h"

namespace melodai::rec {

// One selected item and the score it was ranked by.
struct ScoredItem {
  float score = 0.0f;
  data::ItemId item = data::kInvalidItem;
  friend bool operator==(const ScoredItem&, const ScoredItem&) = default;
};

// The ranking order used everywhere in rec/: a higher score first, then the lower item id.
// Callers of the selection functions never see NaN: a NaN score ranks like -infinity.
inline bool RanksBefore(const ScoredItem& a, const ScoredItem& b) {
  return a.score > b.score || (a.score == b.score && a.item < b.item);
}

// Writes the min(k, number of non-excluded items) best items of `scores` to the front of
// `out`, best first, in the RanksBefore order, and returns how many were written. Item i is
// skipped when `excluded` is non-empty and excluded[i] != 0. `out` doubles as the heap, so the
// call allocates nothing. Cost: O(n + h log k) for n scores and h heap replacements (h is
// about k ln(n / k) for scores in random order). NaN scores rank like -infinity.
// REQUIRES: out.size() >= k; excluded is empty or excluded.size() == scores.size();
// scores.size() < 2^32. Thread-safe for distinct `out` buffers.
size_t SelectTopK(std::span<const float> scores, std::span<const uint8_t> excluded, size_t k,
                  std::span<ScoredItem> out);

// As SelectTopK, but the excluded items are given as a sorted list of ids (duplicates allowed)
// instead of a mask; useful when the exclusions are few and no mask is at hand. The scan runs
// over the gaps between excluded ids and so pays nothing per item for the exclusion.
// REQUIRES: out.size() >= k; excluded_sorted non-decreasing with every id < scores.size().
size_t SelectTopKExcludingSorted(std::span<const float> scores,
                                 std::span<const data::ItemId> excluded_sorted, size_t k,
                                 std::span<ScoredItem> out);

}  // namespace melodai::rec
