// MelodAI — licensed under the Apache License 2.0.
// A closed-form LocalTrainer for tests, examples and CLI smoke runs: linear regression on
// synthetic, non-IID client data. Each client's features come from a mixture of Gaussian
// clusters with client-specific proportions drawn from Dirichlet(alpha) (small alpha: each
// client sees mostly one cluster); labels follow one shared linear model plus noise (and an
// optional per-client shift, which gives personalization something to gain). Client data is a
// pure function of (seed, client) and is generated on every call, so a million clients cost no
// memory while they are not training. The global least-squares optimum is computed exactly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/rng.h"
#include "fl/local_trainer.h"

namespace melodai::fl {

struct LinearTrainerOptions {
  uint32_t clients = 50;
  uint32_t features = 8;            // The model has features + 1 parameters (weights, bias).
  uint32_t min_examples = 20;       // Per client, drawn uniformly in [min, max].
  uint32_t max_examples = 100;
  uint32_t empty_clients = 0;       // The last `empty_clients` clients hold no data at all.
  uint32_t clusters = 4;
  double dirichlet_alpha = 0.3;     // Non-IID-ness of the cluster mix per client.
  double cluster_spread = 1.0;      // Std of the cluster means around 0.
  double label_noise = 0.1;
  double personal_shift = 0.0;      // Std of a per-client perturbation of the true weights.
  uint32_t test_examples = 1000;    // Central held-out set (IID, unshifted).
  uint32_t personal_test_examples = 20;  // Per-client held-out events for Personalize.
  uint64_t seed = 7;
};

// Thread-safe (all methods are const and allocate per call).
class LinearRegressionTrainer final : public LocalTrainer {
 public:
  // REQUIRES: clients > 0, features > 0, 0 < min_examples <= max_examples, clusters > 0,
  // dirichlet_alpha > 0, empty_clients < clients.
  explicit LinearRegressionTrainer(const LinearTrainerOptions& options);

  std::string Describe() const override;
  size_t parameter_count() const override { return options_.features + 1; }
  uint32_t client_count() const override { return options_.clients; }
  uint64_t client_examples(ClientId client) const override;
  std::vector<float> InitialWeights(uint64_t seed) const override;
  core::Result<LocalTrainResult> TrainClient(ClientId client, std::span<const float> global,
                                             const LocalTrainConfig& config,
                                             std::span<float> update) const override;
  // loss = mean squared error on the central test set; ranking metrics stay -1.
  core::Result<EvalMetrics> Evaluate(std::span<const float> weights) const override;
  // Every client with data personalises (same ids as training clients: the empty ones are last).
  uint32_t personalization_client_count() const override {
    return options_.clients - options_.empty_clients;
  }
  core::Result<PersonalizationResult> Personalize(ClientId client, std::span<const float> global,
                                                  const LocalTrainConfig& config) const override;

  // The weights that generated the labels (bias last).
  std::vector<float> TrueWeights() const;
  // The exact minimiser of the summed squared error over every client's training data, i.e.
  // the fixed point of example-weighted FedAvg with exact local solves.
  std::vector<float> OptimalWeights() const;
  // Mean squared error of `weights` on the central test set.
  double TestMse(std::span<const float> weights) const;

 private:
  struct Examples {
    std::vector<double> features;  // Row-major, count x features.
    std::vector<double> labels;
    size_t count() const { return labels.size(); }
  };
  // Training examples (first) and personal held-out examples of a client.
  void GenerateClient(ClientId client, Examples& train, Examples* held_out) const;
  void GenerateExample(core::Rng& rng, std::span<const double> mix, std::span<const double> truth,
                       Examples& out) const;
  double Mse(std::span<const float> weights, const Examples& examples) const;
  // Mini-batch SGD with the FedProx term; returns the mean loss over the last epoch.
  double Sgd(const Examples& data, std::span<const float> global, const LocalTrainConfig& config,
             std::vector<double>& weights) const;

  LinearTrainerOptions options_;
  std::vector<double> true_weights_;   // features + 1.
  std::vector<double> cluster_means_;  // clusters x features.
  Examples test_;
};

}  // namespace melodai::fl
