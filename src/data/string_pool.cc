// MelodAI — licensed under the Apache License 2.0.
// StringPool: arena + open-addressing index of ids (linear probing, power-of-two capacity).
#include "data/string_pool.h"

#include <atomic>

#include "core/check.h"

namespace melodai::data {

// A slot holds (32-bit hash tag << 32) | (id + 1); 0 marks an empty slot. The tag picks the
// home position and is compared before the strings, and growth re-slots entries from their
// tags without rehashing any string. Load factor kept at or below one half.
struct StringPool::Index {
  std::vector<uint64_t> slots;
  size_t count = 0;
  std::atomic<bool> built{false};
};

namespace {
constexpr size_t kMaxStrings = size_t{1} << 31;
constexpr size_t kMaxTextBytes = size_t{1} << 36;

inline uint32_t Tag(uint64_t hash) { return static_cast<uint32_t>(hash ^ (hash >> 32)); }
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
  if (index_->built.load(std::memory_order_relaxed)) GrowIndex(strings);
}

void StringPool::GrowIndex(size_t minimum_count) const {
  Index& index = *index_;
  size_t capacity = index.slots.empty() ? 1024 : index.slots.size();
  while (capacity < minimum_count * 2) capacity *= 2;
  if (capacity == index.slots.size()) return;
  std::vector<uint64_t> old = std::move(index.slots);
  index.slots.assign(capacity, 0);
  const size_t mask = capacity - 1;
  for (uint64_t slot : old) {
    if (slot == 0) continue;
    size_t position = (slot >> 32) & mask;
    while (index.slots[position] != 0) position = (position + 1) & mask;
    index.slots[position] = slot;
  }
}

void StringPool::IndexInsert(uint32_t id, uint64_t hash) const {
  Index& index = *index_;
  if ((index.count + 1) * 2 > index.slots.size()) GrowIndex(index.count + 1);
  const size_t mask = index.slots.size() - 1;
  const uint32_t tag = Tag(hash);
  const std::string_view value = Get(id);
  size_t position = tag & mask;
  while (index.slots[position] != 0) {
    const uint64_t slot = index.slots[position];
    // Keep the first id of a duplicate string.
    if ((slot >> 32) == tag && Get(static_cast<uint32_t>(slot) - 1) == value) return;
    position = (position + 1) & mask;
  }
  index.slots[position] = (uint64_t{tag} << 32) | (uint64_t{id} + 1);
  ++index.count;
}

void StringPool::EnsureIndex() const {
  if (index_->built.load(std::memory_order_acquire)) return;
  std::lock_guard lock(*index_mutex_);
  if (index_->built.load(std::memory_order_relaxed)) return;
  index_->slots.clear();
  index_->count = 0;
  GrowIndex(size());
  for (uint32_t id = 0; id < size(); ++id) IndexInsert(id, core::Hash64(Get(id)));
  index_->built.store(true, std::memory_order_release);
}

std::optional<uint32_t> StringPool::FindHashed(std::string_view value, uint64_t hash) const {
  EnsureIndex();
  const Index& index = *index_;
  if (index.slots.empty()) return std::nullopt;
  const size_t mask = index.slots.size() - 1;
  const uint32_t tag = Tag(hash);
  size_t position = tag & mask;
  while (index.slots[position] != 0) {
    const uint64_t slot = index.slots[position];
    if ((slot >> 32) == tag) {
      const uint32_t id = static_cast<uint32_t>(slot) - 1;
      if (Get(id) == value) return id;
    }
    position = (position + 1) & mask;
  }
  return std::nullopt;
}

std::optional<uint32_t> StringPool::Find(std::string_view value) const {
  return FindHashed(value, core::Hash64(value));
}

uint32_t StringPool::Append(std::string_view value) {
  MELODAI_CHECK_LT(size(), kMaxStrings);
  text_.append(value);
  offsets_.push_back(text_.size());
  const uint32_t id = static_cast<uint32_t>(size() - 1);
  if (index_->built.load(std::memory_order_relaxed)) IndexInsert(id, core::Hash64(value));
  return id;
}

uint32_t StringPool::InternHashed(std::string_view value, uint64_t hash) {
  if (std::optional<uint32_t> found = FindHashed(value, hash)) return *found;
  MELODAI_CHECK_LT(size(), kMaxStrings);
  text_.append(value);
  offsets_.push_back(text_.size());
  const uint32_t id = static_cast<uint32_t>(size() - 1);
  IndexInsert(id, hash);  // FindHashed built the index.
  return id;
}

uint32_t StringPool::Intern(std::string_view value) { return InternHashed(value, core::Hash64(value)); }

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
