// MelodAI — licensed under the Apache License 2.0.
// The storage interface of the ledger: an ordered key-value store with column families and
// atomic write batches. RocksDB implements it for real nodes; testing/ has a simulated store
// that can crash between any two writes. Consensus and the application see only this header.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace melodai::ledger {

// Column families. Values are stable on disk: append new ones, never renumber.
enum class Column : uint8_t {
  kMeta = 0,       // Store format version, node identity, genesis hash.
  kBlocks = 1,     // Committed blocks and their commit certificates, keyed by height.
  kConsensus = 2,  // What a replica signed or is about to sign (view, sequence, digests).
  kState = 3,      // The application state.
  kModels = 4,     // Model blobs addressed by hash.
};
inline constexpr int kColumnCount = 5;
std::string_view ColumnName(Column column);

// An ordered list of puts and deletes applied atomically by KvStore::Write.
class WriteBatch {
 public:
  struct Operation {
    Column column;
    bool is_delete;
    std::string key;
    std::string value;  // Empty for deletes.
  };

  void Put(Column column, std::string_view key, std::string_view value);
  void Delete(Column column, std::string_view key);
  void Clear() { operations_.clear(); }

  const std::vector<Operation>& operations() const { return operations_; }
  bool empty() const { return operations_.empty(); }
  // Sum of key and value sizes, for limits and metrics.
  size_t byte_size() const { return byte_size_; }

 private:
  std::vector<Operation> operations_;
  size_t byte_size_ = 0;
};

// Invariants every implementation keeps: a Write is all-or-nothing; after Write(batch,
// sync=true) returns OK the batch survives a process crash (kill -9); keys iterate in
// bytewise order within a column. Implementations are safe for one writer and many readers.
class KvStore {
 public:
  virtual ~KvStore() = default;

  // The value under `key`, std::nullopt when absent; kIoError when the store fails.
  virtual core::Result<std::optional<std::string>> Get(Column column,
                                                       std::string_view key) const = 0;

  // Applies `batch` atomically; with `sync` the call returns only once it is durable.
  // kIoError when the store fails (then nothing of the batch is applied).
  virtual core::Status Write(const WriteBatch& batch, bool sync) = 0;

  // Calls visit(key, value) for every key starting with `prefix`, in bytewise key order,
  // starting at the first key >= `start` (empty: from the prefix). Stops when visit returns
  // false. kIoError when the store fails.
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;
  virtual core::Status Scan(Column column, std::string_view prefix, std::string_view start,
                            const Visitor& visit) const = 0;
};

}  // namespace melodai::ledger
