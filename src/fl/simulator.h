// MelodAI — licensed under the Apache License 2.0.
// Simulation of federated training with many clients in one process. Each round: sample clients
// (seeded), hand them the global weights, let the RoundStateMachine decide from a seeded latency
// model who arrives before the deadline, train those clients on a bounded thread pool (at most
// `parallel_clients` update buffers alive), post-process each update as its device would
// (attack, clipping, DP noise share, compression), aggregate in client order (plainly or through
// secure aggregation), apply the server optimizer and record metrics. A seeded run replays
// bit-identically with any thread count. See docs/FL.md.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "fl/aggregator.h"
#include "fl/attack.h"
#include "fl/compression.h"
#include "fl/dp.h"
#include "fl/local_trainer.h"
#include "fl/rdp_accountant.h"
#include "fl/round_state.h"
#include "fl/server_optimizer.h"

namespace melodai::fl {

// Hard limits (named so they can be checked before any allocation).
inline constexpr uint32_t kMaxRounds = 1'000'000;
inline constexpr uint32_t kMaxClientsPerRound = 100'000;
inline constexpr uint32_t kMaxParallelClients = 4096;

enum class SamplingMode : uint8_t {
  kFixedSize = 0,  // round(fraction * eligible) clients without replacement.
  kPoisson,        // Every eligible client independently with probability `fraction`.
};

// How FedAvg weighs clients. DP forces kUniform (each client's contribution is bounded by S).
enum class Weighting : uint8_t {
  kExamples = 0,
  kUniform,
};

struct SecureAggregationOptions {
  bool enabled = false;
  uint32_t modulus_bits = 32;        // 32 or 64: the fixed-point step is chosen to fit.
  bool full_graph = false;           // false: SecAgg+ with the default neighbourhood size.
  double dropout_fraction = 0.0;     // Clients lost inside the protocol, after sharing keys.
};

struct SimulationConfig {
  uint32_t rounds = 10;
  double client_fraction = 0.1;       // q: sampling fraction of the eligible clients.
  uint32_t min_clients_per_round = 1; // Fixed-size sampling draws at least this many.
  SamplingMode sampling = SamplingMode::kFixedSize;
  LocalTrainConfig local;             // Its seed is replaced per (round, client).

  AggregatorConfig aggregator;
  ServerOptimizerConfig server_optimizer;
  Weighting weighting = Weighting::kExamples;
  // L2 clipping of every update (0 = off). Required with secure aggregation (it bounds what a
  // malicious client can add to the masked sum); DP uses dp.clip_norm instead.
  double clip_norm = 0.0;
  DpConfig dp;
  SecureAggregationOptions secagg;
  CompressionConfig compression;
  ByzantineConfig byzantine;

  LatencyModel latency;
  double deadline_ms = 0.0;           // 0: no deadline (wait for every sampled client).
  uint32_t min_updates = 1;           // Fewer arrivals: the round is skipped.
  uint32_t max_updates = 0;           // Close the round after this many arrivals (0: no cap).

  uint32_t eval_every = 1;            // Central evaluation every k rounds and after the last.
  // Return the weights of the best evaluated round (highest NDCG@10, or lowest loss when the
  // trainer reports no NDCG) instead of the last; the trainer's Evaluate should then use
  // validation data, not the test set.
  bool keep_best = false;
  // Served model = exponential moving average of the global weights over rounds (Polyak
  // averaging on the server, 0 = off): after each applied round, average = d * average + (1 - d)
  // * weights, starting from the first round's weights. Evaluation, keep_best, personalization
  // and final_weights use the average; training continues from the raw global weights. It is
  // post-processing of what the server already holds, so it costs no privacy.
  double server_ema = 0.0;
  uint32_t personalize_clients = 0;   // Clients sampled for the personalization report.
  LocalTrainConfig personalize;       // Fine-tuning settings (seed replaced per client).

  uint32_t threads = 1;               // Worker threads (1 = the calling thread only).
  uint32_t parallel_clients = 8;      // Update buffers alive at once (a memory bound).
  uint64_t seed = 1;
  // Blocks the federation keeps fixed (e.g. item embeddings learnt on public data), in
  // increasing offset order, not overlapping. Every update is zeroed on them before clipping; DP
  // noise goes to the other coordinates only (what is released is the trainable part, and its
  // sensitivity is still S); the server optimizer sees zero there, so the global weights keep
  // their starting values. The trainer should leave them fixed in local training too
  // (node::RecommenderTrainerOptions::freeze, whose frozen_blocks() fill this field) so that the
  // trainable part is fitted around them.
  std::vector<ParameterBlock> frozen;
  // Starting model (e.g. a warm start trained on public data); empty = trainer.InitialWeights(seed).
  std::vector<float> initial_weights;
  // Time source for the wall-time split; SystemClock when null. Never affects results.
  const core::Clock* clock = nullptr;
};

// Checks every field against `trainer` (sizes, counts) and the combinations the runtime
// refuses: kInvalidArgument for a robust aggregator with secure aggregation (it needs
// individual updates), DP with a robust aggregator, compression with secure aggregation, secure
// aggregation without clipping, out-of-range fractions, more attackers than clients, and any
// limit above. The message names the offending field.
core::Status ValidateSimulationConfig(const SimulationConfig& config, const LocalTrainer& trainer);

struct RoundRecord {
  uint32_t round = 0;                 // 1-based.
  uint32_t sampled = 0;
  uint32_t accepted = 0;              // Updates that arrived before the deadline.
  uint32_t stragglers = 0;
  uint32_t dropped = 0;
  uint32_t aggregated = 0;            // Updates in the aggregate (secagg survivors; Krum picks).
  uint32_t byzantine = 0;             // Attackers among the aggregated updates' senders.
  bool applied = false;               // False: the round was skipped (see note).
  std::string note;
  double train_loss = -1.0;           // Example-weighted mean local loss of the accepted.
  double update_norm = 0.0;           // L2 norm of the aggregated update.
  bool evaluated = false;
  EvalMetrics eval;                   // Central evaluation after this round (when evaluated).
  double epsilon = 0.0;               // Cumulative privacy cost after this round (DP only).
  double delta = 0.0;
  double noise_multiplier = 0.0;
  uint64_t bytes_down = 0;            // All clients' downloads this round.
  uint64_t bytes_up = 0;              // All uploads that reached the server.
  double bytes_down_per_client = 0;   // Means over the sampled / accepted clients.
  double bytes_up_per_client = 0;
  uint64_t bytes_up_max = 0;          // The largest single upload.
  double simulated_ms = 0.0;          // When the round closed on the simulated clock.
  double train_seconds = 0.0;         // Local training, summed over clients (one core each).
  double aggregation_seconds = 0.0;   // Server: aggregation rule, noise, optimizer.
  double secagg_client_seconds = 0.0; // Secure aggregation protocol, summed over clients.
  double secagg_server_seconds = 0.0;
  double eval_seconds = 0.0;
  double wall_seconds = 0.0;          // The whole round on the wall clock.
};

struct PersonalizationSummary {
  uint32_t clients = 0;               // Clients that reported (had held-out events).
  double mean_global_loss = -1.0;
  double mean_personalized_loss = -1.0;
  double mean_global_ndcg_at_10 = -1.0;
  double mean_personalized_ndcg_at_10 = -1.0;
  // Mean per-client gain: NDCG@10 gain when the trainer reports NDCG, otherwise loss decrease.
  double mean_gain = 0.0;
};

struct SimulationResult {
  std::vector<RoundRecord> rounds;
  std::vector<float> final_weights;   // The last round's, or the best round's (keep_best).
  uint32_t best_round = 0;            // With keep_best: the round final_weights come from.
  double noise_multiplier = 0.0;      // The z used (found from the target epsilon if asked).
  double final_epsilon = 0.0;
  PersonalizationSummary personalization;
};

// Called after every round (from the calling thread), e.g. to print a progress line.
using RoundCallback = std::function<void(const RoundRecord& record)>;

// Runs config.rounds rounds from trainer.InitialWeights(config.seed). Returns
// ValidateSimulationConfig's errors, and the first error of the trainer (TrainClient, Evaluate,
// Personalize; with context naming round and client) or of secure aggregation other than an
// abort below threshold (which skips the round). `trainer` must outlive the call; it is called
// from up to config.threads threads at once.
core::Result<SimulationResult> RunSimulation(const LocalTrainer& trainer,
                                             const SimulationConfig& config,
                                             const RoundCallback& on_round = {});

// The expected number of clients per round (the DP denominator): q * eligible for Poisson
// sampling, the fixed sample size otherwise.
double ExpectedClientsPerRound(const SimulationConfig& config, uint32_t eligible_clients);

}  // namespace melodai::fl
