// MelodAI — licensed under the Apache License 2.0.
// The many-client simulator: sampling, the round state machine fed by a seeded latency model,
// bounded-parallel local training, device-side post-processing, plain or secure aggregation,
// server optimizer, DP accounting, metrics and personalization.
#include "fl/simulator.h"

#include <algorithm>
#include <cmath>

#include "fl/internal/simulation.h"

namespace melodai::fl {

double ExpectedClientsPerRound(const SimulationConfig& config, uint32_t eligible_clients) {
  if (config.sampling == SamplingMode::kPoisson) {
    return config.client_fraction * static_cast<double>(eligible_clients);
  }
  const auto rounded = static_cast<uint32_t>(
      std::llround(config.client_fraction * static_cast<double>(eligible_clients)));
  return static_cast<double>(
      std::min(eligible_clients, std::max(rounded, config.min_clients_per_round)));
}

core::Status ValidateSimulationConfig(const SimulationConfig& config, const LocalTrainer& trainer) {
  return internal::ValidateConfig(config, trainer);
}

core::Result<SimulationResult> RunSimulation(const LocalTrainer& trainer,
                                             const SimulationConfig& config,
                                             const RoundCallback& on_round) {
  MELODAI_RETURN_IF_ERROR(ValidateSimulationConfig(config, trainer));
  internal::Simulation simulation(trainer, config);
  return simulation.Run(on_round);
}

}  // namespace melodai::fl
