// MelodAI — licensed under the Apache License 2.0.
// Dataset statistics: one pass over the events with per-sequence "last seen" stamps for the
// distinct counts, then sorting for the order statistics and the Gini coefficient.
#include "data/dataset_stats.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

#include "core/check.h"

namespace melodai::data {
namespace {

constexpr size_t kMaxHistogramBuckets = 12;
constexpr size_t kHistogramBarWidth = 40;
constexpr double kTopShareFraction = 0.01;

// Nearest-rank percentile of ascending `sorted`: the value at rank ceil(p * n) (1-based).
uint64_t NearestRank(const std::vector<uint64_t>& sorted, double p) {
  MELODAI_CHECK(!sorted.empty());
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const size_t index = rank < 1.0 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

double Median(const std::vector<uint64_t>& sorted) {
  if (sorted.empty()) return 0.0;
  const size_t middle = sorted.size() / 2;
  if (sorted.size() % 2 == 1) return static_cast<double>(sorted[middle]);
  return (static_cast<double>(sorted[middle - 1]) + static_cast<double>(sorted[middle])) / 2.0;
}

double Mean(const std::vector<uint64_t>& values) {
  if (values.empty()) return 0.0;
  const double total = std::accumulate(values.begin(), values.end(), 0.0);
  return total / static_cast<double>(values.size());
}

// Smallest width from 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, ... that covers [0, max] with at
// most kMaxHistogramBuckets buckets.
uint64_t HistogramWidth(uint64_t max_length) {
  for (uint64_t scale = 1;; scale *= 10) {
    for (uint64_t mantissa : {1, 2, 5, 10, 20, 25}) {
      const uint64_t width = mantissa * scale;
      if (max_length / width + 1 <= kMaxHistogramBuckets) return width;
    }
    MELODAI_CHECK_LT(scale, UINT64_MAX / 100);
  }
}

std::vector<LengthBucket> LengthHistogram(const std::vector<uint64_t>& sorted_lengths) {
  std::vector<LengthBucket> buckets;
  if (sorted_lengths.empty()) return buckets;
  const uint64_t width = HistogramWidth(sorted_lengths.back());
  const size_t bucket_count = static_cast<size_t>(sorted_lengths.back() / width) + 1;
  buckets.resize(bucket_count);
  for (size_t b = 0; b < bucket_count; ++b) {
    buckets[b].lower = b * width;
    buckets[b].upper = (b + 1) * width;
  }
  for (uint64_t length : sorted_lengths) ++buckets[static_cast<size_t>(length / width)].count;
  return buckets;
}

// Per-sequence counts gathered in one pass over the events.
struct SequenceScan {
  std::vector<uint64_t> lengths;
  std::vector<uint64_t> distinct_artists;
  std::vector<uint64_t> item_counts;  // indexed by item id
  uint64_t distinct_pairs = 0;        // sum over sequences of distinct items
  uint64_t repeats = 0;
  uint64_t adjacent_pairs = 0;
  uint64_t same_artist_pairs = 0;
  double distinct_artist_ratio_total = 0.0;
};

SequenceScan ScanSequences(const Dataset& dataset) {
  const Catalog& catalog = dataset.catalog;
  const Interactions& sequences = dataset.sequences;
  SequenceScan scan;
  scan.item_counts.assign(catalog.size(), 0);
  // stamp == sequence index + 1 marks "seen in the current sequence"; no clearing needed.
  std::vector<uint64_t> item_stamp(catalog.size(), 0);
  std::vector<uint64_t> artist_stamp(catalog.artist_count(), 0);
  scan.lengths.reserve(sequences.size());
  scan.distinct_artists.reserve(sequences.size());
  for (size_t s = 0; s < sequences.size(); ++s) {
    const std::span<const ItemId> items = sequences.items(s);
    const uint64_t stamp = s + 1;
    uint64_t distinct_items = 0, artists = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      const ItemId item = items[i];
      ++scan.item_counts[item];
      if (item_stamp[item] != stamp) {
        item_stamp[item] = stamp;
        ++distinct_items;
      }
      const ArtistId artist = catalog.artist(item);
      if (artist_stamp[artist] != stamp) {
        artist_stamp[artist] = stamp;
        ++artists;
      }
      if (i > 0 && catalog.artist(items[i - 1]) == artist) ++scan.same_artist_pairs;
    }
    scan.lengths.push_back(items.size());
    scan.distinct_artists.push_back(artists);
    scan.distinct_pairs += distinct_items;
    scan.repeats += items.size() - distinct_items;
    if (!items.empty()) {
      scan.adjacent_pairs += items.size() - 1;
      scan.distinct_artist_ratio_total +=
          static_cast<double>(artists) / static_cast<double>(items.size());
    }
  }
  return scan;
}

void FillPopularity(const Dataset& dataset, const SequenceScan& scan, DatasetStats& stats) {
  std::vector<uint64_t> counts;
  std::vector<bool> artist_used(dataset.catalog.artist_count(), false);
  for (size_t item = 0; item < scan.item_counts.size(); ++item) {
    if (scan.item_counts[item] == 0) continue;
    counts.push_back(scan.item_counts[item]);
    artist_used[dataset.catalog.artist(static_cast<ItemId>(item))] = true;
  }
  stats.distinct_items = counts.size();
  stats.distinct_artists =
      static_cast<uint64_t>(std::count(artist_used.begin(), artist_used.end(), true));
  if (counts.empty()) return;
  std::sort(counts.begin(), counts.end(), std::greater<>());
  const size_t top = std::max<size_t>(
      1, static_cast<size_t>(std::ceil(kTopShareFraction * static_cast<double>(counts.size()))));
  const uint64_t top_events = std::accumulate(counts.begin(), counts.begin() + top, uint64_t{0});
  stats.top1_percent_share = static_cast<double>(top_events) / static_cast<double>(stats.events);
  stats.item_gini = GiniCoefficient(std::move(counts));
}

}  // namespace

double GiniCoefficient(std::vector<uint64_t> counts) {
  if (counts.empty()) return 0.0;
  std::sort(counts.begin(), counts.end());
  const double n = static_cast<double>(counts.size());
  double weighted = 0.0, total = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double x = static_cast<double>(counts[i]);
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * x;
    total += x;
  }
  if (total <= 0.0) return 0.0;
  return weighted / (n * total);
}

DatasetStats ComputeStats(const Dataset& dataset) {
  MELODAI_CHECK_LE(dataset.sequences.ItemBound(), dataset.catalog.size());
  DatasetStats stats;
  stats.sequences = dataset.sequences.size();
  stats.events = dataset.sequences.event_count();
  stats.catalog_items = dataset.catalog.size();
  stats.tag_names = dataset.item_tags.tag_names.size();
  stats.tag_assignments = dataset.item_tags.tags.size();
  stats.feature_dim = dataset.catalog.feature_dim();
  stats.social_edges = dataset.social_edges.size();
  if (stats.sequences == 0) return stats;

  SequenceScan scan = ScanSequences(dataset);
  FillPopularity(dataset, scan, stats);
  if (stats.distinct_items > 0) {
    stats.sparsity = 1.0 - static_cast<double>(scan.distinct_pairs) /
                               (static_cast<double>(stats.sequences) *
                                static_cast<double>(stats.distinct_items));
  }
  std::sort(scan.lengths.begin(), scan.lengths.end());
  stats.length_mean = Mean(scan.lengths);
  stats.length_median = Median(scan.lengths);
  stats.length_p10 = NearestRank(scan.lengths, 0.10);
  stats.length_p90 = NearestRank(scan.lengths, 0.90);
  stats.length_min = scan.lengths.front();
  stats.length_max = scan.lengths.back();
  stats.length_histogram = LengthHistogram(scan.lengths);

  std::sort(scan.distinct_artists.begin(), scan.distinct_artists.end());
  stats.artists_per_sequence_mean = Mean(scan.distinct_artists);
  stats.artists_per_sequence_median = Median(scan.distinct_artists);
  const uint64_t non_empty = static_cast<uint64_t>(std::count_if(
      scan.lengths.begin(), scan.lengths.end(), [](uint64_t length) { return length > 0; }));
  if (non_empty > 0) {
    stats.distinct_artist_ratio_mean =
        scan.distinct_artist_ratio_total / static_cast<double>(non_empty);
  }
  if (scan.adjacent_pairs > 0) {
    stats.consecutive_same_artist_rate =
        static_cast<double>(scan.same_artist_pairs) / static_cast<double>(scan.adjacent_pairs);
  }
  if (stats.events > 0) {
    stats.repeat_rate = static_cast<double>(scan.repeats) / static_cast<double>(stats.events);
  }
  MELODAI_CHECK_LE(stats.repeat_rate, 1.0);
  MELODAI_CHECK_LE(stats.distinct_items, stats.catalog_items);
  return stats;
}

std::string FormatStatsTable(const DatasetStats& stats) {
  std::string out;
  auto count_row = [&out](std::string_view name, uint64_t value) {
    out += fmt::format("{:<32}{:>14}\n", name, value);
  };
  auto real_row = [&out](std::string_view name, double value, int digits) {
    out += fmt::format("{:<32}{:>14.{}f}\n", name, value, digits);
  };
  count_row("sequences", stats.sequences);
  count_row("events", stats.events);
  count_row("catalog items", stats.catalog_items);
  count_row("distinct items", stats.distinct_items);
  count_row("distinct artists", stats.distinct_artists);
  real_row("sparsity", stats.sparsity, 5);
  real_row("length mean", stats.length_mean, 2);
  real_row("length median", stats.length_median, 1);
  count_row("length p10", stats.length_p10);
  count_row("length p90", stats.length_p90);
  count_row("length min", stats.length_min);
  count_row("length max", stats.length_max);
  real_row("item popularity gini", stats.item_gini, 4);
  real_row("top 1% items share of events", stats.top1_percent_share, 4);
  real_row("artists per sequence mean", stats.artists_per_sequence_mean, 2);
  real_row("artists per sequence median", stats.artists_per_sequence_median, 1);
  real_row("distinct artist ratio mean", stats.distinct_artist_ratio_mean, 4);
  real_row("consecutive same-artist rate", stats.consecutive_same_artist_rate, 4);
  real_row("repeat rate", stats.repeat_rate, 4);
  count_row("tag names", stats.tag_names);
  count_row("tag assignments", stats.tag_assignments);
  count_row("feature dimension", stats.feature_dim);
  count_row("social edges", stats.social_edges);
  if (stats.length_histogram.empty()) return out;
  out += "length histogram\n";
  uint64_t largest = 1;
  for (const LengthBucket& bucket : stats.length_histogram)
    largest = std::max(largest, bucket.count);
  for (const LengthBucket& bucket : stats.length_histogram) {
    const size_t bar = static_cast<size_t>(bucket.count * kHistogramBarWidth / largest);
    out += fmt::format("  [{:>6}, {:>6}){:>10}  {}\n", bucket.lower, bucket.upper, bucket.count,
                       std::string(bar, '#'));
  }
  return out;
}

std::string StatsToJson(const DatasetStats& stats) {
  // Doubles use the shortest representation that reads back exactly ("{}" in fmt).
  std::string out = "{";
  auto put = [&out](std::string_view key, auto value) {
    if (out.size() > 1) out += ',';
    out += fmt::format("\"{}\":{}", key, value);
  };
  put("sequences", stats.sequences);
  put("events", stats.events);
  put("catalog_items", stats.catalog_items);
  put("distinct_items", stats.distinct_items);
  put("distinct_artists", stats.distinct_artists);
  put("sparsity", stats.sparsity);
  put("length_mean", stats.length_mean);
  put("length_median", stats.length_median);
  put("length_p10", stats.length_p10);
  put("length_p90", stats.length_p90);
  put("length_min", stats.length_min);
  put("length_max", stats.length_max);
  put("item_gini", stats.item_gini);
  put("top1_percent_share", stats.top1_percent_share);
  put("artists_per_sequence_mean", stats.artists_per_sequence_mean);
  put("artists_per_sequence_median", stats.artists_per_sequence_median);
  put("distinct_artist_ratio_mean", stats.distinct_artist_ratio_mean);
  put("consecutive_same_artist_rate", stats.consecutive_same_artist_rate);
  put("repeat_rate", stats.repeat_rate);
  put("tag_names", stats.tag_names);
  put("tag_assignments", stats.tag_assignments);
  put("feature_dim", stats.feature_dim);
  put("social_edges", stats.social_edges);
  out += ",\"length_histogram\":[";
  for (size_t b = 0; b < stats.length_histogram.size(); ++b) {
    const LengthBucket& bucket = stats.length_histogram[b];
    if (b > 0) out += ',';
    out += fmt::format("{{\"lower\":{},\"upper\":{},\"count\":{}}}", bucket.lower, bucket.upper,
                       bucket.count);
  }
  out += "]}";
  return out;
}

}  // namespace melodai::data
