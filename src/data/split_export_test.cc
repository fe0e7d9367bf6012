// MelodAI — licensed under the Apache License 2.0.
// The session TSV written for reference implementations: exact text and refusals.
#include <gtest/gtest.h>

#include "data/split_export.h"

namespace melodai::data {
namespace {

TEST(SessionTsvTest, WritesOneRowPerEventWithPositions) {
  Catalog catalog;
  const ItemId a = catalog.AddItem("spotify:track:a", "A", "x");
  const ItemId b = catalog.AddItem("spotify:track:b", "B", "y");
  const ItemId c = catalog.AddItem("spotify:track:c", "C", "y");
  Interactions sequences;
  sequences.Append(std::vector<ItemId>{b, a, c}, {}, {}, 7, "first");
  sequences.Append(std::vector<ItemId>{c, b}, {}, {}, 9, "second");
  auto tsv = SessionTsv(catalog, sequences);
  ASSERT_TRUE(tsv.ok()) << tsv.status().ToString();
  EXPECT_EQ(*tsv,
            "SessionId\tItemId\tTime\n"
            "0\tspotify:track:b\t0\n0\tspotify:track:a\t1\n0\tspotify:track:c\t2\n"
            "1\tspotify:track:c\t0\n1\tspotify:track:b\t1\n");
}

TEST(SessionTsvTest, RefusesUrisThatCannotBeReadBackAndUnknownItems) {
  Catalog catalog;
  const ItemId bad = catalog.AddItem("track\twith tab", "T", "x");
  Interactions sequences;
  sequences.Append(std::vector<ItemId>{bad}, {}, {}, 0, "");
  auto tsv = SessionTsv(catalog, sequences);
  ASSERT_FALSE(tsv.ok());
  EXPECT_NE(tsv.status().message().find("tab or line break"), std::string::npos);

  Interactions outside;
  outside.Append(std::vector<ItemId>{bad, 5}, {}, {}, 0, "");
  Catalog fine;
  fine.AddItem("ok", "O", "x");
  auto missing = SessionTsv(fine, outside);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("position 1: item id 5 is outside the catalogue of 1 items"),
            std::string::npos)
      << missing.status().ToString();
}

}  // namespace
}  // namespace melodai::data
