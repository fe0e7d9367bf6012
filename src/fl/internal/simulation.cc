// MelodAI — licensed under the Apache License 2.0.
// The simulator's round loop. Determinism: every random choice comes from a generator forked
// from (seed, stream, round, client); updates are reduced in increasing client order after each
// parallel batch, so the thread count changes only who computes, never what is summed in which
// order.
#include "fl/internal/simulation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "crypto/random_source.h"
#include "secagg/round_driver.h"

namespace melodai::fl::internal {
namespace {


core::Status CheckRange(bool ok, std::string_view field, std::string_view requirement) {
  if (ok) return core::Status::Ok();
  return core::InvalidArgumentError(fmt::format("{} must be {}", field, requirement));
}

core::Status ValidateCombinations(const SimulationConfig& config) {
  const bool robust = NeedsIndividualUpdates(config.aggregator.kind);
  if (config.secagg.enabled && robust) {
    return core::InvalidArgumentError(fmt::format(
        "aggregator '{}' needs every client's update in the clear, which secure aggregation hides; "
        "use fedavg/fedprox with clipping under secure aggregation, or drop secure aggregation",
        AggregatorKindName(config.aggregator.kind)));
  }
  if (config.dp.enabled && robust) {
    return core::InvalidArgumentError(fmt::format(
        "differential privacy is calibrated for a noisy sum; aggregator '{}' is not a sum",
        AggregatorKindName(config.aggregator.kind)));
  }
  if (config.secagg.enabled && CompressionEnabled(config.compression)) {
    return core::InvalidArgumentError(
        "compression does not apply under secure aggregation (masked vectors are dense fixed point)");
  }
  if (config.secagg.enabled && !config.dp.enabled && !(config.clip_norm > 0.0)) {
    return core::InvalidArgumentError(
        "secure aggregation needs clip_norm > 0: clipping before masking is its only defence "
        "against outsized updates");
  }
  if (config.aggregator.kind == AggregatorKind::kFedProx && !(config.local.prox_mu > 0.0)) {
    return core::InvalidArgumentError("fedprox needs local.prox_mu > 0");
  }
  return core::Status::Ok();
}

}  // namespace

core::Rng StreamRng(uint64_t seed, Stream stream, uint64_t round, uint64_t client) {
  return core::Rng(seed).Fork(static_cast<uint64_t>(stream)).Fork(round).Fork(client);
}

core::Status ValidateConfig(const SimulationConfig& config, const LocalTrainer& trainer) {
  MELODAI_RETURN_IF_ERROR(CheckRange(config.rounds >= 1 && config.rounds <= kMaxRounds, "rounds",
                                     fmt::format("in [1, {}]", kMaxRounds)));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.client_fraction > 0.0 && config.client_fraction <= 1.0,
                                     "client_fraction", "in (0, 1]"));
  MELODAI_RETURN_IF_ERROR(CheckRange(
      config.min_clients_per_round >= 1 && config.min_clients_per_round <= kMaxClientsPerRound,
      "min_clients_per_round", fmt::format("in [1, {}]", kMaxClientsPerRound)));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.local.epochs >= 1, "local.epochs", "at least 1"));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.local.prox_mu >= 0.0, "local.prox_mu", "non-negative"));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.clip_norm >= 0.0 && std::isfinite(config.clip_norm),
                                     "clip_norm", "non-negative"));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.deadline_ms >= 0.0, "deadline_ms", "non-negative"));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.min_updates >= 1, "min_updates", "at least 1"));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.eval_every >= 1, "eval_every", "at least 1"));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.server_ema >= 0.0 && config.server_ema < 1.0, "server_ema",
                                     "in [0, 1)"));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.threads >= 1 && config.threads <= 256, "threads",
                                     "in [1, 256]"));
  MELODAI_RETURN_IF_ERROR(CheckRange(
      config.parallel_clients >= 1 && config.parallel_clients <= kMaxParallelClients,
      "parallel_clients", fmt::format("in [1, {}]", kMaxParallelClients)));
  MELODAI_RETURN_IF_ERROR(CheckRange(config.secagg.modulus_bits == 32 || config.secagg.modulus_bits == 64,
                                     "secagg.modulus_bits", "32 or 64"));
  MELODAI_RETURN_IF_ERROR(CheckRange(
      config.secagg.dropout_fraction >= 0.0 && config.secagg.dropout_fraction < 1.0,
      "secagg.dropout_fraction", "in [0, 1)"));
  MELODAI_RETURN_IF_ERROR(ValidateAggregatorConfig(config.aggregator));
  MELODAI_RETURN_IF_ERROR(ValidateServerOptimizerConfig(config.server_optimizer));
  MELODAI_RETURN_IF_ERROR(ValidateDpConfig(config.dp));
  MELODAI_RETURN_IF_ERROR(ValidateCompressionConfig(config.compression));
  MELODAI_RETURN_IF_ERROR(ValidateByzantineConfig(config.byzantine));
  MELODAI_RETURN_IF_ERROR(ValidateLatencyModel(config.latency));
  MELODAI_RETURN_IF_ERROR(ValidateCombinations(config));
  if (trainer.parameter_count() == 0) return core::InvalidArgumentError("the model has no parameters");
  if (trainer.parameter_count() > secagg::kMaxDimension && config.secagg.enabled) {
    return core::InvalidArgumentError("the model is larger than secure aggregation's dimension limit");
  }
  if (trainer.client_count() == 0) return core::InvalidArgumentError("the trainer has no clients");
  if (!config.initial_weights.empty() && config.initial_weights.size() != trainer.parameter_count()) {
    return core::InvalidArgumentError(fmt::format("initial_weights has {} values, the model has {}",
                                                  config.initial_weights.size(), trainer.parameter_count()));
  }
  size_t frozen_end = 0;
  for (const ParameterBlock& block : config.frozen) {
    if (block.size == 0 || block.offset < frozen_end || block.offset > trainer.parameter_count() ||
        block.size > trainer.parameter_count() - block.offset) {
      return core::InvalidArgumentError(fmt::format(
          "frozen block '{}' [{}, +{}) is empty, overlaps the previous one or ends past the model's {} values",
          block.name, block.offset, block.size, trainer.parameter_count()));
    }
    frozen_end = block.offset + block.size;
  }
  for (float value : config.initial_weights) {
    if (!std::isfinite(value)) return core::InvalidArgumentError("initial_weights has a non-finite value");
  }
  if (config.compression.error_feedback && CompressionEnabled(config.compression) &&
      config.compression.error_feedback_clients < config.parallel_clients) {
    return core::InvalidArgumentError(
        "compression.error_feedback_clients must be at least parallel_clients");
  }
  return core::Status::Ok();
}

Simulation::Simulation(const LocalTrainer& trainer, const SimulationConfig& config)
    : trainer_(trainer),
      config_(config),
      clock_(config.clock != nullptr ? *config.clock : core::SystemClock::Instance()),
      pool_(std::make_unique<core::ThreadPool>(config.threads)),
      dimension_(trainer.parameter_count()),
      optimizer_(config.server_optimizer),
      aggregator_(MakeAggregator(config.aggregator)) {
  for (ClientId client = 0; client < trainer.client_count(); ++client) {
    if (trainer.client_examples(client) > 0) eligible_.push_back(client);
  }
  if (config.compression.error_feedback && CompressionEnabled(config.compression)) {
    feedback_.emplace(config.compression.error_feedback_clients);
  }
  buffers_.assign(config.parallel_clients, std::vector<float>(dimension_));
  size_t start = 0;
  for (const ParameterBlock& block : config.frozen) {
    if (block.offset > start) trainable_.push_back({start, block.offset - start});
    start = block.offset + block.size;
  }
  if (start < dimension_) trainable_.push_back({start, dimension_ - start});
}

void Simulation::ZeroFrozen(std::span<float> update) const {
  for (const ParameterBlock& block : config_.frozen) {
    std::fill_n(update.begin() + static_cast<std::ptrdiff_t>(block.offset), block.size, 0.0f);
  }
}

double Simulation::ClipNorm() const { return config_.dp.enabled ? config_.dp.clip_norm : config_.clip_norm; }

std::vector<ClientId> Simulation::Sample(uint32_t round) const {
  core::Rng rng = StreamRng(config_.seed, Stream::kSampling, round, 0);
  const auto eligible = static_cast<uint32_t>(eligible_.size());
  std::vector<ClientId> sampled;
  if (config_.sampling == SamplingMode::kPoisson) {
    for (ClientId client : eligible_) {
      if (rng.Bernoulli(config_.client_fraction)) sampled.push_back(client);
    }
    return sampled;
  }
  const auto m = static_cast<uint32_t>(ExpectedClientsPerRound(config_, eligible));
  // Floyd's algorithm: m distinct indices in O(m log m), independent of the population size.
  std::set<uint32_t> chosen;
  for (uint32_t j = eligible - m; j < eligible; ++j) {
    const auto t = static_cast<uint32_t>(rng.Uniform(uint64_t{j} + 1));
    if (!chosen.insert(t).second) chosen.insert(j);
  }
  for (uint32_t index : chosen) sampled.push_back(eligible_[index]);
  MELODAI_CHECK_EQ(sampled.size(), m);
  return sampled;
}

RoundStateMachine Simulation::Collect(uint32_t round, const std::vector<ClientId>& sampled) const {
  RoundPlan plan;
  plan.round = round;
  plan.sampled = sampled;
  if (config_.deadline_ms > 0.0) plan.deadline_ms = config_.deadline_ms;
  plan.min_updates = config_.min_updates;
  plan.max_updates = config_.max_updates;
  RoundStateMachine machine(std::move(plan));
  struct Event {
    double time_ms;
    ClientId client;
    bool dropped;
  };
  std::vector<Event> events;
  events.reserve(sampled.size());
  for (ClientId client : sampled) {
    core::Rng rng = StreamRng(config_.seed, Stream::kTiming, round, client);
    const ClientTiming timing = SimulateClientTiming(config_.latency, trainer_.client_examples(client),
                                                     config_.local.epochs, rng);
    events.push_back({timing.latency_ms, client, timing.dropped});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.client < b.client;
  });
  for (const Event& event : events) {
    // Late arrivals and dropouts after the close are expected outcomes here, not errors.
    if (event.dropped) {
      machine.OnDropout(event.client, event.time_ms).IgnoreError();
    } else {
      machine.OnUpdate(event.client, event.time_ms).IgnoreError();
    }
  }
  if (!machine.closed()) machine.OnTick(machine.plan().deadline_ms);
  MELODAI_CHECK(machine.closed());
  return machine;
}

std::vector<ClientId> Simulation::PickAttackers(uint32_t round,
                                                const std::vector<ClientId>& sampled) const {
  const size_t count = std::min<size_t>(config_.byzantine.attackers_per_round, sampled.size());
  if (count == 0) return {};
  core::Rng rng = StreamRng(config_.seed, Stream::kByzantine, round, 0);
  std::vector<ClientId> shuffled = sampled;
  rng.Shuffle(shuffled);
  shuffled.resize(count);
  std::sort(shuffled.begin(), shuffled.end());
  return shuffled;
}

ClientWork Simulation::DeviceStep(uint32_t round, ClientId client, bool attacker,
                                  std::span<float> update, std::span<float> residual) const {
  ClientWork work;
  work.ran = true;
  LocalTrainConfig local = config_.local;
  local.seed = StreamRng(config_.seed, Stream::kLocalTraining, round, client).NextU64();
  core::Stopwatch watch(clock_);
  core::Result<LocalTrainResult> trained = trainer_.TrainClient(client, weights_, local, update);
  work.seconds = watch.ElapsedSeconds();
  if (!trained.ok()) {
    work.status = trained.status().WithContext(fmt::format("round {} client {}", round, client));
    return work;
  }
  work.examples = trained->examples;
  work.loss = trained->loss;
  core::Rng rng = StreamRng(config_.seed, Stream::kDevice, round, client);
  ZeroFrozen(update);
  if (attacker) ApplyAttack(config_.byzantine, update, rng);
  if (ClipNorm() > 0.0) ClipToNorm(update, ClipNorm());
  if (config_.secagg.enabled && config_.dp.enabled) {
    AddNoiseOnRanges(trainable_, update,
                     NoiseShareStddev(noise_multiplier_, config_.dp.clip_norm, expected_clients_), rng);
  }
  if (!config_.secagg.enabled) {
    work.bytes_up = kUpdateHeaderBytes + (CompressionEnabled(config_.compression)
                                              ? CompressUpdate(config_.compression, update, residual, rng)
                                              : DenseBytes(update.size()));
  }
  return work;
}

}  // namespace melodai::fl::internal
