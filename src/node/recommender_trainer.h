// MelodAI — licensed under the Apache License 2.0.
// The bridge from the federated runtime to the recommenders: fl::LocalTrainer implemented on a
// rec::FlatNeuralModel over a dataset split. One client per training sequence (a playlist or a
// Last.fm user); the server watches next-item accuracy on the validation sequences during
// training (model selection) and reports the test sequences at the end (EvaluateAll); devices
// that personalise are the test sequences themselves (history = local data, continuation = the
// events they hold out).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/splits.h"
#include "fl/local_trainer.h"
#include "rec/federated.h"

namespace melodai::node {

struct RecommenderTrainerOptions {
  rec::NeuralOptions neural;
  std::string local_optimizer = "sgd";  // "sgd" or "adagrad"
  double local_clip_norm = 0.0;
  uint32_t local_negatives = 0;      // sampled softmax in local training (0 = full softmax)
  double local_negative_alpha = 0.0; // negatives ~ count^alpha (0 = uniform)
  double local_dropout = 0.0;        // seeded dropout on the output states in local training
  std::string local_loss = "cross-entropy";  // or "bpr-max" (rec::LocalTrainingOptions::loss)
  // Local training leaves fixed every parameter whose name (rec::FlatNeuralModel::
  // parameter_blocks) contains one of these strings; pair with fl::SimulationConfig::frozen =
  // frozen_blocks() so that the server keeps them fixed too.
  std::vector<std::string> freeze;
  // Next-item validation queries per Evaluate (spread evenly over the validation set; 0 = all).
  size_t eval_queries = 3000;
  // Share of a personalising device's sequence held out: the last max(1, round(f * n)) events.
  double personalization_holdout = 0.1;
  // The clients are training sequences [first_client, first_client + clients) (clients 0 = to
  // the end); the model's item rows always come from the whole training split, so trainers over
  // different client ranges (e.g. public donors, then private devices) share one weight layout.
  uint32_t first_client = 0;
  uint32_t clients = 0;
};

// Borrowed: `catalog` and `split` outlive the trainer; `pool` runs evaluations.
class RecommenderTrainer final : public fl::LocalTrainer {
 public:
  // kInvalidArgument for invalid options, an empty training split, validation or test splits
  // that are not (non-empty) next-item queries, or a `freeze` string no parameter name contains
  // (the message lists the names).
  static core::Result<std::unique_ptr<RecommenderTrainer>> Create(const data::Catalog& catalog,
                                                                  const data::ProtocolSplit& split,
                                                                  const RecommenderTrainerOptions& options,
                                                                  core::ThreadPool& pool);

  std::string Describe() const override;
  size_t parameter_count() const override { return model_->parameter_count(); }
  uint32_t client_count() const override { return client_count_; }
  uint64_t client_examples(fl::ClientId client) const override;
  std::vector<fl::ParameterBlock> parameter_blocks() const override;
  // The blocks `freeze` selected, in flat order.
  const std::vector<fl::ParameterBlock>& frozen_blocks() const { return frozen_blocks_; }
  // Their names, as local training receives them.
  const std::vector<std::string>& frozen_names() const { return frozen_names_; }
  std::vector<float> InitialWeights(uint64_t seed) const override { return model_->InitialWeights(seed); }
  core::Result<fl::LocalTrainResult> TrainClient(fl::ClientId client, std::span<const float> global,
                                                 const fl::LocalTrainConfig& config,
                                                 std::span<float> update) const override;
  core::Result<fl::EvalMetrics> Evaluate(std::span<const float> weights) const override;
  uint32_t personalization_client_count() const override {
    return static_cast<uint32_t>(split_.test.sequences.size());
  }
  core::Result<fl::PersonalizationResult> Personalize(fl::ClientId client, std::span<const float> global,
                                                      const fl::LocalTrainConfig& config) const override;

  const rec::FlatNeuralModel& model() const { return *model_; }
  // Next-item evaluation of `weights` on every test query (for the final figures).
  core::Result<fl::EvalMetrics> EvaluateAll(std::span<const float> weights) const;

 private:
  RecommenderTrainer(const data::Catalog& catalog, const data::ProtocolSplit& split,
                     RecommenderTrainerOptions options, core::ThreadPool& pool)
      : catalog_(catalog), split_(split), options_(std::move(options)), pool_(pool) {}
  core::Result<fl::EvalMetrics> EvaluateOn(std::span<const float> weights, const data::QuerySet& queries,
                                           bool exclude_history) const;
  rec::LocalTrainingOptions LocalOptions(const fl::LocalTrainConfig& config) const;
  // Fills frozen_blocks_ / frozen_names_ from options_.freeze.
  core::Status ResolveFreeze();

  const data::Catalog& catalog_;
  const data::ProtocolSplit& split_;
  RecommenderTrainerOptions options_;
  core::ThreadPool& pool_;
  std::unique_ptr<rec::FlatNeuralModel> model_;
  data::QuerySet eval_queries_;  // the evenly spread subset of split_.valid
  uint32_t client_count_ = 0;    // client c is training sequence options_.first_client + c
  std::vector<fl::ParameterBlock> frozen_blocks_;  // resolved from options_.freeze at Create
  std::vector<std::string> frozen_names_;          // their names, for LocalTrainingOptions::frozen
};

}  // namespace melodai::node
