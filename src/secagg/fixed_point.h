// MelodAI — licensed under the Apache License 2.0.
// Fixed-point encoding of float vectors for aggregation modulo 2^b: values are clipped to
// [-clip, clip], rounded to multiples of `step` and stored in two's complement. The bound
// n * round(clip / step) < 2^(b-1) is checked up front, so the sum of n clipped inputs never
// wraps and decodes to the exact sum of the quantized values.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace melodai::secagg {

struct FixedPointConfig {
  double clip = 1.0;               // Inputs are clipped to [-clip, clip].
  double step = 1.0 / (1 << 16);   // Quantization step: the value of one integer unit.
  uint32_t modulus_bits = 32;      // 32 or 64.
};

// round(clip / step): the largest absolute encoded integer.
int64_t MaxQuantizedMagnitude(const FixedPointConfig& config);
// The largest number of clients whose clipped inputs sum without wrapping.
uint64_t MaxClientsForFixedPoint(const FixedPointConfig& config);

// kInvalidArgument when clip or step is not a positive finite number, clip / step exceeds
// 2^52 (beyond exact doubles), modulus_bits is not 32 or 64, or client_count clipped inputs
// could wrap: client_count * MaxQuantizedMagnitude >= 2^(modulus_bits - 1).
core::Status ValidateFixedPoint(const FixedPointConfig& config, uint64_t client_count);

// Clips, quantizes (round to nearest) and encodes `values` modulo 2^modulus_bits. NaN encodes
// as 0. REQUIRES: ValidateFixedPoint(config, 1).ok(). Thread-safe.
std::vector<uint64_t> EncodeFixedPoint(const FixedPointConfig& config, std::span<const float> values);

// Interprets `sum` (each element < 2^modulus_bits) as signed integers and scales by step.
// REQUIRES: ValidateFixedPoint(config, 1).ok(). Thread-safe.
std::vector<double> DecodeFixedPoint(const FixedPointConfig& config, std::span<const uint64_t> sum);

}  // namespace melodai::secagg
