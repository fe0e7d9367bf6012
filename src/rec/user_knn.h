// MelodAI — licensed under the Apache License 2.0.
// User-based (sequence-based) nearest-neighbour CF ("userknn"): the query history is compared
// with every training sequence through the inverted index, the most similar sequences vote.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/popularity.h"
#include "rec/recommender.h"

namespace melodai::rec {

struct UserKnnOptions {
  // Training sequences that vote for a query, most similar first; in [1, kMaxNeighbours].
  uint32_t neighbours = 100;
  // A neighbour's vote is similarity^exponent; exponent > 0 (larger favours close neighbours).
  double exponent = 1.0;
  // Items without any vote are ranked by support (below every voted item).
  bool popularity_fallback = true;
  // Rating prediction: pseudo-similarity added to the denominator of the neighbour average.
  double rating_shrinkage = 5.0;
  BaselineOptions baseline;
};

// One neighbour of a query: a training sequence and its cosine similarity.
struct SequenceNeighbour {
  uint32_t sequence = 0;
  float similarity = 0.0f;
};

// Similarity of the query q with a training sequence s is the cosine of their binary item
// vectors, |q ∩ s| / sqrt(|q| |s|) over distinct items. Score(j) = sum over the kept
// neighbours s that contain j of sim(q, s)^exponent; the query kind does not matter.
// Rating (when training has weights), on baseline residuals:
//   r_hat(q, j) = b(q, j) + sum_{s in N, j in s} w_s (r_sj - b(s, j)) / (sum w_s + shrinkage)
// with w_s = sim^exponent, b = BaselinePredictor, r = log(1 + weight) (first occurrence).
// Invariants after Fit: residuals_ is parallel to items_by_sequence_.values.
// Thread safety: Score and PredictRating may run concurrently after Fit (per-thread scratch).
class UserKnn final : public Recommender {
 public:
  static constexpr uint32_t kMaxNeighbours = 100000;

  // kInvalidArgument when an option is out of range (the message names it).
  static core::Result<std::unique_ptr<UserKnn>> Create(const UserKnnOptions& options);

  std::string_view name() const override { return "userknn"; }
  std::string DescribeParameters() const override;
  // Indexes the training sequences. kInvalidArgument when ValidateTrainingData fails.
  core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                   core::ThreadPool& pool) override;
  void Score(const Query& query, std::span<float> scores) const override;
  bool SupportsRating() const override { return has_weights_; }
  float PredictRating(const Query& query, data::ItemId item) const override;

  // The kept neighbours of a history, most similar first (ties by sequence index).
  std::vector<SequenceNeighbour> FindNeighbours(std::span<const data::ItemId> history) const;

 private:
  explicit UserKnn(const UserKnnOptions& options)
      : options_(options), baseline_(options.baseline) {}

  // Writes the neighbours into `neighbours` (cleared first).
  void FindNeighboursInto(std::span<const data::ItemId> history,
                          std::vector<SequenceNeighbour>& neighbours) const;
  float Vote(float similarity) const;

  UserKnnOptions options_;
  BaselinePredictor baseline_;
  CsrIndex items_by_sequence_;
  CsrIndex sequences_by_item_;
  // r_sj - b(s, j) for every entry of items_by_sequence_ (0 without weights).
  std::vector<float> residuals_;
  std::vector<float> prior_;
  bool has_weights_ = false;
};

}  // namespace melodai::rec
