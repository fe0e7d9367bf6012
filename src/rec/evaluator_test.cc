// MelodAI — licensed under the Apache License 2.0.
// Unit tests of Evaluate(): hand-checked metric values on a six-item catalogue with a fixed
// scorer, history exclusion, query construction, validation errors, RMSE gating, max_queries,
// progress reports and bit-identical results for 1, 2 and 3 threads.
#include "rec/evaluator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/rng.h"
#include "rec/metrics.h"

namespace melodai::rec {
namespace {

using data::ItemId;

constexpr double kTolerance = 1e-12;

// Scores every item with a fixed vector whatever the query; predicts ratings[item] when
// ratings are given.
class FixedScoreModel : public Recommender {
 public:
  explicit FixedScoreModel(std::vector<float> scores, std::vector<float> ratings = {})
      : scores_(std::move(scores)), ratings_(std::move(ratings)) {}
  std::string_view name() const override { return "fixed"; }
  std::string DescribeParameters() const override { return "{}"; }
  core::Status Fit(const data::Catalog&, const data::Interactions&, core::ThreadPool&) override {
    return core::Status::Ok();
  }
  void Score(const Query& /*query*/, std::span<float> scores) const override {
    MELODAI_CHECK_EQ(scores.size(), scores_.size());
    std::copy(scores_.begin(), scores_.end(), scores.begin());
  }
  bool SupportsRating() const override { return !ratings_.empty(); }
  float PredictRating(const Query& /*query*/, ItemId item) const override { return ratings_[item]; }

 private:
  std::vector<float> scores_;
  std::vector<float> ratings_;
};

// A FixedScoreModel that also records every query it is asked to score.
class RecordingModel final : public FixedScoreModel {
 public:
  struct Recorded {
    data::QueryKind kind;
    std::vector<ItemId> history;
    std::vector<float> history_weights;
  };
  using FixedScoreModel::FixedScoreModel;
  void Score(const Query& query, std::span<float> scores) const override {
    FixedScoreModel::Score(query, scores);
    std::lock_guard lock(mutex_);
    recorded_.push_back({query.kind,
                         {query.history.begin(), query.history.end()},
                         {query.history_weights.begin(), query.history_weights.end()}});
  }
  std::vector<Recorded> recorded() const {
    std::lock_guard lock(mutex_);
    return recorded_;
  }

 private:
  mutable std::mutex mutex_;
  mutable std::vector<Recorded> recorded_;
};

uint64_t HistoryHash(const Query& query) {
  uint64_t state = query.history.size();
  for (const ItemId item : query.history) state = state * 1000003 + item;
  return core::SplitMix64(state);
}

// Scores that depend on the whole history, drawn from 16 levels so that ties are common;
// deterministic and thread-safe. Predicts a rating derived from the same hash.
class HistoryHashModel final : public Recommender {
 public:
  std::string_view name() const override { return "hash"; }
  std::string DescribeParameters() const override { return "{}"; }
  core::Status Fit(const data::Catalog&, const data::Interactions&, core::ThreadPool&) override {
    return core::Status::Ok();
  }
  void Score(const Query& query, std::span<float> scores) const override {
    uint64_t state = HistoryHash(query);
    for (float& score : scores) score = static_cast<float>(core::SplitMix64(state) >> 60);
  }
  bool SupportsRating() const override { return true; }
  float PredictRating(const Query& query, ItemId item) const override {
    return static_cast<float>((HistoryHash(query) + item) % 100) / 20.0f;
  }
};

// Six items; artists A, A, B, B, C, C.
data::Catalog SixItemCatalog() {
  data::Catalog catalog;
  const char* artists[] = {"A", "A", "B", "B", "C", "C"};
  for (int i = 0; i < 6; ++i) {
    catalog.AddItem("uri:" + std::to_string(i), "track " + std::to_string(i), artists[i]);
  }
  return catalog;
}

// Item 0 ranks first, then 1, ..., 5 last.
const std::vector<float> kDescending = {0.6f, 0.5f, 0.4f, 0.3f, 0.2f, 0.1f};

// Three sequences: item 0 is in all three, items 1 and 2 in one each, 3..5 in none.
data::Interactions SmallTrain() {
  data::Interactions train;
  for (const std::vector<ItemId>& items :
       {std::vector<ItemId>{0, 1}, std::vector<ItemId>{0, 2}, std::vector<ItemId>{0}}) {
    train.Append(items, {}, {}, 0, "");
  }
  return train;
}

// Query 0: history [0, 3], targets {2, 5}. Query 1: history [1], target {4}.
// Weights (when `weighted`): s0 = [1, 1, 3, 0], s1 = [2, 1].
data::QuerySet TwoQueries(bool weighted) {
  data::QuerySet set;
  set.kind = data::QueryKind::kSetCompletion;
  set.sequences = data::Interactions(false, weighted);
  const std::vector<float> w0 = {1, 1, 3, 0}, w1 = {2, 1};
  set.sequences.Append(std::vector<ItemId>{0, 3, 2, 5}, {}, weighted ? w0 : std::vector<float>{},
                       10, "first");
  set.sequences.Append(std::vector<ItemId>{1, 4}, {}, weighted ? w1 : std::vector<float>{}, 11,
                       "second");
  set.queries = {{0, 2, 2, 4}, {1, 1, 1, 2}};
  return set;
}

EvalOptions SmallOptions() {
  EvalOptions options;
  options.k = 2;
  options.k_large = 3;
  return options;
}

core::Result<EvalResult> EvaluateSmall(const Recommender& model, const data::QuerySet& queries,
                                       const EvalOptions& options, size_t threads = 1) {
  const data::Catalog catalog = SixItemCatalog();
  core::ThreadPool pool(threads);
  return Evaluate(model, catalog, SmallTrain(), queries, options, pool);
}

TEST(EvaluateTest, HandComputedMetricsWithHistoryExclusion) {
  // Query 0 excludes {0, 3}: top-3 [1, 2, 4], targets {2, 5}. Query 1 excludes {1}: top-3
  // [0, 2, 3], target {4}. Per query (q0, q1) and mean:
  //   precision@2: [1,2] has 2 -> 1/2; [0,2] -> 0; mean 0.25. recall@2 and recall@3: 1/2, 0.
  //   ndcg@2: q0 DCG = 1/log2(3), IDCG = 1 + 1/log2(3) -> 0.386853; q1 0; mean 0.193426.
  //   map@2: q0 hit at rank 2 (precision 1/2) / min(2, 2) = 0.25; q1 0; mean 0.125.
  //   mrr (full, conservative): q0 best target 2 (0.4) behind 1 only -> 1/2; q1 target 4 (0.2)
  //   behind 0, 2, 3 -> 1/4; mean 0.375. mrr@3: 1/2, 0 -> 0.25.
  //   r_precision: q0 top-2 [1,2] -> 1/2; q1 top-1 [0] -> 0; mean 0.25.
  //   diversity@2: [1,2] = A,B -> 1; [0,2] = A,B -> 1.
  //   novelty@2 (counts 3,1,1 of 3 sequences): q0 items 1, 2 have p = 2/4 -> 1 bit each -> 1;
  //   q1 item 0 has p = 4/4 -> 0 bits, item 2 -> 1 bit -> 0.5; mean 0.75.
  //   coverage@2: {1,2} u {0,2} = 3 of 6 items -> 0.5.
  //   artist_gini@2: exposure items 0:1, 1:1, 2:2 -> artists A = 2, B = 2, C = 0 -> [0,2,2]:
  //   (0 + 0 + 2 * 2) / (3 * 4) = 1/3.
  const FixedScoreModel model(kDescending);
  const auto result = EvaluateSmall(model, TwoQueries(false), SmallOptions());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const std::map<std::string, double>& m = result->metrics;
  std::set<std::string> names;
  for (const auto& [name, value] : m) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"map@2", "ndcg@2", "precision@2", "recall@2", "recall@3",
                                          "mrr", "mrr@3", "r_precision", "coverage@2",
                                          "diversity@2", "novelty@2", "artist_gini@2"}));
  EXPECT_NEAR(m.at("precision@2"), 0.25, kTolerance);
  EXPECT_NEAR(m.at("recall@2"), 0.25, kTolerance);
  EXPECT_NEAR(m.at("recall@3"), 0.25, kTolerance);
  EXPECT_NEAR(m.at("ndcg@2"), 0.19342640361727081, kTolerance);
  EXPECT_NEAR(m.at("map@2"), 0.125, kTolerance);
  EXPECT_NEAR(m.at("mrr"), 0.375, kTolerance);
  EXPECT_NEAR(m.at("mrr@3"), 0.25, kTolerance);
  EXPECT_NEAR(m.at("r_precision"), 0.25, kTolerance);
  EXPECT_NEAR(m.at("diversity@2"), 1.0, kTolerance);
  EXPECT_NEAR(m.at("novelty@2"), 0.75, kTolerance);
  EXPECT_NEAR(m.at("coverage@2"), 0.5, kTolerance);
  EXPECT_NEAR(m.at("artist_gini@2"), 1.0 / 3.0, kTolerance);
  EXPECT_EQ(result->query_count, 2u);
  EXPECT_EQ(result->available_query_count, 2u);
  EXPECT_EQ(result->target_count, 3u);
  EXPECT_GE(result->seconds, 0.0);
}

TEST(EvaluateTest, WithoutHistoryExclusionHistoryItemsCompete) {
  // Nothing excluded: both top lists are [0, 1, 2].
  //   precision@2: [0,1] holds no target in either query -> 0.
  //   recall@3: q0 finds 2 of {2,5} -> 1/2; q1 0; mean 0.25.
  //   mrr: q0 target 2 (0.4) behind 0, 1 -> 1/3; q1 target 4 (0.2) behind 0..3 -> 1/5;
  //   mean (1/3 + 1/5) / 2 = 4/15.
  //   coverage@2: {0, 1} of 6 -> 1/3.
  EvalOptions options = SmallOptions();
  options.exclude_history = false;
  const FixedScoreModel model(kDescending);
  const auto result = EvaluateSmall(model, TwoQueries(false), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->metrics.at("precision@2"), 0.0);
  EXPECT_NEAR(result->metrics.at("recall@3"), 0.25, kTolerance);
  EXPECT_NEAR(result->metrics.at("mrr"), 4.0 / 15.0, kTolerance);
  EXPECT_NEAR(result->metrics.at("coverage@2"), 1.0 / 3.0, kTolerance);
}

TEST(EvaluateTest, HistoryItemThatIsATargetStaysRankable) {
  // Sequence [2, 1, 2]: history [2, 1], target {2} (a repeated track). Only item 1 is
  // excluded, so the top-2 list is [0, 2]: precision@2 = 1/2, recall@2 = 1, mrr = 1/2.
  data::QuerySet set;
  set.sequences.Append(std::vector<ItemId>{2, 1, 2}, {}, {}, 0, "");
  set.queries = {{0, 2, 2, 3}};
  const FixedScoreModel model(kDescending);
  const auto result = EvaluateSmall(model, set, SmallOptions());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_NEAR(result->metrics.at("precision@2"), 0.5, kTolerance);
  EXPECT_NEAR(result->metrics.at("recall@2"), 1.0, kTolerance);
  EXPECT_NEAR(result->metrics.at("mrr"), 0.5, kTolerance);
}

TEST(EvaluateTest, DuplicateTargetsCountOnce) {
  // Targets [4, 4, 2] form the set {2, 4}: top-2 after excluding {0} is [1, 2]: recall@2 =
  // 1/2 (not 1/3), and target_count is 2.
  data::QuerySet set;
  set.sequences.Append(std::vector<ItemId>{0, 4, 4, 2}, {}, {}, 0, "");
  set.queries = {{0, 1, 1, 4}};
  const FixedScoreModel model(kDescending);
  const auto result = EvaluateSmall(model, set, SmallOptions());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_NEAR(result->metrics.at("recall@2"), 0.5, kTolerance);
  EXPECT_EQ(result->target_count, 2u);
}

TEST(EvaluateTest, PassesKindHistoryAndWeightsToTheModel) {
  const RecordingModel model(kDescending);
  const auto result = EvaluateSmall(model, TwoQueries(true), SmallOptions());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const std::vector<RecordingModel::Recorded> recorded = model.recorded();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].kind, data::QueryKind::kSetCompletion);
  EXPECT_EQ(recorded[0].history, (std::vector<ItemId>{0, 3}));
  EXPECT_EQ(recorded[0].history_weights, (std::vector<float>{1, 1}));
  EXPECT_EQ(recorded[1].history, (std::vector<ItemId>{1}));
  EXPECT_EQ(recorded[1].history_weights, (std::vector<float>{2}));
  // Without weights in the data the model sees none.
  const RecordingModel unweighted(kDescending);
  ASSERT_TRUE(EvaluateSmall(unweighted, TwoQueries(false), SmallOptions()).ok());
  EXPECT_TRUE(unweighted.recorded()[0].history_weights.empty());
}

TEST(EvaluateTest, RmseOnlyForRatingModelsWithWeightedTargets) {
  // Targets: q0 items 2 (weight 3) and 5 (weight 0), q1 item 4 (weight 1). Predictions
  // 1.0, 0.5, 0.7 against log(4) = 1.386294, log(1) = 0, log(2) = 0.693147: errors -0.386294,
  // 0.5, 0.006853 -> sqrt((0.149223 + 0.25 + 0.000047) / 3) = 0.364815.
  const std::vector<float> ratings = {0, 0, 1.0f, 0, 0.7f, 0.5f};
  const FixedScoreModel rating_model(kDescending, ratings);
  const auto weighted = EvaluateSmall(rating_model, TwoQueries(true), SmallOptions());
  ASSERT_TRUE(weighted.ok()) << weighted.status().ToString();
  ASSERT_EQ(weighted->metrics.count("rmse"), 1u);
  EXPECT_NEAR(weighted->metrics.at("rmse"), 0.3648151561943402, 1e-6);
  const double expected = Rmse(std::vector<double>{1.0f, 0.5f, 0.7f},
                               std::vector<double>{std::log(4.0), 0.0, std::log(2.0)});
  EXPECT_NEAR(weighted->metrics.at("rmse"), expected, kTolerance);

  const auto unweighted = EvaluateSmall(rating_model, TwoQueries(false), SmallOptions());
  ASSERT_TRUE(unweighted.ok());
  EXPECT_EQ(unweighted->metrics.count("rmse"), 0u);
  const FixedScoreModel ranking_only(kDescending);
  const auto no_rating = EvaluateSmall(ranking_only, TwoQueries(true), SmallOptions());
  ASSERT_TRUE(no_rating.ok());
  EXPECT_EQ(no_rating->metrics.count("rmse"), 0u);
}

TEST(EvaluateTest, RejectsTargetWeightsWithoutLogarithm) {
  const FixedScoreModel rating_model(kDescending, std::vector<float>(6, 1.0f));
  data::QuerySet set;
  set.sequences = data::Interactions(false, true);
  // A history weight of -2 is not a target and is fine; a target weight of -1 is not.
  set.sequences.Append(std::vector<ItemId>{0, 1}, {}, std::vector<float>{-2, 1}, 0, "");
  set.sequences.Append(std::vector<ItemId>{0, 1}, {}, std::vector<float>{1, -1}, 0, "");
  set.queries = {{0, 1, 1, 2}};
  EXPECT_TRUE(EvaluateSmall(rating_model, set, SmallOptions()).ok());
  set.queries.push_back({1, 1, 1, 2});
  const auto result = EvaluateSmall(rating_model, set, SmallOptions());
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("query 1"), std::string::npos);
}

TEST(EvaluateTest, MaxQueriesEvaluatesAPrefix) {
  // Only query 0: precision@2 = 1/2, mrr = 1/2, two targets.
  EvalOptions options = SmallOptions();
  options.max_queries = 1;
  const FixedScoreModel model(kDescending);
  const auto result = EvaluateSmall(model, TwoQueries(false), options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->query_count, 1u);
  EXPECT_EQ(result->available_query_count, 2u);
  EXPECT_EQ(result->target_count, 2u);
  EXPECT_NEAR(result->metrics.at("precision@2"), 0.5, kTolerance);
  EXPECT_NEAR(result->metrics.at("mrr"), 0.5, kTolerance);
  options.max_queries = 10;
  const auto all = EvaluateSmall(model, TwoQueries(false), options);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->query_count, 2u);
}

// Expects kInvalidArgument whose message contains `fragment`.
void ExpectInvalid(const data::QuerySet& set, const std::string& fragment,
                   const EvalOptions& options = SmallOptions()) {
  const FixedScoreModel model(kDescending);
  const auto result = EvaluateSmall(model, set, options);
  ASSERT_FALSE(result.ok()) << "expected an error mentioning " << fragment;
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find(fragment), std::string::npos)
      << result.status().message();
}

TEST(EvaluateTest, RejectsBadQueriesNamingTheQuery) {
  data::QuerySet set = TwoQueries(false);
  set.queries[1].sequence = 7;  // Only two sequences.
  ExpectInvalid(set, "query 1");
  set = TwoQueries(false);
  set.queries[0].target_end = 5;  // Sequence 0 has 4 items.
  ExpectInvalid(set, "query 0");
  set = TwoQueries(false);
  set.queries[1].history_end = 2;  // History overlaps the target.
  ExpectInvalid(set, "query 1");
  set = TwoQueries(false);
  set.queries[0].target_begin = 4;  // No targets.
  set.queries[0].history_end = 4;
  ExpectInvalid(set, "query 0");
  // A bad query beyond max_queries is still reported.
  set = TwoQueries(false);
  set.queries[1].target_end = 3;
  EvalOptions options = SmallOptions();
  options.max_queries = 1;
  ExpectInvalid(set, "query 1", options);
}

TEST(EvaluateTest, RejectsItemsOutsideTheCatalogueAndEmptyInput) {
  data::QuerySet set = TwoQueries(false);
  set.sequences.Append(std::vector<ItemId>{1, 9}, {}, {}, 12, "");  // Catalogue has 6 items.
  set.queries.push_back({2, 1, 1, 2});
  ExpectInvalid(set, "item 9");
  set = TwoQueries(false);
  set.queries.clear();
  ExpectInvalid(set, "empty");
  EvalOptions options = SmallOptions();
  options.k = 0;
  ExpectInvalid(TwoQueries(false), "k must", options);
  options = SmallOptions();
  options.k_large = 0;
  ExpectInvalid(TwoQueries(false), "k_large", options);

  data::Interactions bad_train;
  bad_train.Append(std::vector<ItemId>{0, 6}, {}, {}, 0, "");
  const data::Catalog catalog = SixItemCatalog();
  core::ThreadPool pool(1);
  const FixedScoreModel model(kDescending);
  const auto result = Evaluate(model, catalog, bad_train, TwoQueries(false), SmallOptions(), pool);
  EXPECT_EQ(result.status().code(), core::StatusCode::kInvalidArgument);
}

// A larger random world for the determinism and progress tests: 300 items by 17 artists,
// 60 training playlists and next-item queries over 100 weighted test sequences (~1,600).
struct RandomWorld {
  data::Catalog catalog;
  data::Interactions train;
  data::QuerySet queries;
};

RandomWorld MakeRandomWorld(uint64_t seed) {
  RandomWorld world;
  core::Rng rng(seed);
  constexpr size_t kItems = 300;
  for (size_t i = 0; i < kItems; ++i) {
    world.catalog.AddItem("uri:" + std::to_string(i), "", "artist " + std::to_string(i % 17));
  }
  auto random_items = [&](size_t length) {
    std::vector<ItemId> items(length);
    for (ItemId& item : items) item = static_cast<ItemId>(rng.Uniform(kItems));
    return items;
  };
  for (int s = 0; s < 60; ++s) world.train.Append(random_items(2 + rng.Uniform(20)), {}, {}, s, "");
  world.queries.kind = data::QueryKind::kNextItem;
  world.queries.sequences = data::Interactions(false, true);
  for (uint32_t s = 0; s < 100; ++s) {
    const std::vector<ItemId> items = random_items(3 + rng.Uniform(30));
    std::vector<float> weights(items.size());
    for (float& weight : weights) weight = static_cast<float>(rng.Uniform(50));
    world.queries.sequences.Append(items, {}, weights, s, "");
    for (uint32_t t = 1; t < items.size(); ++t) world.queries.queries.push_back({s, t, t, t + 1});
  }
  return world;
}

// Goal: the metrics do not depend on the number of threads, to the last bit. Method: the same
// random world and a history-dependent, tie-heavy model evaluated with 1, 2 and 3 threads.
TEST(EvaluateTest, IdenticalResultsForOneTwoAndThreeThreads) {
  const RandomWorld world = MakeRandomWorld(99);
  const HistoryHashModel model;
  EvalOptions options;
  std::vector<EvalResult> results;
  for (const size_t threads : {size_t{1}, size_t{2}, size_t{3}}) {
    core::ThreadPool pool(threads);
    auto result = Evaluate(model, world.catalog, world.train, world.queries, options, pool);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    results.push_back(std::move(result).value());
  }
  EXPECT_GT(results[0].query_count, 1000u);
  EXPECT_EQ(results[0].metrics.count("rmse"), 1u);
  EXPECT_GT(results[0].metrics.at("mrr"), 0.0);
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_EQ(results[i].metrics, results[0].metrics) << "thread count index " << i;
    EXPECT_EQ(results[i].target_count, results[0].target_count);
  }
}

TEST(EvaluateTest, ProgressRunsOnTheCallingThreadAndEndsWithTotal) {
  const RandomWorld world = MakeRandomWorld(5);
  const HistoryHashModel model;
  std::mutex mutex;  // Guards against a wrong implementation; never contended when correct.
  std::vector<std::pair<size_t, size_t>> calls;
  std::vector<std::thread::id> callers;
  EvalOptions options;
  options.progress = [&](size_t done, size_t total) {
    std::lock_guard lock(mutex);
    calls.emplace_back(done, total);
    callers.push_back(std::this_thread::get_id());
  };
  core::ThreadPool pool(3);
  const auto result = Evaluate(model, world.catalog, world.train, world.queries, options, pool);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const size_t total = result->query_count;
  ASSERT_GE(calls.size(), 1u);
  EXPECT_LE(calls.size(), 52u);  // About every 2%, plus the final call.
  EXPECT_EQ(calls.back(), std::make_pair(total, total));
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(callers[i], std::this_thread::get_id());
    EXPECT_EQ(calls[i].second, total);
    if (i > 0) {
      EXPECT_LE(calls[i - 1].first, calls[i].first);
    }
  }
}

}  // namespace
}  // namespace melodai::rec
