// MelodAI — licensed under the Apache License 2.0.
// The LibTorch-free serving path of the neural recommenders (see rec/internal/neural_serving.h):
// exact scores through Eigen, the int8 upper bounds, the certified top-k and the recurrent
// cells. Kernels exist as portable C++ and as AVX2 (+FMA) versions, the int8 scan also with
// AVX-512 VNNI (256-bit); the best the CPU has is chosen at run time (function target attributes), so the
// library still runs on any x86-64. All int8 kernels compute the same integers.
#include "rec/internal/neural_serving.h"

#include <Eigen/Core>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>

#include "core/check.h"
#include "core/clock.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MELODAI_SERVING_AVX2 1
#endif
#ifdef __linux__
#include <sys/mman.h>
#endif

namespace melodai::rec::internal {
namespace {

// Rows per panel of the packed float weights and inputs per block of the AVX2 row products.
constexpr size_t kPanelRows = 16;
constexpr size_t kPanelInputs = 6;
// Rows per block of the int8 scan: their dot products stay in L1 until turned into bounds.
constexpr size_t kScanChunkRows = 256;
// int8 rows are padded to a multiple of this many bytes, the step of the int8 kernels (two
// 32-byte registers).
constexpr size_t kInt8Step = 64;
constexpr size_t kInt8HalfStep = 32;
// Widest row the int8 copy takes: int32 dot products of 127 * 127 per column cannot overflow.
constexpr size_t kMaxQuantizedWidth = size_t{1} << 16;
static_assert(kMaxQuantizedWidth * 127 * 127 < size_t{INT32_MAX});
// Rows the matrix-vector kernel behind ExactScores may process together (Eigen's GEMV takes 8,
// 4, 2 or 1 rows at a time, always aligned to a multiple of 8 from the first row).
constexpr size_t kExactBlockRows = 8;
// Allocations of at least this size get 2 MiB alignment and the huge page advice.
constexpr size_t kHugePageBytes = size_t{2} << 20;
// Safety margins of the upper bounds (see UpperBounds): relative on the slack, relative on the
// magnitude of the approximate score, and absolute (underflow).
constexpr float kSlackMargin = 1.0f + 1.0f / 1024.0f;
constexpr float kMagnitudeMargin = 1.0f / (1 << 20);
constexpr float kAbsoluteMargin = 1e-30f;
// Largest |q| |v| the bounds accept (a tenth of the float range).
constexpr double kMaxProductMagnitude = 3e37;
// The float rounding the margins absorb stays below 8 units of 2^-24 of the magnitude and 4 of
// the slack: the margins are at least twice that.
static_assert(kSlackMargin - 1.0f >= 64 * std::numeric_limits<float>::epsilon());
static_assert(kMagnitudeMargin >= 8 * std::numeric_limits<float>::epsilon());

std::atomic<ServingKernels> kernel_choice{ServingKernels::kBest};

struct CpuFeatures {
  bool avx2 = false;         // with FMA
  bool avx512_vnni = false;  // AVX-512 VL + VNNI (vpdpbusd on 256-bit registers)
};

const CpuFeatures& Cpu() {
  static const CpuFeatures features = [] {
    CpuFeatures found;
#ifdef MELODAI_SERVING_AVX2
    __builtin_cpu_init();
    found.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    found.avx512_vnni = found.avx2 && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#endif
    return found;
  }();
  return features;
}

// The float kernels: AVX2 + FMA unless the portable ones are forced.
bool UseAvx2() {
  return Cpu().avx2 && kernel_choice.load(std::memory_order_relaxed) != ServingKernels::kPortable;
}
// The int8 scan: AVX-512 VNNI when present and not restricted to AVX2.
bool UseVnni() {
  return Cpu().avx512_vnni && kernel_choice.load(std::memory_order_relaxed) == ServingKernels::kBest;
}

// The smallest float >= x (x >= 0), with a little extra so double rounding cannot undercut it.
float RoundUp(double x) {
  const auto rounded = static_cast<float>(x * (1.0 + 1e-9));
  return std::nextafter(rounded, std::numeric_limits<float>::infinity());
}

// ---- int8 dot products: dots[r] = <query, row r> for `rows` rows of `stride` bytes.

void Int8DotsPortable(const int8_t* values, size_t rows, size_t stride, const int8_t* query,
                      int32_t* dots) {
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* row = values + r * stride;
    int32_t sum = 0;
    for (size_t j = 0; j < stride; ++j) sum += int32_t{row[j]} * int32_t{query[j]};
    dots[r] = sum;
  }
}

#ifdef MELODAI_SERVING_AVX2
// maddubs multiplies unsigned by signed bytes, so the query's sign moves onto the row
// (sign_epi8) and its magnitude is the unsigned operand. Both lie in [-127, 127], so a pair sum
// is at most 2 * 127 * 127 = 32258 and the int16 step cannot saturate.
__attribute__((target("avx2"))) inline __m256i Int8Step(__m256i acc, const int8_t* row,
                                                        __m256i query, __m256i magnitude,
                                                        __m256i ones) {
  const __m256i signed_row = _mm256_sign_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)), query);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, signed_row), ones));
}

__attribute__((target("avx2"))) inline int32_t HorizontalSum(__m256i v) {
  __m128i sum = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0x4e));
  sum = _mm_add_epi32(sum, _mm_shuffle_epi32(sum, 0xb1));
  return _mm_cvtsi128_si32(sum);
}

// One row after the other, so the reads form a single sequential stream: interleaving several
// rows 512 bytes apart defeated the hardware prefetcher (a 67 MB scan ran at a third of the
// memory bandwidth).
__attribute__((target("avx2"))) void Int8DotsAvx2(const int8_t* values, size_t rows,
                                                  size_t stride, const int8_t* query,
                                                  const int8_t* magnitude, int32_t* dots) {
  const __m256i ones = _mm256_set1_epi16(1);
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* row = values + r * stride;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (size_t j = 0; j < stride; j += kInt8Step) {
      a0 = Int8Step(a0, row + j, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(query + j)),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(magnitude + j)), ones);
      a1 = Int8Step(a1, row + j + kInt8HalfStep,
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(query + j + kInt8HalfStep)),
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(magnitude + j + kInt8HalfStep)), ones);
    }
    dots[r] = HorizontalSum(_mm256_add_epi32(a0, a1));
  }
}

// vpdpbusd multiplies unsigned by signed bytes and adds groups of four products into int32
// lanes without saturation, one instruction per 32 bytes (256-bit form: Zen 4 splits 512-bit
// operations in two anyway): the query goes in biased by 128 (unsigned), so each dot carries
// 128 * (row sum), subtracted at the end.
__attribute__((target("avx2,avx512vl,avx512vnni"))) void Int8DotsVnni(const int8_t* values, size_t rows,
                                                                     size_t stride, const uint8_t* biased_query,
                                                                     const int32_t* row_sums, int32_t* dots) {
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* row = values + r * stride;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0;
    for (size_t j = 0; j < stride; j += kInt8Step) {
      a0 = _mm256_dpbusd_epi32(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(biased_query + j)),
                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + j)));
      a1 = _mm256_dpbusd_epi32(
          a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(biased_query + j + kInt8HalfStep)),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + j + kInt8HalfStep)));
    }
    dots[r] = HorizontalSum(_mm256_add_epi32(a0, a1)) - 128 * row_sums[r];
  }
}
#endif

// ---- float row products: out[i * rows + r] = bias[r] + <w row r, x row i>, i < n.

void DotRowsPortable(const float* w, size_t rows, size_t cols, const float* x, size_t n,
                     const float* bias, float* out) {
  for (size_t i = 0; i < n; ++i) {
    for (size_t r = 0; r < rows; ++r) {
      float sum = 0.0f;
      for (size_t j = 0; j < cols; ++j) sum += w[r * cols + j] * x[i * cols + j];
      out[i * rows + r] = bias[r] + sum;
    }
  }
}

#ifdef MELODAI_SERVING_AVX2
// The AVX2 kernels read weights packed in panels of kPanelRows rows (PackRowPanels): for every
// column k the panel's 16 weights are adjacent, so a panel is one sequential stream and two
// vectors hold the 16 rows' products (no horizontal sums).

// n >= 1 inputs, blocks of kPanelInputs: 12 accumulators (16 rows x 6 inputs) per column step,
// the register-blocked micro-kernel of a GEMM. `packed_inputs` is scratch.
__attribute__((target("avx2,fma"))) void PanelProductsAvx2(const float* packed, size_t rows,
                                                           size_t cols, const float* x, size_t n,
                                                           const float* bias, float* out,
                                                           std::vector<float>& packed_inputs) {
  const size_t blocks = (n + kPanelInputs - 1) / kPanelInputs;
  packed_inputs.assign(blocks * cols * kPanelInputs, 0.0f);
  for (size_t i = 0; i < n; ++i) {
    float* target = packed_inputs.data() + (i / kPanelInputs) * cols * kPanelInputs + i % kPanelInputs;
    for (size_t k = 0; k < cols; ++k) target[k * kPanelInputs] = x[i * cols + k];
  }
  const size_t panels = (rows + kPanelRows - 1) / kPanelRows;
  for (size_t p = 0; p < panels; ++p) {
    const float* panel = packed + p * cols * kPanelRows;
    for (size_t b = 0; b < blocks; ++b) {
      const float* inputs = packed_inputs.data() + b * cols * kPanelInputs;
      __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
             c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
      for (size_t k = 0; k < cols; ++k) {
        const __m256 w0 = _mm256_loadu_ps(panel + k * kPanelRows);
        const __m256 w1 = _mm256_loadu_ps(panel + k * kPanelRows + 8);
        const float* column = inputs + k * kPanelInputs;
        __m256 v = _mm256_broadcast_ss(column + 0);
        c00 = _mm256_fmadd_ps(w0, v, c00);
        c01 = _mm256_fmadd_ps(w1, v, c01);
        v = _mm256_broadcast_ss(column + 1);
        c10 = _mm256_fmadd_ps(w0, v, c10);
        c11 = _mm256_fmadd_ps(w1, v, c11);
        v = _mm256_broadcast_ss(column + 2);
        c20 = _mm256_fmadd_ps(w0, v, c20);
        c21 = _mm256_fmadd_ps(w1, v, c21);
        v = _mm256_broadcast_ss(column + 3);
        c30 = _mm256_fmadd_ps(w0, v, c30);
        c31 = _mm256_fmadd_ps(w1, v, c31);
        v = _mm256_broadcast_ss(column + 4);
        c40 = _mm256_fmadd_ps(w0, v, c40);
        c41 = _mm256_fmadd_ps(w1, v, c41);
        v = _mm256_broadcast_ss(column + 5);
        c50 = _mm256_fmadd_ps(w0, v, c50);
        c51 = _mm256_fmadd_ps(w1, v, c51);
      }
      alignas(32) float sums[kPanelInputs][kPanelRows];
      _mm256_store_ps(sums[0], c00);
      _mm256_store_ps(sums[0] + 8, c01);
      _mm256_store_ps(sums[1], c10);
      _mm256_store_ps(sums[1] + 8, c11);
      _mm256_store_ps(sums[2], c20);
      _mm256_store_ps(sums[2] + 8, c21);
      _mm256_store_ps(sums[3], c30);
      _mm256_store_ps(sums[3] + 8, c31);
      _mm256_store_ps(sums[4], c40);
      _mm256_store_ps(sums[4] + 8, c41);
      _mm256_store_ps(sums[5], c50);
      _mm256_store_ps(sums[5] + 8, c51);
      const size_t panel_rows = std::min(kPanelRows, rows - p * kPanelRows);
      for (size_t i = 0; i < kPanelInputs && b * kPanelInputs + i < n; ++i) {
        float* target = out + (b * kPanelInputs + i) * rows + p * kPanelRows;
        for (size_t r = 0; r < panel_rows; ++r) target[r] = bias[p * kPanelRows + r] + sums[i][r];
      }
    }
  }
}

// One input: the columns go round four accumulator pairs so eight FMA chains overlap and the
// panel streams at cache bandwidth. `reverse` visits the panels last to first (the values do not
// change: every panel is computed on its own).
__attribute__((target("avx2,fma"))) void PanelProductAvx2(const float* packed, size_t rows,
                                                          size_t cols, const float* x,
                                                          const float* bias, float* out, bool reverse) {
  const size_t panels = (rows + kPanelRows - 1) / kPanelRows;
  for (size_t visit = 0; visit < panels; ++visit) {
    const size_t p = reverse ? panels - 1 - visit : visit;
    const float* panel = packed + p * cols * kPanelRows;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    size_t k = 0;
    for (; k + 4 <= cols; k += 4) {
      const float* w = panel + k * kPanelRows;
      __m256 v = _mm256_broadcast_ss(x + k);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w), v, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 8), v, a1);
      v = _mm256_broadcast_ss(x + k + 1);
      a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 16), v, a2);
      a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 24), v, a3);
      v = _mm256_broadcast_ss(x + k + 2);
      a4 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 32), v, a4);
      a5 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 40), v, a5);
      v = _mm256_broadcast_ss(x + k + 3);
      a6 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 48), v, a6);
      a7 = _mm256_fmadd_ps(_mm256_loadu_ps(w + 56), v, a7);
    }
    for (; k < cols; ++k) {
      const __m256 v = _mm256_broadcast_ss(x + k);
      a0 = _mm256_fmadd_ps(_mm256_loadu_ps(panel + k * kPanelRows), v, a0);
      a1 = _mm256_fmadd_ps(_mm256_loadu_ps(panel + k * kPanelRows + 8), v, a1);
    }
    alignas(32) float sums[kPanelRows];
    _mm256_store_ps(sums, _mm256_add_ps(_mm256_add_ps(a0, a2), _mm256_add_ps(a4, a6)));
    _mm256_store_ps(sums + 8, _mm256_add_ps(_mm256_add_ps(a1, a3), _mm256_add_ps(a5, a7)));
    const size_t panel_rows = std::min(kPanelRows, rows - p * kPanelRows);
    for (size_t r = 0; r < panel_rows; ++r) out[p * kPanelRows + r] = bias[p * kPanelRows + r] + sums[r];
  }
}
#endif

// out[i * rows + r] = bias[r] + <w row r, x row i> for i < n; `packed` is w in panels.
// `reverse` (n == 1 only) reads the weights from the end: alternating it between the steps of a
// recurrence finds the last weights read still in L2 (the matrix is larger than L2).
void RowProducts(const float* w, const float* packed, size_t rows, size_t cols, const float* x,
                 size_t n, const float* bias, float* out, bool reverse = false) {
#ifdef MELODAI_SERVING_AVX2
  if (UseAvx2()) {
    thread_local std::vector<float> packed_inputs;
    if (n == 1) return PanelProductAvx2(packed, rows, cols, x, bias, out, reverse);
    return PanelProductsAvx2(packed, rows, cols, x, n, bias, out, packed_inputs);
  }
#endif
  (void)packed;
  (void)reverse;
  DotRowsPortable(w, rows, cols, x, n, bias, out);
}

float Sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Every row of `rows` scored exactly, then the top k of those not excluded.
size_t ExactTopK(const ItemMatrixView& view, std::span<const float> state,
                 std::span<const data::ItemId> excluded_rows, size_t k, std::span<ScoredItem> out,
                 ServingStats* stats) {
  thread_local std::vector<float> scores;
  scores.resize(view.rows);
  ExactScores(view, state, 0, view.rows, scores);
  if (stats != nullptr) {
    stats->exact_fallback = true;
    stats->rescored_rows += view.rows;
  }
  return SelectTopKExcludingSorted(scores, excluded_rows, k, out);
}

// Appends to `extra` every row that is neither excluded nor in `pool` (both sorted) and whose
// upper bound reaches `threshold`, in increasing order; stops early past `limit` rows.
void RowsReaching(std::span<const float> upper, float threshold,
                  std::span<const data::ItemId> excluded_rows, std::span<const data::ItemId> pool,
                  size_t limit, std::vector<data::ItemId>& extra) {
  size_t next_excluded = 0, next_pool = 0;
  for (size_t r = 0; r < upper.size(); ++r) {
    if (!(upper[r] >= threshold)) continue;
    while (next_excluded < excluded_rows.size() && excluded_rows[next_excluded] < r) ++next_excluded;
    while (next_pool < pool.size() && pool[next_pool] < r) ++next_pool;
    if (next_excluded < excluded_rows.size() && excluded_rows[next_excluded] == r) continue;
    if (next_pool < pool.size() && pool[next_pool] == r) continue;
    extra.push_back(static_cast<data::ItemId>(r));
    if (extra.size() > limit) return;
  }
}

// The per-query factors of the upper bounds (see UpperBounds) and one chunk's per-row data.
struct BoundTerms {
  float query_scale;  // the int8 query's scale
  float query_norm;   // |q|, rounded up
  float query_error;  // |d|, rounded up
};
struct ChunkRows {
  size_t count;
  const float* scale;
  const float* error_norm;
  const float* norm;
  const float* bias;
};

// upper[i] = (b + a) + slack * kSlackMargin + kMagnitudeMargin (|b| + |a|) + kAbsoluteMargin,
// with a = query_scale * scale * dot and slack = |q| |e| + |d| |v^|. Returns 0, or NaN when some
// bound is not finite (x * 0 is NaN exactly for infinities and NaN).
float ChunkBoundsPortable(const BoundTerms& terms, const ChunkRows& rows, const int32_t* dots,
                          float* upper) {
  float check = 0.0f;
  for (size_t i = 0; i < rows.count; ++i) {
    const float approximate = (terms.query_scale * rows.scale[i]) * static_cast<float>(dots[i]);
    const float bias = rows.bias[i];
    const float slack = terms.query_norm * rows.error_norm[i] + terms.query_error * rows.norm[i];
    upper[i] = (bias + approximate) + slack * kSlackMargin +
               kMagnitudeMargin * (std::abs(bias) + std::abs(approximate)) + kAbsoluteMargin;
    check += upper[i] * 0.0f;
  }
  return check;
}

#ifdef MELODAI_SERVING_AVX2
// The same arithmetic eight rows at a time.
__attribute__((target("avx2"))) float ChunkBoundsAvx2(const BoundTerms& terms, const ChunkRows& rows,
                                                      const int32_t* dots, float* upper) {
  const __m256 query_scale = _mm256_set1_ps(terms.query_scale);
  const __m256 query_norm = _mm256_set1_ps(terms.query_norm);
  const __m256 query_error = _mm256_set1_ps(terms.query_error);
  const __m256 slack_margin = _mm256_set1_ps(kSlackMargin);
  const __m256 magnitude_margin = _mm256_set1_ps(kMagnitudeMargin);
  const __m256 absolute_margin = _mm256_set1_ps(kAbsoluteMargin);
  const __m256 sign_mask = _mm256_set1_ps(-0.0f);
  __m256 check = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= rows.count; i += 8) {
    const __m256 dot = _mm256_cvtepi32_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(dots + i)));
    const __m256 approximate = _mm256_mul_ps(_mm256_mul_ps(query_scale, _mm256_loadu_ps(rows.scale + i)), dot);
    const __m256 bias = _mm256_loadu_ps(rows.bias + i);
    const __m256 slack = _mm256_add_ps(_mm256_mul_ps(query_norm, _mm256_loadu_ps(rows.error_norm + i)),
                                       _mm256_mul_ps(query_error, _mm256_loadu_ps(rows.norm + i)));
    const __m256 magnitude = _mm256_add_ps(_mm256_andnot_ps(sign_mask, bias), _mm256_andnot_ps(sign_mask, approximate));
    __m256 bound = _mm256_add_ps(_mm256_add_ps(bias, approximate), _mm256_mul_ps(slack, slack_margin));
    bound = _mm256_add_ps(_mm256_add_ps(bound, _mm256_mul_ps(magnitude_margin, magnitude)), absolute_margin);
    _mm256_storeu_ps(upper + i, bound);
    check = _mm256_add_ps(check, _mm256_mul_ps(bound, _mm256_setzero_ps()));
  }
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, check);
  float total = 0.0f;
  for (const float lane : lanes) total += lane;
  const ChunkRows tail{rows.count - i, rows.scale + i, rows.error_norm + i, rows.norm + i, rows.bias + i};
  return total + ChunkBoundsPortable(terms, tail, dots + i, upper + i);
}
#endif

}  // namespace

template <typename T>
LargeArray<T>::LargeArray(size_t size) : size_(size) {
  static_assert(std::is_trivially_copyable_v<T>);
  if (size == 0) return;
  const size_t alignment = size * sizeof(T) >= kHugePageBytes ? kHugePageBytes : 64;
  const size_t bytes = (size * sizeof(T) + alignment - 1) / alignment * alignment;
  void* memory = std::aligned_alloc(alignment, bytes);
  MELODAI_CHECK(memory != nullptr);
#ifdef __linux__
  // Advice only: without huge pages the scan is slower, never wrong, so the result is ignored.
  if (alignment == kHugePageBytes) (void)madvise(memory, bytes, MADV_HUGEPAGE);
#endif
  std::memset(memory, 0, bytes);
  data_.reset(static_cast<T*>(memory));
}

template class LargeArray<int8_t>;
template class LargeArray<float>;

void UseServingKernelsForTesting(ServingKernels kernels) { kernel_choice.store(kernels); }

void ExactScores(const ItemMatrixView& view, std::span<const float> state, size_t first,
                 size_t count, std::span<float> out) {
  MELODAI_CHECK_LE(first + count, view.rows);
  MELODAI_CHECK_EQ(state.size(), view.width);
  MELODAI_CHECK_GE(out.size(), count);
  using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const auto rows = static_cast<Eigen::Index>(count);
  const auto width = static_cast<Eigen::Index>(view.width);
  const Eigen::Map<const RowMajor> matrix(view.matrix + first * view.width, rows, width);
  const Eigen::Map<const Eigen::VectorXf> vector(state.data(), width);
  const Eigen::Map<const Eigen::VectorXf> bias(view.bias + first, rows);
  Eigen::Map<Eigen::VectorXf> result(out.data(), rows);
  result.noalias() = matrix * vector + bias;
}

void ExactRowScores(const ItemMatrixView& view, std::span<const float> state,
                    std::span<const uint32_t> rows, std::span<float> scores) {
  MELODAI_CHECK_GE(scores.size(), rows.size());
  float block[kExactBlockRows];
  size_t block_begin = view.rows;  // none yet
  for (size_t i = 0; i < rows.size(); ++i) {
    const size_t row = rows[i];
    MELODAI_CHECK_LT(row, view.rows);
    MELODAI_CHECK(i == 0 || rows[i - 1] < row);
    const size_t begin = row / kExactBlockRows * kExactBlockRows;
    if (begin != block_begin) {
      block_begin = begin;
      const size_t count = std::min(kExactBlockRows, view.rows - begin);
      if (count == 1 && view.rows >= 3) {
        // A lone last row: Eigen evaluates a one-row product as a dot product, while the full
        // call ran its one-row GEMV path; three rows end in that path too.
        ExactScores(view, state, view.rows - 3, 3, block);
        block[0] = block[2];
      } else {
        ExactScores(view, state, begin, count, block);
      }
    }
    scores[i] = block[row - begin];
  }
}

QuantizedItemMatrix QuantizedItemMatrix::Build(const ItemMatrixView& view) {
  QuantizedItemMatrix quantized;
  quantized.rows_ = view.rows;
  quantized.width_ = view.width;
  quantized.stride_ = (view.width + kInt8Step - 1) / kInt8Step * kInt8Step;
  if (view.width > kMaxQuantizedWidth) return quantized;
  for (size_t i = 0; i < view.rows * view.width; ++i) {
    if (!std::isfinite(view.matrix[i])) return quantized;
  }
  for (size_t r = 0; r < view.rows; ++r) {
    if (!std::isfinite(view.bias[r])) return quantized;
  }
  quantized.values_ = LargeArray<int8_t>(view.rows * quantized.stride_);
  quantized.scale_.resize(view.rows);
  quantized.error_norm_.resize(view.rows);
  quantized.norm_.resize(view.rows);
  quantized.row_sum_.resize(view.rows);
  // Rounding allowance of the exact kernel: |fl(<q, v>) - <q, v>| <= gamma sum |q_i v_i| for
  // any summation order (Higham), and sum |q_i v_i| <= |q| (|v^| + |e|).
  const double unit = std::ldexp(1.0, -24);
  const double gamma = static_cast<double>(view.width) * unit / (1.0 - static_cast<double>(view.width) * unit);
  for (size_t r = 0; r < view.rows; ++r) {
    const float* row = view.matrix + r * view.width;
    int8_t* values = quantized.values_.data() + r * quantized.stride_;
    float max_abs = 0.0f;
    for (size_t j = 0; j < view.width; ++j) max_abs = std::max(max_abs, std::abs(row[j]));
    const float scale = max_abs / 127.0f;
    double error_squares = 0.0, norm_squares = 0.0;
    int32_t sum = 0;
    for (size_t j = 0; j < view.width; ++j) {
      const long level = scale > 0.0f ? std::lrint(std::clamp(row[j] / scale, -127.0f, 127.0f)) : 0;
      values[j] = static_cast<int8_t>(std::clamp(level, -127L, 127L));
      sum += values[j];
      const double dequantized = static_cast<double>(scale) * values[j];
      const double error = static_cast<double>(row[j]) - dequantized;
      error_squares += error * error;
      norm_squares += dequantized * dequantized;
    }
    const double norm = std::sqrt(norm_squares), error = std::sqrt(error_squares);
    quantized.scale_[r] = scale;
    quantized.row_sum_[r] = sum;
    quantized.norm_[r] = RoundUp(norm);
    quantized.error_norm_[r] = RoundUp(error * (1.0 + gamma) + gamma * norm);
    quantized.max_norm_ = std::max(quantized.max_norm_, norm + error);
  }
  quantized.usable_ = true;
  return quantized;
}

bool QuantizedItemMatrix::UpperBounds(const ItemMatrixView& view, std::span<const float> state,
                                      std::span<float> upper) const {
  MELODAI_CHECK(usable_);
  MELODAI_CHECK_EQ(view.rows, rows_);
  MELODAI_CHECK_EQ(view.width, width_);
  MELODAI_CHECK_EQ(state.size(), width_);
  MELODAI_CHECK_EQ(upper.size(), rows_);
  // The query in int8 with one scale; d = q - scale * q8 is its error.
  thread_local std::vector<int8_t> query, magnitude;
  thread_local std::vector<uint8_t> biased_query;
  thread_local std::vector<int32_t> dots;
  query.assign(stride_, 0);
  magnitude.assign(stride_, 0);
  biased_query.assign(stride_, 128);
  dots.resize(kScanChunkRows);
  float max_abs = 0.0f;
  for (const float value : state) {
    if (!std::isfinite(value)) return false;
    max_abs = std::max(max_abs, std::abs(value));
  }
  const float query_scale = max_abs / 127.0f;
  double norm_squares = 0.0, error_squares = 0.0;
  for (size_t j = 0; j < width_; ++j) {
    const long level =
        query_scale > 0.0f ? std::lrint(std::clamp(state[j] / query_scale, -127.0f, 127.0f)) : 0;
    query[j] = static_cast<int8_t>(std::clamp(level, -127L, 127L));
    magnitude[j] = static_cast<int8_t>(std::abs(query[j]));
    biased_query[j] = static_cast<uint8_t>(query[j] + 128);
    const double error = static_cast<double>(state[j]) - static_cast<double>(query_scale) * query[j];
    error_squares += error * error;
    norm_squares += static_cast<double>(state[j]) * state[j];
  }
  const float query_norm = RoundUp(std::sqrt(norm_squares));
  const float query_error = RoundUp(std::sqrt(error_squares));
  // Every partial sum of an exact score is at most |q| |v| in magnitude: keep them far from
  // overflow, or leave the ranking to the exact path (which ranks NaN like -infinity).
  if (!(static_cast<double>(query_norm) * max_norm_ < kMaxProductMagnitude)) return false;
  // <q, v> = a + <q, e> + <d, v^>, so |<q, v> - a| <= |q| |e| + |d| |v^| (Cauchy-Schwarz).
  // The margins cover the float rounding of this very computation and of the exact score's last
  // addition (a few units in the last place, far below 2^-20 relative and 2^-10 of the slack).
  const BoundTerms terms{query_scale, query_norm, query_error};
  float finite_check = 0.0f;  // becomes NaN when any bound is not finite
  for (size_t begin = 0; begin < rows_; begin += kScanChunkRows) {
    const size_t count = std::min(kScanChunkRows, rows_ - begin);
    const int8_t* values = values_.data() + begin * stride_;
    const ChunkRows chunk{count, scale_.data() + begin, error_norm_.data() + begin, norm_.data() + begin,
                          view.bias + begin};
#ifdef MELODAI_SERVING_AVX2
    if (UseVnni()) {
      Int8DotsVnni(values, count, stride_, biased_query.data(), row_sum_.data() + begin, dots.data());
      finite_check += ChunkBoundsAvx2(terms, chunk, dots.data(), upper.data() + begin);
      continue;
    }
    if (UseAvx2()) {
      Int8DotsAvx2(values, count, stride_, query.data(), magnitude.data(), dots.data());
      finite_check += ChunkBoundsAvx2(terms, chunk, dots.data(), upper.data() + begin);
      continue;
    }
#endif
    Int8DotsPortable(values, count, stride_, query.data(), dots.data());
    finite_check += ChunkBoundsPortable(terms, chunk, dots.data(), upper.data() + begin);
  }
  return finite_check == 0.0f;
}

namespace {

size_t PackedSize(size_t rows, size_t cols) { return (rows + kPanelRows - 1) / kPanelRows * kPanelRows * cols; }

// Row r of `w` (rows x cols) as column r % 16 of panel r / 16 (cols x 16), zero-padded.
LargeArray<float> PackRowPanels(const std::vector<float>& w, size_t rows, size_t cols) {
  LargeArray<float> packed(PackedSize(rows, cols));
  for (size_t r = 0; r < rows; ++r) {
    float* panel = packed.data() + r / kPanelRows * cols * kPanelRows + r % kPanelRows;
    for (size_t k = 0; k < cols; ++k) panel[k * kPanelRows] = w[r * cols + k];
  }
  return packed;
}

}  // namespace

void RecurrentCell::Pack() {
  const size_t gate_rows = gates() * hidden_dim;
  MELODAI_CHECK_EQ(weight_ih.size(), gate_rows * input_dim);
  MELODAI_CHECK_EQ(weight_hh.size(), gate_rows * hidden_dim);
  MELODAI_CHECK_EQ(bias_ih.size(), gate_rows);
  MELODAI_CHECK_EQ(bias_hh.size(), gate_rows);
  packed_ih = PackRowPanels(weight_ih, gate_rows, input_dim);
  packed_hh = PackRowPanels(weight_hh, gate_rows, hidden_dim);
}

void RecurrentCell::Run(std::span<const float> inputs, size_t steps, std::span<float> state) const {
  MELODAI_CHECK_EQ(inputs.size(), steps * input_dim);
  MELODAI_CHECK_EQ(state.size(), hidden_dim);
  const size_t gate_rows = gates() * hidden_dim;
  MELODAI_CHECK_EQ(weight_ih.size(), gate_rows * input_dim);
  MELODAI_CHECK_EQ(weight_hh.size(), gate_rows * hidden_dim);
  MELODAI_CHECK_MSG(packed_ih.size() == PackedSize(gate_rows, input_dim) &&
                        packed_hh.size() == PackedSize(gate_rows, hidden_dim),
                    "RecurrentCell::Pack() not called after setting the weights");
  std::fill(state.begin(), state.end(), 0.0f);
  if (steps == 0) return;
  thread_local std::vector<float> input_gates, hidden_gates;
  input_gates.resize(steps * gate_rows);
  hidden_gates.resize(gate_rows);
  // All input projections in one product: the weights are read once, not once per step.
  RowProducts(weight_ih.data(), packed_ih.data(), gate_rows, input_dim, inputs.data(), steps, bias_ih.data(),
              input_gates.data());
  const size_t h = hidden_dim;
  for (size_t step = 0; step < steps; ++step) {
    const float* gi = input_gates.data() + step * gate_rows;
    float* gh = hidden_gates.data();
    RowProducts(weight_hh.data(), packed_hh.data(), gate_rows, hidden_dim, state.data(), 1, bias_hh.data(), gh,
                /*reverse=*/step % 2 == 1);
    if (!gru) {
      for (size_t i = 0; i < h; ++i) state[i] = std::tanh(gi[i] + gh[i]);
      continue;
    }
    // As at::gru_cell: r = s(gi_r + gh_r), z = s(gi_z + gh_z), n = tanh(gi_n + r gh_n),
    // h' = (h - n) z + n.
    for (size_t i = 0; i < h; ++i) {
      const float reset = Sigmoid(gh[i] + gi[i]);
      const float update = Sigmoid(gh[h + i] + gi[h + i]);
      const float candidate = std::tanh(gi[2 * h + i] + gh[2 * h + i] * reset);
      state[i] = (state[i] - candidate) * update + candidate;
    }
  }
}

size_t CertifiedTopK(const ItemMatrixView& view, const QuantizedItemMatrix& quantized,
                     std::span<const float> state, std::span<const data::ItemId> excluded_rows,
                     size_t k, std::span<ScoredItem> out, const ServingOptions& options,
                     ServingStats* stats) {
  MELODAI_CHECK(quantized.usable());
  MELODAI_CHECK_EQ(quantized.rows(), view.rows);
  MELODAI_CHECK_GE(out.size(), k);
  if (k == 0) return 0;
  const core::SystemClock& clock = core::SystemClock::Instance();
  const int64_t start = stats != nullptr ? clock.NowNanos() : 0;
  thread_local std::vector<float> upper;
  upper.resize(view.rows);
  const bool bounded = quantized.UpperBounds(view, state, upper);
  const int64_t bounded_at = stats != nullptr ? clock.NowNanos() : 0;
  if (stats != nullptr) stats->bound_nanos += bounded_at - start;
  if (!bounded) return ExactTopK(view, state, excluded_rows, k, out, stats);

  // First pass: the rows with the best upper bounds, scored exactly.
  const size_t wanted = std::max(k, options.candidates > 0 ? options.candidates : std::max<size_t>(4 * k, 32));
  thread_local std::vector<ScoredItem> candidates, pool;
  thread_local std::vector<data::ItemId> pool_rows, extra;
  thread_local std::vector<float> exact;
  candidates.resize(wanted);
  const size_t found = SelectTopKExcludingSorted(upper, excluded_rows, wanted, candidates);
  pool_rows.clear();
  for (size_t i = 0; i < found; ++i) pool_rows.push_back(candidates[i].item);
  std::sort(pool_rows.begin(), pool_rows.end());
  exact.resize(pool_rows.size());
  ExactRowScores(view, state, pool_rows, exact);
  pool.clear();
  for (size_t i = 0; i < pool_rows.size(); ++i) pool.push_back({exact[i], pool_rows[i]});
  size_t selected = SelectTopK(exact, {}, std::min(k, pool.size()), out);
  for (size_t i = 0; i < selected; ++i) out[i].item = pool_rows[out[i].item];

  // Certified when every row outside the pool has an upper bound below the k-th exact score
  // (strictly: an equal score with a lower row would rank first). Otherwise score those rows.
  if (stats != nullptr) stats->rescored_rows += pool_rows.size();
  if (found == wanted && selected == k && !(candidates[found - 1].score < out[k - 1].score)) {
    if (stats != nullptr) stats->second_pass = true;
    extra.clear();
    const size_t limit = view.rows / 4;
    RowsReaching(upper, out[k - 1].score, excluded_rows, pool_rows, limit, extra);
    if (extra.size() > limit) {
      if (stats != nullptr) stats->select_nanos += clock.NowNanos() - bounded_at;
      return ExactTopK(view, state, excluded_rows, k, out, stats);
    }
    exact.resize(extra.size());
    ExactRowScores(view, state, extra, exact);
    for (size_t i = 0; i < extra.size(); ++i) pool.push_back({exact[i], extra[i]});
    if (stats != nullptr) stats->rescored_rows += extra.size();
    // Rows outside the pool stay below the first pass's k-th score, which the final one can
    // only raise.
    std::partial_sort(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(k), pool.end(), RanksBefore);
    std::copy(pool.begin(), pool.begin() + static_cast<std::ptrdiff_t>(k), out.begin());
    selected = k;
  }
  if (stats != nullptr) stats->select_nanos += clock.NowNanos() - bounded_at;
  MELODAI_CHECK_LE(selected, k);
  return selected;
}

}  // namespace melodai::rec::internal
