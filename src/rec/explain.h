// MelodAI — licensed under the Apache License 2.0.
// Top-k recommendation for one listening history with leave-one-out explanations: a history
// track's contribution to a recommended item is how much that item's score drops when the
// track is removed from the history. Works for every Recommender (it only calls Score), so
// neural and classical models are explained the same way.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "core/status.h"
#include "data/catalog.h"
#include "rec/recommender.h"

namespace melodai::rec {

struct ExplainOptions {
  size_t k = 10;
  bool exclude_history = true;  // never recommend a track of the history
  bool explain = false;         // compute the contributions (one more Score per history track)
  size_t max_reasons = 3;       // history tracks named per recommendation
  data::QueryKind kind = data::QueryKind::kNextItem;
};

struct Contribution {
  size_t position = 0;       // index into the history
  float contribution = 0.0f;  // score(with the track) - score(without it); > 0
};

struct ExplainedItem {
  data::ItemId item = data::kInvalidItem;
  float score = 0.0f;
  std::vector<Contribution> because;  // largest first, at most max_reasons, only positive
};

struct Explanation {
  std::vector<ExplainedItem> items;  // best first
};

// kInvalidArgument for an empty history, an item outside the catalogue or k outside [1, 1000].
// REQUIRES: model fitted on `catalog`.
core::Result<Explanation> RecommendWithExplanations(const Recommender& model, const data::Catalog& catalog,
                                                    std::span<const data::ItemId> history,
                                                    const ExplainOptions& options);

}  // namespace melodai::rec
