// MelodAI — licensed under the Apache License 2.0.
// The cold-start content protocol on the real CAL500 and emotions song sets: the split and
// query counts recomputed independently from the tag table, and the four models run end to
// end, where the content tower must rank unseen songs far better than popularity.
#include "rec/content.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "data/loader.h"
#include "testing/test_paths.h"

namespace melodai::rec {
namespace {

constexpr uint64_t kSeed = 42;

data::Dataset Load(const std::string& folder) {
  data::LoadOptions options;
  options.use_cache = false;
  core::Result<data::Dataset> dataset =
      data::LoadDataset(testing::SharedDataDir() / folder, options);
  EXPECT_TRUE(dataset.ok()) << dataset.status().ToString();
  return dataset.ok() ? *std::move(dataset) : data::Dataset{};
}

// Tags with >= 2 training songs and >= 1 song of `part`, counted straight from the tag table.
size_t CountQueries(const data::Dataset& dataset, const std::vector<data::ItemId>& train,
                    const std::vector<data::ItemId>& part) {
  const size_t tags = dataset.item_tags.tag_names.size();
  std::vector<size_t> in_train(tags, 0), in_part(tags, 0);
  auto count = [&](const std::vector<data::ItemId>& songs, std::vector<size_t>& out) {
    for (data::ItemId song : songs) {
      for (uint64_t at = dataset.item_tags.offsets[song]; at < dataset.item_tags.offsets[song + 1];
           ++at) {
        ++out[dataset.item_tags.tags[at]];
      }
    }
  };
  count(train, in_train);
  count(part, in_part);
  size_t queries = 0;
  for (size_t tag = 0; tag < tags; ++tag) queries += in_train[tag] >= 2 && in_part[tag] >= 1;
  return queries;
}

void CheckProtocolCounts(const data::Dataset& dataset, size_t train_songs, size_t valid_songs,
                         size_t test_songs) {
  ContentOptions options;
  options.seed = kSeed;
  auto split = MakeContentSplit(dataset, options);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->songs.train.size(), train_songs);
  EXPECT_EQ(split->songs.valid.size(), valid_songs);
  EXPECT_EQ(split->songs.test.size(), test_songs);
  EXPECT_EQ(split->test.queries.size(),
            CountQueries(dataset, split->songs.train, split->songs.test));
  EXPECT_EQ(split->valid.queries.size(),
            CountQueries(dataset, split->songs.train, split->songs.valid));
  // Every target is a test song the training sequences never contain.
  const std::set<data::ItemId> seen(split->train.all_items().begin(),
                                    split->train.all_items().end());
  const std::set<data::ItemId> test(split->songs.test.begin(), split->songs.test.end());
  size_t targets = 0;
  for (const data::EvalQuery& query : split->test.queries) {
    const auto items = split->test.sequences.items(query.sequence);
    for (uint32_t i = query.target_begin; i < query.target_end; ++i) {
      EXPECT_EQ(seen.count(items[i]), 0u);
      EXPECT_EQ(test.count(items[i]), 1u);
      ++targets;
    }
  }
  std::printf(
      "%s: seed %llu, %zu/%zu/%zu songs, %zu training tags, %zu valid and %zu test queries, %zu "
      "test "
      "targets\n",
      dataset.description.c_str(), static_cast<unsigned long long>(kSeed),
      split->songs.train.size(), split->songs.valid.size(), split->songs.test.size(),
      split->train.size(), split->valid.queries.size(), split->test.queries.size(), targets);
}

// Runs the four models (seed 42, default full-catalogue candidates) and returns `metric` by
// model name.
std::map<std::string, double> RunAll(const data::Dataset& dataset, const std::string& metric) {
  ContentOptions options;
  options.seed = kSeed;
  core::ThreadPool pool(2);
  auto report = RunContentExperiment(dataset, options, ContentModelNames(), pool);
  EXPECT_TRUE(report.ok()) << report.status().ToString();
  std::map<std::string, double> values;
  if (!report.ok()) return values;
  std::printf("%s", FormatExperimentTable(*report).c_str());
  EXPECT_EQ(report->protocol, "content");
  for (const ModelReport& model : report->models)
    values[model.model] = model.result.metrics.at(metric);
  return values;
}

TEST(ContentIntegrationTest, Cal500ProtocolCounts) {
  const data::Dataset dataset = Load("cal500");
  ASSERT_EQ(dataset.catalog.size(), 502u);
  ASSERT_EQ(dataset.catalog.feature_dim(), 68u);
  ASSERT_EQ(dataset.item_tags.tag_names.size(), 174u);
  CheckProtocolCounts(dataset, 351, 75, 76);  // round(0.70 * 502), round(0.15 * 502), the rest
}

TEST(ContentIntegrationTest, EmotionsProtocolCounts) {
  const data::Dataset dataset = Load("emotions");
  ASSERT_EQ(dataset.catalog.size(), 593u);
  ASSERT_EQ(dataset.catalog.feature_dim(), 72u);
  ASSERT_EQ(dataset.item_tags.tag_names.size(), 6u);
  CheckProtocolCounts(dataset, 415, 89, 89);  // round(0.70 * 593), round(0.15 * 593), the rest
}

// Pop and ItemKNN give unseen songs no score (the cold-start failure: every target ranks below
// the 150+ known songs, so their top-20 lists hold no target); the content models must rank
// them. CAL500 numbers are small under full-catalogue candidates (docs/CONTENT.md: at seed 42
// featknn NDCG@10 0.075, content recall@20 0.048), so the margins are about half of them.
TEST(ContentIntegrationTest, Cal500ContentBeatsPopularity) {
  const data::Dataset dataset = Load("cal500");
  std::map<std::string, double> recall = RunAll(dataset, "recall@20");
  ASSERT_EQ(recall.size(), 4u);
  EXPECT_EQ(recall["pop"], 0.0);
  EXPECT_EQ(recall["itemknn"], 0.0);
  EXPECT_GT(recall["featknn"], recall["pop"] + 0.02);
  EXPECT_GT(recall["content"], recall["pop"] + 0.02);
}

TEST(ContentIntegrationTest, EmotionsContentBeatsPopularity) {
  std::map<std::string, double> ndcg = RunAll(Load("emotions"), "ndcg@10");
  ASSERT_EQ(ndcg.size(), 4u);
  EXPECT_EQ(ndcg["pop"], 0.0);
  EXPECT_EQ(ndcg["itemknn"], 0.0);
  EXPECT_GT(ndcg["content"], ndcg["pop"] + 0.1);
}

}  // namespace
}  // namespace melodai::rec
