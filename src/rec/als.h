// MelodAI — licensed under the Apache License 2.0.
// Implicit-feedback matrix factorisation by alternating least squares ("als"), Hu, Koren &
// Volinsky 2008, with exact per-row Cholesky solves and query fold-in.
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
#include "rec/popularity.h"
#include "rec/recommender.h"

namespace melodai::rec {

// How an observation's strength r enters the confidence c = 1 + alpha * r. Repeated events of
// one item in a sequence are merged first (their weights summed). Weighted strengths are then
// divided by their mean over the training observations, so that alpha means the same (mean
// confidence 1 + alpha) for binary playlists and for play counts.
enum class AlsConfidence : uint8_t {
  kBinary,     // r = 1 for every observed (sequence, item)
  kWeight,     // r = summed weight
  kLogWeight,  // r = log(1 + summed weight)
};

// Parses "binary", "weight", "log"; kInvalidArgument otherwise.
core::Result<AlsConfidence> ParseAlsConfidence(std::string_view text);
std::string_view AlsConfidenceName(AlsConfidence confidence);

struct AlsOptions {
  uint32_t factors = 64;  // in [1, 1024]
  // Defaults tuned on validation splits of the MPD sample (continuation and next-item) and of
  // Last.fm (random hidden artists): lambda in [0.1, 10] barely matters there, alpha 5-20 does.
  double regularization = 10.0;  // lambda of the L2 penalty, > 0
  double alpha = 10.0;           // confidence slope, >= 0
  uint32_t iterations = 15;      // user+item sweeps, in [1, 1000]
  // Weighted data only; data without weights always use kBinary.
  AlsConfidence confidence = AlsConfidence::kLogWeight;
  double init_stddev = 0.01;  // item factors start as N(0, init_stddev^2), > 0
  uint64_t seed = 42;
};

// Minimises sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + lambda (|x|^2 + |y|^2) with p_ui = 1 for
// observed pairs and 0 otherwise, users = training sequences. Each sweep solves every user
// row, then every item row, exactly:
//   x_u = (Y^T Y + lambda I + sum_{i in u} (c_ui - 1) y_i y_i^T)^-1 sum_{i in u} c_ui y_i,
// in parallel over rows (the result does not depend on the thread count). After the last
// sweep the user rows are solved once more, so that a trained user vector is exactly the
// fold-in of its own sequence. Score folds in the query the same way against the fixed item
// factors and returns y_j . x_q; with no known history item it ranks by support instead.
// Items absent from training get kUnseenItemScore. Not a rating model.
// Invariants after Fit: item_factors_ has known_.size() * factors row-major floats,
// user_factors_ has train.size() * factors; gram_ = Y^T Y + lambda I (factors^2 floats).
// Thread safety: Score and FoldIn may run concurrently after Fit.
class Als final : public Recommender {
 public:
  // kInvalidArgument when an option is out of range (the message names it).
  static core::Result<std::unique_ptr<Als>> Create(const AlsOptions& options);

  std::string_view name() const override { return "als"; }
  std::string DescribeParameters() const override;
  // kInvalidArgument when ValidateTrainingData fails. Uses every thread of `pool`.
  core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                   core::ThreadPool& pool) override;
  void Score(const Query& query, std::span<float> scores) const override;

  // The least-squares user vector of a history against the trained item factors (all zero
  // when no history item is known). `weights` may be empty. REQUIRES: Fit succeeded.
  std::vector<float> FoldIn(std::span<const data::ItemId> history,
                            std::span<const float> weights) const;
  // The trained vector of training sequence `sequence`. REQUIRES: sequence < train.size().
  std::span<const float> UserFactors(size_t sequence) const;
  // The vector of `item`, empty when the item does not occur in training.
  std::span<const float> ItemFactors(data::ItemId item) const;
  size_t factors() const { return options_.factors; }

 private:
  explicit Als(const AlsOptions& options) : options_(options) {}

  AlsOptions options_;
  AlsConfidence effective_confidence_ = AlsConfidence::kBinary;
  float strength_scale_ = 1.0f;  // 1 / mean training strength
  KnownItems known_;             // rows of item_factors_
  std::vector<float> item_factors_;
  std::vector<float> user_factors_;
  std::vector<float> gram_;
};

}  // namespace melodai::rec
