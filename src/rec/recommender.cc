// MelodAI — licensed under the Apache License 2.0.
// Defaults: top items through Score, and no rating prediction.
#include "rec/recommender.h"

#include <vector>

namespace melodai::rec {

size_t Recommender::TopItems(const Query& query, size_t catalog_size, std::span<const data::ItemId> excluded_sorted,
                             size_t k, std::span<ScoredItem> out) const {
  std::vector<float> scores(catalog_size);
  Score(query, scores);
  return SelectTopKExcludingSorted(scores, excluded_sorted, k, out);
}

float Recommender::PredictRating(const Query& /*query*/, data::ItemId /*item*/) const {
  MELODAI_CHECK_MSG(false, "PredictRating called on a model without rating support");
  return 0.0f;
}

}  // namespace melodai::rec
