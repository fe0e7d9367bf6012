// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the string pool and the binary dataset cache: exact round trip, and every
// truncation or corruption of the bytes is rejected with kDataLoss instead of crashing.
#include <gtest/gtest.h>

#include <fstream>

#include "data/cache.h"
#include "data/string_pool.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

Dataset SmallDataset() {
  Dataset dataset;
  dataset.source = "mpd";
  dataset.description = "unit test";
  dataset.catalog.AddItem("spotify:track:a", "Song A", "Artist 1");
  dataset.catalog.AddItem("spotify:track:b", "Song B", "Artist 2");
  dataset.catalog.AddItem("spotify:track:c", "Sång C", "Artist 1", MediaType::kVideo);
  dataset.sequences = Interactions(true, true);
  std::vector<ItemId> items = {0, 2, 1};
  std::vector<int64_t> times = {10, 20, 30};
  std::vector<float> weights = {1.0f, 2.5f, 3.0f};
  dataset.sequences.Append(items, times, weights, 7, "road trip");
  dataset.sequences.Append(std::vector<ItemId>{1}, std::vector<int64_t>{5}, std::vector<float>{1.0f}, 8, "");
  dataset.item_tags.tag_names.Intern("rock");
  dataset.item_tags.offsets = {0, 1, 1, 1};
  dataset.item_tags.tags = {0};
  dataset.social_edges = {{0, 1}};
  return dataset;
}

TEST(StringPoolTest, InternFindAndLazyIndexAfterDecode) {
  StringPool pool;
  EXPECT_EQ(pool.Intern("a"), 0u);
  EXPECT_EQ(pool.Intern("bb"), 1u);
  EXPECT_EQ(pool.Intern("a"), 0u);
  EXPECT_EQ(pool.Append("a"), 2u);  // Append does not deduplicate ...
  EXPECT_EQ(*pool.Find("a"), 0u);   // ... and Find keeps returning the first id.
  EXPECT_FALSE(pool.Find("c").has_value());
  core::ByteWriter writer;
  pool.Encode(writer);
  StringPool decoded;
  core::ByteReader reader(writer.buffer());
  ASSERT_TRUE(decoded.Decode(reader, "pool").ok());
  EXPECT_EQ(decoded.size(), 3u);
  EXPECT_EQ(decoded.Get(1), "bb");
  EXPECT_EQ(*decoded.Find("bb"), 1u);
  EXPECT_EQ(decoded.Intern("new"), 3u);
}

TEST(StringPoolTest, ManyStringsSurviveIndexGrowth) {
  StringPool pool;
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(pool.Intern("track-" + std::to_string(i)), static_cast<uint32_t>(i));
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(*pool.Find("track-" + std::to_string(i)), static_cast<uint32_t>(i));
}

TEST(DatasetCacheTest, RoundTripIsExact) {
  const Dataset original = SmallDataset();
  const std::string bytes = EncodeDataset(original, 1234);
  auto decoded = DecodeDataset(bytes, 1234);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->source, "mpd");
  EXPECT_EQ(decoded->catalog.size(), 3u);
  EXPECT_EQ(decoded->catalog.name(2), "Sång C");
  EXPECT_EQ(decoded->catalog.media_type(2), MediaType::kVideo);
  EXPECT_EQ(decoded->catalog.artist_name(decoded->catalog.artist(2)), "Artist 1");
  EXPECT_EQ(*decoded->catalog.Find("spotify:track:b"), 1u);
  ASSERT_EQ(decoded->sequences.size(), 2u);
  const SequenceView first = decoded->sequences[0];
  EXPECT_EQ(first.name, "road trip");
  EXPECT_EQ(first.external_id, 7);
  EXPECT_EQ(std::vector<ItemId>(first.items.begin(), first.items.end()), (std::vector<ItemId>{0, 2, 1}));
  EXPECT_EQ(first.timestamps[2], 30);
  EXPECT_FLOAT_EQ(first.weights[1], 2.5f);
  EXPECT_EQ(decoded->item_tags.tags, (std::vector<uint32_t>{0}));
  EXPECT_EQ(decoded->social_edges.size(), 1u);
  // Re-encoding the decoded dataset gives the same bytes.
  EXPECT_EQ(EncodeDataset(*decoded, 1234), bytes);
}

TEST(DatasetCacheTest, StaleFingerprintIsFailedPrecondition) {
  const std::string bytes = EncodeDataset(SmallDataset(), 1234);
  EXPECT_EQ(DecodeDataset(bytes, 999).status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(DecodeDataset(bytes, 0).ok());
}

TEST(DatasetCacheTest, EveryTruncationAndByteFlipIsRejected) {
  const std::string bytes = EncodeDataset(SmallDataset(), 1234);
  for (size_t length = 0; length < bytes.size(); ++length) {
    auto decoded = DecodeDataset(std::string_view(bytes).substr(0, length), 1234);
    ASSERT_FALSE(decoded.ok()) << "prefix of " << length << " bytes accepted";
    EXPECT_EQ(decoded.status().code(), core::StatusCode::kDataLoss);
  }
  for (size_t position = 0; position < bytes.size(); ++position) {
    std::string corrupt = bytes;
    corrupt[position] = static_cast<char>(corrupt[position] ^ 0x40);
    auto decoded = DecodeDataset(corrupt, 1234);
    EXPECT_FALSE(decoded.ok()) << "flip at byte " << position << " accepted";
  }
}

TEST(DatasetCacheTest, FingerprintFollowsFileContent) {
  const auto dir = testing::MakeTempDir("cache_fingerprint");
  const auto file = dir / "a.csv";
  std::ofstream(file) << "user,item\n1,2\n";
  auto first = FingerprintInputs("csv", {file});
  auto same = FingerprintInputs("csv", {file});
  auto other_tag = FingerprintInputs("csv|;", {file});
  std::ofstream(file, std::ios::app) << "1,3\n";
  auto changed = FingerprintInputs("csv", {file});
  ASSERT_TRUE(first.ok() && same.ok() && other_tag.ok() && changed.ok());
  EXPECT_EQ(*first, *same);
  EXPECT_NE(*first, *other_tag);
  EXPECT_NE(*first, *changed);
  EXPECT_EQ(FingerprintInputs("csv", {dir / "missing.csv"}).status().code(), core::StatusCode::kIoError);
}

}  // namespace
}  // namespace melodai::data
