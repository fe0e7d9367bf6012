// MelodAI — licensed under the Apache License 2.0.
// Server optimizers (Reddi et al. 2021, "Adaptive Federated Optimization", Algorithm 2): the
// aggregated client update Δ is a pseudo-gradient step; the server applies it with plain
// averaging (FedAvg), momentum (FedAvgM), Adam (FedAdam) or Yogi (FedYogi).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace melodai::fl {

enum class ServerOptimizerKind : uint8_t {
  kFedAvg = 0,  // w += lr * Δ                     (lr = 1: plain FedAvg)
  kFedAvgM,     // m = beta1 * m + Δ;  w += lr * m
  kFedAdam,     // m = b1 m + (1-b1) Δ; v = b2 v + (1-b2) Δ²;          w += lr m / (sqrt(v) + tau)
  kFedYogi,     // m as Adam;  v = v - (1-b2) Δ² sign(v - Δ²);          w += lr m / (sqrt(v) + tau)
};

// "fedavg", "fedavgm", "fedadam", "fedyogi".
std::string_view ServerOptimizerKindName(ServerOptimizerKind kind);
// kInvalidArgument listing the valid names for an unknown one.
core::Result<ServerOptimizerKind> ParseServerOptimizerKind(std::string_view name);

struct ServerOptimizerConfig {
  ServerOptimizerKind kind = ServerOptimizerKind::kFedAvg;
  double learning_rate = 1.0;  // eta (Reddi et al. tune it in 10^-3 .. 1 for the adaptive ones).
  double beta1 = 0.9;          // Momentum (FedAvgM, FedAdam, FedYogi).
  double beta2 = 0.99;         // Second-moment decay (FedAdam, FedYogi).
  double tau = 1e-3;           // Adaptivity: added to sqrt(v); v starts at tau^2.
  double lr_decay = 1.0;       // Step t (from 0) uses learning_rate * lr_decay^t; (0, 1].
};

// kInvalidArgument for a non-positive learning rate or tau, betas outside [0, 1), or lr_decay
// outside (0, 1].
core::Status ValidateServerOptimizerConfig(const ServerOptimizerConfig& config);

// Holds the optimizer state (m, v) across rounds.
// Invariants: momentum_ and second_moment_ are both empty (FedAvg, or before the first step)
// or both of the model's size; second_moment_ stays positive (Adam mixes positive terms; Yogi
// only shrinks v when v > Δ², and then to at least beta2 * v).
// Not thread-safe.
class ServerOptimizer {
 public:
  // REQUIRES: ValidateServerOptimizerConfig(config).ok().
  explicit ServerOptimizer(const ServerOptimizerConfig& config);

  // Applies the aggregated update `delta` to `weights` in place.
  // REQUIRES: delta.size() == weights.size(), the same size at every call.
  void Apply(std::span<const float> delta, std::span<float> weights);

  const ServerOptimizerConfig& config() const { return config_; }
  uint64_t steps() const { return steps_; }

 private:
  ServerOptimizerConfig config_;
  std::vector<double> momentum_;
  std::vector<double> second_moment_;
  uint64_t steps_ = 0;
};

}  // namespace melodai::fl
