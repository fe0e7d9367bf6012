// MelodAI — licensed under the Apache License 2.0.
// The NeuralRecommender implementation shared by rec's LibTorch translation units: the model
// object (networks, scoring cache, validation, checkpoints) and the two trainers.
#pragma once

#include "rec/internal/torch_prelude.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "rec/internal/neural_nets.h"
#include "rec/internal/neural_serving.h"
#include "rec/neural.h"
#include "rec/top_k.h"

namespace melodai::rec::internal {

// The repeat term's value for one window position of a history: added to the score of the
// model row the position holds.
struct RepeatBonus {
  uint32_t row;
  float value;
};

// Invariants: exactly one of session_ / attention_ is non-null once built; item_matrix_ holds
// N x width_ floats and item_bias_ N floats mirroring the network's output layer whenever
// fitted_ is true; generation_ changes whenever the weights do (it keys the per-thread prefix
// cache of session models and the serving cache, which is rebuilt when its generation differs).
class NeuralModel final : public NeuralRecommender {
 public:
  explicit NeuralModel(NeuralOptions options) : options_(std::move(options)) {}

  std::string_view name() const override { return NeuralArchitectureName(options_.architecture); }
  std::string DescribeParameters() const override { return options_.ToJson(); }
  core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                   core::ThreadPool& pool) override;
  void Score(const Query& query, std::span<float> scores) const override;
  size_t TopItems(const Query& query, size_t /*catalog_size*/, std::span<const data::ItemId> excluded_sorted, size_t k,
                  std::span<ScoredItem> out) const override {
    return TopK(query, excluded_sorted, k, out);
  }
  void SetValidation(const data::QuerySet* valid, bool exclude_history) override {
    valid_ = valid;
    valid_exclude_history_ = exclude_history;
  }

  const NeuralOptions& options() const override { return options_; }
  const TrainingReport& training_report() const override { return report_; }
  void SetProgress(std::function<void(const TrainingProgress&)> progress) override {
    progress_ = std::move(progress);
  }
  core::Status Save(const std::filesystem::path& path) const override;
  void SetCheckpointPath(std::filesystem::path path) override { checkpoint_path_ = std::move(path); }

  // --- internals used by the trainers and Load ---
  // Builds the networks over `item_of_row` (the catalogue items the model knows, in row
  // order); every other catalogue item scores lowest.
  void BuildNetworks(const data::Catalog& catalog, std::vector<data::ItemId> item_of_row);
  // `train` with catalogue ids replaced by model rows.
  data::Interactions ToRows(const data::Interactions& train) const;
  torch::nn::Module& network();
  // Copies the output layer into item_matrix_/item_bias_ and bumps generation_.
  void RefreshScoringCache();
  // The final state [width] for a history of catalogue items (no gradient, eval mode
  // expected); items unknown to the model are skipped. `repeat` (attention models with a
  // repeat term) receives the repeat value of every window position, oldest first.
  torch::Tensor EncodeHistory(std::span<const data::ItemId> history, std::span<const float> weights,
                              std::vector<RepeatBonus>* repeat = nullptr) const;
  // Adds `repeat` to the scores of their items, in order (as Score does).
  void AddRepeatBonuses(std::span<const RepeatBonus> repeat, std::span<float> scores) const;
  // The serving path (rec/internal/neural_serving.h): the min(k, available) best catalogue
  // items for `query`, skipping `excluded_sorted`, best first in RanksBefore order. With the
  // LibTorch state (attention models, or options.serving_encoder false) the items and scores
  // equal Score + SelectTopKExcludingSorted bit for bit; with the serving encoder of session
  // models they are the exact top-k of that encoder's state (equal to LibTorch's to float
  // rounding). The first call after a weight change builds the serving cache.
  // REQUIRES: fitted_; excluded_sorted sorted, ids < catalogue size; out.size() >= k.
  // Thread-safe like Score.
  size_t TopK(const Query& query, std::span<const data::ItemId> excluded_sorted, size_t k,
              std::span<ScoredItem> out, const ServingOptions& options = {},
              ServingStats* stats = nullptr) const;
  // The state for `history` as the serving path computes it (see ServingOptions).
  void EncodeForServing(const ServingCache& cache, std::span<const data::ItemId> history,
                        std::span<const float> weights, bool serving_encoder,
                        std::vector<float>& state, std::vector<RepeatBonus>* repeat = nullptr) const;
  // The serving cache of the current weights, built (or rebuilt) under serving_mutex_ when
  // stale. REQUIRES: fitted_.
  std::shared_ptr<const ServingCache> PrepareServing() const;
  // Scores of every catalogue item for `state` (empty: the item biases), as Score writes them.
  void ScoreState(std::span<const float> state, std::span<float> scores) const;
  ItemMatrixView item_view() const {
    return {item_matrix_.data(), item_bias_.data(), item_bias_.size(), static_cast<size_t>(width_)};
  }
  // NDCG@10 on up to options_.valid_queries validation queries; -1 without a validation set.
  double ValidationNdcg(const data::Interactions& train, core::ThreadPool& pool);
  // Keeps a copy of the current weights as the best so far / restores it.
  void RememberBest();
  void RestoreBest();
  void ReportProgress(const TrainingProgress& progress) const {
    if (progress_) progress_(progress);
  }
  // Saves to checkpoint_path_ when one is set; failures are logged, not fatal.
  void SaveCheckpoint() const;

  NeuralOptions options_;
  const data::Catalog* catalog_ = nullptr;
  SessionNet session_{nullptr};
  AttentionNet attention_{nullptr};
  std::vector<int64_t> artist_of_row_;   // dense artist id per model row (attention models)
  int64_t artist_rows_ = 0;              // distinct artists of the rows; also the padding id
  std::vector<data::ItemId> item_of_row_;  // model row -> catalogue item
  std::vector<int32_t> row_of_item_;       // catalogue item -> model row, -1 when unknown
  std::vector<float> item_matrix_;
  std::vector<float> item_bias_;
  int64_t width_ = 0;
  uint64_t generation_ = 0;
  bool fitted_ = false;
  TrainingReport report_;
  std::vector<torch::Tensor> best_weights_;
  const data::QuerySet* valid_ = nullptr;
  bool valid_exclude_history_ = false;
  std::function<void(const TrainingProgress&)> progress_;
  std::filesystem::path checkpoint_path_;
  mutable std::mutex serving_mutex_;
  mutable std::shared_ptr<const ServingCache> serving_;  // guarded by serving_mutex_
};

// Feedback features of position `index` of `items` (log position, repeat flag, log weight).
void FeedbackFeatures(std::span<const data::ItemId> items, std::span<const float> weights, size_t index,
                      float* out);

// A training window of an attention model: events [begin, end) of one sequence in model rows;
// every event but the last is an input, every event but the first a target.
struct Window {
  uint32_t sequence;
  uint32_t begin;
  uint32_t end;
};
// The windows covering every sequence of `rows` with at least two events, from the end
// backwards, at most length + 1 events each (consecutive windows share one event).
std::vector<Window> MakeWindows(const data::Interactions& rows, uint32_t length);
// The left-padded input batch of `batch`; `targets` gets B * max_length next items (-1 at
// padding) and `events` grows by the number of inputs.
WindowBatch MakeWindowBatch(const NeuralModel& model, const data::Interactions& rows, std::span<const Window> batch,
                            std::vector<int64_t>& targets, uint64_t& events);

// BPR-max (GRU4Rec's loss) over scores [M, C] where row m's target is column target_columns[m]
// (int64 [M]): the softmax over the other columns weighs the pairwise BPR terms and the score
// regulariser bpreg; ELU(elu_param) is applied to the scores first when elu_param > 0. Summed
// over rows.
torch::Tensor BprMaxLoss(torch::Tensor scores, const torch::Tensor& target_columns, double elu_param, double bpreg);

// `rows` is the training data in model rows (ToRows), `train` the same in catalogue ids (for
// validation).
core::Status TrainSessionModel(NeuralModel& model, const data::Interactions& rows, const data::Interactions& train,
                               core::ThreadPool& pool);
core::Status TrainAttentionModel(NeuralModel& model, const data::Interactions& rows, const data::Interactions& train,
                                 core::ThreadPool& pool);

}  // namespace melodai::rec::internal
