// MelodAI — licensed under the Apache License 2.0.
// StringPool: arena + open-addressing index of ids (linear probing, power-of-two capacity).
#include "data/string_pool.h"

#include <atomic>

#include "core/check.h"

namespace melodai::data {

// slots hold id + 1 (0 = empty); load factor kept at or below one half.
struct StringPool::Index {
  std::vector<uint32_t> slots;
  size_t count = 0;
  std::atomic<bool> built{false};
};

namespace {
constexpr size_t kMaxStrings = size_t{1} << 31;
constexpr size_t kMaxTextBytes = size_t{1} << 36;
}  // namespace

StringPool::StringPool()
    : offsets_{0}, index_(std::make_unique<Index>()), index_mutex_(std::make_unique<std::mutex>()) {}
StringPool::StringPool(StringPool&&) noexcept = default;
StringPool& StringPool::operator=(StringPool&&) noexcept = default;
StringPool::~StringPool() = default;

StringPool::StringPool(const StringPool& other)
    : text_(other.text_),
      offsets_(other.offsets_),
      index_(std::make_unique<Index>()),
      index_mutex_(std::make_unique<std::mutex>()) {}

StringPool& StringPool::operator=(const StringPool& other) {
  if (this != &other) {
    text_ = other.text_;
    offsets_ = other.offsets_;
    index_ = std::make_unique<Index>();
  }
  return *this;
}

std::string_view StringPool::Get(uint32_t id) const {
  MELODAI_CHECK_LT(id, size());
  return std::string_view(text_).substr(offsets_[id], offsets_[id + 1] - offsets_[id]);
}

void StringPool::Reserve(size_t strings, size_t bytes) {
  offsets_.reserve(strings + 1);
  text_.reserve(bytes);
}

void StringPool::IndexInsert(uint32_t id) const {
  Index& index = *index_;
  if ((index.count + 1) * 2 > index.slots.size()) {
    // Grow and reinsert every id already indexed.
    size_t capacity = index.slots.empty() ? 1024 : index.slots.size() * 2;
    while (capacity < (index.count + 1) * 2) capacity *= 2;
    std::vector<uint32_t> old = std::move(index.slots);
    index.slots.assign(capacity, 0);
    const size_t mask = capacity - 1;
    for (uint32_t slot_value : old) {
      if (slot_value == 0) continue;
      size_t position = core::Hash64(Get(slot_value - 1)) & mask;
      while (index.slots[position] != 0) position = (position + 1) & mask;
      index.slots[position] = slot_value;
    }
  }
  const size_t mask = index.slots.size() - 1;
  const std::string_view value = Get(id);
  size_t position = core::Hash64(value) & mask;
  while (index.slots[position] != 0) {
    if (Get(index.slots[position] - 1) == value) return;  // Keep the first id of a duplicate.
    position = (position + 1) & mask;
  }
  index.slots[position] = id + 1;
  ++index.count;
}

void StringPool::EnsureIndex() const {
  if (index_->built.load(std::memory_order_acquire)) return;
  std::lock_guard lock(*index_mutex_);
  if (index_->built.load(std::memory_order_relaxed)) return;
  index_->slots.clear();
  index_->count = 0;
  for (uint32_t id = 0; id < size(); ++id) IndexInsert(id);
  index_->built.store(true, std::memory_order_release);
}

std::optional<uint32_t> StringPool::Find(std::string_view value) const {
  EnsureIndex();
  const Index& index = *index_;
  if (index.slots.empty()) return std::nullopt;
  const size_t mask = index.slots.size() - 1;
  size_t position = core::Hash64(value) & mask;
  while (index.slots[position] != 0) {
    const uint32_t id = index.slots[position] - 1;
    if (Get(id) == value) return id;
    position = (position + 1) & mask;
  }
  return std::nullopt;
}

uint32_t StringPool::Append(std::string_view value) {
  MELODAI_CHECK_LT(size(), kMaxStrings);
  text_.append(value);
  offsets_.push_back(text_.size());
  const uint32_t id = static_cast<uint32_t>(size() - 1);
  if (index_->built.load(std::memory_order_relaxed)) IndexInsert(id);
  return id;
}

uint32_t StringPool::Intern(std::string_view value) {
  if (std::optional<uint32_t> found = Find(value)) return *found;
  return Append(value);
}

void StringPool::Encode(core::ByteWriter& writer) const {
  writer.PutArray<uint64_t>(offsets_);
  writer.PutString(text_);
}

core::Status StringPool::Decode(core::ByteReader& reader, std::string_view field) {
  std::vector<uint64_t> offsets;
  std::string text;
  MELODAI_RETURN_IF_ERROR(reader.GetArray(offsets, field, kMaxStrings + 1));
  MELODAI_RETURN_IF_ERROR(reader.GetString(text, field, kMaxTextBytes));
  if (offsets.empty() || offsets.front() != 0 || offsets.back() != text.size()) {
    return core::DataLossError("field '" + std::string(field) + "': string offsets do not span the text");
  }
  for (size_t i = 1; i < offsets.size(); ++i) {
    if (offsets[i] < offsets[i - 1]) {
      return core::DataLossError("field '" + std::string(field) + "': string offsets decrease at " +
                                 std::to_string(i));
    }
  }
  text_ = std::move(text);
  offsets_ = std::move(offsets);
  index_ = std::make_unique<Index>();
  return core::Status::Ok();
}

}  // namespace melodai::data
