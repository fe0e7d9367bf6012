// MelodAI — licensed under the Apache License 2.0.
// Reads the real Last.fm HetRec 2k folder and the Mulan emotions and CAL500 files from the
// shared data folder and checks the counts documented in their PROVENANCE.md / README.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "data/arff_reader.h"
#include "data/dataset_stats.h"
#include "data/lastfm_reader.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

TEST(LastfmIntegrationTest, ReadsTheHetRecFolder) {
  core::Result<Dataset> read = ReadLastfmFolder(testing::SharedDataDir() / "lastfm-hetrec-2k");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Dataset& dataset = *read;
  EXPECT_EQ(dataset.sequences.size(), 1892u);
  EXPECT_EQ(dataset.sequences.event_count(), 92834u);
  EXPECT_EQ(dataset.catalog.size(), 17632u);  // every played artist is in artists.dat
  EXPECT_EQ(dataset.catalog.artist_count(), 17632u);
  // Users ascending; every sequence carries its play counts.
  for (size_t s = 1; s < dataset.sequences.size(); ++s) {
    ASSERT_LT(dataset.sequences[s - 1].external_id, dataset.sequences[s].external_id);
  }
  EXPECT_EQ(dataset.sequences[0].external_id, 2);
  EXPECT_FLOAT_EQ(dataset.sequences[0].weights[0], 13883.0f);  // first row: 2 51 13883
  EXPECT_EQ(dataset.catalog.name(dataset.sequences[0].items[0]), "Duran Duran");

  // 25,434 directed rows; the readme states 12,717 bidirectional relations.
  const size_t edges = dataset.social_edges.size();
  std::printf("lastfm: %zu undirected friend edges from 25434 directed rows\n", edges);
  EXPECT_EQ(edges, 12717u);
  std::set<std::pair<uint32_t, uint32_t>> unique(dataset.social_edges.begin(),
                                                 dataset.social_edges.end());
  EXPECT_EQ(unique.size(), edges);
  for (const auto& [a, b] : dataset.social_edges) {
    ASSERT_LT(a, b);
    ASSERT_LT(b, dataset.sequences.size());
  }

  // Tags: 11,946 names; most artists tagged; the Latin-1 names kept as bytes.
  const ItemTags& tags = dataset.item_tags;
  EXPECT_EQ(tags.tag_names.size(), 11946u);
  ASSERT_EQ(tags.offsets.size(), dataset.catalog.size() + 1);
  size_t tagged = 0;
  for (size_t item = 0; item < dataset.catalog.size(); ++item) {
    if (tags.offsets[item + 1] > tags.offsets[item]) ++tagged;
  }
  std::printf("lastfm: %zu of %zu artists tagged, %zu distinct artist-tag pairs\n", tagged,
              dataset.catalog.size(), tags.tags.size());
  EXPECT_GT(tagged, 10000u);
  EXPECT_EQ(tags.tags.size(), 108437u);  // distinct (artist, tag) pairs of catalog artists
  EXPECT_EQ(tags.tag_names.Get(0), "metal");

  const DatasetStats stats = ComputeStats(dataset);
  EXPECT_NEAR(stats.sparsity, 0.99722, 5e-5);  // README key figure
  EXPECT_NEAR(stats.length_mean, 49.07, 0.01);
  EXPECT_EQ(stats.length_max, 50u);
}

// Label cardinality = label assignments / songs.
double Cardinality(const Dataset& dataset) {
  return static_cast<double>(dataset.item_tags.tags.size()) /
         static_cast<double>(dataset.catalog.size());
}

TEST(ArffIntegrationTest, ReadsEmotions) {
  const auto folder = testing::SharedDataDir() / "emotions";
  core::Result<Dataset> read = ReadMulanArff(folder / "emotions.arff", folder / "emotions.xml");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->catalog.size(), 593u);
  EXPECT_EQ(read->catalog.feature_dim(), 72u);
  EXPECT_EQ(read->item_tags.tag_names.size(), 6u);
  EXPECT_EQ(read->item_tags.tag_names.Get(0), "amazed-suprised");
  EXPECT_EQ(read->catalog.uri(0), "musicout:0");
  EXPECT_NEAR(Cardinality(*read), 1.87, 0.01);
  // First row, first feature: 0.034741 (Mean_Acc1298_Mean_Mem40_Centroid).
  EXPECT_FLOAT_EQ(read->catalog.features(0)[0], 0.034741f);
  for (float value : read->catalog.features(592)) ASSERT_TRUE(std::isfinite(value));
  // PROVENANCE.md: relaxing-calm (label 2) on 264 songs.
  size_t relaxing = 0;
  for (uint32_t tag : read->item_tags.tags) relaxing += tag == 2 ? 1 : 0;
  EXPECT_EQ(relaxing, 264u);
}

TEST(ArffIntegrationTest, ReadsCal500WithTheXmlBesideIt) {
  core::Result<Dataset> read = ReadMulanArff(testing::SharedDataDir() / "cal500" / "CAL500.arff");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->catalog.size(), 502u);
  EXPECT_EQ(read->catalog.feature_dim(), 68u);
  EXPECT_EQ(read->item_tags.tag_names.size(), 174u);
  EXPECT_NEAR(Cardinality(*read), 26.0, 0.1);
  // Every song has between 13 and 48 tags (PROVENANCE.md).
  for (size_t item = 0; item < read->catalog.size(); ++item) {
    const uint64_t count = read->item_tags.offsets[item + 1] - read->item_tags.offsets[item];
    ASSERT_GE(count, 13u);
    ASSERT_LE(count, 48u);
  }
}

}  // namespace
}  // namespace melodai::data
