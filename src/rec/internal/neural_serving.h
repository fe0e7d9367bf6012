// MelodAI — licensed under the Apache License 2.0.
// The serving path of the neural recommenders: top-k over the whole catalogue for one history
// without LibTorch's per-op dispatch and without reading the float item matrix in full. An int8
// copy of the item matrix (per-row scales) gives every row an upper bound of its exact score;
// the rows with the best bounds are re-scored with the float kernel of NeuralModel::Score, and
// more rows are re-scored until no row outside the re-scored set can beat the k-th exact score.
// The result is therefore certified: the same items and scores as Score + SelectTopK for the
// same state. The recurrent cells of RNN/GRU4Rec also run here, on weights copied out of
// LibTorch (equal to LibTorch's state to float rounding, not bit for bit).
// Free of LibTorch types: tests and benchmarks include it without LibTorch's compile cost.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "data/catalog.h"
#include "rec/neural.h"
#include "rec/recommender.h"
#include "rec/top_k.h"

namespace melodai::rec::internal {

// A fixed-size array for large read-mostly buffers: 2 MiB aligned and, on Linux, advised to use
// transparent huge pages before it is first written. A sequential scan of 67 MB ran about 1.6x
// faster on huge pages here (the hardware prefetcher stops at every 4 KiB page boundary).
// Elements are zero-initialised. T must be trivially copyable.
template <typename T>
class LargeArray {
 public:
  LargeArray() = default;
  explicit LargeArray(size_t size);
  LargeArray(LargeArray&&) noexcept = default;
  LargeArray& operator=(LargeArray&&) noexcept = default;

  size_t size() const { return size_; }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }

 private:
  struct Free {
    void operator()(T* pointer) const { std::free(pointer); }
  };
  std::unique_ptr<T[], Free> data_;
  size_t size_ = 0;
};

// A borrowed view of a model's scoring cache: row r scores bias[r] + <matrix row r, state>.
struct ItemMatrixView {
  const float* matrix = nullptr;  // rows x width, row-major
  const float* bias = nullptr;    // rows
  size_t rows = 0;
  size_t width = 0;
};

// out[i] = bias[first + i] + <matrix row first + i, state> for i < count: the one float kernel
// behind every exact neural score (NeuralModel::Score calls it for all rows at once).
// REQUIRES: first + count <= view.rows, state.size() == view.width, out.size() >= count.
void ExactScores(const ItemMatrixView& view, std::span<const float> state, size_t first,
                 size_t count, std::span<float> out);

// Exact scores of single rows that are bit-identical to the full ExactScores call over all
// rows: each row is scored inside the aligned block of 8 rows the full call processes together,
// so the result does not depend on how the matrix-vector kernel groups rows. Rows must be
// sorted; scores[i] gets the score of rows[i].
// REQUIRES: rows sorted increasingly and < view.rows; scores.size() >= rows.size().
void ExactRowScores(const ItemMatrixView& view, std::span<const float> state,
                    std::span<const uint32_t> rows, std::span<float> scores);

// The int8 copy of an item matrix: row r is scale_r * values_r plus an error e_r with a known
// L2 norm. For a query q (quantized the same way per call) the approximate product
// a_r = scale_q * scale_r * <q8, values_r> satisfies |<q, v_r> - a_r| <= |q| |e_r| + |d| |v^_r|
// (d = the query's quantization error, v^_r = the dequantized row); UpperBounds adds that, the
// bias and the float rounding of the exact kernel, so upper_r >= the exact score of row r.
// Invariants: values_ holds rows_ x stride_ int8 in [-127, 127] (padding zero); scale_,
// error_norm_, norm_ and row_sum_ hold rows_ values each; usable_ is false when the source matrix held a
// non-finite value (callers then score exactly).
class QuantizedItemMatrix {
 public:
  QuantizedItemMatrix() = default;
  // Cost: one pass over the float matrix (about 0.2 s for 130k x 512).
  static QuantizedItemMatrix Build(const ItemMatrixView& view);

  bool usable() const { return usable_; }
  size_t rows() const { return rows_; }
  size_t width() const { return width_; }
  size_t memory_bytes() const { return values_.size() + 4 * rows_ * sizeof(float); }

  // upper[r] >= the exact score ExactScores computes for row r, for every row. Returns false
  // (and leaves `upper` unspecified) when a bound is not finite or an exact score could come
  // near float overflow; callers then score exactly.
  // REQUIRES: usable(), view has the shape of Build's view, every state value finite,
  // upper.size() == rows(). Thread-safe (const, no shared scratch).
  bool UpperBounds(const ItemMatrixView& view, std::span<const float> state,
                   std::span<float> upper) const;

 private:
  size_t rows_ = 0;
  size_t width_ = 0;
  size_t stride_ = 0;  // width_ rounded up to 64 bytes, the kernels' step
  bool usable_ = false;
  double max_norm_ = 0.0;  // the largest |v_r| (|v^_r| + |e_r|)
  LargeArray<int8_t> values_;
  std::vector<float> scale_;       // max |v| / 127 per row
  std::vector<float> error_norm_;  // |e_r| plus the float rounding allowance, rounded up
  std::vector<float> norm_;        // |v^_r|, rounded up
  std::vector<int32_t> row_sum_;   // sum of values_ of row r (the VNNI kernel's correction)
};

// The recurrent cell of a session model with its weights copied out of LibTorch, run without
// per-op dispatch. Layout as torch::nn::GRUCell / RNNCell: weight_ih [G*H, In], weight_hh
// [G*H, H], biases [G*H], G = 3 for a GRU (gates r, z, n in that order), 1 for a tanh RNN.
struct RecurrentCell {
  bool gru = true;
  size_t input_dim = 0;
  size_t hidden_dim = 0;
  std::vector<float> weight_ih, weight_hh, bias_ih, bias_hh;

  // The weights in the layout of the AVX2 kernels, built by Pack().
  LargeArray<float> packed_ih, packed_hh;

  size_t gates() const { return gru ? 3 : 1; }
  // Builds packed_ih / packed_hh. REQUIRES: the weights and biases have the sizes above; call
  // again after changing them.
  void Pack();
  // The hidden state after the `steps` inputs (steps x input_dim, row-major), from a zero
  // state, as GRUCell / RNNCell would compute it step by step; `state` gets hidden_dim values.
  // The input projections of all steps are one matrix product; only the hidden projection
  // runs per step. REQUIRES: Pack() after the weights were set; inputs.size() ==
  // steps * input_dim, state.size() == hidden_dim.
  // Thread-safe (scratch is per thread).
  void Run(std::span<const float> inputs, size_t steps, std::span<float> state) const;
};

// What the serving path keeps per model generation (built by NeuralModel::PrepareServing).
struct ServingCache {
  uint64_t generation = 0;
  QuantizedItemMatrix quantized;
  bool has_cell = false;            // session models
  RecurrentCell cell;
  std::vector<float> input_table;   // session models without tied embeddings: rows x input_dim
};

struct ServingOptions {
  // Session models: encode the history with RecurrentCell (false: with LibTorch, the state
  // Score uses, so the result equals Score + SelectTopK bit for bit). Attention models always
  // encode with LibTorch.
  bool serving_encoder = true;
  // Rows re-scored exactly in the first pass; 0 = max(4 k, 32). The result does not depend on
  // it: rows are added until it is certified.
  size_t candidates = 0;
};

// What one serving call did, for benchmarks and tests.
struct ServingStats {
  size_t rescored_rows = 0;      // rows whose exact score was computed
  bool second_pass = false;      // the first candidates could not certify the result
  bool exact_fallback = false;   // the whole catalogue was scored exactly
  int64_t encode_nanos = 0;      // history -> state
  int64_t bound_nanos = 0;       // int8 upper bounds of every row
  int64_t select_nanos = 0;      // candidate selection, exact re-scoring, certification
};

// The min(k, rows not excluded) best rows by exact score, best first in RanksBefore order
// (ScoredItem::item holds the row), certified against the int8 upper bounds as described at the
// top of this file; falls back to scoring every row when a bound is not finite or when most rows
// would need re-scoring. `excluded_rows` lists rows to skip.
// REQUIRES: quantized built from `view` and usable(); state finite with view.width values;
// excluded_rows sorted (duplicates allowed), each < view.rows; out.size() >= k.
size_t CertifiedTopK(const ItemMatrixView& view, const QuantizedItemMatrix& quantized,
                     std::span<const float> state, std::span<const uint32_t> excluded_rows,
                     size_t k, std::span<ScoredItem> out, const ServingOptions& options,
                     ServingStats* stats);

// The kernels of the serving path: the best the CPU supports (AVX-512 VNNI for the int8 scan,
// AVX2 + FMA for the float products), AVX2 at most, or portable C++. Tests run all three; a
// choice the CPU lacks falls back to the next one. Call between serving calls, not during.
enum class ServingKernels : uint8_t { kBest, kAvx2, kPortable };
void UseServingKernelsForTesting(ServingKernels kernels);

// --- Hooks on a model made by NeuralRecommender::Create / Load (defined in neural_torch.cc), so
// tests and tools reach the serving path without LibTorch headers. REQUIRES: fitted.

// The serving top-k of catalogue items for `query`, skipping `excluded_sorted` (sorted catalogue
// ids): see NeuralModel::TopK.
size_t ServingTopK(const NeuralRecommender& model, const Query& query,
                   std::span<const data::ItemId> excluded_sorted, size_t k,
                   std::span<ScoredItem> out, const ServingOptions& options = {},
                   ServingStats* stats = nullptr);
// The final state for `history`: LibTorch's (reference = true, the one Score uses) or the
// serving path's (RecurrentCell for session models; LibTorch for attention models).
std::vector<float> HistoryState(const NeuralRecommender& model,
                                std::span<const data::ItemId> history, bool reference);

}  // namespace melodai::rec::internal
