// MelodAI — licensed under the Apache License 2.0.
// A neural sequence recommender seen as one flat vector of floats, for federated training: the
// federated runtime moves and averages weight vectors, a device trains its own replica on its
// own sequences, and any weight vector can be turned into a Recommender for evaluation.
// Free of LibTorch types (the implementation is federated_torch.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/neural.h"
#include "rec/recommender.h"

namespace melodai::rec {

// One device's local training run.
struct LocalTrainingOptions {
  uint32_t epochs = 1;             // passes over the device's sequences
  double learning_rate = 0.1;
  std::string optimizer = "sgd";   // "sgd" or "adagrad" (state starts fresh every run)
  uint32_t batch_size = 32;        // sequences (session models) or windows (attention) per step
  double prox_mu = 0.0;            // FedProx: adds mu/2 * ||w - w_start||^2 to the loss
  double clip_norm = 0.0;          // per-step gradient-norm clipping; 0 = off
  // Sampled softmax: 0 = cross-entropy over every item row; n > 0 = over the step's targets
  // plus n negatives drawn (with replacement, from `seed`) with probability ~ count^alpha,
  // logQ-corrected. alpha = 0 draws uniformly and needs no item statistics; alpha > 0 uses the
  // item counts of the training data the model was created from (in a deployment: a histogram
  // the server learns through secure aggregation).
  uint32_t sampled_negatives = 0;
  double negative_alpha = 0.0;
  // "cross-entropy" (the softmax above) or "bpr-max": GRU4Rec's ranking loss over the same
  // candidates (every item row, or the targets plus the sampled negatives, without logQ
  // correction), with the model's bpreg and elu_param.
  std::string loss = "cross-entropy";
  // Dropout on the states fed to the output layer, with masks drawn from `seed` (LibTorch's own
  // dropout draws from a process-global generator and would break replay); 0 = off.
  double dropout = 0.0;
  // Parameters (names from FlatNeuralModel::parameter_blocks) that local training leaves
  // untouched: no gradient is computed for them and their weights come back bit-identical.
  std::vector<std::string> frozen;
  uint64_t seed = 0;               // order of the device's sequences and the negatives
};

// One named parameter tensor of the flat vector: values [offset, offset + size).
struct ParameterBlock {
  std::string name;
  size_t offset = 0;
  size_t size = 0;
};

struct LocalTrainingResult {
  uint64_t events = 0;  // predicted events per epoch
  double loss = 0.0;    // mean local loss per event in the last epoch
  uint32_t steps = 0;
};

// Shapes are fixed at Create: the model's item rows are the items of `train` (the public
// catalogue of tracks the federation trains on), in catalogue order.
// Local training uses the full-catalogue softmax (cross-entropy over every row) or a seeded
// sampled softmax (or BPR-max over the same candidates), and seeded dropout masks (the model's own dropout layers stay off), so a run
// is a pure function of its inputs and seed; see docs/FL.md.
// Thread-safe: every call builds its own network replica; run calls in parallel freely.
class FlatNeuralModel {
 public:
  // kInvalidArgument for invalid options or training data without a two-event sequence.
  // `catalog` must outlive the model.
  static core::Result<std::unique_ptr<FlatNeuralModel>> Create(const NeuralOptions& options,
                                                               const data::Catalog& catalog,
                                                               const data::Interactions& train);
  virtual ~FlatNeuralModel() = default;

  virtual const NeuralOptions& options() const = 0;
  virtual size_t parameter_count() const = 0;
  virtual size_t row_count() const = 0;
  // The named parameter tensors in flat order (they tile [0, parameter_count())), e.g.
  // "item_embedding.weight", "gru.weight_hh_l0".
  virtual std::vector<ParameterBlock> parameter_blocks() const = 0;

  // Freshly initialised weights, a pure function of `seed`.
  virtual std::vector<float> InitialWeights(uint64_t seed) const = 0;

  // Trains `weights` in place on `sequences` (catalogue item ids; items outside the model's
  // rows are skipped). kInvalidArgument for a wrong size, a frozen name that is not a parameter,
  // or when no sequence has two known events; kInternal when LibTorch fails; kFailedPrecondition when the loss diverges.
  virtual core::Result<LocalTrainingResult> TrainLocal(std::span<float> weights,
                                                       const data::Interactions& sequences,
                                                       const LocalTrainingOptions& options) const = 0;

  // A Recommender that scores with a copy of `weights`. kInvalidArgument for a wrong size.
  virtual core::Result<std::unique_ptr<Recommender>> MakeRecommender(std::span<const float> weights) const = 0;
};

}  // namespace melodai::rec
