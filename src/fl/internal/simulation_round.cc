// MelodAI — licensed under the Apache License 2.0.
// The simulator's aggregation paths (plain: streaming sum or robust rule, with central DP noise;
// secure: the secagg round driver over fixed-point updates with DP noise shares), the round
// loop and the personalization report.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "crypto/random_source.h"
#include "fl/internal/simulation.h"
#include "secagg/round_driver.h"

namespace melodai::fl::internal {
namespace {

constexpr double kNoiseMarginStddevs = 8.0;  // Fixed-point room for a DP noise share.

// Accumulates per-client statistics of the round in client order.
struct RoundTally {
  double loss_weighted = 0.0;
  double examples = 0.0;
  uint64_t bytes_up = 0;
  uint64_t bytes_up_max = 0;
  uint32_t uploads = 0;

  void Add(const ClientWork& work) {
    loss_weighted += work.loss * static_cast<double>(work.examples);
    examples += static_cast<double>(work.examples);
    bytes_up += work.bytes_up;
    bytes_up_max = std::max(bytes_up_max, work.bytes_up);
    ++uploads;
  }
  double MeanLoss() const { return examples > 0 ? loss_weighted / examples : -1.0; }
};

// The smallest power-of-two step for which `clients` values in [-clip, clip] sum without
// wrapping modulo 2^bits.
secagg::FixedPointConfig ChooseFixedPoint(double clip, uint32_t clients, uint32_t bits) {
  secagg::FixedPointConfig fixed;
  fixed.clip = clip;
  fixed.modulus_bits = bits;
  const double limit = std::ldexp(1.0, static_cast<int>(bits) - 1) - 1.0;
  fixed.step = std::ldexp(1.0, static_cast<int>(std::ceil(std::log2(clip * clients / limit))));
  while (!secagg::ValidateFixedPoint(fixed, clients).ok()) fixed.step *= 2.0;
  return fixed;
}

// SecAgg+ with the default neighbourhood (or the full graph) and the default threshold.
secagg::RoundConfig SecureRoundConfig(const SimulationConfig& config, uint32_t round, uint32_t clients,
                                      uint64_t dimension, uint64_t graph_seed) {
  secagg::RoundConfig round_config;
  round_config.round_id = round;
  round_config.client_count = clients;
  round_config.neighbour_count = config.secagg.full_graph ? 0 : secagg::DefaultNeighbourCount(clients);
  round_config.threshold = secagg::DefaultThreshold(secagg::EffectiveNeighbourCount(round_config));
  round_config.dimension = dimension;
  round_config.modulus_bits = config.secagg.modulus_bits;
  round_config.graph_seed = graph_seed;
  return round_config;
}

// Adds the driver's per-phase time and bytes to the round record.
void AddPhaseStats(const secagg::AggregationResult& aggregated, RoundRecord& record) {
  for (const secagg::PhaseStats& phase : aggregated.phases) {
    record.secagg_client_seconds += phase.client_seconds;
    record.secagg_server_seconds += phase.server_seconds;
    record.bytes_up += phase.bytes_to_server;
    record.bytes_down += phase.bytes_from_server;
  }
}

}  // namespace

core::Result<std::optional<std::vector<float>>> Simulation::AggregatePlain(
    uint32_t round, const std::vector<ClientId>& accepted, const std::set<ClientId>& attackers,
    RoundRecord& record) {
  WeightedSum dp_sum;
  if (config_.dp.enabled) {
    dp_sum.Reset(dimension_);
  } else {
    aggregator_->Begin(dimension_);
  }
  RoundTally tally;
  const size_t batch = buffers_.size();
  std::vector<ClientWork> works(batch);
  std::vector<std::span<float>> residuals(batch);
  for (size_t begin = 0; begin < accepted.size(); begin += batch) {
    const size_t count = std::min(batch, accepted.size() - begin);
    for (size_t i = 0; i < count; ++i) {
      residuals[i] = feedback_ ? feedback_->Acquire(accepted[begin + i], dimension_, round)
                               : std::span<float>();
    }
    pool_->ParallelFor(count, 1, [&](size_t first, size_t last, size_t /*worker*/) {
      for (size_t i = first; i < last; ++i) {
        const ClientId client = accepted[begin + i];
        works[i] = DeviceStep(round, client, attackers.contains(client), buffers_[i], residuals[i]);
      }
    });
    core::Stopwatch watch(clock_);
    for (size_t i = 0; i < count; ++i) {
      MELODAI_RETURN_IF_ERROR(works[i].status);
      tally.Add(works[i]);
      const double weight =
          config_.weighting == Weighting::kExamples && !config_.dp.enabled
              ? static_cast<double>(works[i].examples) : 1.0;
      if (config_.dp.enabled) {
        dp_sum.Add(1.0, buffers_[i]);
      } else {
        MELODAI_RETURN_IF_ERROR(aggregator_->Add(accepted[begin + i], weight, buffers_[i]));
      }
    }
    record.aggregation_seconds += watch.ElapsedSeconds();
    for (size_t i = 0; i < count; ++i) record.train_seconds += works[i].seconds;
  }
  record.train_loss = tally.MeanLoss();
  record.bytes_up = tally.bytes_up;
  record.bytes_up_max = tally.bytes_up_max;
  record.bytes_up_per_client = tally.uploads > 0 ? static_cast<double>(tally.bytes_up) / tally.uploads : 0.0;
  core::Stopwatch watch(clock_);
  std::optional<std::vector<float>> delta;
  if (config_.dp.enabled) {
    core::Rng noise = StreamRng(config_.seed, Stream::kServerNoise, round, 0);
    AddNoiseOnRanges(trainable_, dp_sum.sum(), noise_multiplier_ * config_.dp.clip_norm, noise);
    delta = dp_sum.Divided(expected_clients_);
    record.aggregated = static_cast<uint32_t>(accepted.size());
    record.byzantine = static_cast<uint32_t>(attackers.size());
  } else {
    core::Result<AggregateResult> result = aggregator_->Finish();
    if (result.ok()) {
      record.aggregated = static_cast<uint32_t>(result->selected.size());
      for (ClientId client : result->selected) record.byzantine += attackers.contains(client) ? 1 : 0;
      delta = std::move(result->update);
    } else if (result.status().code() == core::StatusCode::kFailedPrecondition) {
      record.note = result.status().message();
    } else {
      return result.status();
    }
  }
  record.aggregation_seconds += watch.ElapsedSeconds();
  return delta;
}

core::Result<std::optional<std::vector<float>>> Simulation::AggregateSecure(
    uint32_t round, const std::vector<ClientId>& accepted, const std::set<ClientId>& attackers,
    RoundRecord& record) {
  const auto n = static_cast<uint32_t>(accepted.size());
  if (n < secagg::kMinClients) {
    record.note = fmt::format("secure aggregation needs at least {} clients, {} arrived",
                              secagg::kMinClients, n);
    return std::optional<std::vector<float>>();
  }
  // The last element of every input carries the client's weight.
  const secagg::RoundConfig round_config =
      SecureRoundConfig(config_, round, n, dimension_ + 1,
                        StreamRng(config_.seed, Stream::kSecAgg, round, 1).NextU64());
  const double share_stddev =
      config_.dp.enabled ? NoiseShareStddev(noise_multiplier_, config_.dp.clip_norm, expected_clients_) : 0.0;
  const secagg::FixedPointConfig fixed =
      ChooseFixedPoint(std::max(1.0, ClipNorm() + kNoiseMarginStddevs * share_stddev), n,
                       config_.secagg.modulus_bits);
  uint64_t max_examples = 1;
  for (ClientId client : accepted) max_examples = std::max(max_examples, trainer_.client_examples(client));

  std::vector<ClientWork> works(n);
  const secagg::InputProvider provider = [&](uint32_t index) {
    std::vector<float> input(dimension_ + 1, 0.0f);
    const ClientId client = accepted[index];
    works[index] = DeviceStep(round, client, attackers.contains(client),
                              std::span<float>(input).first(dimension_), {});
    // Weighted FedAvg under secagg: send (w Δ, w) with w = examples / max examples in (0, 1].
    double weight = 1.0;
    if (config_.weighting == Weighting::kExamples && !config_.dp.enabled) {
      weight = static_cast<double>(works[index].examples) / static_cast<double>(max_examples);
    }
    if (!works[index].status.ok()) weight = 0.0;
    for (size_t j = 0; j < dimension_; ++j) input[j] = static_cast<float>(weight * input[j]);
    input[dimension_] = static_cast<float>(weight);
    return secagg::EncodeFixedPoint(fixed, input);
  };
  core::Rng drop_rng = StreamRng(config_.seed, Stream::kSecAgg, round, 2);
  const secagg::DropoutSchedule dropouts = secagg::DropoutSchedule::Random(
      n, config_.secagg.dropout_fraction, secagg::Phase::kMaskedInputCollection, drop_rng);
  crypto::DeterministicRandomSource random(StreamRng(config_.seed, Stream::kSecAgg, round, 3).NextU64());
  secagg::DriverOptions options;
  options.pool = pool_.get();
  options.clock = &clock_;
  options.batch_clients = std::max<size_t>(1, config_.parallel_clients / pool_->thread_count());
  core::Result<secagg::AggregationResult> aggregated =
      secagg::RunSecureAggregation(round_config, provider, dropouts, random, options);
  for (const ClientWork& work : works) MELODAI_RETURN_IF_ERROR(work.status);
  if (!aggregated.ok()) {
    if (aggregated.status().code() != core::StatusCode::kAborted) return aggregated.status();
    record.note = aggregated.status().ToString();
    return std::optional<std::vector<float>>();
  }
  core::Stopwatch watch(clock_);
  const std::vector<double> sum = secagg::DecodeFixedPoint(fixed, aggregated->sum);
  RoundTally tally;
  for (uint32_t index : aggregated->survivors) {
    tally.Add(works[index]);
    record.byzantine += attackers.contains(accepted[index]) ? 1 : 0;
  }
  for (const ClientWork& work : works) record.train_seconds += work.seconds;
  AddPhaseStats(*aggregated, record);
  // The driver reports bytes per phase, summed over clients: per-client figures are means over
  // the n clients that started the protocol.
  record.train_loss = tally.MeanLoss();
  record.bytes_up_per_client = static_cast<double>(record.bytes_up) / n;
  record.aggregated = static_cast<uint32_t>(aggregated->survivors.size());
  const double denominator = config_.dp.enabled ? expected_clients_ : sum[dimension_];
  std::optional<std::vector<float>> delta;
  if (denominator > 0.0) {
    delta.emplace(dimension_);
    for (size_t j = 0; j < dimension_; ++j) (*delta)[j] = static_cast<float>(sum[j] / denominator);
  } else {
    record.note = "no weight in the secure sum";
  }
  record.aggregation_seconds += watch.ElapsedSeconds();
  return delta;
}

core::Status Simulation::RunRound(uint32_t round, RoundRecord& record) {
  const std::vector<ClientId> sampled = Sample(round);
  record.sampled = static_cast<uint32_t>(sampled.size());
  record.bytes_down = sampled.size() * DenseBytes(dimension_);
  const RoundStateMachine machine = Collect(round, sampled);
  record.accepted = machine.accepted_count();
  record.stragglers = machine.straggler_count();
  record.dropped = machine.dropped_count();
  record.simulated_ms = machine.close_ms();
  const std::vector<ClientId> attacker_list = PickAttackers(round, sampled);
  const std::set<ClientId> attackers(attacker_list.begin(), attacker_list.end());
  std::optional<std::vector<float>> delta;
  if (!machine.succeeded()) {
    record.note = fmt::format("{} updates arrived, {} needed", machine.accepted_count(),
                              config_.min_updates);
  } else {
    const std::vector<ClientId> accepted = machine.Accepted();
    MELODAI_ASSIGN_OR_RETURN(delta, config_.secagg.enabled
                                        ? AggregateSecure(round, accepted, attackers, record)
                                        : AggregatePlain(round, accepted, attackers, record));
  }
  record.bytes_down_per_client =
      sampled.empty() ? 0.0 : static_cast<double>(record.bytes_down) / static_cast<double>(sampled.size());
  if (delta.has_value()) {
    core::Stopwatch watch(clock_);
    record.update_norm = L2Norm(*delta);
    optimizer_.Apply(*delta, weights_);
    record.aggregation_seconds += watch.ElapsedSeconds();
    record.applied = true;
  }
  if (config_.dp.enabled) {
    // Every round that sampled clients costs privacy, whether or not it was applied.
    accountant_.AddSteps(sampling_rate_, noise_multiplier_);
    record.epsilon = accountant_.Spent(config_.dp.delta).epsilon;
    record.delta = config_.dp.delta;
    record.noise_multiplier = noise_multiplier_;
  }
  return core::Status::Ok();
}

core::Result<PersonalizationSummary> Simulation::Personalize() {
  PersonalizationSummary summary;
  // Personalization devices have their own id space (trainer.personalization_client_count()).
  const uint32_t population = trainer_.personalization_client_count();
  const auto count = std::min<uint32_t>(config_.personalize_clients, population);
  if (count == 0) return summary;
  core::Rng rng = StreamRng(config_.seed, Stream::kPersonalize, 0, 0);
  std::set<uint32_t> picked;  // Floyd's algorithm: `count` distinct ids of the population.
  for (uint32_t j = population - count; j < population; ++j) {
    const auto t = static_cast<uint32_t>(rng.Uniform(uint64_t{j} + 1));
    if (!picked.insert(t).second) picked.insert(j);
  }
  const std::vector<ClientId> chosen(picked.begin(), picked.end());
  std::vector<std::optional<core::Result<PersonalizationResult>>> results(count);
  pool_->ParallelFor(count, 1, [&](size_t first, size_t last, size_t /*worker*/) {
    for (size_t i = first; i < last; ++i) {
      LocalTrainConfig local = config_.personalize;
      local.seed = StreamRng(config_.seed, Stream::kPersonalize, 1, chosen[i]).NextU64();
      results[i].emplace(trainer_.Personalize(chosen[i], weights_, local));
    }
  });
  double global_loss = 0, tuned_loss = 0, global_ndcg = 0, tuned_ndcg = 0, gain = 0;
  uint32_t ndcg_clients = 0;
  for (size_t i = 0; i < count; ++i) {
    const core::Result<PersonalizationResult>& result = *results[i];
    if (!result.ok()) {
      if (result.status().code() == core::StatusCode::kFailedPrecondition) continue;
      return result.status().WithContext(fmt::format("personalizing client {}", chosen[i]));
    }
    ++summary.clients;
    global_loss += result->global.loss;
    tuned_loss += result->personalized.loss;
    if (result->global.ndcg_at_10 >= 0.0 && result->personalized.ndcg_at_10 >= 0.0) {
      ++ndcg_clients;
      global_ndcg += result->global.ndcg_at_10;
      tuned_ndcg += result->personalized.ndcg_at_10;
      gain += result->personalized.ndcg_at_10 - result->global.ndcg_at_10;
    } else {
      gain += result->global.loss - result->personalized.loss;
    }
  }
  if (summary.clients == 0) return summary;
  const double clients = summary.clients;
  summary.mean_global_loss = global_loss / clients;
  summary.mean_personalized_loss = tuned_loss / clients;
  if (ndcg_clients > 0) {
    summary.mean_global_ndcg_at_10 = global_ndcg / ndcg_clients;
    summary.mean_personalized_ndcg_at_10 = tuned_ndcg / ndcg_clients;
  }
  summary.mean_gain = gain / clients;
  return summary;
}

const std::vector<float>& Simulation::Served() const {
  return average_.empty() ? weights_ : average_;
}

void Simulation::UpdateAverage() {
  if (!(config_.server_ema > 0.0)) return;
  if (average_.empty()) {
    average_ = weights_;
    return;
  }
  const double keep = config_.server_ema;
  for (size_t i = 0; i < weights_.size(); ++i) {
    average_[i] = static_cast<float>(keep * static_cast<double>(average_[i]) +
                                     (1.0 - keep) * static_cast<double>(weights_[i]));
  }
}

core::Result<SimulationResult> Simulation::Run(const RoundCallback& on_round) {
  if (eligible_.empty()) return core::FailedPreconditionError("no client has training examples");
  const auto eligible = static_cast<uint32_t>(eligible_.size());
  expected_clients_ = ExpectedClientsPerRound(config_, eligible);
  sampling_rate_ = config_.sampling == SamplingMode::kPoisson ? config_.client_fraction
                                                              : expected_clients_ / eligible;
  if (config_.dp.enabled) {
    noise_multiplier_ = config_.dp.noise_multiplier;
    if (noise_multiplier_ == 0.0) {
      MELODAI_ASSIGN_OR_RETURN(noise_multiplier_,
                               FindNoiseMultiplier(sampling_rate_, config_.rounds, config_.dp.delta,
                                                   config_.dp.target_epsilon));
    }
  }
  weights_ = config_.initial_weights.empty() ? trainer_.InitialWeights(config_.seed) : config_.initial_weights;
  if (weights_.size() != dimension_) {
    return core::InternalError("InitialWeights returned a vector of the wrong size");
  }
  SimulationResult result;
  result.noise_multiplier = noise_multiplier_;
  double best_score = 0.0;
  std::vector<float> best_weights;
  for (uint32_t round = 1; round <= config_.rounds; ++round) {
    core::Stopwatch round_watch(clock_);
    RoundRecord record;
    record.round = round;
    MELODAI_RETURN_IF_ERROR(RunRound(round, record));
    if (record.applied) UpdateAverage();
    if (round % config_.eval_every == 0 || round == config_.rounds) {
      core::Stopwatch watch(clock_);
      MELODAI_ASSIGN_OR_RETURN(record.eval, trainer_.Evaluate(Served()));
      record.evaluated = true;
      record.eval_seconds = watch.ElapsedSeconds();
      if (config_.keep_best) {
        const bool by_ndcg = record.eval.ndcg_at_10 >= 0.0;
        const double score = by_ndcg ? record.eval.ndcg_at_10 : -record.eval.loss;
        if (result.best_round == 0 || score > best_score) {
          best_score = score;
          result.best_round = round;
          best_weights = Served();
        }
      }
    }
    record.wall_seconds = round_watch.ElapsedSeconds();
    result.final_epsilon = record.epsilon;
    if (on_round) on_round(record);
    result.rounds.push_back(std::move(record));
  }
  if (result.best_round > 0) {
    weights_ = std::move(best_weights);  // personalise the chosen model
  } else if (!average_.empty()) {
    weights_ = average_;
  }
  MELODAI_ASSIGN_OR_RETURN(result.personalization, Personalize());
  result.final_weights = weights_;
  return result;
}

}  // namespace melodai::fl::internal
