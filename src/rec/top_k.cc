// MelodAI — licensed under the Apache License 2.0.
// Top-k selection: fill a bounded heap, then scan the rest in blocks whose comparisons against
// the current threshold vectorise, touching the heap only for the rare block with a candidate.
#include "rec/top_k.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/check.h"

namespace melodai::rec {
namespace {

// Scores per block of the threshold scan: 64 bytes of floats, one cache line.
constexpr size_t kBlockSize = 16;

float Sanitize(float score) {
  return std::isnan(score) ? -std::numeric_limits<float>::infinity() : score;
}

// A heap of at most `capacity` entries in borrowed storage, ordered so that the root is the
// entry that ranks last (the one a better candidate replaces).
// Invariant: size_ <= capacity_ and data_[0, size_) is a heap under RanksBefore.
class BoundedHeap {
 public:
  BoundedHeap(std::span<ScoredItem> storage, size_t capacity)
      : data_(storage.data()), capacity_(capacity) {
    MELODAI_CHECK_GE(storage.size(), capacity);
  }

  bool full() const { return size_ == capacity_; }
  // The score a candidate must beat. REQUIRES: size_ > 0.
  float threshold() const { return data_[0].score; }

  // REQUIRES: !full().
  void Push(ScoredItem entry) {
    data_[size_++] = entry;
    std::push_heap(data_, data_ + size_, RanksBefore);
  }

  // Replaces the root by `entry` and restores the heap. REQUIRES: full(), capacity_ > 0.
  void ReplaceRoot(ScoredItem entry) {
    size_t hole = 0;
    while (true) {
      size_t child = 2 * hole + 1;
      if (child >= size_) break;
      if (child + 1 < size_ && RanksBefore(data_[child], data_[child + 1])) ++child;
      if (!RanksBefore(entry, data_[child])) break;
      data_[hole] = data_[child];
      hole = child;
    }
    data_[hole] = entry;
  }

  // Sorts the entries best first and returns their number; the heap is spent afterwards.
  size_t Finish() {
    std::sort_heap(data_, data_ + size_, RanksBefore);
    return size_;
  }

 private:
  ScoredItem* data_;
  size_t capacity_;
  size_t size_ = 0;
};

// Offers items [begin, end) to the heap in increasing id order. Because ids only grow, a
// candidate whose score equals the threshold ranks after the root and can be rejected, so the
// hot comparison is a single `score > threshold` (false for NaN, which ranks like -infinity).
template <bool kMasked>
void ScanRange(const float* scores, const uint8_t* excluded, size_t begin, size_t end,
               BoundedHeap& heap) {
  size_t i = begin;
  for (; i < end && !heap.full(); ++i) {
    if (kMasked && excluded[i] != 0) continue;
    heap.Push({Sanitize(scores[i]), static_cast<data::ItemId>(i)});
  }
  if (i >= end) return;
  float threshold = heap.threshold();
  auto offer = [&](size_t item) {
    if (scores[item] > threshold && !(kMasked && excluded[item] != 0)) {
      heap.ReplaceRoot({scores[item], static_cast<data::ItemId>(item)});
      threshold = heap.threshold();
    }
  };
  for (; i + kBlockSize <= end; i += kBlockSize) {
    int any_above = 0;
    for (size_t j = 0; j < kBlockSize; ++j) any_above |= scores[i + j] > threshold ? 1 : 0;
    if (any_above == 0) continue;  // The common case once the threshold has settled.
    for (size_t j = i; j < i + kBlockSize; ++j) offer(j);
  }
  for (; i < end; ++i) offer(i);
}

}  // namespace

size_t SelectTopK(std::span<const float> scores, std::span<const uint8_t> excluded, size_t k,
                  std::span<ScoredItem> out) {
  MELODAI_CHECK_GE(out.size(), k);
  MELODAI_CHECK(excluded.empty() || excluded.size() == scores.size());
  MELODAI_CHECK_LE(scores.size(), size_t{std::numeric_limits<data::ItemId>::max()});
  if (k == 0) return 0;
  BoundedHeap heap(out, k);
  if (excluded.empty()) {
    ScanRange<false>(scores.data(), nullptr, 0, scores.size(), heap);
  } else {
    ScanRange<true>(scores.data(), excluded.data(), 0, scores.size(), heap);
  }
  const size_t selected = heap.Finish();
  MELODAI_CHECK_LE(selected, k);
  return selected;
}

size_t SelectTopKExcludingSorted(std::span<const float> scores,
                                 std::span<const data::ItemId> excluded_sorted, size_t k,
                                 std::span<ScoredItem> out) {
  MELODAI_CHECK_GE(out.size(), k);
  MELODAI_CHECK(std::is_sorted(excluded_sorted.begin(), excluded_sorted.end()));
  MELODAI_CHECK(excluded_sorted.empty() || excluded_sorted.back() < scores.size());
  MELODAI_CHECK_LE(scores.size(), size_t{std::numeric_limits<data::ItemId>::max()});
  if (k == 0) return 0;
  BoundedHeap heap(out, k);
  size_t begin = 0;
  for (const data::ItemId item : excluded_sorted) {
    if (item < begin) continue;  // A duplicate of the previous exclusion.
    ScanRange<false>(scores.data(), nullptr, begin, item, heap);
    begin = size_t{item} + 1;
  }
  ScanRange<false>(scores.data(), nullptr, begin, scores.size(), heap);
  const size_t selected = heap.Finish();
  MELODAI_CHECK_LE(selected, k);
  return selected;
}

}  // namespace melodai::rec
