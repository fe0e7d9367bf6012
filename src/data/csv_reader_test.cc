// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the CSV interaction reader (header and positional columns, quoting, line
// endings, grouping and ordering, every error with its position) and of text positions.
#include "data/csv_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "data/text_position.h"

namespace melodai::data {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> ItemNames(const Dataset& dataset, size_t sequence) {
  std::vector<std::string> names;
  for (ItemId item : dataset.sequences.items(sequence)) {
    names.emplace_back(dataset.catalog.uri(item));
  }
  return names;
}

std::vector<int64_t> Timestamps(const Dataset& dataset, size_t sequence) {
  const auto timestamps = dataset.sequences[sequence].timestamps;
  return {timestamps.begin(), timestamps.end()};
}

std::vector<float> Weights(const Dataset& dataset, size_t sequence) {
  const auto weights = dataset.sequences[sequence].weights;
  return {weights.begin(), weights.end()};
}

core::Result<Dataset> Parse(std::string_view text, const CsvOptions& options = {}) {
  return ParseCsvInteractions(text, "plays.csv", options);
}

// Expects kDataLoss with exactly "plays.csv:<position> (byte <offset>): <rest>".
void ExpectError(std::string_view text, std::string_view position, size_t offset,
                 std::string_view rest, const CsvOptions& options = {}) {
  const core::Result<Dataset> result = Parse(text, options);
  ASSERT_FALSE(result.ok()) << text;
  EXPECT_EQ(result.status().code(), core::StatusCode::kDataLoss);
  EXPECT_EQ(result.status().message(), "plays.csv:" + std::string(position) + " (byte " +
                                           std::to_string(offset) + "): " + std::string(rest));
}

TEST(CsvReaderTest, HeaderColumnsInAnyOrderWithExtraColumns) {
  // Users appear in the order u7, alice; each user's events sorted by timestamp, ties in
  // file order (the two rows of u7 at time 5).
  const core::Result<Dataset> result = Parse(
      "item,extra,user,weight,timestamp\n"
      "song-b,x,7,1.5,20\n"
      "song-a,y,alice,2,10\n"
      "song-c,z,7,0.25,5\n"
      "song-a,z,7,-3e2,5\n"
      "song-b,w,alice,4,3\n");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Dataset& dataset = *result;
  EXPECT_EQ(dataset.source, "csv");
  EXPECT_EQ(dataset.description, "plays.csv");
  ASSERT_EQ(dataset.sequences.size(), 2u);
  EXPECT_TRUE(dataset.sequences.has_timestamps());
  EXPECT_TRUE(dataset.sequences.has_weights());
  EXPECT_EQ(dataset.sequences[0].name, "7");
  EXPECT_EQ(dataset.sequences[0].external_id, 7);
  EXPECT_EQ(ItemNames(dataset, 0), (std::vector<std::string>{"song-c", "song-a", "song-b"}));
  EXPECT_EQ(Timestamps(dataset, 0), (std::vector<int64_t>{5, 5, 20}));
  EXPECT_EQ(Weights(dataset, 0), (std::vector<float>{0.25f, -300.0f, 1.5f}));
  EXPECT_EQ(dataset.sequences[1].name, "alice");
  EXPECT_EQ(dataset.sequences[1].external_id, 1);  // not a number: the sequence index
  EXPECT_EQ(ItemNames(dataset, 1), (std::vector<std::string>{"song-b", "song-a"}));
  // Items in order of first appearance; uri = name = the item field, artist unknown.
  ASSERT_EQ(dataset.catalog.size(), 3u);
  EXPECT_EQ(dataset.catalog.uri(0), "song-b");
  EXPECT_EQ(dataset.catalog.name(0), "song-b");
  EXPECT_EQ(dataset.catalog.artist_name(dataset.catalog.artist(0)), "");
  EXPECT_EQ(dataset.catalog.media_type(0), MediaType::kTrack);
}

TEST(CsvReaderTest, WithoutTimestampsKeepsFileOrder) {
  const core::Result<Dataset> result = Parse("user,item\nb,3\na,1\nb,1\nb,2\n");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->sequences.has_timestamps());
  EXPECT_FALSE(result->sequences.has_weights());
  ASSERT_EQ(result->sequences.size(), 2u);
  EXPECT_EQ(ItemNames(*result, 0), (std::vector<std::string>{"3", "1", "2"}));
  EXPECT_EQ(ItemNames(*result, 1), (std::vector<std::string>{"1"}));
}

TEST(CsvReaderTest, HeaderOnlyGivesEmptyDataset) {
  const core::Result<Dataset> result = Parse("user,item,timestamp\n");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->sequences.size(), 0u);
  EXPECT_TRUE(result->sequences.has_timestamps());
}

TEST(CsvReaderTest, HeaderlessColumnsArePositional) {
  CsvOptions options;
  options.has_header = false;
  const core::Result<Dataset> two = Parse("1,a\n1,b\n", options);
  ASSERT_TRUE(two.ok()) << two.status().ToString();
  EXPECT_FALSE(two->sequences.has_timestamps());
  EXPECT_EQ(ItemNames(*two, 0), (std::vector<std::string>{"a", "b"}));

  const core::Result<Dataset> three = Parse("1,a,9\n1,b,8\n", options);
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  EXPECT_TRUE(three->sequences.has_timestamps());
  EXPECT_FALSE(three->sequences.has_weights());
  EXPECT_EQ(ItemNames(*three, 0), (std::vector<std::string>{"b", "a"}));

  const core::Result<Dataset> five = Parse("1,a,9,0.5,extra\n2,b,8,1,more\n", options);
  ASSERT_TRUE(five.ok()) << five.status().ToString();
  EXPECT_TRUE(five->sequences.has_weights());
  EXPECT_EQ(Weights(*five, 1), (std::vector<float>{1.0f}));
  EXPECT_EQ(five->sequences[1].external_id, 2);
}

TEST(CsvReaderTest, QuotingLineEndingsAndBlankLines) {
  // BOM, CRLF, a quoted delimiter, doubled quotes, a line break inside quotes, blank lines,
  // no final line break.
  const core::Result<Dataset> result = Parse(
      "\xEF\xBB\xBFuser,item\r\n"
      "u1,\"Hello, World\"\r\n"
      "\r\n"
      "\"u1\",\"say \"\"hi\"\"\"\n"
      "\n"
      "u1,\"two\nlines\"\n"
      "u1,\"\"\"\"\r\n"
      "u2,last");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->sequences.size(), 2u);
  EXPECT_EQ(ItemNames(*result, 0),
            (std::vector<std::string>{"Hello, World", "say \"hi\"", "two\nlines", "\""}));
  EXPECT_EQ(ItemNames(*result, 1), (std::vector<std::string>{"last"}));
}

TEST(CsvReaderTest, CustomColumnsDelimiterAndMediaType) {
  CsvOptions options;
  options.delimiter = '\t';
  options.user_column = "user_id";
  options.item_column = "video_id";
  options.timestamp_column = "time_ms";
  options.weight_column = "play_time_ms";
  options.media_type = MediaType::kVideo;
  const core::Result<Dataset> result = Parse(
      " user_id \tvideo_id\ttime_ms\tplay_time_ms\n"
      "0\t5543\t1651314030792\t 863 \n"
      "0\t1836\t1651314000000\t1190\n",
      options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(ItemNames(*result, 0), (std::vector<std::string>{"1836", "5543"}));
  EXPECT_EQ(Timestamps(*result, 0), (std::vector<int64_t>{1651314000000, 1651314030792}));
  EXPECT_EQ(Weights(*result, 0), (std::vector<float>{1190.0f, 863.0f}));
  EXPECT_EQ(result->catalog.media_type(0), MediaType::kVideo);
}

TEST(CsvReaderTest, EmptyTimestampOrWeightNameIgnoresTheColumn) {
  CsvOptions options;
  options.weight_column = "";
  const core::Result<Dataset> result = Parse("user,item,weight\n1,a,not-a-number\n", options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->sequences.has_weights());
}

TEST(CsvReaderTest, UnicodeFieldsAreKeptAsBytes) {
  const core::Result<Dataset> result = Parse("user,item\nJosé,Für Elise\n🎧,音楽\n");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->sequences[0].name, "José");
  EXPECT_EQ(result->sequences[1].name, "🎧");
  EXPECT_EQ(result->catalog.uri(1), "音楽");
}

TEST(CsvReaderTest, RowWithTooFewFieldsNamesTheMissingColumn) {
  const std::string text = "user,item,timestamp\n1,a,5\n2,b\n";
  ExpectError(text, "3:4", text.size() - 1,
              "row has 2 fields, but the timestamp column is field 3");
  CsvOptions options;
  options.has_header = false;
  ExpectError("1,a,5,2.5\n1,b,6\n", "2:6", 15, "row has 3 fields, but the weight column is field 4",
              options);
  ExpectError("justone\n", "1:8", 7, "row has 1 field, expected at least 2 (user, item)", options);
}

TEST(CsvReaderTest, RejectsMalformedNumbers) {
  const std::string text = "user,item,timestamp,weight\n1,a,5,1\n1,b,12x,1\n";
  ExpectError(text, "3:5", text.find("12x"), "timestamp: expected an integer, found \"12x\"");
  const std::string weight = "user,item,timestamp,weight\n1,a,5,heavy\n";
  ExpectError(weight, "2:7", weight.find("heavy"), "weight: expected a number, found \"heavy\"");
  ExpectError("user,item,weight\n1,a,\n", "2:5", 21, "weight: expected a number, found \"\"");
  ExpectError("user,item,weight\n1,a,nan\n", "2:5", 21, "weight must be finite, found \"nan\"");
  ExpectError("user,item,weight\n1,a,-inf\n", "2:5", 21, "weight must be finite, found \"-inf\"");
  ExpectError("user,item,weight\n1,a,1e39\n", "2:5", 21,
              "weight outside the float range: \"1e39\"");
  ExpectError("user,item,weight\n1,a,1e999\n", "2:5", 21, "weight out of range: \"1e999\"");
  ExpectError("user,item,timestamp\n1,a,99999999999999999999\n", "2:5", 24,
              "timestamp out of the int64 range: \"99999999999999999999\"");
  ExpectError("user,item,timestamp\n1,a,1.5\n", "2:5", 24,
              "timestamp: expected an integer, found \"1.5\"");
}

TEST(CsvReaderTest, LongFieldsAreShortenedOnACharacterBoundary) {
  // "x" then 30 two-byte characters: a cut at byte 40 would split one, so it backs off to 39.
  std::string field = "x";
  for (int i = 0; i < 30; ++i) field += "\xC3\xA9";
  std::string shown = "x";
  for (int i = 0; i < 19; ++i) shown += "\xC3\xA9";
  ExpectError("user,item,weight\n1,a," + field + "\n", "2:5", 21,
              "weight: expected a number, found \"" + shown + "...\"");
}

TEST(CsvReaderTest, RejectsBadHeaders) {
  ExpectError("user,song\n1,a\n", "1:1", 0,
              "header has no column named 'item' (found: \"user, song\")");
  ExpectError("", "1:1", 0, "empty file: expected a header row");
  ExpectError("\n\r\n\n", "4:1", 4, "empty file: expected a header row");
  ExpectError("user,item,user\n", "1:11", 10,
              "column 'user' appears twice in the header (fields 1 and 3)");
  CsvOptions options;
  options.has_header = false;
  ExpectError("", "1:1", 0, "empty file: expected at least one row", options);
}

TEST(CsvReaderTest, RejectsBadQuotingAndEmptyIds) {
  const std::string unterminated = "user,item\n1,\"open\n2,b\n";
  ExpectError(unterminated, "2:3", unterminated.find('"'), "unterminated quoted field");
  const std::string after_quote = "user,item\n1,\"a\"b\n";
  ExpectError(after_quote, "2:6", after_quote.find("b\n"),
              "unexpected character after the closing quote of a field");
  ExpectError("user,item\n,a\n", "2:1", 10, "empty user field");
  ExpectError("user,item\n1,\"\"\n", "2:3", 12, "empty item field");
}

TEST(CsvReaderTest, ErrorsReportLaterLinesAfterMultilineFields) {
  // The line count includes the line break inside the quoted field.
  const std::string text = "user,item,weight\n1,\"a\nb\",1\n2,c,x\n";
  ExpectError(text, "4:5", text.find('x'), "weight: expected a number, found \"x\"");
}

TEST(CsvReaderTest, RejectsBadOptions) {
  CsvOptions quote;
  quote.delimiter = '"';
  EXPECT_EQ(Parse("user,item\n", quote).status().code(), core::StatusCode::kInvalidArgument);
  CsvOptions same;
  same.item_column = "user";
  EXPECT_EQ(Parse("user,item\n", same).status().code(), core::StatusCode::kInvalidArgument);
  CsvOptions empty;
  empty.user_column = "";
  EXPECT_EQ(Parse("user,item\n", empty).status().code(), core::StatusCode::kInvalidArgument);
}

TEST(CsvReaderTest, MissingFileIsNotFound) {
  const core::Result<Dataset> result =
      ReadCsvInteractions("/nonexistent/folder/plays.csv", CsvOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(result.status().message(), HasSubstr("plays.csv"));
}

TEST(TextPositionTest, CountsLinesAndUtf8Characters) {
  const std::string_view text = "ab\ncé\r\nxyz";
  EXPECT_EQ(PositionOf(text, 0).line, 1u);
  EXPECT_EQ(PositionOf(text, 0).column, 1u);
  EXPECT_EQ(PositionOf(text, 3).line, 2u);
  EXPECT_EQ(PositionOf(text, 3).column, 1u);
  EXPECT_EQ(PositionOf(text, 6).column, 3u);  // after 'c' and the two bytes of 'é'
  EXPECT_EQ(PositionOf(text, 8).line, 3u);
  EXPECT_EQ(FormatPosition("f.txt", text, 9), "f.txt:3:2 (byte 9)");
  EXPECT_EQ(FormatPosition("f.txt", text, 999), "f.txt:3:4 (byte 11)");  // clamped to the end
}

TEST(TextPositionTest, FindsTheFirstInvalidUtf8Byte) {
  EXPECT_EQ(FindInvalidUtf8("plain ascii"), 11u);
  EXPECT_EQ(FindInvalidUtf8("ok é 🎧"), 10u);
  EXPECT_EQ(FindInvalidUtf8("ab\xFF"), 2u);
  EXPECT_EQ(FindInvalidUtf8("a\xC3"), 1u);              // truncated sequence
  EXPECT_EQ(FindInvalidUtf8("a\xC0\x80"), 1u);          // overlong NUL
  EXPECT_EQ(FindInvalidUtf8("a\xED\xA0\x80"), 1u);      // surrogate U+D800
  EXPECT_EQ(FindInvalidUtf8("a\xF4\x90\x80\x80"), 1u);  // above U+10FFFF
  EXPECT_EQ(FindInvalidUtf8("a\xE2\x28\xA1"), 1u);      // bad continuation byte
}

}  // namespace
}  // namespace melodai::data
