// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the classical baselines (pop, itemknn, userknn, als, bpr) and the model
// factory on tiny hand-made data: two disjoint item clusters, hand-computed similarities and
// ratings, determinism across fits, thread counts and concurrent Score calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/als.h"
#include "rec/bpr.h"
#include "rec/item_knn.h"
#include "rec/model_factory.h"
#include "rec/popularity.h"
#include "rec/user_knn.h"

namespace melodai::rec {
namespace {

using data::ItemId;

data::Catalog MakeCatalog(size_t size) {
  data::Catalog catalog;
  for (size_t i = 0; i < size; ++i) {
    catalog.AddItem("item:" + std::to_string(i), "Item " + std::to_string(i),
                    "Artist " + std::to_string(i % 3));
  }
  return catalog;
}

data::Interactions MakeSequences(const std::vector<std::vector<ItemId>>& sequences) {
  data::Interactions out;
  int64_t id = 0;
  for (const auto& items : sequences) out.Append(items, {}, {}, id++, "");
  return out;
}

// Weights are given as ratings r and stored as e^r - 1, so that log(1 + weight) == r.
data::Interactions MakeRated(const std::vector<std::vector<std::pair<ItemId, float>>>& sequences) {
  data::Interactions out(/*has_timestamps=*/false, /*has_weights=*/true);
  int64_t id = 0;
  for (const auto& events : sequences) {
    std::vector<ItemId> items;
    std::vector<float> weights;
    for (const auto& [item, rating] : events) {
      items.push_back(item);
      weights.push_back(std::expm1(rating));
    }
    out.Append(items, {}, weights, id++, "");
  }
  return out;
}

// Cluster A = items 0..4, cluster B = items 5..9; no sequence mixes them. Item 10 is in the
// catalogue but never in training; item 11 likewise.
constexpr size_t kCatalogSize = 12;
constexpr ItemId kUnseenItem = 10;

data::Interactions TwoClusters() {
  return MakeSequences({{0, 1, 2, 3},
                        {1, 2, 3, 4},
                        {0, 2, 4, 1},
                        {0, 1, 3, 4},
                        {2, 3, 4, 0},
                        {5, 6, 7, 8},
                        {6, 7, 8, 9},
                        {5, 7, 9, 6},
                        {5, 6, 8, 9},
                        {7, 8, 9, 5},
                        {0, 3, 1},
                        {9, 6, 8}});
}

bool InClusterA(ItemId item) { return item <= 4; }
bool InClusterB(ItemId item) { return item >= 5 && item <= 9; }

std::vector<float> ScoreOf(const Recommender& model, data::QueryKind kind,
                           const std::vector<ItemId>& history) {
  std::vector<float> scores(kCatalogSize, std::nanf(""));
  Query query;
  query.kind = kind;
  query.history = history;
  model.Score(query, scores);
  return scores;
}

// Every entry written and finite; unseen items strictly below every training item.
void ExpectWellFormed(const std::vector<float>& scores) {
  for (size_t i = 0; i < scores.size(); ++i) EXPECT_TRUE(std::isfinite(scores[i])) << "item " << i;
  float lowest_known = scores[0];
  for (ItemId i = 0; i <= 9; ++i) lowest_known = std::min(lowest_known, scores[i]);
  EXPECT_LT(scores[kUnseenItem], lowest_known);
  EXPECT_LT(scores[11], lowest_known);
}

// After a cluster-A history, every other cluster-A item outranks every cluster-B item.
void ExpectClusterARanksFirst(const std::vector<float>& scores,
                              const std::vector<ItemId>& history) {
  float worst_a = std::numeric_limits<float>::max();
  float best_b = std::numeric_limits<float>::lowest();
  for (ItemId i = 0; i < kCatalogSize; ++i) {
    if (std::find(history.begin(), history.end(), i) != history.end()) continue;
    if (InClusterA(i)) worst_a = std::min(worst_a, scores[i]);
    if (InClusterB(i)) best_b = std::max(best_b, scores[i]);
  }
  EXPECT_GT(worst_a, best_b);
}

using Factory = std::function<std::unique_ptr<Recommender>()>;

struct NamedFactory {
  std::string name;
  Factory make;
};

std::vector<NamedFactory> AllModels() {
  return {
      {"pop", [] { return std::unique_ptr<Recommender>(MostPopular::Create({}).value()); }},
      {"itemknn", [] { return std::unique_ptr<Recommender>(ItemKnn::Create({}).value()); }},
      {"userknn", [] { return std::unique_ptr<Recommender>(UserKnn::Create({}).value()); }},
      {"als",
       [] {
         // Two clusters need two factors; many more would let the fold-in interpolate the 10
         // items and lose the cluster structure on data this small.
         AlsOptions options;
         options.factors = 2;
         return std::unique_ptr<Recommender>(Als::Create(options).value());
       }},
      {"bpr",
       [] {
         BprOptions options;
         options.factors = 8;
         options.epochs = 200;
         return std::unique_ptr<Recommender>(Bpr::Create(options).value());
       }},
  };
}

TEST(BaselinesTest, EveryModelFitsAndWritesFiniteScores) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool pool(2);
  for (const NamedFactory& factory : AllModels()) {
    SCOPED_TRACE(factory.name);
    std::unique_ptr<Recommender> model = factory.make();
    EXPECT_EQ(model->name(), factory.name);
    ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
    for (data::QueryKind kind : {data::QueryKind::kNextItem, data::QueryKind::kSetCompletion}) {
      ExpectWellFormed(ScoreOf(*model, kind, {0, 1}));
      ExpectWellFormed(ScoreOf(*model, kind, {}));
      ExpectWellFormed(ScoreOf(*model, kind, {kUnseenItem}));
    }
    const std::string json = model->DescribeParameters();
    EXPECT_EQ(json.front(), '{');
    EXPECT_EQ(json.back(), '}');
    EXPECT_FALSE(model->SupportsRating());  // no weights in this data
  }
}

TEST(BaselinesTest, PersonalisedModelsRankTheHistoryClusterFirst) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool pool(2);
  for (const NamedFactory& factory : AllModels()) {
    if (factory.name == "pop") continue;
    SCOPED_TRACE(factory.name);
    std::unique_ptr<Recommender> model = factory.make();
    ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
    ExpectClusterARanksFirst(ScoreOf(*model, data::QueryKind::kSetCompletion, {0, 1}), {0, 1});
    ExpectClusterARanksFirst(ScoreOf(*model, data::QueryKind::kNextItem, {3, 2}), {3, 2});
  }
}

TEST(BaselinesTest, SameSeedGivesIdenticalScoresAndThreadCountDoesNotMatter) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool one(1), two(2);
  for (const NamedFactory& factory : AllModels()) {
    SCOPED_TRACE(factory.name);
    std::unique_ptr<Recommender> first = factory.make();
    std::unique_ptr<Recommender> second = factory.make();
    ASSERT_TRUE(first->Fit(catalog, train, one).ok());
    ASSERT_TRUE(second->Fit(catalog, train, two).ok());
    for (const std::vector<ItemId>& history : {std::vector<ItemId>{0, 1}, {5, 9, 7}, {3}, {0, 6}}) {
      EXPECT_EQ(ScoreOf(*first, data::QueryKind::kSetCompletion, history),
                ScoreOf(*second, data::QueryKind::kSetCompletion, history));
      EXPECT_EQ(ScoreOf(*first, data::QueryKind::kNextItem, history),
                ScoreOf(*second, data::QueryKind::kNextItem, history));
    }
  }
}

TEST(BaselinesTest, ConcurrentScoreCallsMatchSerialOnes) {
  // Goal: Score is thread-safe and pure (per-thread scratch, query-seeded fold-in). Method:
  // two threads score many queries each; every result must equal the serial result.
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool pool(2);
  std::vector<std::vector<ItemId>> histories;
  for (ItemId a = 0; a < 10; ++a) {
    for (ItemId b = 0; b < 10; ++b) histories.push_back({a, b, static_cast<ItemId>((a + b) % 10)});
  }
  for (const NamedFactory& factory : AllModels()) {
    SCOPED_TRACE(factory.name);
    std::unique_ptr<Recommender> model = factory.make();
    ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
    std::vector<std::vector<float>> serial;
    for (const auto& history : histories) {
      serial.push_back(ScoreOf(*model, data::QueryKind::kSetCompletion, history));
    }
    std::vector<std::vector<float>> parallel(histories.size());
    auto work = [&](size_t parity) {
      for (size_t q = parity; q < histories.size(); q += 2) {
        parallel[q] = ScoreOf(*model, data::QueryKind::kSetCompletion, histories[q]);
      }
    };
    std::thread other(work, 1);
    work(0);
    other.join();
    EXPECT_EQ(serial, parallel);
  }
}

TEST(BaselinesTest, InvalidTrainingDataIsRejected) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  core::ThreadPool pool(1);
  const data::Interactions empty;
  const data::Interactions only_empty_sequences = MakeSequences({{}, {}});
  const data::Interactions outside = MakeSequences({{0, 1}, {2, 99}});
  data::Interactions negative(false, true);
  const std::vector<ItemId> items = {0, 1};
  const std::vector<float> weights = {1.0f, -2.0f};
  negative.Append(items, {}, weights, 0, "");
  for (const NamedFactory& factory : AllModels()) {
    SCOPED_TRACE(factory.name);
    const std::vector<const data::Interactions*> trains = {&empty, &only_empty_sequences, &outside,
                                                           &negative};
    for (const data::Interactions* train : trains) {
      const core::Status status = factory.make()->Fit(catalog, *train, pool);
      EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument) << status.ToString();
    }
  }
}

TEST(MostPopularTest, ScoresBySequenceSupportCountingRepeatsOnce) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  // Supports: item 2 -> 3 sequences, item 0 -> 2 (its repeats count once), item 1 -> 1.
  const data::Interactions train = MakeSequences({{0, 0, 0, 2}, {2, 1}, {2, 0}});
  core::ThreadPool pool(1);
  std::unique_ptr<MostPopular> model = MostPopular::Create({}).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  const std::vector<float> scores = ScoreOf(*model, data::QueryKind::kSetCompletion, {5});
  EXPECT_EQ(scores[2], 3.0f);
  EXPECT_EQ(scores[0], 2.0f);
  EXPECT_EQ(scores[1], 1.0f);
  EXPECT_EQ(scores[3], kUnseenItemScore);
  EXPECT_EQ(model->Support(0), 2u);
}

TEST(MostPopularTest, RatingPredictionMatchesHandComputation) {
  // Ratings r = log(1 + w): sequence 0 = {item 0: 1, item 1: 3}, sequence 1 = {0: 3, 2: 1}.
  // mu = (1 + 3 + 3 + 1) / 4 = 2. Shrinkage 1 for items and users.
  // Round 1 (user biases 0): b_0 = ((1-2) + (3-2)) / (2+1) = 0, b_1 = (3-2) / (1+1) = 0.5,
  //   b_2 = (1-2) / (1+1) = -0.5. Train users: b_s0 = ((1-2-0) + (3-2-0.5)) / 3 = -1/6,
  //   b_s1 = ((3-2-0) + (1-2+0.5)) / 3 = 1/6.
  // Query history {item 1: r = 2}: b_u = (2 - 2 - 0.5) / (1 + 1) = -0.25, so
  //   r_hat(2) = 2 - 0.5 - 0.25 = 1.25 and r_hat(0) = 2 + 0 - 0.25 = 1.75.
  // Round 2 (user biases -1/6, 1/6): b_1 = (3 - 2 + 1/6) / 2 = 7/12, b_0 = 0.
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = MakeRated({{{0, 1.0f}, {1, 3.0f}}, {{0, 3.0f}, {2, 1.0f}}});
  core::ThreadPool pool(1);
  MostPopularOptions options;
  options.baseline.item_shrinkage = 1.0;
  options.baseline.user_shrinkage = 1.0;
  options.baseline.iterations = 1;
  std::unique_ptr<MostPopular> model = MostPopular::Create(options).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  ASSERT_TRUE(model->SupportsRating());
  const std::vector<ItemId> history = {1};
  const std::vector<float> weights = {std::expm1(2.0f)};
  Query query;
  query.history = history;
  query.history_weights = weights;
  EXPECT_NEAR(model->PredictRating(query, 2), 1.25f, 1e-5);
  EXPECT_NEAR(model->PredictRating(query, 0), 1.75f, 1e-5);
  // An item absent from training has bias 0.
  EXPECT_NEAR(model->PredictRating(query, 7), 1.75f, 1e-5);

  BaselinePredictor refined(BaselineOptions{1.0, 1.0, 2});
  refined.Fit(train, kCatalogSize);
  EXPECT_NEAR(refined.global_mean(), 2.0f, 1e-6);
  EXPECT_NEAR(refined.ItemBias(1), 7.0f / 12.0f, 1e-5);
  EXPECT_NEAR(refined.ItemBias(0), 0.0f, 1e-6);
}

TEST(ItemKnnTest, SimilarityMatchesHandComputation) {
  // Sequences {0,1} {0,1,2} {0,2} {0,3} {1,1,2}: supp(0) = 4, supp(1) = 3 and supp(2) = 3 (the
  // repeat in the last sequence counts once), cooc(0,1) = 2, cooc(1,2) = 2 (not 3).
  // alpha = 0.75, lambda = 2:
  //   sim(0,1) = 2 / (4^0.75 * 3^0.25 + 2) = 2 / (2.828427 * 1.316074 + 2) = 2 / 5.722419
  //            = 0.349503
  //   sim(1,0) = 2 / (3^0.75 * 4^0.25 + 2) = 2 / (2.279507 * 1.414214 + 2) = 2 / 5.223710
  //            = 0.382870
  //   sim(1,2) = 2 / (3^0.75 * 3^0.25 + 2) = 2 / (3 + 2) = 0.4
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = MakeSequences({{0, 1}, {0, 1, 2}, {0, 2}, {0, 3}, {1, 1, 2}});
  core::ThreadPool pool(2);
  ItemKnnOptions options;
  options.alpha = 0.75;
  options.lambda = 2.0;
  std::unique_ptr<ItemKnn> model = ItemKnn::Create(options).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  EXPECT_NEAR(model->Similarity(0, 1), 0.349503f, 1e-5);
  EXPECT_NEAR(model->Similarity(1, 0), 0.382870f, 1e-5);
  EXPECT_NEAR(model->Similarity(1, 2), 0.4f, 1e-6);
  EXPECT_EQ(model->Similarity(3, 1), 0.0f);  // never together
  EXPECT_EQ(model->Similarity(0, 0), 0.0f);  // no self-similarity
  // Neighbour lists are sorted strongest first.
  const auto neighbours = model->Neighbours(0);
  ASSERT_EQ(neighbours.size(), 3u);
  for (size_t k = 1; k < neighbours.size(); ++k) {
    EXPECT_GE(neighbours[k - 1].similarity, neighbours[k].similarity);
  }
}

TEST(ItemKnnTest, NeighbourLimitAndNextItemDecay) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool pool(2);
  ItemKnnOptions options;
  options.neighbours = 2;
  std::unique_ptr<ItemKnn> limited = ItemKnn::Create(options).value();
  ASSERT_TRUE(limited->Fit(catalog, train, pool).ok());
  for (ItemId i = 0; i <= 9; ++i) EXPECT_EQ(limited->Neighbours(i).size(), 2u);

  // Next-item with decay 0 uses only the last item: history {8, 2} scores like {2}.
  ItemKnnOptions last_only;
  last_only.history_decay = 0.0;
  std::unique_ptr<ItemKnn> plain = ItemKnn::Create(last_only).value();
  ASSERT_TRUE(plain->Fit(catalog, train, pool).ok());
  EXPECT_EQ(ScoreOf(*plain, data::QueryKind::kNextItem, {8, 2}),
            ScoreOf(*plain, data::QueryKind::kNextItem, {2}));
  // With decay 0.5 the earlier item adds half its similarities.
  options = ItemKnnOptions{};
  options.history_decay = 0.5;
  std::unique_ptr<ItemKnn> decayed = ItemKnn::Create(options).value();
  ASSERT_TRUE(decayed->Fit(catalog, train, pool).ok());
  const std::vector<float> scores = ScoreOf(*decayed, data::QueryKind::kNextItem, {8, 2});
  EXPECT_NEAR(scores[9], 0.5f * decayed->Similarity(8, 9), 1e-6);
  EXPECT_NEAR(scores[3], decayed->Similarity(2, 3), 1e-6);
  // Set completion sums all history items.
  const std::vector<float> set = ScoreOf(*plain, data::QueryKind::kSetCompletion, {0, 1});
  EXPECT_NEAR(set[2], plain->Similarity(0, 2) + plain->Similarity(1, 2), 1e-6);
}

TEST(ItemKnnTest, RatingIsBaselinePlusSimilarityWeightedResiduals) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = MakeRated({{{0, 1.0f}, {1, 2.0f}, {2, 0.5f}},
                                              {{0, 3.0f}, {1, 2.5f}},
                                              {{1, 1.0f}, {2, 2.0f}},
                                              {{0, 2.0f}, {2, 1.5f}, {3, 4.0f}}});
  core::ThreadPool pool(1);
  ItemKnnOptions options;
  options.lambda = 1.0;
  options.rating_shrinkage = 0.5;
  std::unique_ptr<ItemKnn> model = ItemKnn::Create(options).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  ASSERT_TRUE(model->SupportsRating());
  BaselinePredictor baseline(options.baseline);
  baseline.Fit(train, kCatalogSize);

  const std::vector<ItemId> history = {0, 1};
  const std::vector<float> weights = {std::expm1(2.0f), std::expm1(1.0f)};
  Query query;
  query.history = history;
  query.history_weights = weights;
  const float user_bias = baseline.UserBias(history, weights);
  const double residual_0 = 2.0 - baseline.Predict(0, user_bias);
  const double residual_1 = 1.0 - baseline.Predict(1, user_bias);
  const double s0 = model->Similarity(2, 0), s1 = model->Similarity(2, 1);
  ASSERT_GT(s0, 0.0);
  ASSERT_GT(s1, 0.0);
  const double expected =
      baseline.Predict(2, user_bias) + (s0 * residual_0 + s1 * residual_1) / (s0 + s1 + 0.5);
  EXPECT_NEAR(model->PredictRating(query, 2), expected, 1e-5);
  // No neighbour in the history: the baseline.
  EXPECT_NEAR(model->PredictRating(query, 9), baseline.Predict(9, user_bias), 1e-6);
}

TEST(UserKnnTest, CosineNeighboursAndVotes) {
  // Query {0,1,2}: sequence 0 = {0,1,2,3} shares 3 items, cosine 3 / sqrt(3 * 4) = 0.866025;
  // sequence 10 = {0,3,1} shares 2, cosine 2 / sqrt(3 * 3) = 0.666667.
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool pool(1);
  UserKnnOptions options;
  options.neighbours = 3;
  std::unique_ptr<UserKnn> model = UserKnn::Create(options).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  const std::vector<ItemId> history = {0, 1, 2};
  const std::vector<SequenceNeighbour> neighbours = model->FindNeighbours(history);
  ASSERT_EQ(neighbours.size(), 3u);
  // Sequences 0 and 2 ({0,2,4,1}) both share 3 items of 4: ties go to the lower index.
  EXPECT_EQ(neighbours[0].sequence, 0u);
  EXPECT_NEAR(neighbours[0].similarity, 0.866025f, 1e-5);
  EXPECT_EQ(neighbours[1].sequence, 2u);
  EXPECT_NEAR(neighbours[2].similarity, 0.666667f, 1e-5);
  // Item 3 is in sequence 0 and 10 (not in sequence 2): 0.866025 + 0.666667.
  const std::vector<float> scores = ScoreOf(*model, data::QueryKind::kSetCompletion, history);
  EXPECT_NEAR(scores[3], 0.866025f + 0.666667f, 1e-5);
  EXPECT_NEAR(scores[4], 0.866025f, 1e-5);  // only in sequence 2
}

TEST(UserKnnTest, RatingFallsBackToBaselineWithoutVotes) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train =
      MakeRated({{{0, 1.0f}, {1, 2.0f}}, {{0, 3.0f}, {2, 2.5f}}, {{5, 1.0f}, {6, 2.0f}}});
  core::ThreadPool pool(1);
  std::unique_ptr<UserKnn> model = UserKnn::Create({}).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  ASSERT_TRUE(model->SupportsRating());
  BaselinePredictor baseline(UserKnnOptions{}.baseline);
  baseline.Fit(train, kCatalogSize);
  const std::vector<ItemId> history = {0};
  const std::vector<float> weights = {std::expm1(2.0f)};
  Query query;
  query.history = history;
  query.history_weights = weights;
  const float user_bias = baseline.UserBias(history, weights);
  // Item 6 only occurs in sequence 2, which shares nothing with the query.
  EXPECT_NEAR(model->PredictRating(query, 6), baseline.Predict(6, user_bias), 1e-6);
  // Item 2 occurs in one neighbour (sequence 1): the prediction moves towards its residual.
  const float with_vote = model->PredictRating(query, 2);
  EXPECT_TRUE(std::isfinite(with_vote));
  EXPECT_NE(with_vote, baseline.Predict(2, user_bias));
}

TEST(AlsTest, FoldInOfTrainingSequenceReproducesItsUserVector) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool pool(2);
  AlsOptions options;
  options.factors = 6;
  std::unique_ptr<Als> model = Als::Create(options).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  for (size_t s = 0; s < train.size(); ++s) {
    SCOPED_TRACE(s);
    const std::vector<float> folded = model->FoldIn(train.items(s), {});
    const std::span<const float> trained = model->UserFactors(s);
    ASSERT_EQ(folded.size(), trained.size());
    for (size_t k = 0; k < folded.size(); ++k) EXPECT_NEAR(folded[k], trained[k], 1e-4);
    // Same ranking of the catalogue items.
    std::vector<float> by_trained(10), by_folded(10);
    for (ItemId i = 0; i < 10; ++i) {
      const std::span<const float> y = model->ItemFactors(i);
      by_trained[i] = std::inner_product(y.begin(), y.end(), trained.begin(), 0.0f);
      by_folded[i] = std::inner_product(y.begin(), y.end(), folded.begin(), 0.0f);
    }
    std::vector<int> order_trained(10), order_folded(10);
    std::iota(order_trained.begin(), order_trained.end(), 0);
    std::iota(order_folded.begin(), order_folded.end(), 0);
    std::sort(order_trained.begin(), order_trained.end(),
              [&](int a, int b) { return by_trained[a] > by_trained[b]; });
    std::sort(order_folded.begin(), order_folded.end(),
              [&](int a, int b) { return by_folded[a] > by_folded[b]; });
    EXPECT_EQ(order_trained, order_folded);
  }
  EXPECT_TRUE(model->ItemFactors(kUnseenItem).empty());
}

TEST(AlsTest, ConfidenceParsingAndWeightedFit) {
  EXPECT_EQ(*ParseAlsConfidence("log"), AlsConfidence::kLogWeight);
  EXPECT_EQ(ParseAlsConfidence("squared").status().code(), core::StatusCode::kInvalidArgument);
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  // Sequence 0 plays item 1 a lot, item 2 once; the weighted model leans towards item 1.
  const data::Interactions train = MakeRated({{{0, 1.0f}, {1, 6.0f}, {2, 0.1f}},
                                              {{0, 1.0f}, {1, 1.0f}},
                                              {{0, 1.0f}, {2, 1.0f}},
                                              {{5, 1.0f}, {6, 1.0f}}});
  core::ThreadPool pool(1);
  AlsOptions options;
  options.factors = 4;
  options.confidence = AlsConfidence::kWeight;
  std::unique_ptr<Als> model = Als::Create(options).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  const std::vector<ItemId> history = {0};
  Query query;
  query.history = history;
  std::vector<float> scores(kCatalogSize);
  model->Score(query, scores);
  EXPECT_GT(scores[1], scores[6]);
  EXPECT_GT(scores[2], scores[6]);
}

TEST(BprTest, FoldInIsAPureFunctionOfTheHistorySet) {
  const data::Catalog catalog = MakeCatalog(kCatalogSize);
  const data::Interactions train = TwoClusters();
  core::ThreadPool pool(1);
  BprOptions options;
  options.factors = 8;
  options.epochs = 100;
  std::unique_ptr<Bpr> model = Bpr::Create(options).value();
  ASSERT_TRUE(model->Fit(catalog, train, pool).ok());
  const std::vector<float> a = model->FoldIn(std::vector<ItemId>{0, 1, 3});
  EXPECT_EQ(a, model->FoldIn(std::vector<ItemId>{3, 0, 1, 1}));
  EXPECT_NE(a, model->FoldIn(std::vector<ItemId>{0, 1}));
  // The fold-in of a cluster-A history is closer to cluster-A items than to cluster-B ones.
  auto dot = [&](ItemId item) {
    const std::span<const float> y = model->ItemFactors(item);
    return std::inner_product(y.begin(), y.end(), a.begin(), 0.0f);
  };
  EXPECT_GT(dot(2) + dot(4), dot(7) + dot(8));
  // Without fold-in epochs the user vector is the mean of the history item vectors.
  options.fold_in_epochs = 0;
  std::unique_ptr<Bpr> mean_only = Bpr::Create(options).value();
  ASSERT_TRUE(mean_only->Fit(catalog, train, pool).ok());
  const std::vector<float> mean = mean_only->FoldIn(std::vector<ItemId>{0, 1});
  const std::span<const float> y0 = mean_only->ItemFactors(0), y1 = mean_only->ItemFactors(1);
  for (size_t k = 0; k < mean.size(); ++k) EXPECT_NEAR(mean[k], (y0[k] + y1[k]) / 2, 1e-6);
}

TEST(BaselinesTest, InvalidOptionsAreRejected) {
  ItemKnnOptions knn;
  knn.alpha = 1.5;
  EXPECT_EQ(ItemKnn::Create(knn).status().code(), core::StatusCode::kInvalidArgument);
  UserKnnOptions user;
  user.neighbours = 0;
  EXPECT_EQ(UserKnn::Create(user).status().code(), core::StatusCode::kInvalidArgument);
  AlsOptions als;
  als.regularization = 0.0;
  EXPECT_EQ(Als::Create(als).status().code(), core::StatusCode::kInvalidArgument);
  BprOptions bpr;
  bpr.learning_rate = -1.0;
  EXPECT_EQ(Bpr::Create(bpr).status().code(), core::StatusCode::kInvalidArgument);
  MostPopularOptions pop;
  pop.baseline.iterations = 0;
  EXPECT_EQ(MostPopular::Create(pop).status().code(), core::StatusCode::kInvalidArgument);
}

TEST(ModelFactoryTest, BuildsEveryNamedModelWithOverrides) {
  EXPECT_EQ(RecommenderNames(),
            (std::vector<std::string>{"pop", "itemknn", "userknn", "als", "bpr"}));
  for (const std::string& name : RecommenderNames()) {
    SCOPED_TRACE(name);
    core::Result<std::unique_ptr<Recommender>> model = MakeRecommender(name, ModelConfig{});
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ((*model)->name(), name);
    EXPECT_TRUE(RecommenderParameterNames(name).ok());
  }
  ModelConfig config;
  config.seed = 7;
  config.overrides = {{"factors", "16"}, {"confidence", "binary"}, {"alpha", "2.5"}};
  core::Result<std::unique_ptr<Recommender>> als = MakeRecommender("als", config);
  ASSERT_TRUE(als.ok()) << als.status().ToString();
  const std::string json = (*als)->DescribeParameters();
  EXPECT_NE(json.find("\"factors\":16"), std::string::npos) << json;
  EXPECT_NE(json.find("\"alpha\":2.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"confidence\":\"binary\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"seed\":7"), std::string::npos) << json;
  config.overrides = {{"popularity_fallback", "false"}, {"neighbours", "50"}};
  core::Result<std::unique_ptr<Recommender>> knn = MakeRecommender("itemknn", config);
  ASSERT_TRUE(knn.ok());
  EXPECT_NE((*knn)->DescribeParameters().find("\"popularity_fallback\":false"), std::string::npos);
}

TEST(ModelFactoryTest, ErrorsNameTheProblem) {
  core::Result<std::unique_ptr<Recommender>> unknown = MakeRecommender("svd", ModelConfig{});
  ASSERT_EQ(unknown.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.status().message().find("svd"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("pop, itemknn, userknn, als, bpr"), std::string::npos);

  ModelConfig config;
  config.overrides = {{"factor", "8"}};
  core::Result<std::unique_ptr<Recommender>> bad_key = MakeRecommender("als", config);
  ASSERT_EQ(bad_key.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_key.status().message().find("'factor'"), std::string::npos);
  EXPECT_NE(bad_key.status().message().find("factors"), std::string::npos);

  for (const char* text : {"abc", "-3", "12x", "", "1e3"}) {
    config.overrides = {{"factors", text}};
    core::Result<std::unique_ptr<Recommender>> bad_value = MakeRecommender("bpr", config);
    ASSERT_EQ(bad_value.status().code(), core::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(bad_value.status().message().find("'factors'"), std::string::npos);
  }
  config.overrides = {{"factors", "0"}};
  core::Result<std::unique_ptr<Recommender>> out_of_range = MakeRecommender("als", config);
  ASSERT_EQ(out_of_range.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(out_of_range.status().message().find("factors"), std::string::npos);
  config.overrides = {{"alpha", "nan"}};
  EXPECT_FALSE(MakeRecommender("itemknn", config).ok());
  config.overrides = {{"popularity_fallback", "maybe"}};
  EXPECT_FALSE(MakeRecommender("userknn", config).ok());
  config.overrides = {{"confidence", "squared"}};
  EXPECT_FALSE(MakeRecommender("als", config).ok());
  EXPECT_EQ(RecommenderParameterNames("svd").status().code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace melodai::rec
