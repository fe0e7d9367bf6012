// MelodAI — licensed under the Apache License 2.0.
// User-level differential privacy for federated rounds (McMahan et al. 2018, DP-FedAvg): every
// client update is clipped to L2 norm S, Gaussian noise of std z·S is added to the sum (by the
// server, or as n shares of variance z²S²/n added by the clients under secure aggregation), and
// the sum is divided by the expected number of clients (a fixed denominator).
#pragma once

#include <cstdint>
#include <span>

#include "core/rng.h"
#include "core/status.h"

namespace melodai::fl {

// L2 norm in double precision.
double L2Norm(std::span<const float> values);

// Scales `values` in place so that its L2 norm is at most `clip_norm`; returns the norm before
// clipping. REQUIRES: clip_norm > 0.
double ClipToNorm(std::span<float> values, double clip_norm);

// Adds independent N(0, stddev²) to every element. REQUIRES: stddev >= 0.
void AddGaussianNoise(std::span<float> values, double stddev, core::Rng& rng);
void AddGaussianNoise(std::span<double> values, double stddev, core::Rng& rng);

struct DpConfig {
  bool enabled = false;
  double clip_norm = 1.0;         // S: the L2 bound of one client's update.
  double noise_multiplier = 0.0;  // z: noise std on the sum is z·S. 0 with target_epsilon set
                                  // means "find z for the target".
  double target_epsilon = 0.0;    // > 0: choose z so that the final epsilon is at most this.
  double delta = 1e-5;
};

// kInvalidArgument for a non-positive clip norm or delta outside (0, 1), a negative noise
// multiplier or epsilon, or neither a noise multiplier nor a target epsilon when enabled.
core::Status ValidateDpConfig(const DpConfig& config);

// The standard deviation of one client's noise share when `expected_clients` clients each add
// a share so that the sum carries N(0, z²S²): z·S / sqrt(expected_clients).
// REQUIRES: expected_clients > 0.
double NoiseShareStddev(double noise_multiplier, double clip_norm, double expected_clients);

}  // namespace melodai::fl
