// MelodAI — licensed under the Apache License 2.0.
// Reads the real KuaiRand-1K random-exposure log (users 0..35) through the generic CSV reader
// with mapped column names and checks the counts documented in its PROVENANCE.md.
#include "data/csv_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "testing/test_paths.h"

namespace melodai::data {
namespace {

CsvOptions KuaiRandOptions() {
  CsvOptions options;
  options.user_column = "user_id";
  options.item_column = "video_id";
  options.timestamp_column = "time_ms";
  options.weight_column = "play_time_ms";
  options.media_type = MediaType::kVideo;
  return options;
}

TEST(CsvIntegrationTest, ReadsTheKuaiRandLog) {
  const core::Result<Dataset> read = ReadCsvInteractions(
      testing::SharedDataDir() / "kuairand-1k-random" / "log_random_4_22_to_5_08_1k_users0-35.csv",
      KuaiRandOptions());
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Dataset& dataset = *read;
  EXPECT_EQ(dataset.source, "csv");
  EXPECT_EQ(dataset.sequences.size(), 36u);
  EXPECT_EQ(dataset.sequences.event_count(), 1587u);
  EXPECT_EQ(dataset.catalog.size(), 1425u);
  ASSERT_TRUE(dataset.sequences.has_timestamps());
  ASSERT_TRUE(dataset.sequences.has_weights());
  // The file is sorted by user, then time: users 0..35 in order, times non-decreasing.
  size_t shortest = SIZE_MAX, longest = 0;
  for (size_t s = 0; s < dataset.sequences.size(); ++s) {
    const SequenceView user = dataset.sequences[s];
    EXPECT_EQ(user.external_id, static_cast<int64_t>(s));
    EXPECT_EQ(user.name, std::to_string(s));
    for (size_t i = 1; i < user.size(); ++i) ASSERT_LE(user.timestamps[i - 1], user.timestamps[i]);
    for (float weight : user.weights) ASSERT_GE(weight, 0.0f);
    shortest = std::min(shortest, user.size());
    longest = std::max(longest, user.size());
  }
  EXPECT_EQ(shortest, 10u);  // PROVENANCE: 10..154 interactions per user
  EXPECT_EQ(longest, 154u);
  // First data row: 0,5543,20220430,1800,1651314030792,...,play_time_ms 863.
  const SequenceView first = dataset.sequences[0];
  EXPECT_EQ(dataset.catalog.uri(first.items[0]), "5543");
  EXPECT_EQ(first.timestamps[0], 1651314030792);
  EXPECT_FLOAT_EQ(first.weights[0], 863.0f);
  EXPECT_EQ(dataset.catalog.media_type(first.items[0]), MediaType::kVideo);
}

TEST(CsvIntegrationTest, DefaultColumnNamesDoNotMatchKuaiRand) {
  const core::Result<Dataset> read = ReadCsvInteractions(
      testing::SharedDataDir() / "kuairand-1k-random" / "log_random_4_22_to_5_08_1k_users0-35.csv",
      CsvOptions{});
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(read.status().message().find("users0-35.csv:1:1 (byte 0): header has no column "
                                         "named 'user'"),
            std::string::npos)
      << read.status().message();
}

}  // namespace
}  // namespace melodai::data
