// MelodAI — licensed under the Apache License 2.0.
// Interactions: ordered sequences of items (playlists, listening sessions, a user's plays)
// in compressed-sparse-row form, with optional per-event timestamps and weights and a
// per-sequence external id and name.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "data/catalog.h"
#include "data/string_pool.h"

namespace melodai::data {

// A borrowed view of one sequence; valid while its Interactions lives and is not modified.
struct SequenceView {
  std::span<const ItemId> items;
  std::span<const int64_t> timestamps;  // empty when the data has no timestamps
  std::span<const float> weights;       // empty when the data has no weights
  int64_t external_id = 0;              // playlist pid, user id, ...
  std::string_view name;                // playlist name, or empty
  size_t size() const { return items.size(); }
};

// Invariants: offsets_.front() == 0, offsets_ non-decreasing, offsets_.back() ==
// items_.size(); timestamps_ and weights_ are empty or items_.size() long; external_ids_ and
// names_ have one entry per sequence.
class Interactions {
 public:
  Interactions() = default;
  // has_timestamps / has_weights fix whether every appended sequence carries them.
  Interactions(bool has_timestamps, bool has_weights)
      : has_timestamps_(has_timestamps), has_weights_(has_weights) {}

  // REQUIRES: timestamps.size() == items.size() iff has_timestamps(), likewise weights.
  void Append(std::span<const ItemId> items, std::span<const int64_t> timestamps,
              std::span<const float> weights, int64_t external_id, std::string_view name);
  void Append(const SequenceView& sequence) {
    Append(sequence.items, sequence.timestamps, sequence.weights, sequence.external_id,
           sequence.name);
  }

  size_t size() const { return offsets_.size() - 1; }
  bool empty() const { return size() == 0; }
  size_t event_count() const { return items_.size(); }
  bool has_timestamps() const { return has_timestamps_; }
  bool has_weights() const { return has_weights_; }

  // REQUIRES: index < size().
  SequenceView operator[](size_t index) const;
  std::span<const ItemId> items(size_t index) const {
    return std::span<const ItemId>(items_).subspan(offsets_[index], offsets_[index + 1] - offsets_[index]);
  }
  std::span<const ItemId> all_items() const { return items_; }
  std::span<const uint64_t> offsets() const { return offsets_; }

  // Largest item id + 1 (0 when empty).
  size_t ItemBound() const;

  void Reserve(size_t sequences, size_t events);

  void Encode(core::ByteWriter& writer) const;
  // kDataLoss on malformed bytes, including item ids >= catalog_size.
  core::Status Decode(core::ByteReader& reader, size_t catalog_size);

 private:
  bool has_timestamps_ = false;
  bool has_weights_ = false;
  std::vector<uint64_t> offsets_{0};
  std::vector<ItemId> items_;
  std::vector<int64_t> timestamps_;
  std::vector<float> weights_;
  std::vector<int64_t> external_ids_;
  StringPool names_;
};

}  // namespace melodai::data
