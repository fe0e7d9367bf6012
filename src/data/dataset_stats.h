// MelodAI — licensed under the Apache License 2.0.
// Descriptive statistics of a Dataset's sequences: sizes, length distribution, popularity skew
// and artist coherence. Used to describe real data and to tune the synthetic world against it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace melodai::data {

// One bar of the sequence-length histogram: sequences with lower <= length < upper.
struct LengthBucket {
  uint64_t lower = 0;
  uint64_t upper = 0;
  uint64_t count = 0;
};

// Every rate and ratio is in [0, 1]. Statistics over an empty population are 0.
struct DatasetStats {
  uint64_t sequences = 0;
  uint64_t events = 0;
  uint64_t catalog_items = 0;     // items the catalog knows, used or not
  uint64_t distinct_items = 0;    // items that occur in at least one sequence
  uint64_t distinct_artists = 0;  // artists of the items that occur
  // 1 - (sum over sequences of distinct items) / (sequences * distinct_items).
  double sparsity = 0.0;

  double length_mean = 0.0;
  double length_median = 0.0;  // mean of the two middle values for an even count
  uint64_t length_p10 = 0;     // nearest-rank percentiles
  uint64_t length_p90 = 0;
  uint64_t length_min = 0;
  uint64_t length_max = 0;
  std::vector<LengthBucket> length_histogram;  // equal "nice" widths, from 0 to past the max

  // Gini coefficient of the occurrence counts of the items that occur (0 = all equally
  // popular, towards 1 = a few items take every event).
  double item_gini = 0.0;
  // Share of all events that fall on the ceil(1%) most frequent items.
  double top1_percent_share = 0.0;

  double artists_per_sequence_mean = 0.0;  // distinct artists per sequence
  double artists_per_sequence_median = 0.0;
  double distinct_artist_ratio_mean = 0.0;  // mean over sequences of distinct artists / length
  // Adjacent pairs (within a sequence) whose two items have the same artist / all pairs.
  double consecutive_same_artist_rate = 0.0;
  // Events that repeat an item already earlier in the same sequence / all events.
  double repeat_rate = 0.0;

  // Side information: tag names, (item, tag) assignments (their count / catalog_items is the
  // label cardinality of a Mulan dataset), content feature dimension, social edges.
  uint64_t tag_names = 0;
  uint64_t tag_assignments = 0;
  uint64_t feature_dim = 0;
  uint64_t social_edges = 0;
};

// Computes the statistics of `dataset.sequences` over `dataset.catalog`.
// REQUIRES: every item id in the sequences is < dataset.catalog.size() (true for datasets made
// by the readers). Runs in O(events log events). Thread-safe on a const dataset.
DatasetStats ComputeStats(const Dataset& dataset);

// Gini coefficient of non-negative counts: sum_i (2i - n - 1) x_(i) / (n * sum x) over the
// counts sorted ascending (i from 1). Returns 0 for an empty input or a zero total.
double GiniCoefficient(std::vector<uint64_t> counts);

// A fixed-layout, aligned, human-readable table (one "name  value" line per statistic, then
// the histogram with bars), ending in a newline.
std::string FormatStatsTable(const DatasetStats& stats);

// A single-line JSON object with one key per field of DatasetStats (same names); the
// histogram is an array of {"lower", "upper", "count"} objects. Numbers only, so no escaping.
std::string StatsToJson(const DatasetStats& stats);

}  // namespace melodai::data
