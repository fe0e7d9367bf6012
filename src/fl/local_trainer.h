// MelodAI — licensed under the Apache License 2.0.
// The interface between the federated runtime and a model. fl knows models only as flat
// float buffers: the simulator asks a LocalTrainer to train one client from the global
// weights and to evaluate weights on held-out data. rec implements it (rec/federated.h) for
// the neural recommenders; tests implement it with small closed-form models.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace melodai::fl {

using ClientId = uint32_t;

// What a client does locally in one round.
struct LocalTrainConfig {
  uint32_t epochs = 1;          // Passes over the client's own examples.
  double learning_rate = 0.05;  // Client optimizer step size (plain SGD unless documented).
  uint32_t batch_size = 32;     // Examples per local step (trainer-defined unit).
  double prox_mu = 0.0;         // FedProx proximal term mu/2 * ||w - w_global||^2; 0 = off.
  uint64_t seed = 0;            // Seeds every random choice of this local run.
};

struct LocalTrainResult {
  uint64_t examples = 0;   // Training examples seen in one epoch (the FedAvg weight).
  double loss = 0.0;       // Mean training loss over the last local epoch.
};

// Accuracy of a weight vector on held-out data; fields a trainer cannot measure stay -1.
struct EvalMetrics {
  double loss = -1.0;
  double ndcg_at_10 = -1.0;
  double map_at_10 = -1.0;
  double recall_at_20 = -1.0;
  double mrr = -1.0;
  uint64_t queries = 0;
};

// A named contiguous block of the flat weight vector: values [offset, offset + size).
struct ParameterBlock {
  std::string name;
  size_t offset = 0;
  size_t size = 0;
};

// Before/after local fine-tuning of the global model on one client's own data.
struct PersonalizationResult {
  EvalMetrics global;        // The global model on the client's held-out events.
  EvalMetrics personalized;  // After fine-tuning on the client's training events.
};

// Implementations hold the (read-only) data of every client and create per-call model
// replicas, so TrainClient/EvaluateClient may run concurrently from several threads for
// different clients. Every random choice comes from config.seed: the same inputs give
// bit-identical outputs.
class LocalTrainer {
 public:
  virtual ~LocalTrainer() = default;

  virtual std::string Describe() const = 0;
  virtual size_t parameter_count() const = 0;
  virtual uint32_t client_count() const = 0;
  // Training examples of a client (0 for a client with nothing to train on).
  virtual uint64_t client_examples(ClientId client) const = 0;

  // The model's named blocks in flat order, tiling [0, parameter_count()); one block called
  // "weights" unless the trainer knows better.
  virtual std::vector<ParameterBlock> parameter_blocks() const {
    return {ParameterBlock{"weights", 0, parameter_count()}};
  }

  // The initial global weights, a pure function of `seed`.
  virtual std::vector<float> InitialWeights(uint64_t seed) const = 0;

  // Trains a replica initialised to `global` on the client's data and writes the update
  // (trained weights minus `global`) into `update` (parameter_count() long).
  // kInvalidArgument for sizes or ids out of range; kFailedPrecondition for a client with no
  // training examples.
  virtual core::Result<LocalTrainResult> TrainClient(ClientId client,
                                                     std::span<const float> global,
                                                     const LocalTrainConfig& config,
                                                     std::span<float> update) const = 0;

  // Central evaluation of `weights` on the held-out split (the server's view of quality).
  virtual core::Result<EvalMetrics> Evaluate(std::span<const float> weights) const = 0;

  // Devices that personalise: their own history is local training data and their future
  // events are held out (in the recommender adapter: the test playlists, seed = history,
  // continuation = future, so nothing they hold out was seen by the global model).
  virtual uint32_t personalization_client_count() const = 0;
  // Fine-tunes `global` on device `client`'s history (client < personalization_client_count())
  // and evaluates both the global and the fine-tuned weights on its held-out events.
  // kInvalidArgument for an id out of range.
  virtual core::Result<PersonalizationResult> Personalize(ClientId client,
                                                          std::span<const float> global,
                                                          const LocalTrainConfig& config) const = 0;
};

}  // namespace melodai::fl
