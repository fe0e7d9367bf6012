// MelodAI — licensed under the Apache License 2.0.
// Unit tests of core: Status/Result, Rng determinism and distributions, bytes, thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <numeric>

#include "core/bytes.h"
#include "core/clock.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/thread_pool.h"

namespace melodai::core {
namespace {

Result<int> Half(int value) {
  if (value % 2 != 0) return InvalidArgumentError("odd value " + std::to_string(value));
  return value / 2;
}

Result<int> Quarter(int value) {
  MELODAI_ASSIGN_OR_RETURN(int half, Half(value));
  return Half(half);
}

TEST(StatusTest, CarriesCodeMessageAndContext) {
  EXPECT_TRUE(Status::Ok().ok());
  Status error = DataLossError("bad byte").WithContext("file.json:3:4");
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_EQ(error.ToString(), "data_loss: file.json:3:4: bad byte");
}

TEST(StatusTest, ResultPropagatesThroughMacros) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_FALSE(Quarter(6).ok());
  EXPECT_EQ(Quarter(6).status().message(), "odd value 3");
}

TEST(RngTest, SameSeedSameStreamAndKnownFirstValue) {
  Rng a(7), b(7), c(8);
  std::vector<uint64_t> first;
  for (int i = 0; i < 100; ++i) {
    const uint64_t x = a.NextU64();
    EXPECT_EQ(x, b.NextU64());
    first.push_back(x);
  }
  EXPECT_NE(first[0], c.NextU64());
  // Pinned so that a change of generator (which would silently change every seeded run) fails.
  EXPECT_EQ(Rng(0).NextU64(), 0x99EC5F36CB75F2B4ULL);
}

TEST(RngTest, UniformIsUnbiasedWithinTolerance) {
  Rng rng(1);
  std::vector<int> counts(6, 0);
  const int draws = 60000;
  for (int i = 0; i < draws; ++i) ++counts[rng.Uniform(6)];
  for (int count : counts) EXPECT_NEAR(count, draws / 6, 400);  // ~5 sigma
}

TEST(RngTest, NormalAndGammaMoments) {
  Rng rng(3);
  double sum = 0, sum_sq = 0, gamma_sum = 0;
  const int draws = 200000;
  for (int i = 0; i < draws; ++i) {
    const double x = rng.Normal();
    sum += x;
    sum_sq += x * x;
    gamma_sum += rng.Gamma(0.5);
  }
  EXPECT_NEAR(sum / draws, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / draws, 1.0, 0.02);
  EXPECT_NEAR(gamma_sum / draws, 0.5, 0.01);  // mean of Gamma(k, 1) is k
}

TEST(RngTest, DirichletSumsToOne) {
  Rng rng(5);
  for (double alpha : {0.01, 0.5, 10.0}) {
    std::vector<double> p = rng.Dirichlet(alpha, 7);
    EXPECT_NEAR(std::accumulate(p.begin(), p.end(), 0.0), 1.0, 1e-12);
  }
}

TEST(RngTest, AliasTableFollowsWeights) {
  Rng rng(11);
  std::vector<double> weights = {1, 0, 3};
  AliasTable table(weights);
  std::vector<int> counts(3, 0);
  for (int i = 0; i < 40000; ++i) ++counts[table.Sample(rng)];
  EXPECT_EQ(counts[1], 0);
  EXPECT_NEAR(counts[2] / 40000.0, 0.75, 0.02);
}

TEST(RngTest, ForkIsDeterministicAndDistinct) {
  Rng parent(9);
  Rng a = parent.Fork(1), b = parent.Fork(1), c = parent.Fork(2);
  EXPECT_EQ(a.NextU64(), b.NextU64());
  EXPECT_NE(parent.Fork(1).NextU64(), c.NextU64());
}

TEST(BytesTest, RoundTripAndTruncation) {
  ByteWriter writer;
  writer.PutU32(7);
  writer.PutString("hello");
  std::vector<float> values = {1.5f, -2.0f};
  writer.PutArray<float>(values);
  const std::string bytes = writer.Release();

  ByteReader reader(bytes);
  uint32_t u = 0;
  std::string s;
  std::vector<float> v;
  ASSERT_TRUE(reader.GetU32(u, "u").ok());
  ASSERT_TRUE(reader.GetString(s, "s", 100).ok());
  ASSERT_TRUE(reader.GetArray(v, "v", 100).ok());
  EXPECT_EQ(u, 7u);
  EXPECT_EQ(s, "hello");
  EXPECT_EQ(v, values);
  EXPECT_TRUE(reader.done());

  ByteReader short_reader(std::string_view(bytes).substr(0, bytes.size() - 1));
  ASSERT_TRUE(short_reader.GetU32(u, "u").ok());
  ASSERT_TRUE(short_reader.GetString(s, "s", 100).ok());
  Status status = short_reader.GetArray(v, "v", 100);
  EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  EXPECT_NE(status.message().find("'v'"), std::string::npos);

  ByteReader limited(bytes);
  ASSERT_TRUE(limited.GetU32(u, "u").ok());
  EXPECT_FALSE(limited.GetString(s, "s", 3).ok());  // longer than its limit
}

TEST(BytesTest, HashIsStableAndSpreads) {
  EXPECT_EQ(Hash64("abc"), Hash64("abc"));
  EXPECT_NE(Hash64("abc"), Hash64("abd"));
  EXPECT_NE(Hash64(""), Hash64(std::string_view("\0", 1)));
  std::string long_text(1000, 'x');
  const uint64_t before = Hash64(long_text);
  long_text[517] = 'y';
  EXPECT_NE(before, Hash64(long_text));
}

TEST(ThreadPoolTest, CoversRangeExactlyOnceWithAnyThreadCount) {
  for (size_t threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    std::vector<std::atomic<int>> hits(1001);
    std::atomic<size_t> max_worker{0};
    pool.ParallelFor(hits.size(), 7, [&](size_t begin, size_t end, size_t worker) {
      size_t seen = max_worker.load();
      while (worker > seen && !max_worker.compare_exchange_weak(seen, worker)) {}
      for (size_t i = begin; i < end; ++i) hits[i].fetch_add(1);
    });
    for (auto& hit : hits) EXPECT_EQ(hit.load(), 1);
    EXPECT_LT(max_worker.load(), threads);
  }
}

TEST(ThreadPoolTest, RethrowsBodyException) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.ParallelFor(100, 1,
                                [](size_t begin, size_t, size_t) {
                                  if (begin == 0) throw std::runtime_error("boom");
                                }),
               std::runtime_error);
}

TEST(ClockTest, ManualClockAdvances) {
  ManualClock clock(0, 1000);
  clock.Advance(2'000'000);
  EXPECT_EQ(clock.NowNanos(), 2'000'000);
  EXPECT_EQ(clock.WallMillis(), 1002);
}

}  // namespace
}  // namespace melodai::core
