// MelodAI — licensed under the Apache License 2.0.
// The simulator's internals: one object per RunSimulation call holding the global model, the
// optimizer and accountant state, the error-feedback store and the thread pool.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "fl/dp.h"
#include "fl/simulator.h"

namespace melodai::fl::internal {

// Streams of the simulation seed; each (stream, round, client) gets an independent generator.
enum class Stream : uint64_t {
  kSampling = 1,
  kTiming = 2,
  kByzantine = 3,
  kLocalTraining = 4,
  kDevice = 5,
  kServerNoise = 6,
  kSecAgg = 7,
  kPersonalize = 8,
};
core::Rng StreamRng(uint64_t seed, Stream stream, uint64_t round, uint64_t client);

core::Status ValidateConfig(const SimulationConfig& config, const LocalTrainer& trainer);

// [offset, offset + size) ranges of the weight vector.
struct Range {
  size_t offset = 0;
  size_t size = 0;
};

// Gaussian noise on the given ranges only, drawn in range order: with no frozen block the one
// range is the whole vector and the draws are those of AddGaussianNoise on all of it.
template <typename T>
void AddNoiseOnRanges(const std::vector<Range>& ranges, std::span<T> values, double stddev, core::Rng& rng) {
  for (const Range& range : ranges) AddGaussianNoise(values.subspan(range.offset, range.size), stddev, rng);
}

// What one device did in a round.
struct ClientWork {
  core::Status status;
  uint64_t examples = 0;
  double loss = 0.0;
  uint64_t bytes_up = 0;
  double seconds = 0.0;
  bool ran = false;
};

// Invariants: weights_.size() == trainer_.parameter_count(); eligible_ is strictly increasing.
// Not thread-safe: Run drives everything from the calling thread and fans work out to pool_.
class Simulation {
 public:
  // REQUIRES: ValidateConfig(config, trainer).ok(). Both must outlive the object.
  Simulation(const LocalTrainer& trainer, const SimulationConfig& config);

  core::Result<SimulationResult> Run(const RoundCallback& on_round);

 private:
  std::vector<ClientId> Sample(uint32_t round) const;
  // Feeds the latency model's events to the round state machine.
  RoundStateMachine Collect(uint32_t round, const std::vector<ClientId>& sampled) const;
  std::vector<ClientId> PickAttackers(uint32_t round, const std::vector<ClientId>& sampled) const;
  // Train, attack, clip, noise share, compress: the device's side. Thread-safe for distinct
  // clients; writes only `update` and `residual`.
  ClientWork DeviceStep(uint32_t round, ClientId client, bool attacker, std::span<float> update,
                        std::span<float> residual) const;
  // Both return the aggregated update, or std::nullopt with record.note set (round skipped).
  core::Result<std::optional<std::vector<float>>> AggregatePlain(
      uint32_t round, const std::vector<ClientId>& accepted, const std::set<ClientId>& attackers,
      RoundRecord& record);
  core::Result<std::optional<std::vector<float>>> AggregateSecure(
      uint32_t round, const std::vector<ClientId>& accepted, const std::set<ClientId>& attackers,
      RoundRecord& record);
  core::Status RunRound(uint32_t round, RoundRecord& record);
  core::Result<PersonalizationSummary> Personalize();
  double ClipNorm() const;
  // Zeroes config_.frozen's blocks of `update`.
  void ZeroFrozen(std::span<float> update) const;
  // The model the server serves: the moving average when server_ema is on, else the weights.
  const std::vector<float>& Served() const;
  void UpdateAverage();

  const LocalTrainer& trainer_;
  const SimulationConfig& config_;
  const core::Clock& clock_;
  std::unique_ptr<core::ThreadPool> pool_;
  size_t dimension_;
  std::vector<ClientId> eligible_;
  std::vector<float> weights_;
  std::vector<float> average_;  // server_ema's moving average (empty until the first applied round)
  ServerOptimizer optimizer_;
  std::unique_ptr<Aggregator> aggregator_;
  RdpAccountant accountant_;
  std::optional<ErrorFeedbackStore> feedback_;
  double expected_clients_ = 0.0;
  double sampling_rate_ = 0.0;
  double noise_multiplier_ = 0.0;
  std::vector<std::vector<float>> buffers_;  // parallel_clients update buffers.
  std::vector<Range> trainable_;             // The complement of config_.frozen, in order.
};

}  // namespace melodai::fl::internal
