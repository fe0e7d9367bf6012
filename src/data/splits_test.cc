// MelodAI — licensed under the Apache License 2.0.
// Unit tests of preprocessing, protocol splits and federated partitions on hand-built data.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "data/partition.h"
#include "data/splits.h"

namespace melodai::data {
namespace {

Interactions Make(const std::vector<std::vector<ItemId>>& sequences) {
  Interactions out;
  int64_t id = 0;
  for (const auto& items : sequences) out.Append(items, {}, {}, id++, "");
  return out;
}

std::vector<ItemId> Items(const Interactions& in, size_t s) {
  return {in.items(s).begin(), in.items(s).end()};
}

TEST(PreprocessTest, CollapsesThenFiltersSupportThenLength) {
  // Collapse: {1,2,3} {2,1,7} {7} {1,2}. Support: 1->3, 2->3, 3->1, 7->2, so with a minimum
  // of 2 only item 3 goes. Then {7} (length 1) is dropped.
  Interactions in = Make({{1, 1, 2, 3, 3, 3}, {2, 1, 7}, {7}, {1, 2}});
  PreprocessOptions options;
  options.min_item_support = 2;
  options.min_sequence_length = 2;
  PreprocessReport report;
  Interactions out = Preprocess(in, options, &report);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(Items(out, 0), (std::vector<ItemId>{1, 2}));
  EXPECT_EQ(Items(out, 1), (std::vector<ItemId>{2, 1, 7}));
  EXPECT_EQ(Items(out, 2), (std::vector<ItemId>{1, 2}));
  EXPECT_EQ(report.sequences_in, 4u);
  EXPECT_EQ(report.events_in, 12u);
  EXPECT_EQ(report.sequences_out, 3u);
}

TEST(PreprocessTest, ItemSupportCountsEventsAfterCollapse) {
  Interactions in = Make({{5, 5, 5, 6}, {6, 5}});
  PreprocessOptions options;
  options.min_item_support = 2;
  Interactions out = Preprocess(in, options, nullptr);
  // After collapse: {5,6}, {6,5}: both items have support 2, nothing dropped.
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Items(out, 0), (std::vector<ItemId>{5, 6}));
}

Interactions ManySequences(size_t count, size_t length) {
  std::vector<std::vector<ItemId>> sequences;
  for (size_t s = 0; s < count; ++s) {
    std::vector<ItemId> items;
    for (size_t i = 0; i < length; ++i) items.push_back(static_cast<ItemId>((s + i) % 20));
    sequences.push_back(items);
  }
  return Make(sequences);
}

TEST(ProtocolSplitTest, ContinuationHidesLastTenPercent) {
  ProtocolOptions options;
  options.protocol = Protocol::kContinuation;
  options.preprocess.min_item_support = 1;
  auto split = MakeProtocolSplit(ManySequences(100, 25), options);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->train.size(), 80u);
  EXPECT_EQ(split->test.queries.size(), 10u);
  EXPECT_EQ(split->valid.queries.size(), 10u);
  for (const EvalQuery& q : split->test.queries) {
    // max(1, round(0.1 * 25)) = round(2.5) = 3 (llround rounds half away from zero).
    EXPECT_EQ(q.target_end - q.target_begin, 3u);
    EXPECT_EQ(q.history_end, 22u);
  }
  EXPECT_EQ(split->test.kind, QueryKind::kSetCompletion);
}

TEST(ProtocolSplitTest, SplitIsSeededAndDisjoint) {
  ProtocolOptions options;
  options.preprocess.min_item_support = 1;
  auto a = MakeProtocolSplit(ManySequences(50, 6), options);
  auto b = MakeProtocolSplit(ManySequences(50, 6), options);
  options.seed = 43;
  auto c = MakeProtocolSplit(ManySequences(50, 6), options);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  std::vector<int64_t> ids_a, ids_b, ids_c, train_ids;
  for (size_t s = 0; s < a->test.sequences.size(); ++s) ids_a.push_back(a->test.sequences[s].external_id);
  for (size_t s = 0; s < b->test.sequences.size(); ++s) ids_b.push_back(b->test.sequences[s].external_id);
  for (size_t s = 0; s < c->test.sequences.size(); ++s) ids_c.push_back(c->test.sequences[s].external_id);
  EXPECT_EQ(ids_a, ids_b);
  EXPECT_NE(ids_a, ids_c);
  std::set<int64_t> train;
  for (size_t s = 0; s < a->train.size(); ++s) train.insert(a->train[s].external_id);
  for (int64_t id : ids_a) EXPECT_EQ(train.count(id), 0u);
}

TEST(ProtocolSplitTest, NextItemQueriesEveryPositionAndDropsUnseenItems) {
  // 30 sequences over items 0..9 plus one test-only item would be filtered: build data where
  // item 99 occurs in exactly one sequence.
  std::vector<std::vector<ItemId>> sequences;
  for (int s = 0; s < 30; ++s) sequences.push_back({0, 1, 2, 3});
  sequences[7] = {0, 99, 1, 2};
  ProtocolOptions options;
  options.protocol = Protocol::kNextItem;
  options.preprocess.min_item_support = 1;
  auto split = MakeProtocolSplit(Make(sequences), options);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->test.kind, QueryKind::kNextItem);
  // Each test sequence of length 4 gives 3 queries, or 3 after dropping item 99 -> 2.
  size_t expected = 0;
  for (size_t s = 0; s < split->test.sequences.size(); ++s) expected += split->test.sequences[s].size() - 1;
  EXPECT_EQ(split->test.queries.size(), expected);
  for (size_t s = 0; s < split->test.sequences.size(); ++s) {
    for (ItemId item : split->test.sequences.items(s)) EXPECT_NE(item, 99u);
  }
  EXPECT_EQ(split->test.queries[0].history_end, 1u);
  EXPECT_EQ(split->test.queries[0].target_begin, 1u);
  EXPECT_EQ(split->test.queries[0].target_end, 2u);
}

TEST(ProtocolSplitTest, RandomHidingKeepsVisibleOrderAndHiddenSet) {
  ProtocolOptions options;
  options.hide_mode = HideMode::kRandom;
  options.hide_count = 4;
  options.preprocess.min_item_support = 1;
  options.preprocess.collapse_repeats = false;
  std::vector<std::vector<ItemId>> sequences;
  for (ItemId s = 0; s < 40; ++s) {
    std::vector<ItemId> items(12);
    std::iota(items.begin(), items.end(), 0u);
    sequences.push_back(items);
  }
  auto split = MakeProtocolSplit(Make(sequences), options);
  ASSERT_TRUE(split.ok());
  bool some_not_last = false;
  for (const EvalQuery& q : split->test.queries) {
    auto items = split->test.sequences.items(q.sequence);
    EXPECT_EQ(q.target_end - q.target_begin, 4u);
    EXPECT_TRUE(std::is_sorted(items.begin(), items.begin() + q.history_end));
    EXPECT_TRUE(std::is_sorted(items.begin() + q.target_begin, items.end()));
    std::vector<ItemId> all(items.begin(), items.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all.back(), 11u);
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
    if (items[q.target_begin] < 8) some_not_last = true;
  }
  EXPECT_TRUE(some_not_last);
}

TEST(ProtocolSplitTest, LeaveLastOutPerUser) {
  Interactions in = Make({{1, 2, 3, 4}, {2, 3, 1}, {1, 2}});
  ProtocolOptions options;
  options.protocol = Protocol::kLeaveLastOut;
  options.preprocess.min_item_support = 1;
  auto split = MakeProtocolSplit(in, options);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  // Train: {1,2}, {2}, {1,2}; item 4 and 3 of user 0: 3 not in train? user 1 has 3 in its
  // held-out part only, so queries whose target is unseen in train are dropped.
  EXPECT_EQ(split->train.size(), 3u);
  EXPECT_EQ(Items(split->train, 0), (std::vector<ItemId>{1, 2}));
  EXPECT_EQ(Items(split->train, 1), (std::vector<ItemId>{2}));
  // User 1: valid target 3 (unseen) dropped; test target 1 (seen) kept.
  ASSERT_EQ(split->test.queries.size(), 1u);
  EXPECT_EQ(split->test.queries[0].history_end, 2u);
}

TEST(ProtocolSplitTest, RejectsAbsurdOptions) {
  ProtocolOptions options;
  options.test_fraction = 1.5;
  EXPECT_EQ(MakeProtocolSplit(ManySequences(10, 5), options).status().code(),
            core::StatusCode::kInvalidArgument);
  options.test_fraction = 0.1;
  options.hide_fraction = 0.0;
  EXPECT_EQ(MakeProtocolSplit(ManySequences(10, 5), options).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseProtocol("sideways").ok());
}

TEST(ItemSplitTest, SeventyFifteenFifteen) {
  auto split = SplitItems(100, 0.7, 0.15, 3);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->train.size(), 70u);
  EXPECT_EQ(split->valid.size(), 15u);
  EXPECT_EQ(split->test.size(), 15u);
  std::set<ItemId> all(split->train.begin(), split->train.end());
  all.insert(split->valid.begin(), split->valid.end());
  all.insert(split->test.begin(), split->test.end());
  EXPECT_EQ(all.size(), 100u);
}

TEST(PartitionTest, NaturalIsOneClientPerSequence) {
  Partition p = NaturalPartition(ManySequences(5, 3));
  ASSERT_EQ(p.ClientCount(), 5u);
  EXPECT_EQ(p.clients[3], (std::vector<uint32_t>{3}));
}

TEST(PartitionTest, DirichletCoversEverySequenceOnceAndSkewsWithSmallAlpha) {
  std::vector<uint32_t> labels(1000);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint32_t>(i % 10);
  auto skewed = DirichletPartition(labels, 20, 0.05, 1);
  auto even = DirichletPartition(labels, 20, 1000.0, 1);
  ASSERT_TRUE(skewed.ok() && even.ok());
  auto distinct_labels = [&](const Partition& p) {
    double total = 0;
    for (const auto& client : p.clients) {
      EXPECT_FALSE(client.empty());
      std::set<uint32_t> seen;
      for (uint32_t s : client) seen.insert(labels[s]);
      total += static_cast<double>(seen.size());
    }
    return total / static_cast<double>(p.ClientCount());
  };
  std::vector<int> hits(1000, 0);
  for (const auto& client : skewed->clients) for (uint32_t s : client) ++hits[s];
  for (int h : hits) EXPECT_EQ(h, 1);
  // With alpha -> infinity every client sees nearly all 10 labels; with 0.05 only a few.
  EXPECT_GT(distinct_labels(*even), 9.0);
  EXPECT_LT(distinct_labels(*skewed), 4.0);
  EXPECT_FALSE(DirichletPartition(labels, 0, 1.0, 1).ok());
  EXPECT_FALSE(DirichletPartition(labels, 10, -1.0, 1).ok());
}

}  // namespace
}  // namespace melodai::data
