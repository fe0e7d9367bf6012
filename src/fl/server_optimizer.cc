// MelodAI — licensed under the Apache License 2.0.
// FedAvg, FedAvgM, FedAdam and FedYogi server updates, in double precision, element by element.
#include "fl/server_optimizer.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace melodai::fl {
namespace {

constexpr std::array<std::string_view, 4> kOptimizerNames = {"fedavg", "fedavgm", "fedadam",
                                                             "fedyogi"};

bool InUnitInterval(double value) { return value >= 0.0 && value < 1.0; }

}  // namespace

std::string_view ServerOptimizerKindName(ServerOptimizerKind kind) {
  const auto index = static_cast<size_t>(kind);
  MELODAI_CHECK_LT(index, kOptimizerNames.size());
  return kOptimizerNames[index];
}

core::Result<ServerOptimizerKind> ParseServerOptimizerKind(std::string_view name) {
  for (size_t i = 0; i < kOptimizerNames.size(); ++i) {
    if (kOptimizerNames[i] == name) return static_cast<ServerOptimizerKind>(i);
  }
  return core::InvalidArgumentError(fmt::format("unknown server optimizer '{}' (expected one of: {})",
                                                name, fmt::join(kOptimizerNames, ", ")));
}

core::Status ValidateServerOptimizerConfig(const ServerOptimizerConfig& config) {
  if (!(config.learning_rate > 0.0) || !std::isfinite(config.learning_rate)) {
    return core::InvalidArgumentError(
        fmt::format("server learning rate {} is not positive", config.learning_rate));
  }
  if (!InUnitInterval(config.beta1) || !InUnitInterval(config.beta2)) {
    return core::InvalidArgumentError(
        fmt::format("server betas ({}, {}) must lie in [0, 1)", config.beta1, config.beta2));
  }
  if (!(config.lr_decay > 0.0 && config.lr_decay <= 1.0)) {
    return core::InvalidArgumentError(
        fmt::format("server lr_decay {} must lie in (0, 1]", config.lr_decay));
  }
  if (!(config.tau > 0.0) || !std::isfinite(config.tau)) {
    return core::InvalidArgumentError(fmt::format("server tau {} is not positive", config.tau));
  }
  if (static_cast<size_t>(config.kind) >= kOptimizerNames.size()) {
    return core::InvalidArgumentError("unknown server optimizer kind");
  }
  return core::Status::Ok();
}

ServerOptimizer::ServerOptimizer(const ServerOptimizerConfig& config) : config_(config) {
  MELODAI_CHECK(ValidateServerOptimizerConfig(config).ok());
}

void ServerOptimizer::Apply(std::span<const float> delta, std::span<float> weights) {
  MELODAI_CHECK_EQ(delta.size(), weights.size());
  const size_t d = delta.size();
  const double lr = config_.learning_rate * std::pow(config_.lr_decay, static_cast<double>(steps_));
  const double b1 = config_.beta1;
  const double b2 = config_.beta2;
  if (config_.kind != ServerOptimizerKind::kFedAvg && momentum_.empty()) {
    momentum_.assign(d, 0.0);
    // Reddi et al.: v_{-1} >= tau^2, so the first step is bounded by lr * |Δ| / tau.
    second_moment_.assign(d, config_.tau * config_.tau);
  }
  MELODAI_CHECK(momentum_.empty() || momentum_.size() == d);
  for (size_t i = 0; i < d; ++i) {
    const double g = delta[i];
    double step = 0.0;
    switch (config_.kind) {
      case ServerOptimizerKind::kFedAvg:
        step = lr * g;
        break;
      case ServerOptimizerKind::kFedAvgM:
        momentum_[i] = b1 * momentum_[i] + g;
        step = lr * momentum_[i];
        break;
      case ServerOptimizerKind::kFedAdam:
        momentum_[i] = b1 * momentum_[i] + (1.0 - b1) * g;
        second_moment_[i] = b2 * second_moment_[i] + (1.0 - b2) * g * g;
        step = lr * momentum_[i] / (std::sqrt(second_moment_[i]) + config_.tau);
        break;
      case ServerOptimizerKind::kFedYogi: {
        momentum_[i] = b1 * momentum_[i] + (1.0 - b1) * g;
        const double g2 = g * g;
        const double v = second_moment_[i];
        const double sign = v > g2 ? 1.0 : (v < g2 ? -1.0 : 0.0);
        second_moment_[i] = v - (1.0 - b2) * g2 * sign;
        step = lr * momentum_[i] / (std::sqrt(second_moment_[i]) + config_.tau);
        break;
      }
    }
    weights[i] = static_cast<float>(static_cast<double>(weights[i]) + step);
  }
  ++steps_;
}

}  // namespace melodai::fl
