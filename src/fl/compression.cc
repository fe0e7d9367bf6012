// MelodAI — licensed under the Apache License 2.0.
// 8-bit stochastic quantization, top-k sparsification and error feedback.
#include "fl/compression.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace melodai::fl {
namespace {

constexpr float kQuantizationLevels = 127.0f;

uint64_t ChunkCount(uint64_t dimension, uint32_t chunk_size) {
  if (dimension == 0) return 0;
  return chunk_size == 0 ? 1 : (dimension + chunk_size - 1) / chunk_size;
}

}  // namespace

uint64_t DenseBytes(uint64_t dimension) { return 8 + 4 * dimension; }

uint64_t QuantizedVector::WireBytes() const { return 8 + 4 * scales.size() + values.size(); }

QuantizedVector Quantize8(std::span<const float> values, uint32_t chunk_size, core::Rng& rng) {
  QuantizedVector result;
  result.dimension = values.size();
  result.chunk_size = chunk_size == 0 ? static_cast<uint32_t>(values.size()) : chunk_size;
  result.values.resize(values.size());
  const uint64_t chunks = ChunkCount(values.size(), chunk_size);
  result.scales.resize(chunks);
  for (uint64_t c = 0; c < chunks; ++c) {
    const size_t begin = c * result.chunk_size;
    const size_t end = std::min<size_t>(values.size(), begin + result.chunk_size);
    float max_abs = 0.0f;
    for (size_t i = begin; i < end; ++i) {
      if (std::isfinite(values[i])) max_abs = std::max(max_abs, std::abs(values[i]));
    }
    const float scale = max_abs / kQuantizationLevels;
    result.scales[c] = scale;
    for (size_t i = begin; i < end; ++i) {
      if (scale == 0.0f || !std::isfinite(values[i])) {
        result.values[i] = 0;
        continue;
      }
      const double scaled = static_cast<double>(values[i]) / static_cast<double>(scale);
      const double floor_value = std::floor(scaled);
      double level = floor_value + (rng.UniformDouble() < scaled - floor_value ? 1.0 : 0.0);
      level = std::clamp(level, -127.0, 127.0);
      result.values[i] = static_cast<int8_t>(level);
    }
  }
  return result;
}

void Dequantize8(const QuantizedVector& quantized, std::span<float> out) {
  MELODAI_CHECK_EQ(out.size(), quantized.dimension);
  for (size_t i = 0; i < out.size(); ++i) {
    const size_t chunk = quantized.chunk_size == 0 ? 0 : i / quantized.chunk_size;
    out[i] = static_cast<float>(quantized.values[i]) * quantized.scales[chunk];
  }
}

SparseVector TopK(std::span<const float> values, size_t k) {
  MELODAI_CHECK_LE(k, values.size());
  std::vector<uint32_t> order(values.size());
  std::iota(order.begin(), order.end(), 0u);
  auto larger = [&](uint32_t a, uint32_t b) {
    const float x = std::abs(values[a]);
    const float y = std::abs(values[b]);
    return x != y ? x > y : a < b;
  };
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), larger);
  order.resize(k);
  std::sort(order.begin(), order.end());
  SparseVector result;
  result.dimension = values.size();
  result.indices = order;
  result.values.reserve(k);
  for (uint32_t index : order) result.values.push_back(values[index]);
  return result;
}

core::Status ValidateCompressionConfig(const CompressionConfig& config) {
  if (config.quantize_bits != 8 && config.quantize_bits != 32) {
    return core::InvalidArgumentError(
        fmt::format("quantization to {} bits is not supported (8 or 32)", config.quantize_bits));
  }
  if (!(config.top_k_fraction > 0.0 && config.top_k_fraction <= 1.0)) {
    return core::InvalidArgumentError(
        fmt::format("top-k fraction {} is outside (0, 1]", config.top_k_fraction));
  }
  if (config.error_feedback && CompressionEnabled(config) && config.error_feedback_clients == 0) {
    return core::InvalidArgumentError("error feedback needs room for at least one client");
  }
  return core::Status::Ok();
}

bool CompressionEnabled(const CompressionConfig& config) {
  return config.quantize_bits == 8 || config.top_k_fraction < 1.0;
}

uint64_t CompressUpdate(const CompressionConfig& config, std::span<float> update,
                        std::span<float> residual, core::Rng& rng) {
  MELODAI_CHECK(residual.empty() || residual.size() == update.size());
  const size_t d = update.size();
  if (!residual.empty()) {
    for (size_t i = 0; i < d; ++i) update[i] += residual[i];
  }
  // `target` is what the client wanted to send (update + residual); keep it for the residual.
  std::vector<float> target;
  if (!residual.empty()) target.assign(update.begin(), update.end());
  uint64_t bytes = 0;
  if (config.top_k_fraction < 1.0) {
    const auto k = static_cast<size_t>(
        std::min<double>(static_cast<double>(d), std::ceil(config.top_k_fraction * static_cast<double>(d))));
    SparseVector sparse = TopK(update, k);
    bytes = 8 + 4 * sparse.indices.size();
    if (config.quantize_bits == 8) {
      const QuantizedVector quantized = Quantize8(sparse.values, config.quantize_chunk, rng);
      Dequantize8(quantized, sparse.values);
      bytes += quantized.WireBytes();
    } else {
      bytes += 4 * sparse.values.size();
    }
    std::fill(update.begin(), update.end(), 0.0f);
    for (size_t i = 0; i < sparse.indices.size(); ++i) update[sparse.indices[i]] = sparse.values[i];
  } else if (config.quantize_bits == 8) {
    const QuantizedVector quantized = Quantize8(update, config.quantize_chunk, rng);
    Dequantize8(quantized, update);
    bytes = quantized.WireBytes();
  } else {
    bytes = DenseBytes(d);
  }
  if (!residual.empty()) {
    for (size_t i = 0; i < d; ++i) residual[i] = target[i] - update[i];
  }
  return bytes;
}

ErrorFeedbackStore::ErrorFeedbackStore(uint32_t capacity) : capacity_(capacity) {
  MELODAI_CHECK_GT(capacity, 0u);
}

std::span<float> ErrorFeedbackStore::Acquire(ClientId client, size_t dimension, uint64_t round) {
  MELODAI_CHECK_GT(dimension, 0u);
  auto found = entries_.find(client);
  if (found == entries_.end()) {
    if (entries_.size() >= capacity_) {
      auto oldest = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->second.last_round < oldest->second.last_round) oldest = it;
      }
      entries_.erase(oldest);
    }
    found = entries_.emplace(client, Entry{round, std::vector<float>(dimension, 0.0f)}).first;
  }
  MELODAI_CHECK_EQ(found->second.residual.size(), dimension);
  found->second.last_round = round;
  MELODAI_CHECK_LE(entries_.size(), capacity_);
  return found->second.residual;
}

}  // namespace melodai::fl
