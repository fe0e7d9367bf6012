// MelodAI — licensed under the Apache License 2.0.
// SimKvStore: an in-memory ledger::KvStore for simulations that can crash between any two
// writes. A crash loses every write not yet made durable by a sync write, exactly as a process
// killed with SIGKILL on a real store would; the crashing write itself is applied or not.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "ledger/storage/kv_store.h"

namespace melodai::testing {

// Invariants: durable_ holds what survives a crash; visible_ = durable_ + the unsynced writes
// applied in order; after a crash visible_ == durable_ and every call fails until Restart().
// Not thread-safe (simulations are single-threaded).
class SimKvStore final : public ledger::KvStore {
 public:
  SimKvStore() = default;

  core::Result<std::optional<std::string>> Get(ledger::Column column,
                                               std::string_view key) const override;
  // kIoError while crashed. When the armed countdown reaches this write the store crashes:
  // the write is applied durably when `apply_crashing_write` was set, else lost; either way
  // the call returns kIoError.
  core::Status Write(const ledger::WriteBatch& batch, bool sync) override;
  core::Status Scan(ledger::Column column, std::string_view prefix, std::string_view start,
                    const Visitor& visit) const override;

  // Crash at the `writes_from_now`-th next Write (1 = the next one).
  void ArmCrash(uint64_t writes_from_now, bool apply_crashing_write);
  // Cancels an armed crash.
  void Disarm() { crash_countdown_.reset(); }
  // Crash now (between two writes): unsynced writes are lost.
  void CrashNow();
  // Ends a crash: the store serves its durable contents again.
  void Restart();

  bool crashed() const { return crashed_; }
  uint64_t write_count() const { return write_count_; }
  size_t key_count(ledger::Column column) const;

 private:
  using Table = std::map<std::string, std::string, std::less<>>;
  using Tables = std::array<Table, ledger::kColumnCount>;
  static void Apply(Tables& tables, const ledger::WriteBatch& batch);

  Tables durable_;
  Tables visible_;
  bool has_unsynced_ = false;
  bool crashed_ = false;
  std::optional<uint64_t> crash_countdown_;
  bool apply_crashing_write_ = false;
  uint64_t write_count_ = 0;
};

}  // namespace melodai::testing
