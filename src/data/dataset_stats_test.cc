// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the dataset statistics on tiny hand-built datasets whose every number is worked
// out by hand in the comments, plus the table and JSON renderings.
#include "data/dataset_stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace melodai::data {
namespace {

// Items: a (artist X), b (X), c (Y), d (Z). Sequences: [a b c], [a a d], [c].
Dataset Tiny() {
  Dataset dataset;
  const ItemId a = dataset.catalog.AddItem("u:a", "a", "X");
  const ItemId b = dataset.catalog.AddItem("u:b", "b", "X");
  const ItemId c = dataset.catalog.AddItem("u:c", "c", "Y");
  const ItemId d = dataset.catalog.AddItem("u:d", "d", "Z");
  dataset.catalog.AddItem("u:unused", "e", "W");  // in the catalog, never played
  dataset.sequences.Append(std::vector<ItemId>{a, b, c}, {}, {}, 0, "");
  dataset.sequences.Append(std::vector<ItemId>{a, a, d}, {}, {}, 1, "");
  dataset.sequences.Append(std::vector<ItemId>{c}, {}, {}, 2, "");
  return dataset;
}

TEST(GiniTest, HandComputedValues) {
  // {1,1,2}: n = 3, total 4, coefficients (2i - n - 1) = -2, 0, 2 -> (-2 + 0 + 4) / (3 * 4)
  // = 1/6. Cross-check with mean absolute difference: sum over ordered pairs |xi - xj| = 4,
  // G = 4 / (2 * n^2 * mean) = 4 / (2 * 9 * 4/3) = 1/6.
  EXPECT_NEAR(GiniCoefficient({1, 1, 2}), 1.0 / 6.0, 1e-12);
  // Order of the input does not matter.
  EXPECT_NEAR(GiniCoefficient({2, 1, 1}), 1.0 / 6.0, 1e-12);
  // Equal counts: 0.
  EXPECT_DOUBLE_EQ(GiniCoefficient({5, 5, 5, 5}), 0.0);
  // {0,0,0,10}: only the last term, (8 - 5) * 10 = 30, / (4 * 10) = 0.75 = (n - 1) / n.
  EXPECT_NEAR(GiniCoefficient({0, 0, 0, 10}), 0.75, 1e-12);
  // {1,2,3,4}: coefficients -3,-1,1,3 -> -3 - 2 + 3 + 12 = 10, / (4 * 10) = 0.25.
  EXPECT_NEAR(GiniCoefficient({1, 2, 3, 4}), 0.25, 1e-12);
  EXPECT_DOUBLE_EQ(GiniCoefficient({}), 0.0);
  EXPECT_DOUBLE_EQ(GiniCoefficient({0, 0}), 0.0);
}

TEST(DatasetStatsTest, TinyDatasetByHand) {
  const DatasetStats stats = ComputeStats(Tiny());
  EXPECT_EQ(stats.sequences, 3u);
  EXPECT_EQ(stats.events, 7u);
  EXPECT_EQ(stats.catalog_items, 5u);
  EXPECT_EQ(stats.distinct_items, 4u);    // a b c d (e unused)
  EXPECT_EQ(stats.distinct_artists, 3u);  // X Y Z (W unused)
  // Distinct items per sequence 3 + 2 + 1 = 6 of 3 * 4 cells: 1 - 6/12.
  EXPECT_DOUBLE_EQ(stats.sparsity, 0.5);
  // Lengths {1, 3, 3}: mean 7/3, median 3, p10 rank ceil(0.3) = 1 -> 1, p90 rank ceil(2.7) = 3.
  EXPECT_NEAR(stats.length_mean, 7.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(stats.length_median, 3.0);
  EXPECT_EQ(stats.length_p10, 1u);
  EXPECT_EQ(stats.length_p90, 3u);
  EXPECT_EQ(stats.length_min, 1u);
  EXPECT_EQ(stats.length_max, 3u);
  // Counts a=3, b=1, c=2, d=1 -> sorted {1,1,2,3}, total 7, coefficients -3,-1,1,3:
  // (-3 - 1 + 2 + 9) / (4 * 7) = 7/28 = 0.25.
  EXPECT_NEAR(stats.item_gini, 0.25, 1e-12);
  // Top ceil(1% of 4) = 1 item (a, 3 events) of 7.
  EXPECT_NEAR(stats.top1_percent_share, 3.0 / 7.0, 1e-12);
  // Distinct artists per sequence: {X,Y} = 2, {X,Z} = 2, {Y} = 1 -> mean 5/3, median 2.
  EXPECT_NEAR(stats.artists_per_sequence_mean, 5.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(stats.artists_per_sequence_median, 2.0);
  // Ratios 2/3, 2/3, 1/1 -> mean 7/9.
  EXPECT_NEAR(stats.distinct_artist_ratio_mean, 7.0 / 9.0, 1e-12);
  // Adjacent pairs: (a,b) X=X yes, (b,c) no, (a,a) yes, (a,d) no -> 2 of 4.
  EXPECT_DOUBLE_EQ(stats.consecutive_same_artist_rate, 0.5);
  // One repeated event (the second a) of 7.
  EXPECT_NEAR(stats.repeat_rate, 1.0 / 7.0, 1e-12);
  // Max length 3 -> width 1, buckets [0,1) [1,2) [2,3) [3,4) with counts 0 1 0 2.
  ASSERT_EQ(stats.length_histogram.size(), 4u);
  EXPECT_EQ(stats.length_histogram[0].count, 0u);
  EXPECT_EQ(stats.length_histogram[1].count, 1u);
  EXPECT_EQ(stats.length_histogram[2].count, 0u);
  EXPECT_EQ(stats.length_histogram[3].count, 2u);
  EXPECT_EQ(stats.length_histogram[3].lower, 3u);
  EXPECT_EQ(stats.length_histogram[3].upper, 4u);
}

TEST(DatasetStatsTest, EvenCountMedianAveragesTheMiddlePair) {
  Dataset dataset;
  for (int i = 0; i < 10; ++i) {
    dataset.catalog.AddItem("u:" + std::to_string(i), "", "artist " + std::to_string(i));
  }
  // Lengths 1, 2, 4, 9: median (2 + 4) / 2 = 3; p10 rank ceil(0.4) = 1 -> 1; p90 rank
  // ceil(3.6) = 4 -> 9. Every item is a distinct artist, so no same-artist pairs.
  for (size_t length : {1, 2, 4, 9}) {
    std::vector<ItemId> items;
    for (size_t i = 0; i < length; ++i) items.push_back(static_cast<ItemId>(i));
    dataset.sequences.Append(items, {}, {}, 0, "");
  }
  const DatasetStats stats = ComputeStats(dataset);
  EXPECT_DOUBLE_EQ(stats.length_median, 3.0);
  EXPECT_EQ(stats.length_p10, 1u);
  EXPECT_EQ(stats.length_p90, 9u);
  EXPECT_DOUBLE_EQ(stats.consecutive_same_artist_rate, 0.0);
  EXPECT_DOUBLE_EQ(stats.repeat_rate, 0.0);
  EXPECT_DOUBLE_EQ(stats.distinct_artist_ratio_mean, 1.0);
}

TEST(DatasetStatsTest, HistogramUsesNiceWidths) {
  auto histogram_for_max = [](size_t max_length) {
    Dataset dataset;
    dataset.catalog.AddItem("u:a", "", "");
    dataset.sequences.Append(std::vector<ItemId>(max_length, 0), {}, {}, 0, "");
    return ComputeStats(dataset).length_histogram;
  };
  // 250 / 20 + 1 = 13 buckets is too many; 250 / 25 + 1 = 11 fits.
  std::vector<LengthBucket> buckets = histogram_for_max(250);
  ASSERT_EQ(buckets.size(), 11u);
  EXPECT_EQ(buckets[1].lower, 25u);
  EXPECT_EQ(buckets.back().count, 1u);
  EXPECT_EQ(histogram_for_max(11).size(), 12u);    // width 1: 0..11
  EXPECT_EQ(histogram_for_max(12).size(), 7u);     // width 2: 0..13
  EXPECT_EQ(histogram_for_max(5000).size(), 11u);  // width 500
}

TEST(DatasetStatsTest, CountsSideInformationWithoutSequences) {
  // Two songs with 3 features, tags {0, 1} and {1}, one friend edge: no sequences needed.
  Dataset dataset;
  dataset.catalog.AddItem("r:0", "song 0", "");
  dataset.catalog.AddItem("r:1", "song 1", "");
  ASSERT_TRUE(dataset.catalog.SetFeatures(3, std::vector<float>(6, 0.5f)).ok());
  dataset.item_tags.tag_names.Append("happy");
  dataset.item_tags.tag_names.Append("sad");
  dataset.item_tags.tags = {0, 1, 1};
  dataset.item_tags.offsets = {0, 2, 3};
  dataset.social_edges = {{0, 1}};
  const DatasetStats stats = ComputeStats(dataset);
  EXPECT_EQ(stats.sequences, 0u);
  EXPECT_EQ(stats.tag_names, 2u);
  EXPECT_EQ(stats.tag_assignments, 3u);  // label cardinality 3 / 2 = 1.5
  EXPECT_EQ(stats.feature_dim, 3u);
  EXPECT_EQ(stats.social_edges, 1u);
  const nlohmann::json json = nlohmann::json::parse(StatsToJson(stats));
  EXPECT_EQ(json["tag_assignments"], 3);
  EXPECT_NE(FormatStatsTable(stats).find("feature dimension"), std::string::npos);
}

TEST(DatasetStatsTest, EmptyDatasetGivesZeros) {
  Dataset dataset;
  dataset.catalog.AddItem("u:a", "a", "X");
  const DatasetStats stats = ComputeStats(dataset);
  EXPECT_EQ(stats.sequences, 0u);
  EXPECT_EQ(stats.catalog_items, 1u);
  EXPECT_EQ(stats.distinct_items, 0u);
  EXPECT_DOUBLE_EQ(stats.item_gini, 0.0);
  EXPECT_TRUE(stats.length_histogram.empty());
  // Empty sequences count as sequences but add no events and no pairs.
  dataset.sequences.Append(std::vector<ItemId>{}, {}, {}, 0, "");
  const DatasetStats empty_sequence = ComputeStats(dataset);
  EXPECT_EQ(empty_sequence.sequences, 1u);
  EXPECT_EQ(empty_sequence.length_max, 0u);
  EXPECT_DOUBLE_EQ(empty_sequence.consecutive_same_artist_rate, 0.0);
  EXPECT_DOUBLE_EQ(empty_sequence.distinct_artist_ratio_mean, 0.0);
  EXPECT_FALSE(FormatStatsTable(empty_sequence).empty());
  EXPECT_TRUE(nlohmann::json::accept(StatsToJson(empty_sequence)));
}

TEST(DatasetStatsTest, TableIsAlignedAndJsonReadsBack) {
  const DatasetStats stats = ComputeStats(Tiny());
  const std::string table = FormatStatsTable(stats);
  EXPECT_NE(table.find("item popularity gini"), std::string::npos);
  EXPECT_NE(table.find("0.2500"), std::string::npos);
  EXPECT_NE(table.find("length histogram"), std::string::npos);
  // Every statistic line has its value ending in the same column (32 + 14).
  size_t start = 0, checked = 0;
  while (start < table.size()) {
    const size_t end = table.find('\n', start);
    const std::string line = table.substr(start, end - start);
    start = end + 1;
    if (line == "length histogram") break;
    EXPECT_EQ(line.size(), 46u) << line;
    ++checked;
  }
  EXPECT_EQ(checked, 23u);

  const nlohmann::json json = nlohmann::json::parse(StatsToJson(stats));
  EXPECT_EQ(json["sequences"], 3);
  EXPECT_EQ(json["events"], 7);
  EXPECT_DOUBLE_EQ(json["item_gini"].get<double>(), stats.item_gini);
  EXPECT_DOUBLE_EQ(json["length_mean"].get<double>(), stats.length_mean);
  EXPECT_DOUBLE_EQ(json["top1_percent_share"].get<double>(), stats.top1_percent_share);
  ASSERT_EQ(json["length_histogram"].size(), 4u);
  EXPECT_EQ(json["length_histogram"][3]["count"], 2);
  EXPECT_EQ(json["length_histogram"][3]["lower"], 3);
}

}  // namespace
}  // namespace melodai::data
