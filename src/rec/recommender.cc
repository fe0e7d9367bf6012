// MelodAI — licensed under the Apache License 2.0.
// Default for models without rating prediction.
#include "rec/recommender.h"

namespace melodai::rec {

float Recommender::PredictRating(const Query& /*query*/, data::ItemId /*item*/) const {
  MELODAI_CHECK_MSG(false, "PredictRating called on a model without rating support");
  return 0.0f;
}

}  // namespace melodai::rec
