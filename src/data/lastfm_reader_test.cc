// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the Last.fm HetRec reader on small hand-written folders: the mapping to items,
// sequences, friend edges and tags, errors that name file and line, and robustness against
// corrupted bytes.
#include "data/lastfm_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "core/file_util.h"
#include "core/rng.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

namespace fs = std::filesystem;

struct Files {
  std::string artists =
      "id\tname\turl\tpictureURL\n"
      "1\tMALICE MIZER\thttp://x/1\thttp://p/1\n"
      "7\tDiary of Dreams\thttp://x/7\thttp://p/7\n"
      "3\tCarpathian Forest\thttp://x/3\t\n";
  // CRLF like the real file; user 9 comes before user 2 to check the sort; artist 99 is not in
  // artists.dat.
  std::string plays =
      "userID\tartistID\tweight\r\n"
      "9\t3\t5\r\n"
      "2\t7\t13883\r\n"
      "2\t1\t11690\r\n"
      "9\t99\t1\r\n"
      "2\t99\t40\r\n";
  // Both directions of 2-9, a duplicate, a self-loop and a user without plays (4).
  std::string friends =
      "userID\tfriendID\r\n"
      "2\t9\r\n"
      "9\t2\r\n"
      "2\t9\r\n"
      "2\t2\r\n"
      "2\t4\r\n";
  // Tag 20 is Latin-1 "rock français" (0xE7), not UTF-8.
  std::string tags =
      "tagID\ttagValue\r\n"
      "10\tmetal\r\n"
      "20\trock fran\xe7"
      "ais\r\n"
      "30\tgoth\r\n";
  // Artist 7: goth twice, metal once -> goth first. Artist 500 is outside the catalog.
  std::string assignments =
      "userID\tartistID\ttagID\tday\tmonth\tyear\r\n"
      "2\t7\t10\t1\t4\t2009\r\n"
      "2\t7\t30\t1\t4\t2009\r\n"
      "9\t7\t30\t1\t5\t2009\r\n"
      "9\t1\t20\t1\t5\t2009\r\n"
      "9\t500\t10\t1\t5\t2009\r\n";
};

fs::path WriteFolder(std::string_view name, const Files& files, bool optional_files = true) {
  const fs::path folder = testing::MakeTempDir(name);
  EXPECT_TRUE(core::WriteFileAtomic(folder / "artists.dat", files.artists).ok());
  EXPECT_TRUE(core::WriteFileAtomic(folder / "user_artists.dat", files.plays).ok());
  if (optional_files) {
    EXPECT_TRUE(core::WriteFileAtomic(folder / "user_friends.dat", files.friends).ok());
    EXPECT_TRUE(core::WriteFileAtomic(folder / "tags.dat", files.tags).ok());
    EXPECT_TRUE(core::WriteFileAtomic(folder / "user_taggedartists.dat", files.assignments).ok());
  }
  return folder;
}

std::vector<std::string> TagsOf(const Dataset& dataset, ItemId item) {
  std::vector<std::string> names;
  const ItemTags& tags = dataset.item_tags;
  for (uint64_t i = tags.offsets[item]; i < tags.offsets[item + 1]; ++i) {
    names.emplace_back(tags.tag_names.Get(tags.tags[i]));
  }
  return names;
}

TEST(LastfmReaderTest, MapsArtistsUsersFriendsAndTags) {
  core::Result<Dataset> read = ReadLastfmFolder(WriteFolder("lastfm_maps", Files{}));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Dataset& dataset = *read;
  EXPECT_EQ(dataset.source, "lastfm");
  // Items: the three artists in file order, then 99 (first used in user_artists.dat).
  const Catalog& catalog = dataset.catalog;
  ASSERT_EQ(catalog.size(), 4u);
  EXPECT_EQ(catalog.uri(0), "lastfm:artist:1");
  EXPECT_EQ(catalog.name(1), "Diary of Dreams");
  EXPECT_EQ(catalog.artist_name(catalog.artist(1)), "Diary of Dreams");
  EXPECT_EQ(catalog.uri(3), "lastfm:artist:99");
  EXPECT_EQ(catalog.name(3), "");
  EXPECT_EQ(catalog.artist_count(), 4u);  // every artist is its own item's artist

  // Users ascending: 2 then 9, items in file order, weights = counts.
  const Interactions& sequences = dataset.sequences;
  ASSERT_EQ(sequences.size(), 2u);
  ASSERT_TRUE(sequences.has_weights());
  EXPECT_FALSE(sequences.has_timestamps());
  EXPECT_EQ(sequences[0].external_id, 2);
  EXPECT_EQ(std::vector<ItemId>(sequences[0].items.begin(), sequences[0].items.end()),
            (std::vector<ItemId>{1, 0, 3}));
  EXPECT_EQ(std::vector<float>(sequences[0].weights.begin(), sequences[0].weights.end()),
            (std::vector<float>{13883.0f, 11690.0f, 40.0f}));
  EXPECT_EQ(sequences[1].external_id, 9);
  EXPECT_EQ(std::vector<ItemId>(sequences[1].items.begin(), sequences[1].items.end()),
            (std::vector<ItemId>{2, 3}));

  // One undirected edge between sequence 0 (user 2) and 1 (user 9).
  ASSERT_EQ(dataset.social_edges.size(), 1u);
  EXPECT_EQ(dataset.social_edges[0], (std::pair<uint32_t, uint32_t>{0, 1}));

  // Tags: artist 7 (item 1) goth (2 assignments) before metal; artist 1 (item 0) the Latin-1
  // tag with its bytes kept; artists 3 and 99 none.
  ASSERT_EQ(dataset.item_tags.offsets.size(), catalog.size() + 1);
  EXPECT_EQ(TagsOf(dataset, 1), (std::vector<std::string>{"goth", "metal"}));
  EXPECT_EQ(TagsOf(dataset, 0), (std::vector<std::string>{"rock fran\xe7"
                                                          "ais"}));
  EXPECT_TRUE(TagsOf(dataset, 2).empty());
  EXPECT_TRUE(TagsOf(dataset, 3).empty());
  EXPECT_EQ(dataset.item_tags.tag_names.size(), 3u);
}

TEST(LastfmReaderTest, OptionalFilesMayBeAbsent) {
  core::Result<Dataset> read = ReadLastfmFolder(WriteFolder("lastfm_optional", Files{}, false));
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->sequences.size(), 2u);
  EXPECT_TRUE(read->social_edges.empty());
  EXPECT_TRUE(read->item_tags.empty());
}

TEST(LastfmReaderTest, MissingFolderOrRequiredFile) {
  EXPECT_EQ(ReadLastfmFolder("/nonexistent/lastfm").status().code(), core::StatusCode::kNotFound);
  const fs::path folder = WriteFolder("lastfm_missing", Files{});
  fs::remove(folder / "user_artists.dat");
  const core::Status status = ReadLastfmFolder(folder).status();
  EXPECT_EQ(status.code(), core::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("user_artists.dat"), std::string::npos);
  // Tag assignments without tags.dat cannot be named.
  const fs::path no_tags = WriteFolder("lastfm_no_tags", Files{});
  fs::remove(no_tags / "tags.dat");
  EXPECT_EQ(ReadLastfmFolder(no_tags).status().code(), core::StatusCode::kNotFound);
}

// Each case corrupts one file and expects kDataLoss whose message starts with "file:line:".
TEST(LastfmReaderTest, BadInputNamesFileAndLine) {
  struct Case {
    std::string Files::*file;
    std::string content;
    std::string where;
  };
  const std::vector<Case> cases = {
      {&Files::artists, "id\tname\n1\tA\n", "artists.dat:1:"},
      {&Files::artists, "id\tname\turl\tpictureURL\n1\tA\tu\tp\n1\tB\tu\tp\n", "artists.dat:3:"},
      {&Files::artists, "id\tname\turl\tpictureURL\nx1\tA\tu\tp\n", "artists.dat:2:"},
      {&Files::plays, "userID\tartistID\tweight\n2\t1\t5\n2\t1\tmany\n", "user_artists.dat:3:"},
      {&Files::plays, "userID\tartistID\tweight\n2\t1\n", "user_artists.dat:2:"},
      {&Files::plays, "userID\tartistID\tweight\n99999999999\t1\t5\n", "user_artists.dat:2:"},
      {&Files::plays, "userID\tartistID\tweight\n-2\t1\t5\n", "user_artists.dat:2:"},
      {&Files::plays, "", "user_artists.dat:1:"},
      {&Files::friends, "userID\tfriendID\n2\t\n", "user_friends.dat:2:"},
      {&Files::tags, "tagID\ttagValue\n10\ta\n10\tb\n", "tags.dat:3:"},
      {&Files::assignments, "userID\tartistID\ttagID\tday\tmonth\tyear\n2\t7\t77\t1\t1\t2009\n",
       "user_taggedartists.dat:2:"},
      {&Files::assignments, "userID\tartistID\ttagID\tday\tmonth\tyear\n\n\n2\t7\t10\t1\t1\n",
       "user_taggedartists.dat:4:"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Files files;
    files.*(cases[i].file) = cases[i].content;
    const core::Status status =
        ReadLastfmFolder(WriteFolder("lastfm_bad_" + std::to_string(i), files)).status();
    EXPECT_EQ(status.code(), core::StatusCode::kDataLoss) << i << ": " << status.ToString();
    EXPECT_EQ(status.message().rfind(cases[i].where, 0), 0u) << i << ": " << status.ToString();
  }
}

// Goal: no input crashes the reader. Method: flip, insert and delete random bytes of the
// valid files (seeded) and require a clean ok-or-error answer each time.
TEST(LastfmReaderTest, CorruptedBytesNeverCrash) {
  core::Rng rng(20240611);
  const Files valid;
  size_t failures = 0;
  for (int round = 0; round < 60; ++round) {
    Files files = valid;
    std::string* targets[] = {&files.artists, &files.plays, &files.friends, &files.tags,
                              &files.assignments};
    std::string& target = *targets[rng.Uniform(5)];
    for (int edit = 0; edit < 4 && !target.empty(); ++edit) {
      const size_t at = rng.Uniform(target.size());
      const char byte = "\t\n\r0-9x\xff"[rng.Uniform(8)];
      switch (rng.Uniform(3)) {
        case 0:
          target[at] = byte;
          break;
        case 1:
          target.insert(at, 1, byte);
          break;
        default:
          target.erase(at, 1);
          break;
      }
    }
    const core::Result<Dataset> read = ReadLastfmFolder(WriteFolder("lastfm_fuzz", files));
    if (!read.ok()) {
      ++failures;
      EXPECT_NE(read.status().message().find(".dat"), std::string::npos)
          << read.status().ToString();
    }
  }
  EXPECT_GT(failures, 0u);  // the corruption did reach the parser
}

}  // namespace
}  // namespace melodai::data
