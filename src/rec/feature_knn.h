// MelodAI — licensed under the Apache License 2.0.
// The classical content baseline ("featknn"): songs are ranked by the cosine similarity of
// their standardized audio features to the query's history songs. Needs no interactions with
// a song, so it ranks cold-start songs; shared feature standardization lives here too.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/recommender.h"

namespace melodai::rec {

// Z-scores every catalogue item's features with the mean and (population) standard deviation
// of the `reference` items only, so that statistics of held-out songs never leak into a model.
// A feature whose reference deviation is below 1e-12 becomes 0 for every item. Returns
// catalog.size() * catalog.feature_dim() floats, row-major.
// kInvalidArgument when the catalogue has no features, `reference` is empty, a reference id is
// outside the catalogue, or any feature value is not finite (the message names item and column).
core::Result<std::vector<float>> StandardizeFeatures(const data::Catalog& catalog,
                                                     std::span<const data::ItemId> reference);

// The distinct items of `train`, ascending.
std::vector<data::ItemId> DistinctTrainingItems(const data::Interactions& train);

enum class FeatureAggregation : uint8_t {
  kMean,  // mean over history songs of cos(song, h): ranks like the cosine to their centroid
  kMax,   // max over history songs of cos(song, h): the nearest history song decides
};

// Parses "mean" or "max"; kInvalidArgument otherwise.
core::Result<FeatureAggregation> ParseFeatureAggregation(std::string_view text);
std::string_view FeatureAggregationName(FeatureAggregation aggregation);

struct FeatureKnnOptions {
  FeatureAggregation aggregation = FeatureAggregation::kMean;
};

// score(j) = aggregation over history songs h of cos(z_j, z_h), z = StandardizeFeatures with
// the training items (those occurring in `train`) as reference. A song whose standardized
// vector is all zeros has cosine 0 to everything. An empty history scores every song 0.
// Invariants after Fit: unit_.size() == catalog size * feature_dim; every row of unit_ has
// norm 1 or 0. Thread safety: Score may run concurrently after Fit.
class FeatureKnn final : public Recommender {
 public:
  explicit FeatureKnn(const FeatureKnnOptions& options) : options_(options) {}

  std::string_view name() const override { return "featknn"; }
  std::string DescribeParameters() const override;
  // Standardizes and L2-normalizes the features. kInvalidArgument when the catalogue has no
  // features, `train` has no events or items outside the catalogue, or a feature is not finite.
  core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                   core::ThreadPool& pool) override;
  // History items outside the catalogue are ignored.
  void Score(const Query& query, std::span<float> scores) const override;

  // cos(z_a, z_b) after Fit. REQUIRES: a, b < catalogue size.
  float Cosine(data::ItemId a, data::ItemId b) const;

 private:
  std::span<const float> Row(data::ItemId item) const {
    return std::span<const float>(unit_).subspan(size_t{item} * dim_, dim_);
  }

  FeatureKnnOptions options_;
  size_t item_count_ = 0;
  size_t dim_ = 0;
  std::vector<float> unit_;  // standardized, then L2-normalized rows
};

}  // namespace melodai::rec
