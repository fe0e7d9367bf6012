// MelodAI — licensed under the Apache License 2.0.
// One or two server steps of each optimizer, computed by hand from Reddi et al. (2021), Alg. 2.
#include "fl/server_optimizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace melodai::fl {
namespace {

const std::vector<float> kDelta = {0.5f, -1.0f};

TEST(ServerOptimizerTest, FedAvgAddsTheScaledUpdate) {
  ServerOptimizerConfig config;
  config.learning_rate = 1.0;
  ServerOptimizer optimizer(config);
  std::vector<float> weights = {1.0f, 1.0f};
  optimizer.Apply(kDelta, weights);
  EXPECT_FLOAT_EQ(weights[0], 1.5f);
  EXPECT_FLOAT_EQ(weights[1], 0.0f);
  EXPECT_EQ(optimizer.steps(), 1u);
}

TEST(ServerOptimizerTest, FedAvgMAccumulatesMomentum) {
  ServerOptimizerConfig config;
  config.kind = ServerOptimizerKind::kFedAvgM;
  config.learning_rate = 0.1;
  config.beta1 = 0.9;
  ServerOptimizer optimizer(config);
  std::vector<float> weights = {1.0f, 1.0f};
  optimizer.Apply(kDelta, weights);  // m = Δ: w = [1.05, 0.9].
  EXPECT_FLOAT_EQ(weights[0], 1.05f);
  EXPECT_FLOAT_EQ(weights[1], 0.9f);
  optimizer.Apply(kDelta, weights);  // m = 0.9Δ + Δ = 1.9Δ: w += [0.095, -0.19].
  EXPECT_NEAR(weights[0], 1.145, 1e-6);
  EXPECT_NEAR(weights[1], 0.71, 1e-6);
}

TEST(ServerOptimizerTest, FedAdamFirstStepByHand) {
  ServerOptimizerConfig config;
  config.kind = ServerOptimizerKind::kFedAdam;
  config.learning_rate = 0.1;
  config.beta1 = 0.9;
  config.beta2 = 0.99;
  config.tau = 1e-3;
  ServerOptimizer optimizer(config);
  std::vector<float> weights = {0.0f, 0.0f};
  optimizer.Apply(kDelta, weights);
  // m = 0.1 Δ = [0.05, -0.1]; v = 0.99 tau² + 0.01 Δ² = [0.00250099, 0.01000099].
  const double step0 = 0.1 * 0.05 / (std::sqrt(0.00250099) + 1e-3);
  const double step1 = 0.1 * -0.1 / (std::sqrt(0.01000099) + 1e-3);
  EXPECT_NEAR(weights[0], step0, 1e-7);
  EXPECT_NEAR(weights[1], step1, 1e-7);
  EXPECT_NEAR(weights[0], 0.0980202, 1e-6);  // The same numbers, evaluated.
  EXPECT_NEAR(weights[1], -0.0990050, 1e-6);
}

TEST(ServerOptimizerTest, FedYogiDiffersFromAdamOnceVExceedsTheSquare) {
  ServerOptimizerConfig config;
  config.kind = ServerOptimizerKind::kFedYogi;
  config.learning_rate = 0.1;
  config.beta1 = 0.9;
  config.beta2 = 0.99;
  config.tau = 1e-3;
  ServerOptimizer optimizer(config);
  std::vector<float> weights = {0.0f};
  const std::vector<float> big = {1.0f};
  const std::vector<float> small = {0.01f};
  optimizer.Apply(big, weights);
  // Step 1: v0 = tau² < 1 -> v1 = tau² + 0.01 * 1 = 0.010001; m1 = 0.1.
  const double v1 = 1e-6 + 0.01;
  double w = 0.1 * 0.1 / (std::sqrt(v1) + 1e-3);
  EXPECT_NEAR(weights[0], w, 1e-7);
  optimizer.Apply(small, weights);
  // Step 2: Δ² = 1e-4 < v1 -> v2 = v1 - 0.01 * 1e-4 (Adam would give 0.99 v1 + 0.01 * 1e-4).
  const double m2 = 0.9 * 0.1 + 0.1 * 0.01;
  const double v2 = v1 - 0.01 * 1e-4;
  w += 0.1 * m2 / (std::sqrt(v2) + 1e-3);
  EXPECT_NEAR(weights[0], w, 1e-6);
}

TEST(ServerOptimizerTest, ConfigIsValidatedAndNamesParse) {
  ServerOptimizerConfig config;
  config.beta1 = 1.0;
  EXPECT_FALSE(ValidateServerOptimizerConfig(config).ok());
  config = {};
  config.learning_rate = 0.0;
  EXPECT_FALSE(ValidateServerOptimizerConfig(config).ok());
  config = {};
  config.tau = 0.0;
  EXPECT_FALSE(ValidateServerOptimizerConfig(config).ok());
  for (const char* name : {"fedavg", "fedavgm", "fedadam", "fedyogi"}) {
    core::Result<ServerOptimizerKind> kind = ParseServerOptimizerKind(name);
    ASSERT_TRUE(kind.ok());
    EXPECT_EQ(ServerOptimizerKindName(*kind), name);
  }
  EXPECT_FALSE(ParseServerOptimizerKind("adam").ok());
}

TEST(ServerOptimizerTest, LearningRateDecaysPerStep) {
  ServerOptimizerConfig config;
  config.learning_rate = 1.0;
  config.lr_decay = 0.5;
  ServerOptimizer optimizer(config);
  std::vector<float> weights = {0.0f, 0.0f};
  optimizer.Apply(kDelta, weights);  // lr 1: w = [0.5, -1].
  optimizer.Apply(kDelta, weights);  // lr 0.5: w += [0.25, -0.5].
  optimizer.Apply(kDelta, weights);  // lr 0.25: w += [0.125, -0.25].
  EXPECT_FLOAT_EQ(weights[0], 0.875f);
  EXPECT_FLOAT_EQ(weights[1], -1.75f);
  config.lr_decay = 0.0;
  EXPECT_EQ(ValidateServerOptimizerConfig(config).code(), core::StatusCode::kInvalidArgument);
  config.lr_decay = 1.5;
  EXPECT_EQ(ValidateServerOptimizerConfig(config).code(), core::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace melodai::fl
