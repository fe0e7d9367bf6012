// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the MPD slice reader on small inline documents: both schemas, field order,
// unicode, every error class with its position, and the deterministic parallel folder merge.
#include "data/mpd_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/thread_pool.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

constexpr std::string_view kReduced = R"json({
  "info": {"generated_on": "2017-12-03 08:41:42.057563", "slice": "0-999", "version": "v1"},
  "playlists": [
    {"name": "Road Trip", "pid": 7, "num_tracks": 2, "num_followers": 12, "description": "summer",
     "tracks": [
       {"artist_name": "Queen", "track_uri": "spotify:track:a", "track_name": "Don't Stop Me Now"},
       {"artist_name": "ABBA", "track_uri": "spotify:track:b", "track_name": "Waterloo"}]},
    {"tracks": [
       {"artist_name": "ABBA", "track_uri": "spotify:track:b", "track_name": "Waterloo"},
       {"artist_name": "Queen", "track_uri": "spotify:track:c", "track_name": "Bohemian Rhapsody"},
       {"artist_name": "Queen", "track_uri": "spotify:track:a", "track_name": "Don't Stop Me Now"}],
     "pid": 8, "name": "Mix", "duration_ms": 1234}
  ]
})json";

constexpr std::string_view kFullSchema = R"json({
    "info": {"generated_on": "2017-12-03 08:41:42.057563", "slice": "0-999", "version": "v1"},
    "playlists": [
        {
            "name": "Throwbacks",
            "collaborative": "false",
            "pid": 0,
            "modified_at": 1493424000,
            "num_tracks": 2,
            "num_albums": 2,
            "num_followers": 1,
            "tracks": [
                {
                    "pos": 0,
                    "artist_name": "Missy Elliott",
                    "track_uri": "spotify:track:0UaMYEvWZi0ZqiDOoHU3YI",
                    "artist_uri": "spotify:artist:2wIVse2owClT7go1WT98tk",
                    "track_name": "Lose Control (feat. Ciara & Fat Man Scoop)",
                    "album_uri": "spotify:album:6vV5UrXcfyQD1wu4Qo2I9K",
                    "duration_ms": 226863,
                    "album_name": "The Cookbook"
                },
                {
                    "pos": 1,
                    "artist_name": "Britney Spears",
                    "track_uri": "spotify:track:6I9VzXrHxO9rA9A5euc8Ak",
                    "artist_uri": "spotify:artist:26dSoYclwsYLMAKD3tpOr4",
                    "track_name": "Toxic",
                    "album_uri": "spotify:album:0z7pVBGOD7HCIB7S8eLkLI",
                    "duration_ms": 198800,
                    "album_name": "In The Zone"
                }
            ],
            "num_edits": 6,
            "duration_ms": 425663,
            "num_artists": 2
        }
    ]
})json";

std::vector<ItemId> Items(const Dataset& dataset, size_t sequence) {
  const auto items = dataset.sequences.items(sequence);
  return {items.begin(), items.end()};
}

std::string Encoded(const Dataset& dataset) {
  core::ByteWriter writer;
  dataset.catalog.Encode(writer);
  dataset.sequences.Encode(writer);
  return writer.Release();
}

// Parses `json` and expects kDataLoss with "<file>:<line>:<column> (byte <offset>): <rest>".
void ExpectError(std::string_view json, std::string_view expected_position, size_t expected_offset,
                 std::string_view expected_rest) {
  const core::Result<Dataset> result = ParseMpdSlice(json, "bad.json");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), core::StatusCode::kDataLoss);
  const std::string expected = "bad.json:" + std::string(expected_position) + " (byte " +
                               std::to_string(expected_offset) + "): " + std::string(expected_rest);
  EXPECT_EQ(result.status().message(), expected);
}

// Expects kDataLoss whose message names the file and a position, and mentions `needle`.
void ExpectDataLoss(std::string_view json, std::string_view needle) {
  const core::Result<Dataset> result = ParseMpdSlice(json, "bad.json");
  ASSERT_FALSE(result.ok()) << json;
  EXPECT_EQ(result.status().code(), core::StatusCode::kDataLoss);
  EXPECT_THAT(result.status().message(),
              MatchesRegex("bad\\.json:[0-9]+:[0-9]+ \\(byte [0-9]+\\): .*"));
  EXPECT_THAT(result.status().message(), HasSubstr(std::string(needle)));
}

TEST(MpdReaderTest, ReducedSchemaBuildsCatalogAndSequencesInOrder) {
  const core::Result<Dataset> result = ParseMpdSlice(kReduced, "mpd.slice.0-999.json");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const Dataset& dataset = *result;
  EXPECT_EQ(dataset.source, "mpd");
  EXPECT_EQ(dataset.description, "mpd.slice.0-999.json");
  ASSERT_EQ(dataset.catalog.size(), 3u);
  EXPECT_EQ(dataset.catalog.uri(0), "spotify:track:a");
  EXPECT_EQ(dataset.catalog.name(0), "Don't Stop Me Now");
  EXPECT_EQ(dataset.catalog.artist_name(dataset.catalog.artist(0)), "Queen");
  EXPECT_EQ(dataset.catalog.uri(1), "spotify:track:b");
  EXPECT_EQ(dataset.catalog.uri(2), "spotify:track:c");
  EXPECT_EQ(dataset.catalog.artist_count(), 2u);
  EXPECT_EQ(dataset.catalog.media_type(2), MediaType::kTrack);
  ASSERT_EQ(dataset.sequences.size(), 2u);
  EXPECT_FALSE(dataset.sequences.has_timestamps());
  EXPECT_FALSE(dataset.sequences.has_weights());
  EXPECT_EQ(Items(dataset, 0), (std::vector<ItemId>{0, 1}));
  EXPECT_EQ(Items(dataset, 1), (std::vector<ItemId>{1, 2, 0}));
  EXPECT_EQ(dataset.sequences[0].external_id, 7);
  EXPECT_EQ(dataset.sequences[0].name, "Road Trip");
  // Fields come in any order: "tracks" before "pid" and "name".
  EXPECT_EQ(dataset.sequences[1].external_id, 8);
  EXPECT_EQ(dataset.sequences[1].name, "Mix");
}

TEST(MpdReaderTest, FullSchemaValidatesPosAndIgnoresExtraFields) {
  const core::Result<Dataset> result = ParseMpdSlice(kFullSchema, "full.json");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->sequences.size(), 1u);
  EXPECT_EQ(Items(*result, 0), (std::vector<ItemId>{0, 1}));
  EXPECT_EQ(result->sequences[0].external_id, 0);
  EXPECT_EQ(result->sequences[0].name, "Throwbacks");
  EXPECT_EQ(result->catalog.name(1), "Toxic");
  EXPECT_EQ(result->catalog.artist_name(result->catalog.artist(1)), "Britney Spears");
}

TEST(MpdReaderTest, EmptyPlaylistsArrayGivesEmptyDataset) {
  const core::Result<Dataset> result =
      ParseMpdSlice(R"({"info": {"slice": "524000-524999"}, "playlists": []})", "empty.json");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->sequences.size(), 0u);
  EXPECT_EQ(result->catalog.size(), 0u);
}

TEST(MpdReaderTest, EmptyTracksAndMissingOptionalFieldsAreAccepted) {
  const core::Result<Dataset> result = ParseMpdSlice(
      R"({"playlists": [{"pid": -3, "tracks": []},
                        {"pid": 4, "tracks": [{"track_uri": "u:1"}]}]})",
      "optional.json");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->sequences.size(), 2u);
  EXPECT_EQ(result->sequences[0].size(), 0u);
  EXPECT_EQ(result->sequences[0].external_id, -3);
  EXPECT_EQ(result->sequences[0].name, "");
  ASSERT_EQ(result->catalog.size(), 1u);
  EXPECT_EQ(result->catalog.name(0), "");
  EXPECT_EQ(result->catalog.artist_name(result->catalog.artist(0)), "");
}

TEST(MpdReaderTest, DecodesUnicodeEscapesAndRawUtf8) {
  // \u00e9 = é, \ud83c\udfb5 = U+1F3B5 (musical note, a surrogate pair), raw UTF-8 Ω and 音楽.
  const core::Result<Dataset> result = ParseMpdSlice(
      R"({"playlists": [{"pid": 1, "name": "Caf\u00e9 \ud83c\udfb5 Ω",
          "tracks": [{"track_uri": "u:1", "track_name": "音楽 \"live\"",
                      "artist_name": "Beyonc\u00e9"}]}]})",
      "unicode.json");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->sequences[0].name, "Caf\xC3\xA9 \xF0\x9F\x8E\xB5 \xCE\xA9");
  EXPECT_EQ(result->catalog.name(0), "\xE9\x9F\xB3\xE6\xA5\xBD \"live\"");
  EXPECT_EQ(result->catalog.artist_name(0), "Beyonc\xC3\xA9");
}

TEST(MpdReaderTest, EscapedKeysAreUnescapedBeforeMatching) {
  // "play\u006cists" is "playlists" and "track\u005furi" is "track_uri".
  const core::Result<Dataset> result = ParseMpdSlice(
      R"({"play\u006cists": [{"pid": 5, "tracks": [{"track\u005furi": "u:\u0041"}]}]})",
      "escaped.json");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->catalog.size(), 1u);
  EXPECT_EQ(result->catalog.uri(0), "u:A");
  EXPECT_EQ(result->sequences[0].external_id, 5);
}

TEST(MpdReaderTest, UnknownFieldsOfEveryShapeAreIgnored) {
  const core::Result<Dataset> result = ParseMpdSlice(
      R"({"version": 2, "playlists": [{"pid": 1, "extra": {"a": [1, 2.5e3, null, true, {"b": []}]},
          "tracks": [{"track_uri": "u:1", "new": [false, "x", -0.5], "big": 123456789012345678901234}]}],
          "trailer": null})",
      "extra.json");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->catalog.size(), 1u);
}

TEST(MpdReaderTest, WrongTypeNamesFilePositionAndPath) {
  const std::string json = "{\"playlists\": [\n  {\"pid\": \"abc\", \"tracks\": []}\n]}";
  ExpectError(json, "2:11", json.find("\"abc\""),
              "playlists[0].pid: expected an integer, found a string");
}

TEST(MpdReaderTest, TrackUriNumberNamesTrackIndex) {
  const std::string json =
      "{\"playlists\": [{\"pid\": 1, \"tracks\": []},\n"
      " {\"pid\": 2, \"tracks\": [\n"
      "   {\"track_uri\": \"spotify:track:x\"},\n"
      "   {\"track_uri\": 42}]}]}";
  ExpectError(json, "4:18", json.find("42"),
              "playlists[1].tracks[1].track_uri: expected a string, found a number");
}

TEST(MpdReaderTest, RejectsNonIntegerAndOutOfRangePid) {
  ExpectDataLoss(R"({"playlists": [{"pid": 1.5, "tracks": []}]})",
                 "playlists[0].pid: expected an integer, found 1.5");
  const std::string huge = R"({"playlists": [{"pid": 99999999999999999999, "tracks": []}]})";
  ExpectError(huge, "1:24", huge.find("99"),
              "playlists[0].pid: integer outside the int64 range: 99999999999999999999");
  ExpectDataLoss(R"({"playlists": [{"pid": -, "tracks": []}]})",
                 "playlists[0].pid: malformed number -");
  ExpectDataLoss(R"({"playlists": [{"pid": null, "tracks": []}]})",
                 "playlists[0].pid: expected an integer, found null");
}

TEST(MpdReaderTest, RejectsWrongContainerTypes) {
  ExpectDataLoss(R"([{"pid": 1}])", "expected an object at the top level, found an array");
  ExpectDataLoss(R"({"playlists": {"pid": 1}})", "playlists: expected an array, found an object");
  ExpectDataLoss(R"({"playlists": [7]})", "playlists[0]: expected an object, found a number");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": "none"}]})",
                 "playlists[0].tracks: expected an array, found a string");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [["u:1"]]}]})",
                 "playlists[0].tracks[0]: expected an object, found an array");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "name": 5, "tracks": []}]})",
                 "playlists[0].name: expected a string, found a number");
  ExpectDataLoss(
      R"({"playlists": [{"pid": 1, "tracks": [{"track_uri": "u", "artist_name": false}]}]})",
      "playlists[0].tracks[0].artist_name: expected a string, found a boolean");
}

TEST(MpdReaderTest, RejectsMissingRequiredFieldsAtTheObjectStart) {
  const std::string json =
      "{\"playlists\": [{\"pid\": 1, \"tracks\": [\n  {\"track_name\": \"x\"}]}]}";
  ExpectError(json, "2:3", json.find("{\"track_name"),
              "playlists[0].tracks[0]: missing required field \"track_uri\"");
  ExpectError("\n  {\"info\": {}}", "2:3", 3, "missing required field \"playlists\"");
  ExpectDataLoss(R"({"playlists": [{"tracks": []}]})",
                 "playlists[0]: missing required field \"pid\"");
  ExpectDataLoss(R"({"playlists": [{"pid": 3}]})",
                 "playlists[0]: missing required field \"tracks\"");
  ExpectDataLoss(R"({"playlists": [{"pid": 3, "tracks": [{"track_uri": ""}]}]})",
                 "playlists[0].tracks[0].track_uri: must not be empty");
}

TEST(MpdReaderTest, RejectsPosThatIsNotTheArrayIndex) {
  const std::string json =
      R"({"playlists": [{"pid": 1, "tracks": [{"pos": 0, "track_uri": "a"}, {"pos": 2, "track_uri": "b"}]}]})";
  ExpectError(json, "1:76", json.find("2, \"track_uri\": \"b\""),
              "playlists[0].tracks[1].pos: expected 1 (the index of the track in the array), "
              "found 2");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [{"pos": "0", "track_uri": "a"}]}]})",
                 "playlists[0].tracks[0].pos: expected an integer, found a string");
}

TEST(MpdReaderTest, RejectsDuplicateFields) {
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "pid": 2, "tracks": []}]})",
                 "playlists[0].pid: field appears twice in the same object");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [{"track_uri": "a", "track_uri": "b"}]}]})",
                 "playlists[0].tracks[0].track_uri: field appears twice");
  ExpectDataLoss(R"({"playlists": [], "playlists": []})", "playlists: field appears twice");
}

TEST(MpdReaderTest, RejectsMalformedJson) {
  ExpectDataLoss("", "empty document");
  ExpectDataLoss("   \n ", "empty document");
  ExpectDataLoss(R"({"playlists": [{"pid": 1,, "tracks": []}]})", "playlists[0]");
  ExpectDataLoss(R"({"playlists" [{"pid": 1, "tracks": []}]})", "bad.json");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [], "x": tru}]})",
                 "playlists[0].x: invalid literal (expected true, false or null)");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [], "x": [1, }]})", "playlists[0].x");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [], "x": 01}]})", "playlists[0].x");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [], "x": "\q"}]})", "playlists[0].x");
  ExpectDataLoss(R"({"playlists": [{"pid": 1, "tracks": [], "x": "\ud800"}]})", "playlists[0].x");
  const std::string extra_brace = R"({"playlists": []}})";
  ExpectError(extra_brace, "1:18", 17, "content after the end of the JSON document");
  const std::string mismatched = R"({"playlists": [}])";
  ExpectError(mismatched, "1:16", 15, "unexpected '}' (brackets do not match)");
  ExpectDataLoss(R"({"playlists": []} [])", "content after the end of the JSON document");
}

TEST(MpdReaderTest, StageOneErrorsPointAtTheOffendingByte) {
  const std::string bad_utf8 =
      "{\"playlists\": [{\"pid\": 1, \"name\": \"a\xFF\", \"tracks\": []}]}";
  ExpectError(bad_utf8, "1:37", bad_utf8.find('\xFF'), "invalid UTF-8");
  const std::string unclosed = "{\"playlists\": [{\"pid\": 1, \"name\": \"abc";
  ExpectError(unclosed, "1:35", unclosed.find("\"abc"), "unterminated string (truncated file?)");
  const std::string control = "{\"playlists\": [{\"pid\": 1, \"name\": \"a\tb\", \"tracks\": []}]}";
  ExpectError(control, "1:37", control.find('\t'), "unescaped control character inside a string");
}

TEST(MpdReaderTest, EveryTruncationIsAnErrorNamingFileAndPosition) {
  // Goal: a cut at any byte (a partially written or downloaded slice) never parses and never
  // crashes. Method: parse every strict prefix of a valid document.
  for (std::string_view document : {kReduced, kFullSchema}) {
    for (size_t length = 0; length < document.size(); ++length) {
      SCOPED_TRACE(length);
      ExpectDataLoss(document.substr(0, length),
                     length == 0 ? "empty document" : "(truncated file?)");
    }
  }
}

TEST(MpdReaderTest, RejectsNestingBeyondTheLimit) {
  std::string deep = R"({"playlists": [], "x": )";
  for (size_t i = 0; i < kMpdMaxJsonDepth + 2; ++i) deep += "[";
  for (size_t i = 0; i < kMpdMaxJsonDepth + 2; ++i) deep += "]";
  deep += "}";
  ExpectDataLoss(deep, "x: nesting deeper than 64 levels");
}

// Folder tests write tiny files into a scratch folder.
class MpdFolderTest : public ::testing::Test {
 protected:
  void Write(const std::string& name, std::string_view content) {
    std::ofstream out(folder_ / name, std::ios::binary);
    out << content;
    ASSERT_TRUE(out.good());
  }
  static std::string Slice(int pid, const std::vector<std::string>& uris) {
    std::string json = R"({"playlists": [{"name": "p)" + std::to_string(pid) + R"(", "pid": )" +
                       std::to_string(pid) + R"(, "tracks": [)";
    for (size_t i = 0; i < uris.size(); ++i) {
      json += (i == 0 ? "" : ", ") + std::string(R"({"artist_name": "A)") + uris[i].substr(0, 1) +
              R"(", "track_uri": ")" + uris[i] + R"(", "track_name": "T"})";
    }
    return json + "]}]}";
  }
  std::filesystem::path folder_ = testing::MakeTempDir("mpd_folder_test");
};

TEST_F(MpdFolderTest, MergesFilesInByteOrderOfNames) {
  // Byte order puts "10-19" before "9-9"; numeric order would not.
  Write("mpd.slice.9-9.json", Slice(9, {"z", "a"}));
  Write("mpd.slice.10-19.json", Slice(10, {"a", "b", "a"}));
  Write("mpd.slice.0-0.json.bak", Slice(99, {"ignored"}));
  Write("other.json", Slice(98, {"ignored"}));
  const core::Result<Dataset> result = ReadMpdFolder(folder_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->description, folder_.string());
  ASSERT_EQ(result->sequences.size(), 2u);
  EXPECT_EQ(result->sequences[0].external_id, 10);
  EXPECT_EQ(result->sequences[1].external_id, 9);
  EXPECT_EQ(result->sequences[1].name, "p9");
  ASSERT_EQ(result->catalog.size(), 3u);
  EXPECT_EQ(result->catalog.uri(0), "a");
  EXPECT_EQ(result->catalog.uri(2), "z");
  EXPECT_EQ(Items(*result, 0), (std::vector<ItemId>{0, 1, 0}));
  EXPECT_EQ(Items(*result, 1), (std::vector<ItemId>{2, 0}));
}

TEST_F(MpdFolderTest, ResultDoesNotDependOnThreadCount) {
  // Goal: the ordered merge gives identical bytes with or without a pool. Method: 60 files
  // with overlapping track sets, loaded with no pool and pools of 1, 2 and 5 threads.
  for (int file = 0; file < 60; ++file) {
    std::vector<std::string> uris;
    for (int track = 0; track < 1 + file % 7; ++track) {
      uris.push_back("u" + std::to_string((file * 13 + track * 7) % 41));
    }
    Write("mpd.slice." + std::to_string(file * 1000) + "-" + std::to_string(file * 1000 + 999) +
              ".json",
          Slice(file, uris));
  }
  const core::Result<Dataset> sequential = ReadMpdFolder(folder_);
  ASSERT_TRUE(sequential.ok()) << sequential.status().ToString();
  EXPECT_EQ(sequential->sequences.size(), 60u);
  for (size_t threads : {1, 2, 5}) {
    core::ThreadPool pool(threads);
    const core::Result<Dataset> parallel = ReadMpdFolder(folder_, &pool);
    ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
    EXPECT_EQ(Encoded(*parallel), Encoded(*sequential)) << threads << " threads";
  }
}

TEST_F(MpdFolderTest, ReportsTheFirstBadFileInNameOrder) {
  for (int file = 0; file < 30; ++file) {
    Write("mpd.slice." + std::to_string(100 + file) + ".json", Slice(file, {"a", "b"}));
  }
  Write("mpd.slice.120.json", R"({"playlists": [{"pid": "x", "tracks": []}]})");
  Write("mpd.slice.125.json", R"({"playlists": [)");
  for (size_t threads : {0, 1, 2, 4}) {
    std::unique_ptr<core::ThreadPool> pool;
    if (threads > 0) pool = std::make_unique<core::ThreadPool>(threads);
    const core::Result<Dataset> result = ReadMpdFolder(folder_, pool.get());
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), core::StatusCode::kDataLoss);
    EXPECT_THAT(result.status().message(),
                HasSubstr("mpd.slice.120.json:1:24 (byte 23): playlists[0].pid: expected an "
                          "integer, found a string"));
  }
}

TEST_F(MpdFolderTest, MissingOrEmptyFolderIsNotFound) {
  const core::Result<Dataset> missing = ReadMpdFolder(folder_ / "nowhere");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("nowhere"));

  Write("README.md", "not a slice");
  const core::Result<Dataset> empty = ReadMpdFolder(folder_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(empty.status().message(), HasSubstr("holds no mpd.slice.*.json files"));
}

TEST_F(MpdFolderTest, ReadMpdFileNamesThePath) {
  Write("mpd.slice.0-999.json", kReduced);
  const core::Result<Dataset> ok = ReadMpdFile(folder_ / "mpd.slice.0-999.json");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(Encoded(*ok), Encoded(*ParseMpdSlice(kReduced, "x")));

  const core::Result<Dataset> missing = ReadMpdFile(folder_ / "absent.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("absent.json"));

  const core::Result<Dataset> folder = ReadMpdFile(folder_);
  ASSERT_FALSE(folder.ok());
  EXPECT_EQ(folder.status().code(), core::StatusCode::kIoError);

  Write("truncated.json", kReduced.substr(0, 300));
  const core::Result<Dataset> truncated = ReadMpdFile(folder_ / "truncated.json");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), core::StatusCode::kDataLoss);
  EXPECT_THAT(truncated.status().message(), HasSubstr((folder_ / "truncated.json").string() + ":"));
}

}  // namespace
}  // namespace melodai::data
