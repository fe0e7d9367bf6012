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
  // the next-item reference protocol (GRU4Rec) does not. A history item that is also one of
  // the query's targets (a repeated track, a returning next item) is not removed: excluding
  // it would make that target unreachable by construction.
  bool exclude_history = true;
  // Cut-off of the headline metrics (MAP@k, NDCG@k, Precision@k, diversity, novelty).
  // Must be at least 1.
  size_t k = 10;
  // Recall is also reported at this second cut-off (Recall@20), and MRR@cutoff beside full MRR.
  // Must be at least 1.
  size_t k_large = 20;
  // Evaluate only the first this many queries (0 = all); for quick looks. The result reports
  // query_count beside available_query_count.
  size_t max_queries = 0;
  // Called with (queries done, total) about every 2% of the queries and once more with
  // (total, total) at the end, always on the thread that called Evaluate (which takes part
  // in the work), with non-decreasing counts; may be empty.
  std::function<void(size_t, size_t)> progress;
};

struct EvalResult {
  // Metric name -> mean over queries (accuracy) or catalogue-level value. Names (shown for
  // k = 10, k_large = 20; the actual cut-offs appear in the names):
  // "map@10", "ndcg@10", "precision@10", "recall@10", "recall@20", "mrr" (full-catalogue,
  // conservative ties), "mrr@20", "r_precision", "coverage@10", "diversity@10", "novelty@10",
  // "artist_gini@10", and "rmse" only when the model predicts ratings and the query sequences
  // carry weights: sqrt of the mean over all target events of
  // (PredictRating(query, target) - log(1 + weight))^2.
  // Accuracy metrics use the distinct targets of a query as its relevant set.
  std::map<std::string, double> metrics;
  size_t query_count = 0;            // queries evaluated
  size_t available_query_count = 0;  // queries in the set; more than query_count under
                                     // max_queries
  size_t target_count = 0;           // distinct targets summed over the evaluated queries
  double seconds = 0.0;              // wall time of the whole call
  double queries_per_second = 0.0;
};

// Evaluates `model` (already fitted on `train`) on `queries`: every query scores the whole
// catalogue, and the top max(k, k_large, |targets|) items feed the metrics. `train` supplies
// the popularity used by novelty. Every query of the set is validated, also beyond
// max_queries. Uses every thread of `pool`; the metrics are bit-identical for any thread count
// provided model.Score is deterministic. All arguments are borrowed for the call only.
// Returns kInvalidArgument when the query set is empty, a query's bounds are not
// history_end <= target_begin < target_end <= sequence length (the message names the query
// index), an item lies outside the catalogue, a target weight has no log(1 + weight) while
// RMSE is computed, or k or k_large is 0.
core::Result<EvalResult> Evaluate(const Recommender& model, const data::Catalog& catalog,
                                  const data::Interactions& train, const data::QuerySet& queries,
                                  const EvalOptions& options, core::ThreadPool& pool);

}  // namespace melodai::rec
