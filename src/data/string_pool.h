// MelodAI — licensed under the Apache License 2.0.
// StringPool: interned strings stored back to back in one arena, addressed by dense uint32
// ids. The lookup index is built lazily on the first Find/Intern, so loading a pool from the
// binary cache costs a memcpy and no hashing until someone asks for a string by value.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"

namespace melodai::data {

// Invariants: offsets_.size() == size() + 1, offsets_ non-decreasing, offsets_.back() ==
// text_.size(); when the index is built, every id appears in it exactly once (unless the pool
// was created with allow_duplicates, which disables Find for later duplicates).
// Thread safety: const methods may run concurrently; mutation needs exclusive access.
class StringPool {
 public:
  StringPool();
  StringPool(StringPool&&) noexcept;
  StringPool& operator=(StringPool&&) noexcept;
  StringPool(const StringPool& other);
  StringPool& operator=(const StringPool& other);
  ~StringPool();

  // Returns the id of `value`, adding it when new.
  uint32_t Intern(std::string_view value);
  // As Intern, with hash == core::Hash64(value) already computed by the caller.
  uint32_t InternHashed(std::string_view value, uint64_t hash);
  // Appends `value` without looking for an equal string (for non-key text such as names).
  uint32_t Append(std::string_view value);
  std::optional<uint32_t> Find(std::string_view value) const;

  // REQUIRES: id < size().
  std::string_view Get(uint32_t id) const;
  size_t size() const { return offsets_.size() - 1; }
  size_t text_bytes() const { return text_.size(); }

  void Reserve(size_t strings, size_t bytes);

  void Encode(core::ByteWriter& writer) const;
  // Replaces the content from `reader`; kDataLoss naming `field` on malformed bytes.
  core::Status Decode(core::ByteReader& reader, std::string_view field);

 private:
  struct Index;
  void EnsureIndex() const;
  // Inserts `id` (whose string hashes to `hash`) unless an equal string is indexed already.
  void IndexInsert(uint32_t id, uint64_t hash) const;
  void GrowIndex(size_t minimum_count) const;
  std::optional<uint32_t> FindHashed(std::string_view value, uint64_t hash) const;

  std::string text_;
  std::vector<uint64_t> offsets_;
  mutable std::unique_ptr<Index> index_;
  mutable std::unique_ptr<std::mutex> index_mutex_;
};

}  // namespace melodai::data
