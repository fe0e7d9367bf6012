// MelodAI — licensed under the Apache License 2.0.
// Fixed-point clipping, quantization and two's-complement encoding modulo 2^32 or 2^64.
#include "secagg/fixed_point.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace melodai::secagg {
namespace {

constexpr double kMaxRatio = 4503599627370496.0;  // 2^52.

uint64_t ModulusMask(uint32_t bits) { return bits == 64 ? ~uint64_t{0} : (uint64_t{1} << bits) - 1; }

}  // namespace

int64_t MaxQuantizedMagnitude(const FixedPointConfig& config) {
  return static_cast<int64_t>(std::llround(config.clip / config.step));
}

uint64_t MaxClientsForFixedPoint(const FixedPointConfig& config) {
  const uint64_t half = uint64_t{1} << (config.modulus_bits - 1);
  const uint64_t magnitude = static_cast<uint64_t>(std::max<int64_t>(MaxQuantizedMagnitude(config), 1));
  return (half - 1) / magnitude;
}

core::Status ValidateFixedPoint(const FixedPointConfig& config, uint64_t client_count) {
  if (!(config.clip > 0) || !std::isfinite(config.clip)) {
    return core::InvalidArgumentError(fmt::format("fixed point: clip {} must be positive", config.clip));
  }
  if (!(config.step > 0) || !std::isfinite(config.step)) {
    return core::InvalidArgumentError(fmt::format("fixed point: step {} must be positive", config.step));
  }
  if (config.modulus_bits != 32 && config.modulus_bits != 64) {
    return core::InvalidArgumentError(
        fmt::format("fixed point: modulus_bits {} must be 32 or 64", config.modulus_bits));
  }
  if (config.clip / config.step > kMaxRatio) {
    return core::InvalidArgumentError(
        fmt::format("fixed point: clip / step = {} exceeds 2^52", config.clip / config.step));
  }
  const uint64_t max_clients = MaxClientsForFixedPoint(config);
  if (client_count > max_clients) {
    return core::InvalidArgumentError(fmt::format(
        "fixed point: {} clients x {} units could wrap modulo 2^{} (at most {} clients; raise "
        "the step, lower the clip or use 64 bits)",
        client_count, MaxQuantizedMagnitude(config), config.modulus_bits, max_clients));
  }
  return core::Status::Ok();
}

std::vector<uint64_t> EncodeFixedPoint(const FixedPointConfig& config, std::span<const float> values) {
  MELODAI_CHECK(ValidateFixedPoint(config, 1).ok());
  const uint64_t mask = ModulusMask(config.modulus_bits);
  std::vector<uint64_t> encoded(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    double value = static_cast<double>(values[i]);
    if (std::isnan(value)) value = 0.0;
    value = std::clamp(value, -config.clip, config.clip);
    const int64_t quantized = std::llround(value / config.step);
    MELODAI_DCHECK(std::llabs(quantized) <= MaxQuantizedMagnitude(config));
    encoded[i] = static_cast<uint64_t>(quantized) & mask;
  }
  return encoded;
}

std::vector<double> DecodeFixedPoint(const FixedPointConfig& config, std::span<const uint64_t> sum) {
  MELODAI_CHECK(ValidateFixedPoint(config, 1).ok());
  const uint32_t bits = config.modulus_bits;
  std::vector<double> decoded(sum.size());
  for (size_t i = 0; i < sum.size(); ++i) {
    int64_t value;
    if (bits == 64) {
      value = static_cast<int64_t>(sum[i]);
    } else {
      MELODAI_DCHECK(sum[i] >> bits == 0);
      const uint64_t half = uint64_t{1} << (bits - 1);
      value = sum[i] >= half ? static_cast<int64_t>(sum[i]) - (int64_t{1} << bits)
                             : static_cast<int64_t>(sum[i]);
    }
    decoded[i] = static_cast<double>(value) * config.step;
  }
  return decoded;
}

}  // namespace melodai::secagg
