// MelodAI — licensed under the Apache License 2.0.
// Clipping and Gaussian noise for user-level DP.
#include "fl/dp.h"

#include <fmt/format.h>

#include <cmath>

namespace melodai::fl {

double L2Norm(std::span<const float> values) {
  double total = 0.0;
  for (float value : values) total += static_cast<double>(value) * static_cast<double>(value);
  return std::sqrt(total);
}

double ClipToNorm(std::span<float> values, double clip_norm) {
  MELODAI_CHECK_GT(clip_norm, 0.0);
  const double norm = L2Norm(values);
  if (norm > clip_norm) {
    const double scale = clip_norm / norm;
    for (float& value : values) value = static_cast<float>(static_cast<double>(value) * scale);
  }
  return norm;
}

void AddGaussianNoise(std::span<float> values, double stddev, core::Rng& rng) {
  MELODAI_CHECK_GE(stddev, 0.0);
  if (stddev == 0.0) return;
  for (float& value : values) value = static_cast<float>(static_cast<double>(value) + stddev * rng.Normal());
}

void AddGaussianNoise(std::span<double> values, double stddev, core::Rng& rng) {
  MELODAI_CHECK_GE(stddev, 0.0);
  if (stddev == 0.0) return;
  for (double& value : values) value += stddev * rng.Normal();
}

core::Status ValidateDpConfig(const DpConfig& config) {
  if (!config.enabled) return core::Status::Ok();
  if (!(config.clip_norm > 0.0) || !std::isfinite(config.clip_norm)) {
    return core::InvalidArgumentError(fmt::format("DP clip norm {} is not positive", config.clip_norm));
  }
  if (!(config.delta > 0.0 && config.delta < 1.0)) {
    return core::InvalidArgumentError(fmt::format("DP delta {} is outside (0, 1)", config.delta));
  }
  if (!(config.noise_multiplier >= 0.0) || !std::isfinite(config.noise_multiplier)) {
    return core::InvalidArgumentError(
        fmt::format("noise multiplier {} is negative", config.noise_multiplier));
  }
  if (!(config.target_epsilon >= 0.0) || !std::isfinite(config.target_epsilon)) {
    return core::InvalidArgumentError(fmt::format("target epsilon {} is negative", config.target_epsilon));
  }
  if (config.noise_multiplier == 0.0 && config.target_epsilon == 0.0) {
    return core::InvalidArgumentError("DP needs a noise multiplier or a target epsilon");
  }
  return core::Status::Ok();
}

double NoiseShareStddev(double noise_multiplier, double clip_norm, double expected_clients) {
  MELODAI_CHECK_GT(expected_clients, 0.0);
  return noise_multiplier * clip_norm / std::sqrt(expected_clients);
}

}  // namespace melodai::fl
