// MelodAI — licensed under the Apache License 2.0.
// SimKvStore: durable and visible tables, crash injection.
#include "testing/sim_kv_store.h"

#include "core/check.h"

namespace melodai::testing {

void SimKvStore::Apply(Tables& tables, const ledger::WriteBatch& batch) {
  for (const ledger::WriteBatch::Operation& op : batch.operations()) {
    Table& table = tables[static_cast<size_t>(op.column)];
    if (op.is_delete) {
      table.erase(op.key);
    } else {
      table.insert_or_assign(op.key, op.value);
    }
  }
}

core::Result<std::optional<std::string>> SimKvStore::Get(ledger::Column column,
                                                         std::string_view key) const {
  if (crashed_) return core::IoError("sim store: crashed");
  const Table& table = visible_[static_cast<size_t>(column)];
  auto it = table.find(key);
  if (it == table.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

core::Status SimKvStore::Write(const ledger::WriteBatch& batch, bool sync) {
  if (crashed_) return core::IoError("sim store: crashed");
  ++write_count_;
  if (crash_countdown_ && --*crash_countdown_ == 0) {
    crash_countdown_.reset();
    if (apply_crashing_write_) {
      // The write reached the disk but the process died before learning it.
      Apply(visible_, batch);
      if (sync) durable_ = visible_;
    }
    CrashNow();
    return core::IoError("sim store: crashed during write " + std::to_string(write_count_));
  }
  Apply(visible_, batch);
  if (sync) {
    // A sync write also makes every earlier unsynced write durable (one log, in order).
    durable_ = visible_;
    has_unsynced_ = false;
  } else {
    has_unsynced_ = true;
  }
  return core::Status::Ok();
}

core::Status SimKvStore::Scan(ledger::Column column, std::string_view prefix,
                              std::string_view start, const Visitor& visit) const {
  if (crashed_) return core::IoError("sim store: crashed");
  const Table& table = visible_[static_cast<size_t>(column)];
  std::string first(start.empty() || start < prefix ? prefix : start);
  for (auto it = table.lower_bound(first); it != table.end(); ++it) {
    if (!std::string_view(it->first).starts_with(prefix)) break;
    if (!visit(it->first, it->second)) break;
  }
  return core::Status::Ok();
}

void SimKvStore::ArmCrash(uint64_t writes_from_now, bool apply_crashing_write) {
  MELODAI_CHECK_GT(writes_from_now, 0u);
  crash_countdown_ = writes_from_now;
  apply_crashing_write_ = apply_crashing_write;
}

void SimKvStore::CrashNow() {
  visible_ = durable_;
  has_unsynced_ = false;
  crashed_ = true;
  crash_countdown_.reset();
}

void SimKvStore::Restart() { crashed_ = false; }

size_t SimKvStore::key_count(ledger::Column column) const {
  return visible_[static_cast<size_t>(column)].size();
}

}  // namespace melodai::testing
