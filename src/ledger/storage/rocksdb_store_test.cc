// MelodAI — licensed under the Apache License 2.0.
// Tests of RocksDbStore on a real folder: reads and writes per column, atomic batches,
// ordered prefix scans, durability across reopen and across a SIGKILL, and the errors for a
// locked, corrupt or missing store.
#include "ledger/storage/rocksdb_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "testing/test_paths.h"

namespace melodai::ledger {
namespace {

std::unique_ptr<RocksDbStore> OpenOrDie(const std::filesystem::path& path) {
  auto store = RocksDbStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return std::move(store).value();
}

std::string GetOrEmpty(const KvStore& store, Column column, std::string_view key) {
  auto value = store.Get(column, key);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value->value_or("<absent>");
}

TEST(RocksDbStoreTest, ColumnsAreSeparateNamespaces) {
  auto store = OpenOrDie(testing::MakeTempDir("rocks_columns"));
  WriteBatch batch;
  batch.Put(Column::kBlocks, "k", "block");
  batch.Put(Column::kState, "k", "state");
  ASSERT_TRUE(store->Write(batch, /*sync=*/true).ok());
  EXPECT_EQ(GetOrEmpty(*store, Column::kBlocks, "k"), "block");
  EXPECT_EQ(GetOrEmpty(*store, Column::kState, "k"), "state");
  EXPECT_EQ(GetOrEmpty(*store, Column::kMeta, "k"), "<absent>");
  EXPECT_EQ(GetOrEmpty(*store, Column::kModels, "k"), "<absent>");
}

TEST(RocksDbStoreTest, BatchAppliesPutsAndDeletesInOrder) {
  auto store = OpenOrDie(testing::MakeTempDir("rocks_batch"));
  WriteBatch first;
  first.Put(Column::kState, "a", "1");
  first.Put(Column::kState, "b", "2");
  ASSERT_TRUE(store->Write(first, false).ok());
  WriteBatch second;
  second.Delete(Column::kState, "a");
  second.Put(Column::kState, "b", "3");
  second.Put(Column::kState, "c", std::string("\0binary\xff", 8));
  second.Delete(Column::kState, "c");
  second.Put(Column::kState, "c", std::string("\0binary\xff", 8));
  ASSERT_TRUE(store->Write(second, true).ok());
  EXPECT_EQ(GetOrEmpty(*store, Column::kState, "a"), "<absent>");
  EXPECT_EQ(GetOrEmpty(*store, Column::kState, "b"), "3");
  EXPECT_EQ(GetOrEmpty(*store, Column::kState, "c"), std::string("\0binary\xff", 8));
  ASSERT_TRUE(store->Write(WriteBatch(), true).ok());  // An empty batch is fine.
}

TEST(RocksDbStoreTest, ScanIsOrderedAndHonoursPrefixStartAndStop) {
  auto store = OpenOrDie(testing::MakeTempDir("rocks_scan"));
  WriteBatch batch;
  // Inserted out of order; includes bytes above 0x7f to check unsigned bytewise order.
  for (const char* key : {"p/3", "p/1", "q/0", "p/\xf0", "o/9", "p/2", "p"}) {
    batch.Put(Column::kBlocks, key, std::string("v") + key);
  }
  ASSERT_TRUE(store->Write(batch, true).ok());

  std::vector<std::string> keys;
  auto collect = [&keys](std::string_view key, std::string_view value) {
    EXPECT_EQ(value, "v" + std::string(key));
    keys.emplace_back(key);
    return true;
  };
  ASSERT_TRUE(store->Scan(Column::kBlocks, "p/", "", collect).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"p/1", "p/2", "p/3", "p/\xf0"}));

  keys.clear();
  ASSERT_TRUE(store->Scan(Column::kBlocks, "p/", "p/2", collect).ok());
  EXPECT_EQ(keys, (std::vector<std::string>{"p/2", "p/3", "p/\xf0"}));

  keys.clear();
  ASSERT_TRUE(store->Scan(Column::kBlocks, "", "", collect).ok());
  EXPECT_EQ(keys.size(), 7u);
  EXPECT_EQ(keys.front(), "o/9");
  EXPECT_EQ(keys.back(), "q/0");

  int visited = 0;
  ASSERT_TRUE(store->Scan(Column::kBlocks, "p", "", [&visited](auto, auto) {
    return ++visited < 2;  // Stop after the second key.
  }).ok());
  EXPECT_EQ(visited, 2);

  keys.clear();
  ASSERT_TRUE(store->Scan(Column::kState, "p/", "", collect).ok());
  EXPECT_TRUE(keys.empty());
}

TEST(RocksDbStoreTest, SyncedWritesSurviveReopen) {
  const auto dir = testing::MakeTempDir("rocks_reopen");
  {
    auto store = OpenOrDie(dir);
    for (int i = 0; i < 50; ++i) {
      WriteBatch batch;
      batch.Put(Column::kBlocks, "h" + std::to_string(1000 + i), "block" + std::to_string(i));
      batch.Put(Column::kMeta, "height", std::to_string(i));
      ASSERT_TRUE(store->Write(batch, true).ok());
    }
  }
  auto store = OpenOrDie(dir);
  EXPECT_EQ(GetOrEmpty(*store, Column::kMeta, "height"), "49");
  int count = 0;
  ASSERT_TRUE(store->Scan(Column::kBlocks, "h", "", [&count](std::string_view key, auto value) {
    EXPECT_EQ(key, "h" + std::to_string(1000 + count));
    EXPECT_EQ(value, "block" + std::to_string(count));
    ++count;
    return true;
  }).ok());
  EXPECT_EQ(count, 50);
}

// Goal: a batch written with sync=true survives kill -9 of the writer. Method: a forked child
// writes numbered synced batches, reports the last acknowledged one through a pipe and kills
// itself with SIGKILL (no destructor, no flush); the parent reopens and finds every batch.
TEST(RocksDbStoreTest, SyncedWritesSurviveSigkill) {
  const auto dir = testing::MakeTempDir("rocks_sigkill");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto store = RocksDbStore::Open(dir);
    if (!store.ok()) ::_exit(3);
    int acknowledged = 0;
    for (int i = 1; i <= 40; ++i) {
      WriteBatch batch;
      batch.Put(Column::kConsensus, "seq" + std::to_string(100 + i), std::to_string(i));
      batch.Put(Column::kMeta, "last", std::to_string(i));
      if (!(*store)->Write(batch, true).ok()) ::_exit(4);
      acknowledged = i;
    }
    if (::write(fds[1], &acknowledged, sizeof(acknowledged)) != sizeof(acknowledged)) ::_exit(5);
    ::kill(::getpid(), SIGKILL);
    ::_exit(6);
  }
  ::close(fds[1]);
  int acknowledged = 0;
  ASSERT_EQ(::read(fds[0], &acknowledged, sizeof(acknowledged)),
            static_cast<ssize_t>(sizeof(acknowledged)));
  ::close(fds[0]);
  int wait_status = 0;
  ASSERT_EQ(::waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wait_status));
  EXPECT_EQ(WTERMSIG(wait_status), SIGKILL);

  auto store = OpenOrDie(dir);
  EXPECT_EQ(GetOrEmpty(*store, Column::kMeta, "last"), std::to_string(acknowledged));
  int count = 0;
  ASSERT_TRUE(store->Scan(Column::kConsensus, "seq", "", [&count](auto, auto) {
    ++count;
    return true;
  }).ok());
  EXPECT_EQ(count, acknowledged);
}

TEST(RocksDbStoreTest, SecondOpenOfALockedStoreFailsClearly) {
  const auto dir = testing::MakeTempDir("rocks_lock");
  auto first = OpenOrDie(dir);
  auto second = RocksDbStore::Open(dir);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), core::StatusCode::kFailedPrecondition)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find(dir.string()), std::string::npos);
}

TEST(RocksDbStoreTest, CorruptStoreIsReportedAsDataLoss) {
  const auto dir = testing::MakeTempDir("rocks_corrupt");
  {
    auto store = OpenOrDie(dir);
    WriteBatch batch;
    batch.Put(Column::kMeta, "k", "v");
    ASSERT_TRUE(store->Write(batch, true).ok());
  }
  std::ofstream(dir / "CURRENT", std::ios::trunc) << "garbage-without-newline";
  auto reopened = RocksDbStore::Open(dir);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), core::StatusCode::kDataLoss) << reopened.status().ToString();
  EXPECT_NE(reopened.status().message().find(dir.string()), std::string::npos);
}

TEST(RocksDbStoreTest, CreatesMissingParentFolders) {
  const auto dir = testing::MakeTempDir("rocks_parents") / "a" / "b" / "store";
  auto store = RocksDbStore::Open(dir);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
}

TEST(RocksDbStoreTest, MissingStoreWithoutCreateIsNotFound) {
  const auto dir = testing::MakeTempDir("rocks_missing") / "absent";
  RocksDbOptions options;
  options.create_if_missing = false;
  auto store = RocksDbStore::Open(dir, options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), core::StatusCode::kNotFound) << store.status().ToString();
}

}  // namespace
}  // namespace melodai::ledger
