// MelodAI — licensed under the Apache License 2.0.
#include "rec/explain.h"

#include <fmt/format.h>

#include <algorithm>

#include "rec/top_k.h"

namespace melodai::rec {

core::Result<Explanation> RecommendWithExplanations(const Recommender& model, const data::Catalog& catalog,
                                                    std::span<const data::ItemId> history,
                                                    const ExplainOptions& options) {
  if (history.empty()) return core::InvalidArgumentError("the history is empty");
  if (options.k == 0 || options.k > 1000) {
    return core::InvalidArgumentError(fmt::format("k must lie in [1, 1000], got {}", options.k));
  }
  for (size_t i = 0; i < history.size(); ++i) {
    if (history[i] >= catalog.size()) {
      return core::InvalidArgumentError(fmt::format("history entry {} is item {}, outside the catalogue of {} items",
                                                    i, history[i], catalog.size()));
    }
  }
  Query query;
  query.kind = options.kind;
  query.history = history;
  std::vector<data::ItemId> excluded;
  if (options.exclude_history) {
    excluded.assign(history.begin(), history.end());
    std::sort(excluded.begin(), excluded.end());
  }
  std::vector<ScoredItem> top(options.k);
  std::vector<float> scores;
  size_t count = 0;
  if (options.explain && history.size() >= 2) {
    // Leave-one-out needs every score of the full history.
    scores.resize(catalog.size());
    model.Score(query, scores);
    count = SelectTopKExcludingSorted(scores, excluded, options.k, top);
  } else {
    count = model.TopItems(query, catalog.size(), excluded, options.k, top);
  }
  Explanation explanation;
  for (size_t i = 0; i < count; ++i) explanation.items.push_back({top[i].item, top[i].score, {}});
  if (!options.explain || history.size() < 2) {
    // With one track, that track is the whole reason for every item.
    if (options.explain) {
      for (ExplainedItem& item : explanation.items) item.because.push_back({0, item.score});
    }
    return explanation;
  }

  // Leave-one-out: score the history without each track in turn.
  std::vector<std::vector<Contribution>> candidates(count);
  std::vector<data::ItemId> reduced;
  std::vector<float> reduced_scores(catalog.size());
  for (size_t position = 0; position < history.size(); ++position) {
    reduced.assign(history.begin(), history.end());
    reduced.erase(reduced.begin() + static_cast<std::ptrdiff_t>(position));
    Query without;
    without.kind = options.kind;
    without.history = reduced;
    model.Score(without, reduced_scores);
    for (size_t i = 0; i < count; ++i) {
      const data::ItemId item = explanation.items[i].item;
      const float delta = scores[item] - reduced_scores[item];
      if (delta > 0.0f && std::isfinite(delta)) candidates[i].push_back({position, delta});
    }
  }
  for (size_t i = 0; i < count; ++i) {
    auto& list = candidates[i];
    std::sort(list.begin(), list.end(), [](const Contribution& a, const Contribution& b) {
      return a.contribution > b.contribution || (a.contribution == b.contribution && a.position < b.position);
    });
    if (list.size() > options.max_reasons) list.resize(options.max_reasons);
    explanation.items[i].because = std::move(list);
  }
  return explanation;
}

}  // namespace melodai::rec
