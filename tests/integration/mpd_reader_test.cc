// MelodAI — licensed under the Apache License 2.0.
// Reads the real MPD slices (the 622-file reduced sample and the full-schema excerpt) from the
// shared data folder, checks the counts of their PROVENANCE.md and MANIFEST.tsv, and prints
// the folder load time (informational, never asserted).
#include "data/mpd_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/file_util.h"
#include "core/thread_pool.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

std::string Encoded(const Dataset& dataset) {
  core::ByteWriter writer;
  dataset.catalog.Encode(writer);
  dataset.sequences.Encode(writer);
  return writer.Release();
}

TEST(MpdIntegrationTest, ReadsTheReducedSampleFolder) {
  core::ThreadPool pool(2);
  const core::Result<Dataset> read = ReadMpdFolder(testing::SharedDataDir() / "mpd", &pool);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Dataset& dataset = *read;
  EXPECT_EQ(dataset.source, "mpd");
  EXPECT_EQ(dataset.sequences.size(), 3620u);
  EXPECT_EQ(dataset.sequences.event_count(), 351802u);
  EXPECT_EQ(dataset.catalog.size(), 130884u);
  EXPECT_EQ(dataset.catalog.artist_count(), 29749u);
  EXPECT_FALSE(dataset.sequences.has_timestamps());
  // Playlist lengths 5..250 (PROVENANCE.md); pids were renumbered 0..5364 and are unique.
  std::set<int64_t> pids;
  size_t shortest = SIZE_MAX, longest = 0;
  for (size_t s = 0; s < dataset.sequences.size(); ++s) {
    const SequenceView playlist = dataset.sequences[s];
    shortest = std::min(shortest, playlist.size());
    longest = std::max(longest, playlist.size());
    pids.insert(playlist.external_id);
    ASSERT_GE(playlist.external_id, 0);
    ASSERT_LE(playlist.external_id, 5364);
  }
  EXPECT_EQ(pids.size(), 3620u);
  EXPECT_EQ(shortest, 5u);
  EXPECT_EQ(longest, 250u);
  // The first file by name is mpd.slice.0-999.json; its first playlist and track.
  EXPECT_EQ(dataset.sequences[0].name, "Tegan and Sara");
  EXPECT_EQ(dataset.sequences[0].external_id, 1802);
  EXPECT_EQ(dataset.catalog.uri(0), "spotify:track:0NlyILZaWZ2euUP7JMKgtF");
  EXPECT_EQ(dataset.catalog.name(0), "Back In Your Head - Morgan Page Remix");
  EXPECT_EQ(dataset.catalog.artist_name(dataset.catalog.artist(0)), "Tegan and Sara");
}

TEST(MpdIntegrationTest, ParallelAndSequentialLoadsAreIdentical) {
  const std::filesystem::path folder = testing::SharedDataDir() / "mpd";
  const core::Result<Dataset> sequential = ReadMpdFolder(folder);
  ASSERT_TRUE(sequential.ok()) << sequential.status().ToString();
  core::ThreadPool pool(2);
  const core::Result<Dataset> parallel = ReadMpdFolder(folder, &pool);
  ASSERT_TRUE(parallel.ok()) << parallel.status().ToString();
  EXPECT_EQ(Encoded(*parallel), Encoded(*sequential));
}

TEST(MpdIntegrationTest, EveryFileMatchesTheManifest) {
  // MANIFEST.tsv: file, bytes, sha256, playlists, rows — one line per slice file.
  const std::filesystem::path folder = testing::SharedDataDir() / "mpd";
  const core::Result<std::string> manifest = core::ReadFile(folder / "MANIFEST.tsv");
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  std::istringstream lines(*manifest);
  std::string line;
  std::getline(lines, line);  // header
  size_t files = 0, empty_files = 0;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name, bytes, sha256;
    size_t playlists = 0, rows = 0;
    ASSERT_TRUE(fields >> name >> bytes >> sha256 >> playlists >> rows) << line;
    const core::Result<Dataset> slice = ReadMpdFile(folder / name);
    ASSERT_TRUE(slice.ok()) << slice.status().ToString();
    EXPECT_EQ(slice->sequences.size(), playlists) << name;
    EXPECT_EQ(slice->sequences.event_count(), rows) << name;
    ++files;
    if (playlists == 0) ++empty_files;
  }
  EXPECT_EQ(files, 622u);
  EXPECT_EQ(empty_files, 1u);  // mpd.slice.524000-524999.json
}

TEST(MpdIntegrationTest, ReadsTheFullSchemaExcerpt) {
  const core::Result<Dataset> read =
      ReadMpdFolder(testing::SharedDataDir() / "mpd-fullschema-sample");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Dataset& dataset = *read;
  EXPECT_EQ(dataset.sequences.size(), 29u);
  EXPECT_EQ(dataset.sequences.event_count(), 1448u);
  EXPECT_EQ(dataset.catalog.size(), 1397u);
  // Original pids 0..28 in order; pid 1 has 40 entries although num_tracks says 39.
  for (size_t s = 0; s < dataset.sequences.size(); ++s) {
    EXPECT_EQ(dataset.sequences[s].external_id, static_cast<int64_t>(s));
  }
  EXPECT_EQ(dataset.sequences[0].name, "Throwbacks");
  EXPECT_EQ(dataset.sequences[1].size(), 40u);
  EXPECT_EQ(dataset.catalog.uri(0), "spotify:track:0UaMYEvWZi0ZqiDOoHU3YI");
  EXPECT_EQ(dataset.catalog.artist_name(dataset.catalog.artist(0)), "Missy Elliott");
}

TEST(MpdIntegrationTest, LoadTime) {
  // Informational: warm-cache wall time of the whole folder, best of five, with and without
  // a pool. Printed, never asserted (machines differ).
  const std::filesystem::path folder = testing::SharedDataDir() / "mpd";
  core::ThreadPool pool(2);
  for (core::ThreadPool* used : {static_cast<core::ThreadPool*>(nullptr), &pool}) {
    double best_ms = 1e9;
    for (int run = 0; run < 5; ++run) {
      const auto start = std::chrono::steady_clock::now();
      const core::Result<Dataset> read = ReadMpdFolder(folder, used);
      const auto stop = std::chrono::steady_clock::now();
      ASSERT_TRUE(read.ok()) << read.status().ToString();
      best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(stop - start).count());
    }
    std::printf("mpd folder load (622 files, 351802 rows), %s: best of 5 = %.1f ms\n",
                used == nullptr ? "calling thread only" : "pool of 2 threads", best_ms);
  }
}

}  // namespace
}  // namespace melodai::data
