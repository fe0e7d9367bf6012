// MelodAI — licensed under the Apache License 2.0.
// WriteBatch bookkeeping and column names shared by every KvStore implementation.
#include "ledger/storage/kv_store.h"

namespace melodai::ledger {

std::string_view ColumnName(Column column) {
  switch (column) {
    case Column::kMeta: return "meta";
    case Column::kBlocks: return "blocks";
    case Column::kConsensus: return "consensus";
    case Column::kState: return "state";
    case Column::kModels: return "models";
  }
  return "unknown";
}

void WriteBatch::Put(Column column, std::string_view key, std::string_view value) {
  operations_.push_back({column, false, std::string(key), std::string(value)});
  byte_size_ += key.size() + value.size();
}

void WriteBatch::Delete(Column column, std::string_view key) {
  operations_.push_back({column, true, std::string(key), std::string()});
  byte_size_ += key.size();
}

}  // namespace melodai::ledger
