// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the synthetic world generator on small worlds: option validation, JSON string
// escaping, the schema and internal consistency of the slice files (checked with an
// independent JSON parser and with the project's MPD slice parser), byte-identical output for
// identical options with and without threads, and clean-up of stale slices.
#include "data/synthetic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/file_util.h"
#include "data/mpd_reader.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

namespace fs = std::filesystem;

SyntheticOptions SmallOptions() {
  SyntheticOptions options;
  options.seed = 7;
  options.playlist_count = 250;
  options.track_count = 3000;
  options.artist_count = 600;
  options.genre_count = 8;
  options.playlists_per_slice = 100;
  return options;
}

std::map<std::string, std::string> ReadFolder(const fs::path& folder) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(folder)) {
    core::Result<std::string> content = core::ReadFile(entry.path());
    EXPECT_TRUE(content.ok());
    files[entry.path().filename().string()] = content.ok() ? *content : "";
  }
  return files;
}

TEST(SyntheticOptionsTest, DefaultsAreValidAndAbsurdValuesAreRejected) {
  EXPECT_TRUE(ValidateSyntheticOptions(SyntheticOptions{}).ok());
  const std::vector<std::pair<std::string, void (*)(SyntheticOptions&)>> cases = {
      {"playlist_count", [](SyntheticOptions& o) { o.playlist_count = 0; }},
      {"playlist_count", [](SyntheticOptions& o) { o.playlist_count = 10'000'001; }},
      {"track_count", [](SyntheticOptions& o) { o.track_count = 0; }},
      {"artist_count", [](SyntheticOptions& o) { o.artist_count = 0; }},
      {"artist_count", [](SyntheticOptions& o) { o.artist_count = o.track_count + 1; }},
      {"genre_count", [](SyntheticOptions& o) { o.genre_count = 0; }},
      {"genre_count", [](SyntheticOptions& o) { o.genre_count = o.artist_count + 1; }},
      {"playlists_per_slice", [](SyntheticOptions& o) { o.playlists_per_slice = 0; }},
      {"playlists_per_slice", [](SyntheticOptions& o) { o.playlists_per_slice = 50'000; }},
      {"playlist_count * length_max",
       [](SyntheticOptions& o) {
         o.playlist_count = 10'000'000;
         o.length_max = 1000;
       }},
      {"length", [](SyntheticOptions& o) { o.length_min = 0; }},
      {"length", [](SyntheticOptions& o) { o.length_min = 300; }},
      {"length", [](SyntheticOptions& o) { o.length_max = 20'000; }},
      {"length_scale", [](SyntheticOptions& o) { o.length_scale = 0.0; }},
      {"artist_popularity_exponent",
       [](SyntheticOptions& o) { o.artist_popularity_exponent = -1; }},
      {"track_popularity_exponent", [](SyntheticOptions& o) { o.track_popularity_exponent = 11; }},
      {"hit_artist_bias",
       [](SyntheticOptions& o) { o.hit_artist_bias = std::numeric_limits<double>::quiet_NaN(); }},
      {"genre_mixture_alpha", [](SyntheticOptions& o) { o.genre_mixture_alpha = 0.0; }},
      {"same_artist_alpha", [](SyntheticOptions& o) { o.same_artist_alpha = -0.5; }},
      {"repeat_probability", [](SyntheticOptions& o) { o.repeat_probability = 1.5; }},
      {"popular_anywhere_probability",
       [](SyntheticOptions& o) {
         o.popular_anywhere_probability = std::numeric_limits<double>::quiet_NaN();
       }},
      {"sum", [](SyntheticOptions& o) { o.popular_anywhere_probability = 0.9; }},
      {"genres_per_playlist_weights",
       [](SyntheticOptions& o) {
         o.genres_per_playlist_weights = {0, 0, 0};
       }},
      {"genres_per_playlist_weights",
       [](SyntheticOptions& o) {
         o.genres_per_playlist_weights = {1, -1, 0};
       }},
  };
  for (const auto& [field, mutate] : cases) {
    SyntheticOptions options;
    mutate(options);
    const core::Status status = ValidateSyntheticOptions(options);
    EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(status.message().find(field), std::string::npos) << status.message();
  }
  // Generation refuses before touching the folder.
  SyntheticOptions bad;
  bad.track_count = 10;
  const fs::path folder = testing::MakeTempDir("synthetic_bad_options");
  EXPECT_EQ(GenerateSyntheticMpd(bad, folder).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs::is_empty(folder));
}

TEST(SyntheticJsonTest, EscapesStringsSoAParserReadsThemBack) {
  const std::string tricky = "say \"hi\"\\ back\nslash/tab\t\x01\x1f caf\xc3\xa9";
  std::string out;
  AppendJsonString(out, tricky);
  EXPECT_EQ(out.front(), '"');
  EXPECT_NE(out.find("\\u0001"), std::string::npos);
  EXPECT_NE(out.find("\\\"hi\\\""), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(out).get<std::string>(), tricky);
  std::string empty;
  AppendJsonString(empty, "");
  EXPECT_EQ(empty, "\"\"");
}

// Goal: the files follow the reduced MPD schema and agree with themselves and the summary.
// Method: parse every slice with nlohmann::json (independent of the project's reader).
TEST(SyntheticWorldTest, SlicesFollowTheSchemaAndTheSummary) {
  const SyntheticOptions options = SmallOptions();
  const fs::path folder = testing::MakeTempDir("synthetic_schema");
  core::Result<SyntheticSummary> summary = GenerateSyntheticMpd(options, folder);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->files.size(), 3u);
  EXPECT_EQ(summary->files[0].filename(), "mpd.slice.0-99.json");
  EXPECT_EQ(summary->files[2].filename(), "mpd.slice.200-249.json");

  std::map<std::string, std::pair<std::string, std::string>> track_of_uri;  // uri -> artist, name
  std::set<std::string> artists;
  uint64_t rows = 0, duplicates = 0;
  int64_t next_pid = 0;
  for (const fs::path& file : summary->files) {
    const nlohmann::json slice = nlohmann::json::parse(*core::ReadFile(file));
    EXPECT_TRUE(slice["info"]["slice"].is_string());
    for (const nlohmann::json& playlist : slice["playlists"]) {
      EXPECT_EQ(playlist["pid"].get<int64_t>(), next_pid++);
      EXPECT_TRUE(playlist["name"].is_string());
      const nlohmann::json& tracks = playlist["tracks"];
      ASSERT_GE(tracks.size(), options.length_min);
      ASSERT_LE(tracks.size(), options.length_max);
      EXPECT_EQ(playlist["num_tracks"].get<size_t>(), tracks.size());
      EXPECT_GE(playlist["num_followers"].get<int64_t>(), 12);
      EXPECT_GE(playlist["num_edits"].get<int64_t>(), 2);
      EXPECT_GT(playlist["duration_ms"].get<int64_t>(), 0);
      std::set<std::string> playlist_uris, playlist_artists;
      for (const nlohmann::json& track : tracks) {
        const std::string uri = track["track_uri"];
        ASSERT_EQ(uri.size(), 14u + 22u);
        ASSERT_EQ(uri.rfind("spotify:track:", 0), 0u);
        const auto entry = std::make_pair(track["artist_name"].get<std::string>(),
                                          track["track_name"].get<std::string>());
        const auto [it, inserted] = track_of_uri.emplace(uri, entry);
        ASSERT_EQ(it->second, entry) << "a uri names one track everywhere";
        duplicates += playlist_uris.insert(uri).second ? 0 : 1;
        playlist_artists.insert(entry.first);
        artists.insert(entry.first);
      }
      EXPECT_EQ(playlist["num_artists"].get<size_t>(), playlist_artists.size());
      rows += tracks.size();
    }
  }
  EXPECT_EQ(next_pid, 250);
  EXPECT_EQ(rows, summary->track_rows);
  EXPECT_EQ(duplicates, summary->duplicate_rows);
  EXPECT_GT(duplicates, 0u);         // repeats exist ...
  EXPECT_LT(duplicates * 20, rows);  // ... but are rare
  EXPECT_EQ(track_of_uri.size(), summary->distinct_tracks_used);
  EXPECT_EQ(artists.size(), summary->distinct_artists_used);
  EXPECT_LE(summary->distinct_tracks_used, options.track_count);
  EXPECT_FALSE(FormatSyntheticSummary(*summary).empty());
}

TEST(SyntheticWorldTest, TheProjectMpdParserReadsEverySlice) {
  const fs::path folder = testing::MakeTempDir("synthetic_mpd_parser");
  core::Result<SyntheticSummary> summary = GenerateSyntheticMpd(SmallOptions(), folder);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  uint64_t events = 0;
  size_t sequences = 0;
  for (const fs::path& file : summary->files) {
    const core::Result<std::string> json = core::ReadFile(file);
    ASSERT_TRUE(json.ok());
    core::Result<Dataset> slice = ParseMpdSlice(*json, file.filename().string());
    ASSERT_TRUE(slice.ok()) << slice.status().ToString();
    events += slice->sequences.event_count();
    sequences += slice->sequences.size();
  }
  EXPECT_EQ(sequences, 250u);
  EXPECT_EQ(events, summary->track_rows);
}

TEST(SyntheticWorldTest, SameOptionsGiveIdenticalBytesWithOrWithoutThreads) {
  const SyntheticOptions options = SmallOptions();
  const fs::path first = testing::MakeTempDir("synthetic_same_a");
  const fs::path second = testing::MakeTempDir("synthetic_same_b");
  const fs::path threaded = testing::MakeTempDir("synthetic_same_threads");
  ASSERT_TRUE(GenerateSyntheticMpd(options, first).ok());
  ASSERT_TRUE(GenerateSyntheticMpd(options, second).ok());
  core::ThreadPool pool(3);
  ASSERT_TRUE(GenerateSyntheticMpd(options, threaded, &pool).ok());
  const auto files = ReadFolder(first);
  EXPECT_EQ(files.size(), 3u);
  EXPECT_TRUE(files == ReadFolder(second));
  EXPECT_TRUE(files == ReadFolder(threaded));

  SyntheticOptions other = options;
  other.seed = 8;
  const fs::path different = testing::MakeTempDir("synthetic_other_seed");
  ASSERT_TRUE(GenerateSyntheticMpd(other, different).ok());
  const auto other_files = ReadFolder(different);
  EXPECT_NE(files.at("mpd.slice.0-99.json"), other_files.at("mpd.slice.0-99.json"));
}

TEST(SyntheticWorldTest, StaleSlicesAreRemovedOtherFilesKept) {
  const fs::path folder = testing::MakeTempDir("synthetic_stale");
  ASSERT_TRUE(core::WriteFileAtomic(folder / "mpd.slice.9000-9999.json", "{}").ok());
  ASSERT_TRUE(core::WriteFileAtomic(folder / "notes.txt", "keep me").ok());
  ASSERT_TRUE(GenerateSyntheticMpd(SmallOptions(), folder).ok());
  EXPECT_FALSE(fs::exists(folder / "mpd.slice.9000-9999.json"));
  EXPECT_TRUE(fs::exists(folder / "notes.txt"));
  EXPECT_TRUE(fs::exists(folder / "mpd.slice.200-249.json"));
}

// A catalog smaller than the requested lengths caps playlists instead of looping forever.
TEST(SyntheticWorldTest, TinyCatalogCapsPlaylistLength) {
  SyntheticOptions options;
  options.playlist_count = 20;
  options.track_count = 12;
  options.artist_count = 3;
  options.genre_count = 3;
  options.length_min = 30;
  options.length_max = 40;
  options.repeat_probability = 0.0;
  const fs::path folder = testing::MakeTempDir("synthetic_tiny");
  core::Result<SyntheticSummary> summary = GenerateSyntheticMpd(options, folder);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->track_rows, 20u * 12u);  // every playlist holds the whole catalog once
  EXPECT_EQ(summary->duplicate_rows, 0u);
  EXPECT_EQ(summary->distinct_tracks_used, 12u);
}

TEST(SyntheticWorldTest, UnwritableFolderIsAnIoError) {
  const fs::path folder = testing::MakeTempDir("synthetic_unwritable");
  ASSERT_TRUE(core::WriteFileAtomic(folder / "file", "x").ok());
  const core::Status status =
      GenerateSyntheticMpd(SmallOptions(), folder / "file" / "out").status();
  EXPECT_EQ(status.code(), core::StatusCode::kIoError);
}

}  // namespace
}  // namespace melodai::data
