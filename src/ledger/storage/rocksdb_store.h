// MelodAI — licensed under the Apache License 2.0.
// The RocksDB implementation of ledger::KvStore used by real nodes: one column family per
// ledger::Column, atomic WriteBatch with optional fsync, ordered prefix scans. RocksDB headers
// stay inside rocksdb_store.cc.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "ledger/storage/kv_store.h"

namespace melodai::ledger {

struct RocksDbOptions {
  // Create the store (and its folder) when it does not exist yet.
  bool create_if_missing = true;
  // Block cache for reads, in MiB.
  size_t block_cache_mib = 32;
};

// Invariants: every ledger::Column has exactly one open column family handle; the handles
// and the database are released together in the destructor. One writer and many readers may
// use the store concurrently (RocksDB itself is thread-safe for these calls).
class RocksDbStore final : public KvStore {
 public:
  // Opens (or creates) the store in folder `path`.
  // Returns kFailedPrecondition when another process holds the store's lock, kDataLoss when
  // the files are corrupt or not a store, kNotFound when it is missing and
  // !options.create_if_missing, kIoError on other failures. Every message names `path`.
  static core::Result<std::unique_ptr<RocksDbStore>> Open(const std::filesystem::path& path,
                                                          const RocksDbOptions& options = {});

  ~RocksDbStore() override;
  RocksDbStore(const RocksDbStore&) = delete;
  RocksDbStore& operator=(const RocksDbStore&) = delete;

  core::Result<std::optional<std::string>> Get(Column column,
                                               std::string_view key) const override;
  core::Status Write(const WriteBatch& batch, bool sync) override;
  core::Status Scan(Column column, std::string_view prefix, std::string_view start,
                    const Visitor& visit) const override;

  const std::filesystem::path& path() const { return path_; }

 private:
  struct Impl;
  RocksDbStore(std::filesystem::path path, std::unique_ptr<Impl> impl);

  std::filesystem::path path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace melodai::ledger
