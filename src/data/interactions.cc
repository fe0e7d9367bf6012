// MelodAI — licensed under the Apache License 2.0.
// Interactions storage and encoding.
#include "data/interactions.h"

#include <algorithm>
#include <string>

namespace melodai::data {

void Interactions::Append(std::span<const ItemId> items, std::span<const int64_t> timestamps,
                          std::span<const float> weights, int64_t external_id,
                          std::string_view name) {
  MELODAI_CHECK_EQ(timestamps.size(), has_timestamps_ ? items.size() : 0);
  MELODAI_CHECK_EQ(weights.size(), has_weights_ ? items.size() : 0);
  items_.insert(items_.end(), items.begin(), items.end());
  timestamps_.insert(timestamps_.end(), timestamps.begin(), timestamps.end());
  weights_.insert(weights_.end(), weights.begin(), weights.end());
  offsets_.push_back(items_.size());
  external_ids_.push_back(external_id);
  names_.Append(name);
}

SequenceView Interactions::operator[](size_t index) const {
  MELODAI_CHECK_LT(index, size());
  const size_t begin = offsets_[index];
  const size_t length = offsets_[index + 1] - begin;
  SequenceView view;
  view.items = std::span<const ItemId>(items_).subspan(begin, length);
  if (has_timestamps_) view.timestamps = std::span<const int64_t>(timestamps_).subspan(begin, length);
  if (has_weights_) view.weights = std::span<const float>(weights_).subspan(begin, length);
  view.external_id = external_ids_[index];
  view.name = names_.Get(static_cast<uint32_t>(index));
  return view;
}

size_t Interactions::ItemBound() const {
  if (items_.empty()) return 0;
  return size_t{*std::max_element(items_.begin(), items_.end())} + 1;
}

void Interactions::Reserve(size_t sequences, size_t events) {
  offsets_.reserve(sequences + 1);
  external_ids_.reserve(sequences);
  items_.reserve(events);
  if (has_timestamps_) timestamps_.reserve(events);
  if (has_weights_) weights_.reserve(events);
}

void Interactions::Encode(core::ByteWriter& writer) const {
  writer.PutU8(has_timestamps_ ? 1 : 0);
  writer.PutU8(has_weights_ ? 1 : 0);
  writer.PutArray<uint64_t>(offsets_);
  writer.PutArray<ItemId>(items_);
  writer.PutArray<int64_t>(timestamps_);
  writer.PutArray<float>(weights_);
  writer.PutArray<int64_t>(external_ids_);
  names_.Encode(writer);
}

core::Status Interactions::Decode(core::ByteReader& reader, size_t catalog_size) {
  constexpr size_t kMaxEvents = size_t{1} << 34;
  uint8_t timestamps_flag = 0, weights_flag = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(timestamps_flag, "interactions.has_timestamps"));
  MELODAI_RETURN_IF_ERROR(reader.GetU8(weights_flag, "interactions.has_weights"));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(offsets_, "interactions.offsets", kMaxEvents));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(items_, "interactions.items", kMaxEvents));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(timestamps_, "interactions.timestamps", kMaxEvents));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(weights_, "interactions.weights", kMaxEvents));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(external_ids_, "interactions.external_ids", kMaxEvents));
  MELODAI_RETURN_IF_ERROR(names_.Decode(reader, "interactions.names"));
  if (timestamps_flag > 1 || weights_flag > 1) {
    return core::DataLossError("interaction flags must be 0 or 1");
  }
  has_timestamps_ = timestamps_flag != 0;
  has_weights_ = weights_flag != 0;
  if (offsets_.empty() || offsets_.front() != 0 || offsets_.back() != items_.size()) {
    return core::DataLossError("interaction offsets do not span the items");
  }
  if (!std::is_sorted(offsets_.begin(), offsets_.end())) {
    return core::DataLossError("interaction offsets decrease");
  }
  const size_t sequences = offsets_.size() - 1;
  if (external_ids_.size() != sequences || names_.size() != sequences) {
    return core::DataLossError("interaction sequence columns disagree on the sequence count");
  }
  if (timestamps_.size() != (has_timestamps_ ? items_.size() : 0) ||
      weights_.size() != (has_weights_ ? items_.size() : 0)) {
    return core::DataLossError("interaction timestamps or weights do not match the items");
  }
  for (ItemId item : items_) {
    if (item >= catalog_size) {
      return core::DataLossError("interaction item id " + std::to_string(item) +
                                 " outside the catalog of " + std::to_string(catalog_size));
    }
  }
  return core::Status::Ok();
}

}  // namespace melodai::data
