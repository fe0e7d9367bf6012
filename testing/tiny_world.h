// MelodAI — licensed under the Apache License 2.0.
// A tiny deterministic music world for model tests: 24 items (4 artists) where the next item is
// a function of the current one, i -> (i * 5 + 1) mod 20; items 20..23 exist but never appear.
// Header-only; tests that use NextItemAccuracy link melodai_rec.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/recommender.h"

namespace melodai::testing {

inline constexpr size_t kTinyWorldItems = 24;

inline data::ItemId TinyWorldNext(data::ItemId item) { return (item * 5 + 1) % 20; }

inline data::Catalog TinyWorldCatalog(size_t size = kTinyWorldItems) {
  data::Catalog catalog;
  for (size_t i = 0; i < size; ++i) {
    catalog.AddItem("item:" + std::to_string(i), "Item " + std::to_string(i), "Artist " + std::to_string(i % 4));
  }
  return catalog;
}

// `count` chains of length 8 with seeded starts.
inline data::Interactions TinyWorldChains(uint64_t seed, size_t count = 400) {
  data::Interactions out;
  uint64_t state = seed;
  for (size_t s = 0; s < count; ++s) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    auto item = static_cast<data::ItemId>((state >> 33) % 20);
    std::vector<data::ItemId> items;
    for (int i = 0; i < 8; ++i) {
      items.push_back(item);
      item = TinyWorldNext(item);
    }
    out.Append(items, {}, {}, static_cast<int64_t>(s), "");
  }
  return out;
}

// A replay world over the 20 known items: each playlist alternates one pair (a b a b a b), so the
// next track is always the one two events back. The pairs with (a + b) % 7 == 0 are held out:
// `held_out` receives them, and the playlists hold the other 160.
inline data::Interactions TinyWorldAlternatingPairs(std::vector<std::pair<data::ItemId, data::ItemId>>& held_out) {
  data::Interactions out;
  held_out.clear();
  for (data::ItemId a = 0; a < 20; ++a) {
    for (data::ItemId b = a + 1; b < 20; ++b) {
      if ((a + b) % 7 == 0) {
        held_out.push_back({a, b});
        continue;
      }
      const std::vector<data::ItemId> items = {a, b, a, b, a, b};
      out.Append(items, {}, {}, static_cast<int64_t>(out.size()), "");
    }
  }
  return out;
}

// Fraction of held-out pairs (a, b) for which the history a b a b puts a first.
inline double TinyWorldReplayAccuracy(const rec::Recommender& model, const data::Catalog& catalog,
                                      const std::vector<std::pair<data::ItemId, data::ItemId>>& pairs) {
  std::vector<float> scores(catalog.size());
  int hits = 0;
  for (const auto& [a, b] : pairs) {
    const std::vector<data::ItemId> history = {a, b, a, b};
    rec::Query query;
    query.kind = data::QueryKind::kNextItem;
    query.history = history;
    model.Score(query, scores);
    hits += std::max_element(scores.begin(), scores.end()) - scores.begin() == a ? 1 : 0;
  }
  return pairs.empty() ? 0.0 : static_cast<double>(hits) / static_cast<double>(pairs.size());
}

// Fraction of three-item chain prefixes whose true successor is the top-1 recommendation.
inline double TinyWorldNextItemAccuracy(const rec::Recommender& model, const data::Catalog& catalog) {
  std::vector<float> scores(catalog.size());
  int hits = 0;
  for (data::ItemId start = 0; start < 20; ++start) {
    std::vector<data::ItemId> history = {start};
    while (history.size() < 3) history.push_back(TinyWorldNext(history.back()));
    rec::Query query;
    query.kind = data::QueryKind::kNextItem;
    query.history = history;
    model.Score(query, scores);
    const auto best = static_cast<data::ItemId>(std::max_element(scores.begin(), scores.end()) - scores.begin());
    hits += best == TinyWorldNext(history.back()) ? 1 : 0;
  }
  return hits / 20.0;
}

}  // namespace melodai::testing
