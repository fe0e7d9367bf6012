// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the Mulan ARFF reader: dense and sparse rows, names, features, labels, the XML
// label descriptor, errors that name file and line, and robustness against corrupted bytes.
#include "data/arff_reader.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/file_util.h"
#include "core/rng.h"
#include "testing/test_paths.h"

namespace melodai::data {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kXml =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
    "<labels xmlns=\"http://mulan.sourceforge.net/labels\">\r\n"
    "<!-- <label name=\"commented-out\"></label> -->\r\n"
    "<label name=\"happy\"></label>\r\n"
    "<label name='rock &amp; roll'><label name=\"sad\"/></label>\r\n"
    "</labels>\r\n";

// Three features (one with a quoted name), a nominal non-label, a string name, three labels.
constexpr std::string_view kDense =
    "% a comment\n"
    "@RELATION 'tiny songs'\n"
    "\n"
    "@attribute f1 numeric\n"
    "@attribute 'f two' REAL\n"
    "@attribute mood {calm,wild}\n"
    "@attribute title string\n"
    "@attribute f3 integer\n"
    "@attribute happy {0,1}\n"
    "@attribute 'rock & roll' {0,1}\n"
    "@attribute sad numeric\n"
    "@data\n"
    "0.5,-1e-2,calm,'Song, One',3,1,0,1\n"
    "% a comment between rows\n"
    "+2,?,wild,\"Two\",4,0,0,0\n";

struct Paths {
  fs::path arff;
  fs::path xml;
};

Paths Write(std::string_view name, std::string_view arff, std::string_view xml = kXml) {
  const fs::path folder = testing::MakeTempDir(name);
  Paths paths{folder / "songs.arff", folder / "songs.xml"};
  EXPECT_TRUE(core::WriteFileAtomic(paths.arff, arff).ok());
  EXPECT_TRUE(core::WriteFileAtomic(paths.xml, xml).ok());
  return paths;
}

std::vector<uint32_t> TagsOf(const Dataset& dataset, ItemId item) {
  const ItemTags& tags = dataset.item_tags;
  return {tags.tags.begin() + static_cast<int64_t>(tags.offsets[item]),
          tags.tags.begin() + static_cast<int64_t>(tags.offsets[item + 1])};
}

TEST(MulanLabelsTest, ParsesNamesEntitiesAndNesting) {
  core::Result<std::vector<std::string>> labels = ParseMulanLabels(kXml, "x.xml");
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(*labels, (std::vector<std::string>{"happy", "rock & roll", "sad"}));
  EXPECT_TRUE(ParseMulanLabels("<labels></labels>", "x.xml")->empty());
  const core::Status no_name = ParseMulanLabels("<labels>\n\n<label id=\"3\"/>", "x.xml").status();
  EXPECT_EQ(no_name.code(), core::StatusCode::kDataLoss);
  EXPECT_EQ(no_name.message().rfind("x.xml:3:", 0), 0u) << no_name.ToString();
  EXPECT_FALSE(ParseMulanLabels("<labels><label name=\"a", "x.xml").ok());
  const core::Status comment = ParseMulanLabels("<labels>\n<!-- open", "x.xml").status();
  EXPECT_EQ(comment.message().rfind("x.xml:2:", 0), 0u) << comment.ToString();
}

TEST(ArffReaderTest, DenseRowsGiveFeaturesNamesAndTags) {
  const Paths paths = Write("arff_dense", kDense);
  core::Result<Dataset> read = ReadMulanArff(paths.arff, paths.xml);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Dataset& dataset = *read;
  EXPECT_EQ(dataset.source, "arff");
  EXPECT_TRUE(dataset.sequences.empty());
  const Catalog& catalog = dataset.catalog;
  ASSERT_EQ(catalog.size(), 2u);
  EXPECT_EQ(catalog.uri(0), "tiny songs:0");
  EXPECT_EQ(catalog.uri(1), "tiny songs:1");
  EXPECT_EQ(catalog.name(0), "Song, One");
  EXPECT_EQ(catalog.name(1), "Two");
  EXPECT_EQ(catalog.artist_name(catalog.artist(0)), "");
  // Features f1, 'f two', f3 (the label "sad" is numeric but a label, so not a feature).
  ASSERT_EQ(catalog.feature_dim(), 3u);
  EXPECT_FLOAT_EQ(catalog.features(0)[0], 0.5f);
  EXPECT_FLOAT_EQ(catalog.features(0)[1], -0.01f);
  EXPECT_FLOAT_EQ(catalog.features(0)[2], 3.0f);
  EXPECT_FLOAT_EQ(catalog.features(1)[0], 2.0f);
  EXPECT_TRUE(std::isnan(catalog.features(1)[1]));
  EXPECT_FLOAT_EQ(catalog.features(1)[2], 4.0f);
  // Labels in XML order: happy 0, rock & roll 1, sad 2.
  ASSERT_EQ(dataset.item_tags.tag_names.size(), 3u);
  EXPECT_EQ(dataset.item_tags.tag_names.Get(1), "rock & roll");
  EXPECT_EQ(TagsOf(dataset, 0), (std::vector<uint32_t>{0, 2}));
  EXPECT_TRUE(TagsOf(dataset, 1).empty());
}

TEST(ArffReaderTest, SparseRowsAndDefaultXmlBesideTheArff) {
  constexpr std::string_view kSparse =
      "@relation sparse\n"
      "@attribute a numeric\n"
      "@attribute b numeric\n"
      "@attribute happy {0,1}\n"
      "@attribute 'rock & roll' {0,1}\n"
      "@attribute sad {0,1}\n"
      "@data\n"
      "{1 2.5, 3 1}\n"
      "{}\n"
      "{0 -1,2 1,4 1}\n";
  const Paths paths = Write("arff_sparse", kSparse);
  core::Result<Dataset> read = ReadMulanArff(paths.arff);  // finds songs.xml by the stem
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const Catalog& catalog = read->catalog;
  ASSERT_EQ(catalog.size(), 3u);
  EXPECT_EQ(catalog.name(2), "song 2");
  ASSERT_EQ(catalog.feature_dim(), 2u);
  EXPECT_FLOAT_EQ(catalog.features(0)[0], 0.0f);
  EXPECT_FLOAT_EQ(catalog.features(0)[1], 2.5f);
  EXPECT_FLOAT_EQ(catalog.features(1)[1], 0.0f);
  EXPECT_FLOAT_EQ(catalog.features(2)[0], -1.0f);
  EXPECT_EQ(TagsOf(*read, 0), (std::vector<uint32_t>{1}));
  EXPECT_TRUE(TagsOf(*read, 1).empty());
  EXPECT_EQ(TagsOf(*read, 2), (std::vector<uint32_t>{0, 2}));
}

TEST(ArffReaderTest, MissingFilesAndLabels) {
  EXPECT_EQ(ReadMulanArff("/nonexistent/a.arff", "/nonexistent/a.xml").status().code(),
            core::StatusCode::kNotFound);
  const Paths paths = Write("arff_missing_xml", kDense);
  fs::remove(paths.xml);
  EXPECT_EQ(ReadMulanArff(paths.arff).status().code(), core::StatusCode::kNotFound);
  // A label the ARFF does not declare, or no labels at all.
  const Paths unknown =
      Write("arff_unknown_label", kDense, "<labels><label name=\"angry\"/></labels>");
  const core::Status status = ReadMulanArff(unknown.arff, unknown.xml).status();
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("angry"), std::string::npos);
  const Paths none = Write("arff_no_labels", kDense, "<labels></labels>");
  EXPECT_EQ(ReadMulanArff(none.arff, none.xml).status().code(), core::StatusCode::kInvalidArgument);
  // A string attribute cannot be a label.
  const Paths string_label =
      Write("arff_string_label", kDense, "<labels><label name=\"title\"/></labels>");
  EXPECT_EQ(ReadMulanArff(string_label.arff, string_label.xml).status().code(),
            core::StatusCode::kInvalidArgument);
}

// Each case breaks one line of the ARFF and expects kDataLoss starting with "songs.arff:<line>:".
TEST(ArffReaderTest, BadInputNamesFileAndLine) {
  const std::string header =
      "@relation r\n@attribute f numeric\n@attribute happy {0,1}\n@attribute 'rock & roll' {0,1}\n"
      "@attribute sad {0,1}\n@data\n";
  struct Case {
    std::string arff;
    std::string where;
  };
  const std::vector<Case> cases = {
      {header + "1,0,0,0\n1,0,0\n", "songs.arff:8:"},            // too few values
      {header + "1,0,0,0,1\n", "songs.arff:7:"},                 // too many values
      {header + "abc,0,0,0\n", "songs.arff:7:"},                 // not a number
      {header + "1,2,0,0\n", "songs.arff:7:"},                   // nominal value outside {0,1}
      {header + "1,0,0,'open\n", "songs.arff:7:"},               // unterminated quote
      {header + "{9 1}\n", "songs.arff:7:"},                     // sparse index out of range
      {header + "{0 1, 0 2}\n", "songs.arff:7:"},                // sparse index twice
      {header + "{x 1}\n", "songs.arff:7:"},                     // sparse entry without index
      {header + "{0 1\n", "songs.arff:7:"},                      // no closing brace
      {"@relation r\n@attribute f numeric\n", "songs.arff:2:"},  // no @data
      {"@relation r\n@attribute f relational\n@data\n", "songs.arff:2:"},
      {"@relation r\n@attribute f numeric\n@attribute f numeric\n@data\n", "songs.arff:3:"},
      {"@relation r\n@attribute g {0,1\n@data\n", "songs.arff:2:"},
      {"@relation r\nbanana\n", "songs.arff:2:"},
      {"@attribute f numeric\n@data\n", "songs.arff:2:"},  // @data before @relation
      {"@relation r\n@data\n", "songs.arff:2:"},           // no attributes
  };
  constexpr std::string_view kLabels =
      "<labels><label name=\"happy\"/><label name=\"rock &amp; roll\"/><label "
      "name=\"sad\"/></labels>";
  for (size_t i = 0; i < cases.size(); ++i) {
    const Paths paths = Write("arff_bad_" + std::to_string(i), cases[i].arff, kLabels);
    const core::Status status = ReadMulanArff(paths.arff, paths.xml).status();
    EXPECT_EQ(status.code(), core::StatusCode::kDataLoss) << i << ": " << status.ToString();
    EXPECT_EQ(status.message().rfind(cases[i].where, 0), 0u) << i << ": " << status.ToString();
  }
}

// Goal: no input crashes the reader. Method: random byte edits of a valid file (seeded).
TEST(ArffReaderTest, CorruptedBytesNeverCrash) {
  core::Rng rng(77);
  size_t failures = 0;
  for (int round = 0; round < 80; ++round) {
    std::string arff(kDense);
    for (int edit = 0; edit < 3; ++edit) {
      const size_t at = rng.Uniform(arff.size());
      const char byte = "{},'\"\n@?1 %\xff"[rng.Uniform(12)];
      if (rng.Bernoulli(0.5)) {
        arff[at] = byte;
      } else {
        arff.erase(at, 1);
      }
    }
    const Paths paths = Write("arff_fuzz", arff);
    if (!ReadMulanArff(paths.arff, paths.xml).ok()) ++failures;
  }
  EXPECT_GT(failures, 0u);
}

}  // namespace
}  // namespace melodai::data
