// MelodAI — licensed under the Apache License 2.0.
// End-to-end simulations on the closed-form linear-regression trainer: convergence to the known
// optimum, Byzantine attacks against FedAvg and the robust rules, DP, secure aggregation against
// the plain sum, compression bytes, stragglers, personalization, and bit-identical replay.
#include "fl/simulator.h"

#include <gtest/gtest.h>

#include <cstring>

#include "fl/testing_trainer.h"

namespace melodai::fl {
namespace {

LinearTrainerOptions SmallWorld() {
  LinearTrainerOptions options;
  options.clients = 60;
  options.features = 8;
  options.min_examples = 20;
  options.max_examples = 80;
  options.seed = 11;
  return options;
}

SimulationConfig BaseConfig() {
  SimulationConfig config;
  config.rounds = 40;
  config.client_fraction = 0.5;
  config.local.epochs = 1;
  config.local.learning_rate = 0.05;
  config.local.batch_size = 10;
  config.latency.lognormal_sigma = 0.0;
  config.eval_every = 10;
  config.seed = 5;
  return config;
}

// DP with noise multiplier 1 on a tenth of the clients per round, plain or secure.
SimulationConfig NoisyConfig(uint32_t rounds, bool secure) {
  SimulationConfig config = BaseConfig();
  config.rounds = rounds;
  config.client_fraction = 0.1;
  config.dp.enabled = true;
  config.dp.noise_multiplier = 1.0;
  config.secagg.enabled = secure;
  return config;
}

SimulationResult MustRun(const LocalTrainer& trainer, const SimulationConfig& config) {
  core::Result<SimulationResult> result = RunSimulation(trainer, config);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  if (!result.ok()) return {};
  return std::move(result).value();
}

double Distance(std::span<const float> a, std::span<const float> b) {
  double total = 0.0;
  for (size_t i = 0; i < a.size(); ++i) total += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(total);
}

bool BitIdentical(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST(SimulatorTest, FedAvgReachesTheLeastSquaresOptimum) {
  // Goal: FedAvg over non-IID clients converges to the global least-squares solution. Method:
  // with every client taking one full-batch step per round, example-weighted FedAvg is exactly
  // gradient descent on the summed loss, so it must reach the exact optimum; with sampling and
  // mini-batches (client drift) it must come close.
  const LinearRegressionTrainer trainer(SmallWorld());
  const std::vector<float> optimum = trainer.OptimalWeights();
  SimulationConfig exact = BaseConfig();
  exact.rounds = 400;
  exact.client_fraction = 1.0;
  exact.local.batch_size = 1000;
  exact.local.learning_rate = 0.15;
  exact.eval_every = 400;
  const SimulationResult gd = MustRun(trainer, exact);
  EXPECT_LT(Distance(gd.final_weights, optimum), 1e-3);
  const SimulationResult result = MustRun(trainer, BaseConfig());
  EXPECT_LT(Distance(result.final_weights, optimum), 0.1);
  EXPECT_LT(trainer.TestMse(result.final_weights), 1.15 * trainer.TestMse(optimum));
  ASSERT_EQ(result.rounds.size(), 40u);
  EXPECT_TRUE(result.rounds.back().evaluated);
  EXPECT_FALSE(result.rounds[4].evaluated);
  EXPECT_EQ(result.rounds[0].sampled, 30u);
  EXPECT_LT(result.rounds.back().train_loss, result.rounds.front().train_loss);
}

TEST(SimulatorTest, FedProxAndAdaptiveServerOptimizersConverge) {
  const LinearRegressionTrainer trainer(SmallWorld());
  const double optimum = trainer.TestMse(trainer.OptimalWeights());
  const double initial = trainer.TestMse(trainer.InitialWeights(5));
  SimulationConfig prox = BaseConfig();
  prox.aggregator.kind = AggregatorKind::kFedProx;
  prox.local.prox_mu = 0.1;
  EXPECT_LT(trainer.TestMse(MustRun(trainer, prox).final_weights), 1.2 * optimum);
  for (ServerOptimizerKind kind : {ServerOptimizerKind::kFedAvgM, ServerOptimizerKind::kFedAdam,
                                   ServerOptimizerKind::kFedYogi}) {
    SimulationConfig config = BaseConfig();
    config.rounds = 60;
    config.server_optimizer.kind = kind;
    config.server_optimizer.beta1 = kind == ServerOptimizerKind::kFedAvgM ? 0.5 : 0.9;
    config.server_optimizer.learning_rate = kind == ServerOptimizerKind::kFedAvgM ? 0.5 : 0.03;
    const double mse = trainer.TestMse(MustRun(trainer, config).final_weights);
    EXPECT_LT(mse, 0.02 * initial) << ServerOptimizerKindName(kind);
    EXPECT_LT(mse, 3.0 * optimum) << ServerOptimizerKindName(kind);
  }
}

TEST(SimulatorTest, ScalingAttackBreaksFedAvgButNotMedianOrKrum) {
  // 3 of the 30 sampled clients each round (10%) send -10 x their update.
  const LinearRegressionTrainer trainer(SmallWorld());
  const double clean = trainer.TestMse(MustRun(trainer, BaseConfig()).final_weights);
  SimulationConfig attacked = BaseConfig();
  attacked.rounds = 20;
  attacked.byzantine.attackers_per_round = 3;
  attacked.byzantine.attack = AttackKind::kScale;
  attacked.byzantine.scale = -10.0;
  const SimulationResult fedavg = MustRun(trainer, attacked);
  EXPECT_GT(trainer.TestMse(fedavg.final_weights), 10.0 * clean);
  EXPECT_EQ(fedavg.rounds[0].byzantine, 3u);
  for (AggregatorKind kind : {AggregatorKind::kMedian, AggregatorKind::kTrimmedMean,
                              AggregatorKind::kKrum, AggregatorKind::kMultiKrum}) {
    SimulationConfig config = attacked;
    config.rounds = 40;
    config.aggregator.kind = kind;
    config.aggregator.trim_fraction = 0.2;
    config.aggregator.krum_byzantine = 3;
    const SimulationResult result = MustRun(trainer, config);
    // Krum follows a single client's update each round, so it is noisier than the others.
    const double allowed = kind == AggregatorKind::kKrum ? 2.5 : 1.5;
    EXPECT_LT(trainer.TestMse(result.final_weights), allowed * clean) << AggregatorKindName(kind);
    if (kind == AggregatorKind::kMultiKrum) {
      EXPECT_EQ(result.rounds[0].byzantine, 0u);
    }
  }
}

TEST(SimulatorTest, SignFlipAndNoiseAttacksAreHandledByTheMedian) {
  const LinearRegressionTrainer trainer(SmallWorld());
  const double clean = trainer.TestMse(MustRun(trainer, BaseConfig()).final_weights);
  for (AttackKind attack : {AttackKind::kSignFlip, AttackKind::kNoise}) {
    SimulationConfig config = BaseConfig();
    config.byzantine.attackers_per_round = 3;
    config.byzantine.attack = attack;
    config.aggregator.kind = AggregatorKind::kMedian;
    EXPECT_LT(trainer.TestMse(MustRun(trainer, config).final_weights), 1.5 * clean)
        << AttackKindName(attack);
  }
}

TEST(SimulatorTest, NormBoundedMeanResistsScalingAndStaysCloseOnSignFlips) {
  // 3 of 30 clients attack. Scaled updates enter with the median norm, so the norm-bounded mean
  // ends near the clean model where FedAvg is ruined (see the test above: over 10x); sign flips
  // have honest norms and only slow the descent. With the cosine filter both attacks are dropped.
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig clean = BaseConfig();
  clean.aggregator.kind = AggregatorKind::kNormBounded;
  const double clean_mse = trainer.TestMse(MustRun(trainer, clean).final_weights);
  for (AttackKind attack : {AttackKind::kScale, AttackKind::kSignFlip}) {
    SimulationConfig config = clean;
    config.byzantine.attackers_per_round = 3;
    config.byzantine.attack = attack;
    const SimulationResult result = MustRun(trainer, config);
    EXPECT_EQ(result.rounds[0].aggregated, 30u);
    // A flipped update subtracts an honest one: 3 of 30 cut the step by a fifth.
    const double allowed = attack == AttackKind::kScale ? 1.6 : 2.0;
    EXPECT_LT(trainer.TestMse(result.final_weights), allowed * clean_mse) << AttackKindName(attack);
    config.aggregator.min_cosine = 0.0;
    const SimulationResult filtered = MustRun(trainer, config);
    EXPECT_LT(filtered.rounds[0].aggregated, 30u);
    EXPECT_LT(trainer.TestMse(filtered.final_weights), 1.1 * clean_mse) << AttackKindName(attack);
  }
}

TEST(SimulatorTest, RejectionDropsEveryScaledUpdateAndMatchesTheCleanRun) {
  // -10x updates are ten times an honest norm: with R = 3 none enters any round, so the model
  // lands where a clean run over the honest updates alone would (bounding alone lets each one
  // in as a reversed honest update: the test above allows 1.6x the clean error for it).
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig clean = BaseConfig();
  clean.aggregator.kind = AggregatorKind::kNormBounded;
  clean.aggregator.reject_factor = 3.0;
  const double clean_mse = trainer.TestMse(MustRun(trainer, clean).final_weights);
  SimulationConfig config = clean;
  config.byzantine.attackers_per_round = 3;
  config.byzantine.attack = AttackKind::kScale;
  const SimulationResult result = MustRun(trainer, config);
  for (const RoundRecord& round : result.rounds) {
    EXPECT_EQ(round.byzantine, 0u) << round.round;
    EXPECT_LE(round.aggregated, 27u) << round.round;
  }
  EXPECT_LT(trainer.TestMse(result.final_weights), 1.1 * clean_mse);
  config.aggregator.reject_factor = 0.0;
  EXPECT_EQ(MustRun(trainer, config).rounds[0].byzantine, 3u);
}

TEST(SimulatorTest, FrozenBlocksKeepTheirValuesAndGetNoNoise) {
  // The bias (last value) and the first two weights are frozen; DP noise would move them in
  // every round if it reached them. Central noise and noise shares under secure aggregation.
  LinearTrainerOptions options = SmallWorld();
  options.clients = 300;
  const LinearRegressionTrainer trainer(options);
  const std::vector<float> start = trainer.InitialWeights(5);
  for (bool secure : {false, true}) {
    SimulationConfig config = NoisyConfig(10, secure);
    config.frozen = {{"w0-1", 0, 2}, {"bias", 8, 1}};
    const SimulationResult result = MustRun(trainer, config);
    ASSERT_EQ(result.final_weights.size(), 9u);
    for (size_t i : {0u, 1u, 8u}) EXPECT_EQ(result.final_weights[i], start[i]) << i << (secure ? " secure" : "");
    for (size_t i = 2; i < 8; ++i) EXPECT_NE(result.final_weights[i], start[i]) << i;
  }
  SimulationConfig overlapping = BaseConfig();
  overlapping.frozen = {{"a", 0, 3}, {"b", 2, 1}};
  EXPECT_FALSE(ValidateSimulationConfig(overlapping, trainer).ok());
  SimulationConfig past_end = BaseConfig();
  past_end.frozen = {{"a", 8, 2}};
  const core::Status status = ValidateSimulationConfig(past_end, trainer);
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("frozen block 'a'"), std::string::npos) << status.ToString();
}

TEST(SimulatorTest, ClippingBoundsAScalingAttackUnderSecureAggregation) {
  // The secure path cannot run a robust rule; clipping every update before masking limits each
  // attacker to norm S. Compared with unclipped FedAvg the damage is much smaller.
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.rounds = 20;
  config.byzantine.attackers_per_round = 3;
  const double unclipped = trainer.TestMse(MustRun(trainer, config).final_weights);
  config.secagg.enabled = true;
  config.clip_norm = 0.3;
  const SimulationResult secure = MustRun(trainer, config);
  EXPECT_LT(trainer.TestMse(secure.final_weights), 0.1 * unclipped);
}

TEST(SimulatorTest, DifferentialPrivacyDegradesGracefullyAndIsAccounted) {
  LinearTrainerOptions options = SmallWorld();
  options.clients = 1000;
  options.min_examples = 10;
  options.max_examples = 30;
  const LinearRegressionTrainer trainer(options);
  SimulationConfig config = BaseConfig();
  config.rounds = 30;
  config.client_fraction = 0.1;
  config.eval_every = 30;
  const double clean = trainer.TestMse(MustRun(trainer, config).final_weights);
  const double initial = trainer.TestMse(trainer.InitialWeights(config.seed));
  config.dp.enabled = true;
  config.dp.clip_norm = 1.0;
  config.dp.noise_multiplier = 1.0;
  config.dp.delta = 1e-5;
  config.server_optimizer.learning_rate = 1.0;
  const SimulationResult dp = MustRun(trainer, config);
  const double private_mse = trainer.TestMse(dp.final_weights);
  EXPECT_LT(private_mse, 0.1 * initial);
  EXPECT_LT(private_mse, 3.0 * clean + 0.05);
  // Epsilon grows every round and ends where the accountant says for q = 100/1000, 30 rounds.
  for (size_t i = 1; i < dp.rounds.size(); ++i) EXPECT_GT(dp.rounds[i].epsilon, dp.rounds[i - 1].epsilon);
  EXPECT_NEAR(dp.final_epsilon, ComputeEpsilon(0.1, 1.0, 30, 1e-5).epsilon, 1e-9);
  // More noise: worse model, smaller epsilon.
  config.dp.noise_multiplier = 5.0;
  const SimulationResult noisy = MustRun(trainer, config);
  EXPECT_LT(noisy.final_epsilon, dp.final_epsilon);
  // A target epsilon picks the noise multiplier.
  config.dp.noise_multiplier = 0.0;
  config.dp.target_epsilon = 4.0;
  const SimulationResult targeted = MustRun(trainer, config);
  EXPECT_LE(targeted.final_epsilon, 4.0);
  EXPECT_GT(targeted.final_epsilon, 3.9);
  EXPECT_GT(targeted.noise_multiplier, 0.0);
}

TEST(SimulatorTest, DistributedNoiseSharesUnderSecureAggregation) {
  LinearTrainerOptions options = SmallWorld();
  options.clients = 300;
  const LinearRegressionTrainer trainer(options);
  const SimulationConfig config = NoisyConfig(15, /*secure=*/true);
  const SimulationResult result = MustRun(trainer, config);
  EXPECT_LT(trainer.TestMse(result.final_weights), 0.2 * trainer.TestMse(trainer.InitialWeights(5)));
  EXPECT_NEAR(result.final_epsilon, ComputeEpsilon(0.1, 1.0, 15, 1e-5).epsilon, 1e-9);
  EXPECT_GT(result.rounds[0].secagg_server_seconds, 0.0);
}

TEST(SimulatorTest, SecureAggregationEqualsThePlainWeightedSum) {
  // Goal: the secure path computes the same example-weighted FedAvg as the plain path, up to
  // fixed-point resolution. Method: identical configs with clipping, 5 rounds.
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.rounds = 5;
  config.clip_norm = 10.0;  // Inactive bound (updates are far smaller); required by secagg.
  const SimulationResult plain = MustRun(trainer, config);
  config.secagg.enabled = true;
  const SimulationResult secure = MustRun(trainer, config);
  ASSERT_EQ(plain.final_weights.size(), secure.final_weights.size());
  for (size_t i = 0; i < plain.final_weights.size(); ++i) {
    EXPECT_NEAR(plain.final_weights[i], secure.final_weights[i], 1e-4) << i;
  }
  // Secure bytes come from the protocol's phase statistics: more than a dense upload.
  EXPECT_GT(secure.rounds[0].bytes_up_per_client, plain.rounds[0].bytes_up_per_client);
  EXPECT_EQ(secure.rounds[0].aggregated, 30u);
  // 64-bit modulus and the full graph give the same result.
  config.secagg.modulus_bits = 64;
  config.secagg.full_graph = true;
  const SimulationResult wide = MustRun(trainer, config);
  for (size_t i = 0; i < plain.final_weights.size(); ++i) {
    EXPECT_NEAR(plain.final_weights[i], wide.final_weights[i], 1e-4) << i;
  }
}

TEST(SimulatorTest, SecureAggregationSurvivesProtocolDropouts) {
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.rounds = 3;
  config.clip_norm = 10.0;
  config.secagg.enabled = true;
  config.secagg.full_graph = true;
  config.secagg.dropout_fraction = 0.2;
  const SimulationResult result = MustRun(trainer, config);
  EXPECT_EQ(result.rounds[0].aggregated, 24u);  // 30 - round(0.2 * 30).
  EXPECT_TRUE(result.rounds[0].applied);
}

TEST(SimulatorTest, RobustAggregatorWithSecureAggregationIsRejected) {
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.secagg.enabled = true;
  config.clip_norm = 1.0;
  config.aggregator.kind = AggregatorKind::kMedian;
  const core::Status status = ValidateSimulationConfig(config, trainer);
  EXPECT_EQ(status.code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("secure aggregation"), std::string::npos) << status.message();
  EXPECT_EQ(RunSimulation(trainer, config).status().code(), core::StatusCode::kInvalidArgument);
  config.aggregator.kind = AggregatorKind::kFedAvg;
  config.clip_norm = 0.0;  // Secure aggregation without clipping.
  EXPECT_FALSE(ValidateSimulationConfig(config, trainer).ok());
  config.clip_norm = 1.0;
  config.compression.quantize_bits = 8;
  EXPECT_FALSE(ValidateSimulationConfig(config, trainer).ok());
  config = BaseConfig();
  config.dp.enabled = true;
  config.dp.noise_multiplier = 1.0;
  config.aggregator.kind = AggregatorKind::kKrum;
  EXPECT_FALSE(ValidateSimulationConfig(config, trainer).ok());
  config = BaseConfig();
  config.client_fraction = 0.0;
  EXPECT_FALSE(ValidateSimulationConfig(config, trainer).ok());
}

TEST(SimulatorTest, CompressionCutsUploadBytesAndStillConverges) {
  const LinearRegressionTrainer trainer(SmallWorld());
  const double clean = trainer.TestMse(MustRun(trainer, BaseConfig()).final_weights);
  const uint64_t d = trainer.parameter_count();  // 9
  SimulationConfig config = BaseConfig();
  config.compression.quantize_bits = 8;
  config.compression.quantize_chunk = 0;
  const SimulationResult q8 = MustRun(trainer, config);
  EXPECT_DOUBLE_EQ(q8.rounds[0].bytes_up_per_client,
                   static_cast<double>(kUpdateHeaderBytes + 8 + 4 + d));
  EXPECT_EQ(q8.rounds[0].bytes_up, 30 * (kUpdateHeaderBytes + 8 + 4 + d));
  EXPECT_EQ(q8.rounds[0].bytes_down, 30 * DenseBytes(d));
  EXPECT_LT(trainer.TestMse(q8.final_weights), 1.2 * clean);
  config.compression.quantize_bits = 32;
  config.compression.top_k_fraction = 0.34;  // ceil(0.34 * 9) = 4 elements.
  config.rounds = 80;
  const SimulationResult topk = MustRun(trainer, config);
  EXPECT_EQ(topk.rounds[0].bytes_up_max, kUpdateHeaderBytes + 8 + 4 * 4 + 4 * 4);
  EXPECT_LT(trainer.TestMse(topk.final_weights), 1.5 * clean);
  const SimulationResult plain = MustRun(trainer, BaseConfig());
  EXPECT_EQ(plain.rounds[0].bytes_up_max, kUpdateHeaderBytes + DenseBytes(d));
}

TEST(SimulatorTest, StragglersAndDropoutsAreLeftOutOfTheRound) {
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.rounds = 10;
  config.latency.base_ms = 1000.0;
  config.latency.per_example_ms = 10.0;
  config.latency.lognormal_sigma = 0.5;
  config.latency.dropout_probability = 0.1;
  config.deadline_ms = 1800.0;
  const SimulationResult result = MustRun(trainer, config);
  uint32_t stragglers = 0;
  uint32_t dropped = 0;
  for (const RoundRecord& record : result.rounds) {
    EXPECT_EQ(record.accepted + record.stragglers + record.dropped, record.sampled);
    EXPECT_EQ(record.aggregated, record.accepted);
    EXPECT_LE(record.simulated_ms, 1800.0);
    EXPECT_EQ(record.bytes_up, record.accepted * (kUpdateHeaderBytes + DenseBytes(9)));
    stragglers += record.stragglers;
    dropped += record.dropped;
  }
  EXPECT_GT(stragglers, 0u);
  EXPECT_GT(dropped, 0u);
  // A deadline nobody meets skips every round and leaves the model where it started.
  config.deadline_ms = 1.0;
  config.min_updates = 2;
  const SimulationResult starved = MustRun(trainer, config);
  for (const RoundRecord& record : starved.rounds) {
    EXPECT_FALSE(record.applied);
    EXPECT_FALSE(record.note.empty());
  }
  EXPECT_TRUE(BitIdentical(starved.final_weights, trainer.InitialWeights(config.seed)));
}

TEST(SimulatorTest, ReplayIsBitIdenticalWithAnyThreadCount) {
  // Goal: the thread count and the batch size change nothing. Method: a configuration that
  // uses every random stream (stragglers, dropouts, attackers, DP noise, 8-bit stochastic
  // rounding with top-k and error feedback), once with 1 thread and 1 buffer, once with 4
  // threads and 7 buffers; compare final weights and every record bit for bit.
  LinearTrainerOptions options = SmallWorld();
  options.personal_shift = 0.3;
  const LinearRegressionTrainer trainer(options);
  SimulationConfig config = BaseConfig();
  config.rounds = 12;
  config.latency.lognormal_sigma = 0.5;
  config.latency.dropout_probability = 0.1;
  config.deadline_ms = 2500.0;
  config.byzantine.attackers_per_round = 2;
  config.dp.enabled = true;
  config.dp.noise_multiplier = 0.5;
  config.compression.quantize_bits = 8;
  config.compression.top_k_fraction = 0.5;
  config.compression.error_feedback_clients = 16;
  config.personalize_clients = 10;
  config.personalize = config.local;
  config.threads = 1;
  config.parallel_clients = 1;
  const SimulationResult one = MustRun(trainer, config);
  config.threads = 4;
  config.parallel_clients = 7;
  config.compression.error_feedback_clients = 16;
  const SimulationResult four = MustRun(trainer, config);
  EXPECT_TRUE(BitIdentical(one.final_weights, four.final_weights));
  ASSERT_EQ(one.rounds.size(), four.rounds.size());
  for (size_t r = 0; r < one.rounds.size(); ++r) {
    EXPECT_EQ(one.rounds[r].train_loss, four.rounds[r].train_loss);
    EXPECT_EQ(one.rounds[r].update_norm, four.rounds[r].update_norm);
    EXPECT_EQ(one.rounds[r].bytes_up, four.rounds[r].bytes_up);
    EXPECT_EQ(one.rounds[r].accepted, four.rounds[r].accepted);
    EXPECT_EQ(one.rounds[r].eval.loss, four.rounds[r].eval.loss);
  }
  EXPECT_EQ(one.personalization.mean_gain, four.personalization.mean_gain);
  // Another seed gives another run.
  config.seed = 6;
  EXPECT_FALSE(BitIdentical(one.final_weights, MustRun(trainer, config).final_weights));
}

TEST(SimulatorTest, SecureReplayIsBitIdenticalWithAnyThreadCount) {
  const LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.rounds = 3;
  config.clip_norm = 1.0;
  config.secagg.enabled = true;
  config.secagg.dropout_fraction = 0.1;
  config.threads = 1;
  const SimulationResult one = MustRun(trainer, config);
  config.threads = 4;
  config.parallel_clients = 5;
  const SimulationResult four = MustRun(trainer, config);
  EXPECT_TRUE(BitIdentical(one.final_weights, four.final_weights));
  EXPECT_EQ(one.rounds.back().bytes_up, four.rounds.back().bytes_up);
}

TEST(SimulatorTest, PersonalizationReportsTheMeanGain) {
  LinearTrainerOptions options = SmallWorld();
  options.personal_shift = 0.5;  // Every client's labels follow its own weights.
  const LinearRegressionTrainer trainer(options);
  SimulationConfig config = BaseConfig();
  config.rounds = 20;
  config.personalize_clients = 15;
  config.personalize = config.local;
  config.personalize.epochs = 20;
  const SimulationResult result = MustRun(trainer, config);
  EXPECT_EQ(result.personalization.clients, 15u);
  EXPECT_GT(result.personalization.mean_gain, 0.0);
  EXPECT_LT(result.personalization.mean_personalized_loss, result.personalization.mean_global_loss);
  EXPECT_NEAR(result.personalization.mean_gain,
              result.personalization.mean_global_loss - result.personalization.mean_personalized_loss,
              1e-9);
}

TEST(SimulatorTest, ManyClientsAreSampledWithoutMaterializingThem) {
  // 20,000 clients, 1% per round; clients without data are never sampled; the callback sees
  // every round in order.
  LinearTrainerOptions options = SmallWorld();
  options.clients = 20000;
  options.empty_clients = 5000;
  options.min_examples = 5;
  options.max_examples = 10;
  const LinearRegressionTrainer trainer(options);
  SimulationConfig config = BaseConfig();
  config.rounds = 5;
  config.client_fraction = 0.01;
  config.sampling = SamplingMode::kPoisson;
  config.threads = 2;
  std::vector<uint32_t> seen;
  core::Result<SimulationResult> result =
      RunSimulation(trainer, config, [&](const RoundRecord& record) { seen.push_back(record.round); });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(seen, (std::vector<uint32_t>{1, 2, 3, 4, 5}));
  for (const RoundRecord& record : result->rounds) {
    EXPECT_GT(record.sampled, 100u);  // About 150 of the 15,000 eligible.
    EXPECT_LT(record.sampled, 200u);
  }
  EXPECT_DOUBLE_EQ(ExpectedClientsPerRound(config, 15000), 150.0);
}

TEST(SimulatorTest, KeepBestReturnsTheWeightsOfTheBestEvaluatedRound) {
  // Goal: with keep_best the result is the best evaluated model, not the last. Method: a server
  // learning rate of 100 overshoots the optimum more every round, so the test error grows after
  // the first rounds; the returned weights must score the minimum error seen.
  LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.rounds = 12;
  config.client_fraction = 1.0;
  config.eval_every = 1;
  config.server_optimizer.learning_rate = 100.0;
  config.local.batch_size = 80;
  config.keep_best = true;
  const SimulationResult result = MustRun(trainer, config);
  ASSERT_EQ(result.rounds.size(), 12u);
  double best = result.rounds[0].eval.loss;
  uint32_t best_round = 1;
  for (const RoundRecord& record : result.rounds) {
    if (record.eval.loss < best) {
      best = record.eval.loss;
      best_round = record.round;
    }
  }
  EXPECT_EQ(result.best_round, best_round);
  EXPECT_LT(best_round, 12u);
  EXPECT_GT(result.rounds.back().eval.loss, best);
  EXPECT_DOUBLE_EQ(trainer.TestMse(result.final_weights), best);
}

TEST(SimulatorTest, ServerEmaServesTheMovingAverageOfTheRounds) {
  // Goal: server_ema serves d * average + (1 - d) * weights, started from round 1, and does not
  // change training. Method: runs of 1, 2 and 3 rounds without the average give the global
  // weights w1, w2, w3 (a run of k rounds replays the first k rounds of a longer one); with
  // d = 0.25 the served model after 3 rounds must be 0.0625 w1 + 0.1875 w2 + 0.75 w3, and its
  // evaluation must be of that model.
  LinearRegressionTrainer trainer(SmallWorld());
  SimulationConfig config = BaseConfig();
  config.eval_every = 1;
  std::vector<std::vector<float>> trajectory;
  for (uint32_t rounds = 1; rounds <= 3; ++rounds) {
    config.rounds = rounds;
    trajectory.push_back(MustRun(trainer, config).final_weights);
  }
  config.server_ema = 0.25;
  const SimulationResult averaged = MustRun(trainer, config);
  ASSERT_EQ(averaged.final_weights.size(), trajectory[2].size());
  for (size_t i = 0; i < trajectory[2].size(); ++i) {
    const double expected =
        0.0625 * trajectory[0][i] + 0.1875 * trajectory[1][i] + 0.75 * trajectory[2][i];
    EXPECT_NEAR(averaged.final_weights[i], expected, 1e-5) << "coordinate " << i;
  }
  EXPECT_FALSE(BitIdentical(averaged.final_weights, trajectory[2]));
  EXPECT_DOUBLE_EQ(averaged.rounds.back().eval.loss, trainer.TestMse(averaged.final_weights));
  config.server_ema = 1.0;
  EXPECT_FALSE(RunSimulation(trainer, config).ok());
}

}  // namespace
}  // namespace melodai::fl
