// MelodAI — licensed under the Apache License 2.0.
// The interface every recommender implements: learn from training sequences, then score the
// whole catalogue for a query history. Evaluation, `melodai eval` and later the federated
// adapter only talk to this interface.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "data/splits.h"
#include "rec/top_k.h"

namespace melodai::rec {

// A question put to a model. `history` is in interaction order.
struct Query {
  data::QueryKind kind = data::QueryKind::kSetCompletion;
  std::span<const data::ItemId> history;
  std::span<const float> history_weights;  // empty when the data has no weights
};

class Recommender {
 public:
  virtual ~Recommender() = default;

  // Short stable name ("pop", "itemknn", ...), used in tables and JSON.
  virtual std::string_view name() const = 0;
  // The hyperparameters as a JSON object text, for reports.
  virtual std::string DescribeParameters() const = 0;

  // Learns from `train`. The catalog must outlive the model. May use every thread of `pool`.
  // kInvalidArgument when the training data is empty or unusable.
  virtual core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                           core::ThreadPool& pool) = 0;

  // Writes a score for every catalogue item (scores.size() == catalog.size()); higher ranks
  // first. REQUIRES: Fit succeeded. Thread-safe: called concurrently from evaluation workers.
  virtual void Score(const Query& query, std::span<float> scores) const = 0;

  // The min(k, available) best items for `query`, skipping `excluded_sorted` (sorted ids), best
  // first, into out[0..]: what serving a listener needs. The default is Score +
  // SelectTopKExcludingSorted; the neural models answer from their serving path (same items).
  // REQUIRES: Fit succeeded; out.size() >= k. Thread-safe like Score.
  virtual size_t TopItems(const Query& query, size_t catalog_size, std::span<const data::ItemId> excluded_sorted,
                          size_t k, std::span<ScoredItem> out) const;

  // Validation queries over `valid_sequences` that a model may use during Fit for early stopping
  // and model selection (the neural models do; the classical ones ignore them). Both must
  // outlive Fit; nullptr clears. `exclude_history` follows the protocol's evaluation rule.
  virtual void SetValidation(const data::QuerySet* valid, bool exclude_history) {
    (void)valid;
    (void)exclude_history;
  }

  // Rating prediction for RMSE (Last.fm log play counts). Models that do not predict a rating
  // return false from SupportsRating and are reported as "n/a", never with a made-up value.
  virtual bool SupportsRating() const { return false; }
  // The predicted rating of `item` for the query's user, on the log(1 + weight) scale: the
  // evaluator compares it with log(1 + w) for a target event of weight w (a play count), so a
  // model trained on raw weights must transform them the same way.
  // REQUIRES: SupportsRating(). Thread-safe like Score.
  virtual float PredictRating(const Query& query, data::ItemId item) const;
};

}  // namespace melodai::rec
