// MelodAI — licensed under the Apache License 2.0.
// Update compression for the uplink: 8-bit quantization with a per-chunk scale and seeded
// stochastic rounding (unbiased), top-k sparsification, and error feedback (the part of an
// update that compression dropped is kept by the client and added to its next update). Every
// encoding states its exact size on the wire.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "core/rng.h"
#include "core/status.h"
#include "fl/local_trainer.h"

namespace melodai::fl {

// Per-update framing: client id (4), round (4), examples (8). Counted on every upload.
inline constexpr uint64_t kUpdateHeaderBytes = 16;
// Bytes of a dense float32 vector of `dimension` elements (the default encoding, also the
// download of the global model).
uint64_t DenseBytes(uint64_t dimension);

// int8 values in [-127, 127] times a float scale per chunk of `chunk_size` elements (the last
// chunk may be shorter). Wire size: 4 (dimension) + 4 (chunk size) + 4 per chunk + 1 per value.
struct QuantizedVector {
  uint64_t dimension = 0;
  uint32_t chunk_size = 0;
  std::vector<float> scales;   // max |x| of the chunk / 127 (0 for an all-zero chunk).
  std::vector<int8_t> values;
  uint64_t WireBytes() const;
};

// Quantizes with stochastic rounding: x / scale = k + r (0 <= r < 1) becomes k + 1 with
// probability r, so the decoded value is unbiased and within one scale of x. chunk_size 0 means
// one chunk for the whole vector. Deterministic given `rng`. Non-finite input elements encode as 0.
QuantizedVector Quantize8(std::span<const float> values, uint32_t chunk_size, core::Rng& rng);
// REQUIRES: out.size() == quantized.dimension.
void Dequantize8(const QuantizedVector& quantized, std::span<float> out);

// The k elements of largest magnitude (ties -> smaller index), indices increasing.
// Wire size: 8 (dimension, count) + 4 per index + the values: 4 each, or a Quantize8 of them.
struct SparseVector {
  uint64_t dimension = 0;
  std::vector<uint32_t> indices;
  std::vector<float> values;
};
// REQUIRES: k <= values.size().
SparseVector TopK(std::span<const float> values, size_t k);

struct CompressionConfig {
  uint32_t quantize_bits = 32;      // 32: float32 values; 8: Quantize8.
  uint32_t quantize_chunk = 256;    // Elements per scale for 8-bit quantization (0: one scale).
  double top_k_fraction = 1.0;      // (0, 1]: keep ceil(fraction * d) elements; 1 = dense.
  bool error_feedback = true;       // Keep what compression dropped and add it next time.
  uint32_t error_feedback_clients = 1024;  // At most this many residual vectors are kept.
};

// kInvalidArgument for quantize_bits other than 8 or 32, a top-k fraction outside (0, 1], or a
// zero error-feedback capacity with error feedback on.
core::Status ValidateCompressionConfig(const CompressionConfig& config);

// True when the config changes the update (8-bit values or top-k below 1).
bool CompressionEnabled(const CompressionConfig& config);

// Compresses `update` as a client would, then writes back in place what the server decodes, and
// returns the upload size in bytes (without kUpdateHeaderBytes). When `residual` is non-empty
// (error feedback), residual is first added to the update and afterwards holds
// (update + old residual) - decoded. REQUIRES: residual empty or of update's size.
uint64_t CompressUpdate(const CompressionConfig& config, std::span<float> update,
                        std::span<float> residual, core::Rng& rng);

// Residual vectors of the clients that recently took part, for error feedback across rounds.
// Bounded: at most `capacity` residuals (capacity * d * 4 bytes); when full, the residual of the
// client seen in the oldest round (ties -> the smaller id) is dropped, which only loses that
// client's carried-over error. Deterministic. Not thread-safe: Acquire every client of a round
// from one thread first; the spans may then be written concurrently (one client per thread).
// Invariant: entries_.size() <= capacity_.
class ErrorFeedbackStore {
 public:
  explicit ErrorFeedbackStore(uint32_t capacity);
  // The residual of `client` (zeros the first time), marked as used in `round`. Spans stay
  // valid until the next Acquire of another client may evict it: callers acquire at most
  // `capacity` clients per round. REQUIRES: dimension > 0.
  std::span<float> Acquire(ClientId client, size_t dimension, uint64_t round);
  size_t size() const { return entries_.size(); }
  uint32_t capacity() const { return capacity_; }
  bool Contains(ClientId client) const { return entries_.contains(client); }

 private:
  struct Entry {
    uint64_t last_round = 0;
    std::vector<float> residual;
  };
  uint32_t capacity_;
  std::map<ClientId, Entry> entries_;
};

}  // namespace melodai::fl
