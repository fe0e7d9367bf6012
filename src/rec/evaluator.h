// MelodAI — licensed under the Apache License 2.0.
// Full-catalogue evaluation: every query scores every item (never a sampled candidate set),
// history items are excluded when asked, the top list feeds the accuracy metrics and the
// beyond-accuracy counters. Parallel over queries; results are identical for any thread count.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "data/splits.h"
#include "rec/recommender.h"

namespace melodai::rec {

struct EvalOptions {
  // Remove the query's history items from its ranking. The continuation protocol needs it;
  // the next-item reference protocol (GRU4Rec) does not.
  bool exclude_history = true;
  // Cut-off of the headline metrics (MAP@k, NDCG@k, Precision@k, diversity, novelty).
  size_t k = 10;
  // Recall is also reported at this second cut-off (Recall@20), and MRR@cutoff beside full MRR.
  size_t k_large = 20;
  // Stop after this many queries (0 = all); for quick looks, reported in the result.
  size_t max_queries = 0;
  // Called every ~2% with (queries done, total) from the calling thread; may be empty.
  std::function<void(size_t, size_t)> progress;
};

struct EvalResult {
  // Metric name -> mean over queries (accuracy) or catalogue-level value. Names:
  // "map@10", "ndcg@10", "precision@10", "recall@10", "recall@20", "mrr", "mrr@20",
  // "r_precision", "coverage@10", "diversity@10", "novelty@10", "artist_gini@10",
  // and "rmse" only when the model predicts ratings and the targets carry weights.
  std::map<std::string, double> metrics;
  size_t query_count = 0;
  size_t target_count = 0;
  double seconds = 0.0;
  double queries_per_second = 0.0;
};

// Evaluates `model` (already fitted on `train`) on `queries`. `train` supplies the
// popularity used by novelty. kInvalidArgument when the query set refers to items outside
// the catalogue or is empty.
core::Result<EvalResult> Evaluate(const Recommender& model, const data::Catalog& catalog,
                                  const data::Interactions& train, const data::QuerySet& queries,
                                  const EvalOptions& options, core::ThreadPool& pool);

}  // namespace melodai::rec
