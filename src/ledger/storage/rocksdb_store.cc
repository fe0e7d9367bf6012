// MelodAI — licensed under the Apache License 2.0.
// RocksDbStore: maps ledger::Column to RocksDB column families and RocksDB statuses to
// core::Status codes with messages that name the store's folder.
#include "ledger/storage/rocksdb_store.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <array>
#include <utility>
#include <vector>

namespace melodai::ledger {

struct RocksDbStore::Impl {
  std::unique_ptr<rocksdb::DB> db;
  // Index i holds the handle of Column(i); the default family is kept separately because
  // RocksDB requires it to be opened.
  std::array<rocksdb::ColumnFamilyHandle*, kColumnCount> columns{};
  rocksdb::ColumnFamilyHandle* default_column = nullptr;

  rocksdb::ColumnFamilyHandle* Handle(Column column) const {
    const size_t index = static_cast<size_t>(column);
    MELODAI_CHECK_LT(index, columns.size());
    return columns[index];
  }
};

namespace {

// Turns a RocksDB status into ours; `what` says which operation and store failed.
core::Status FromRocks(const rocksdb::Status& status, std::string_view what) {
  if (status.ok()) return core::Status::Ok();
  const std::string message = fmt::format("{}: {}", what, status.ToString());
  if (status.IsCorruption()) return core::DataLossError(message);
  if (status.IsIOError() && status.ToString().find("lock") != std::string::npos) {
    return core::FailedPreconditionError(message + " (is another node using this folder?)");
  }
  if (status.IsInvalidArgument() &&
      status.ToString().find("does not exist") != std::string::npos) {
    return core::NotFoundError(message);
  }
  if (status.IsInvalidArgument() || status.IsNotSupported()) {
    return core::DataLossError(message + " (not a ledger store, or an incompatible one)");
  }
  return core::IoError(message);
}

rocksdb::Slice ToSlice(std::string_view view) { return rocksdb::Slice(view.data(), view.size()); }

bool ValidColumn(Column column) { return static_cast<int>(column) < kColumnCount; }

}  // namespace

RocksDbStore::RocksDbStore(std::filesystem::path path, std::unique_ptr<Impl> impl)
    : path_(std::move(path)), impl_(std::move(impl)) {}

RocksDbStore::~RocksDbStore() {
  if (impl_ == nullptr || impl_->db == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* handle : impl_->columns) {
    // A failure to destroy a handle at shutdown leaves nothing to recover; ignored.
    impl_->db->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  impl_->db->DestroyColumnFamilyHandle(impl_->default_column).PermitUncheckedError();
  // Close flushes nothing we need (every sync write is in the WAL); its status is ignored.
  impl_->db->Close().PermitUncheckedError();
}

core::Result<std::unique_ptr<RocksDbStore>> RocksDbStore::Open(const std::filesystem::path& path,
                                                               const RocksDbOptions& options) {
  const std::string where = fmt::format("ledger store {}", path.string());
  if (!options.create_if_missing && !std::filesystem::exists(path)) {
    return core::NotFoundError(where + ": folder does not exist");
  }
  if (options.create_if_missing) {
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error) return core::IoError(fmt::format("cannot create {}: {}", where, error.message()));
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = true;
  db_options.paranoid_checks = true;
  db_options.max_open_files = 256;
  rocksdb::ColumnFamilyOptions column_options;
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(options.block_cache_mib << 20);
  column_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, column_options);
  for (int i = 0; i < kColumnCount; ++i) {
    descriptors.emplace_back(std::string(ColumnName(static_cast<Column>(i))), column_options);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status =
      rocksdb::DB::Open(db_options, path.string(), descriptors, &handles, &raw_db);
  if (!status.ok()) return FromRocks(status, "cannot open " + where);
  MELODAI_CHECK_EQ(handles.size(), descriptors.size());

  auto impl = std::make_unique<Impl>();
  impl->db.reset(raw_db);
  impl->default_column = handles[0];
  for (int i = 0; i < kColumnCount; ++i) impl->columns[i] = handles[i + 1];
  return std::unique_ptr<RocksDbStore>(new RocksDbStore(path, std::move(impl)));
}

core::Result<std::optional<std::string>> RocksDbStore::Get(Column column,
                                                           std::string_view key) const {
  if (!ValidColumn(column)) return core::InvalidArgumentError("unknown ledger column");
  std::string value;
  rocksdb::Status status =
      impl_->db->Get(rocksdb::ReadOptions(), impl_->Handle(column), ToSlice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) {
    return FromRocks(status, fmt::format("get from column {} of ledger store {}",
                                         ColumnName(column), path_.string()));
  }
  return std::optional<std::string>(std::move(value));
}

core::Status RocksDbStore::Write(const WriteBatch& batch, bool sync) {
  rocksdb::WriteBatch rocks_batch;
  for (const WriteBatch::Operation& operation : batch.operations()) {
    if (!ValidColumn(operation.column)) return core::InvalidArgumentError("unknown ledger column");
    rocksdb::ColumnFamilyHandle* handle = impl_->Handle(operation.column);
    rocksdb::Status status = operation.is_delete
                                 ? rocks_batch.Delete(handle, ToSlice(operation.key))
                                 : rocks_batch.Put(handle, ToSlice(operation.key),
                                                   ToSlice(operation.value));
    if (!status.ok()) return FromRocks(status, "build write batch for " + path_.string());
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  return FromRocks(impl_->db->Write(write_options, &rocks_batch),
                   fmt::format("write {} operations to ledger store {}",
                               batch.operations().size(), path_.string()));
}

core::Status RocksDbStore::Scan(Column column, std::string_view prefix, std::string_view start,
                                const Visitor& visit) const {
  if (!ValidColumn(column)) return core::InvalidArgumentError("unknown ledger column");
  rocksdb::ReadOptions read_options;
  std::unique_ptr<rocksdb::Iterator> iterator(
      impl_->db->NewIterator(read_options, impl_->Handle(column)));
  // Start at the larger of the prefix and `start`, so keys below the prefix are skipped.
  const std::string_view first = start > prefix ? start : prefix;
  for (iterator->Seek(ToSlice(first)); iterator->Valid(); iterator->Next()) {
    const rocksdb::Slice key = iterator->key();
    const std::string_view key_view(key.data(), key.size());
    if (!key_view.starts_with(prefix)) break;
    const rocksdb::Slice value = iterator->value();
    if (!visit(key_view, std::string_view(value.data(), value.size()))) break;
  }
  return FromRocks(iterator->status(), fmt::format("scan column {} of ledger store {}",
                                                   ColumnName(column), path_.string()));
}

}  // namespace melodai::ledger
