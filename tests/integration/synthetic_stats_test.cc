// MelodAI — licensed under the Apache License 2.0.
// Generates the default synthetic world, reads it back with the MPD reader and checks that its
// counts match the generator's summary and that its key statistics sit in the ranges the
// defaults were tuned to, next to the real developer MPD sample's statistics.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "data/dataset_stats.h"
#include "data/mpd_reader.h"
#include "data/synthetic.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

// Goal: the default world is what docs/DATA.md promises. Method: generate, read back, compare
// counts exactly and statistics against fixed ranges and against the real sample.
TEST(SyntheticStatsTest, DefaultWorldRoundTripsAndResemblesTheRealSample) {
  const SyntheticOptions options;  // the defaults, seed 42
  std::printf("synthetic world seed %llu\n", static_cast<unsigned long long>(options.seed));
  const auto folder = testing::MakeTempDir("synthetic_default_world");
  const auto start = std::chrono::steady_clock::now();
  core::Result<SyntheticSummary> summary = GenerateSyntheticMpd(options, folder);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  std::printf("generated in %.2f s: %s\n", seconds, FormatSyntheticSummary(*summary).c_str());
  EXPECT_LT(seconds, 20.0);  // about 1 s on a developer machine; generous for loaded CI

  core::Result<Dataset> read = ReadMpdFolder(folder);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Dataset& dataset = *read;
  EXPECT_EQ(dataset.sequences.size(), summary->playlist_count);
  EXPECT_EQ(dataset.sequences.event_count(), summary->track_rows);
  EXPECT_EQ(dataset.catalog.size(), summary->distinct_tracks_used);
  EXPECT_EQ(dataset.catalog.artist_count(), summary->distinct_artists_used);
  std::set<int64_t> pids;
  for (size_t s = 0; s < dataset.sequences.size(); ++s) {
    pids.insert(dataset.sequences[s].external_id);
  }
  ASSERT_EQ(pids.size(), options.playlist_count);
  EXPECT_EQ(*pids.begin(), 0);
  EXPECT_EQ(*pids.rbegin(), static_cast<int64_t>(options.playlist_count) - 1);

  const DatasetStats synthetic = ComputeStats(dataset);
  std::printf("synthetic default world:\n%s", FormatStatsTable(synthetic).c_str());
  EXPECT_NEAR(
      synthetic.repeat_rate,
      static_cast<double>(summary->duplicate_rows) / static_cast<double>(summary->track_rows),
      1e-12);
  // Ranges around the tuned values (seed 42: mean 97.9, Gini 0.562, 52.5 artists, 0.236).
  EXPECT_GE(synthetic.length_min, options.length_min);
  EXPECT_LE(synthetic.length_max, options.length_max);
  EXPECT_NEAR(synthetic.length_mean, 97.2, 4.0);
  EXPECT_NEAR(synthetic.length_median, 85.0, 6.0);
  EXPECT_NEAR(synthetic.item_gini, 0.5575, 0.03);
  EXPECT_NEAR(synthetic.top1_percent_share, 0.20, 0.03);
  EXPECT_NEAR(synthetic.artists_per_sequence_mean, 52.6, 4.0);
  EXPECT_NEAR(synthetic.distinct_artist_ratio_mean, 0.608, 0.04);
  EXPECT_NEAR(synthetic.consecutive_same_artist_rate, 0.239, 0.03);
  EXPECT_NEAR(synthetic.repeat_rate, 0.0158, 0.004);

  // The real developer sample, for the side-by-side table of docs/DATA.md.
  core::Result<Dataset> real = ReadMpdFolder(testing::SharedDataDir() / "mpd");
  ASSERT_TRUE(real.ok()) << real.status().ToString();
  const DatasetStats sample = ComputeStats(*real);
  std::printf("real mpd/ sample:\n%s", FormatStatsTable(sample).c_str());
  EXPECT_EQ(sample.sequences, 3620u);
  EXPECT_EQ(sample.events, 351802u);
  EXPECT_NEAR(synthetic.item_gini, sample.item_gini, 0.03);
  EXPECT_NEAR(synthetic.length_mean, sample.length_mean, 4.0);
  EXPECT_NEAR(synthetic.artists_per_sequence_mean, sample.artists_per_sequence_mean, 4.0);
  EXPECT_NEAR(synthetic.consecutive_same_artist_rate, sample.consecutive_same_artist_rate, 0.03);
}

}  // namespace
}  // namespace melodai::data
