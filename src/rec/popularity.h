// MelodAI — licensed under the Apache License 2.0.
// The popularity baseline ("pop") and the training statistics the classical models share:
// input validation, per-sequence distinct item sets, the item -> sequence inverted index and
// the regularised-mean rating baseline (global mean + item bias + user bias).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/recommender.h"

namespace melodai::rec {

// The score given to items that never occur in the training data: finite (so arithmetic on
// scores never produces NaN) and below every score a model gives a known item.
inline constexpr float kUnseenItemScore = -3.0e38f;

// Checks what every classical model needs from its training data: at least one non-empty
// sequence, every item id < catalog.size(), and (when present) finite, non-negative weights.
// Returns kInvalidArgument naming the first problem found.
core::Status ValidateTrainingData(const data::Catalog& catalog, const data::Interactions& train);

// Rating value of one event weight: log(1 + weight), with negative or non-finite weights
// (which validated training data never contains, but a query might) read as 0.
float RatingOfWeight(float weight);

// Rows of unsigned 32-bit values in compressed-sparse-row form: row r is
// values[offsets[r], offsets[r + 1]). Invariants: offsets.front() == 0, non-decreasing,
// offsets.back() == values.size().
struct CsrIndex {
  std::vector<uint64_t> offsets{0};
  std::vector<uint32_t> values;

  size_t rows() const { return offsets.size() - 1; }
  // REQUIRES: row < rows().
  std::span<const uint32_t> row(size_t row) const {
    return std::span<const uint32_t>(values).subspan(offsets[row], offsets[row + 1] - offsets[row]);
  }
  size_t row_size(size_t row) const { return offsets[row + 1] - offsets[row]; }
};

// The distinct items of every training sequence, each row sorted ascending (one row per
// sequence, empty sequences give empty rows).
CsrIndex DistinctItemsBySequence(const data::Interactions& train);

// The transpose of `items_by_sequence`: for every item id < item_count, the ascending list of
// sequences that contain it. Its row sizes are the item supports.
// REQUIRES: every value of items_by_sequence < item_count.
CsrIndex SequencesByItem(const CsrIndex& items_by_sequence, size_t item_count);

// The starting scores of the neighbourhood models, one per item of `sequences_by_item`:
// kUnseenItemScore for items without support; for the others -1 + supp / (max_supp + 1)
// (in [-1, 0), so more popular first) when popularity_fallback is set, else 0. Evidence is
// then added with AddEvidence, which puts every item with evidence above every item without.
std::vector<float> EvidencePrior(const CsrIndex& sequences_by_item, bool popularity_fallback);

// Adds a positive contribution to a score that starts at its EvidencePrior value.
inline void AddEvidence(float& score, float contribution) {
  score = (score < 0.0f ? 0.0f : score) + contribution;
}

// The items that occur in training, numbered densely by ascending id: the rows of the factor
// models' item matrices. Invariants: row_of has one entry per catalogue item;
// row_of[items[r]] == r and every other entry is kNoRow; fallback_scores has one per row.
struct KnownItems {
  static constexpr uint32_t kNoRow = UINT32_MAX;
  std::vector<data::ItemId> items;
  std::vector<uint32_t> row_of;
  // EvidencePrior with the popularity fallback, per row: the ranking for an empty history.
  std::vector<float> fallback_scores;

  size_t size() const { return items.size(); }
  // The row of `item`, or kNoRow for items absent from training or outside the catalogue.
  uint32_t RowOf(data::ItemId item) const { return item < row_of.size() ? row_of[item] : kNoRow; }
  // scores[items[r]] = row_scores[r] for every row and kUnseenItemScore everywhere else.
  // REQUIRES: row_scores.size() == size(), scores.size() == row_of.size().
  void Scatter(std::span<const float> row_scores, std::span<float> scores) const;
};

// Builds KnownItems from the item -> sequence index (one row per catalogue item).
KnownItems BuildKnownItems(const CsrIndex& sequences_by_item);

// Parameters of the baseline rating predictor.
struct BaselineOptions {
  // Shrinkage (pseudo-count) of the item and user bias means towards 0.
  // Defaults from Last.fm validation RMSE: user histories there are long (~45 artists) and users
  // differ strongly in overall play counts, so the user bias needs little shrinkage.
  double item_shrinkage = 10.0;
  double user_shrinkage = 1.0;
  // Alternating refinements of the biases on the training data (>= 1).
  uint32_t iterations = 3;
};

// Predicts ratings r = log(1 + weight) as r_hat(u, i) = mu + b_i + b_u, with
//   mu  = mean of r over all training events,
//   b_i = sum over events (u', i) of (r - mu - b_u') / (n_i + item_shrinkage),
//   b_u = sum over the user's events (u, j) of (r - mu - b_j) / (n_u + user_shrinkage),
// where the training sequences are the users. The two bias sets are refined alternately
// (`iterations` rounds, item biases first, starting from b_u' = 0); at query time the user
// bias is computed from the query history with the final item biases. Items absent from the
// training data have b_i = 0.
// Thread safety: const methods may run concurrently after Fit.
class BaselinePredictor {
 public:
  explicit BaselinePredictor(BaselineOptions options = {}) : options_(options) {}

  // Learns mu, b_i and the training users' b_u. Without weights every rating is log(2) and
  // all biases are 0. REQUIRES: ValidateTrainingData(train) succeeded for a catalogue of
  // item_count items.
  void Fit(const data::Interactions& train, size_t item_count);

  // The user bias of a history. Empty weights (data without weights) give 0.
  float UserBias(std::span<const data::ItemId> history, std::span<const float> weights) const;
  // mu + b_i + user_bias. REQUIRES: Fit ran.
  float Predict(data::ItemId item, float user_bias) const;
  // The trained user bias of training sequence `sequence`. REQUIRES: sequence < train.size().
  float TrainUserBias(size_t sequence) const { return train_user_bias_[sequence]; }
  float ItemBias(data::ItemId item) const;
  float global_mean() const { return global_mean_; }
  const BaselineOptions& options() const { return options_; }

 private:
  BaselineOptions options_;
  float global_mean_ = 0.0f;
  std::vector<float> item_bias_;
  std::vector<float> train_user_bias_;
};

// Options of the popularity model.
struct MostPopularOptions {
  BaselineOptions baseline;
};

// Scores every item by the number of training sequences that contain it (its support; a
// sequence that repeats an item counts once, so long playlists with repeats do not dominate).
// Items absent from training get kUnseenItemScore. Ignores the query history.
// Rating prediction (only when the training data has weights) is the BaselinePredictor.
// Invariants after Fit: scores_.size() == catalog size.
// Thread safety: Score and PredictRating may run concurrently after Fit.
class MostPopular final : public Recommender {
 public:
  // kInvalidArgument for negative or non-finite shrinkage or zero iterations.
  static core::Result<std::unique_ptr<MostPopular>> Create(const MostPopularOptions& options);

  std::string_view name() const override { return "pop"; }
  std::string DescribeParameters() const override;
  // kInvalidArgument when ValidateTrainingData fails.
  core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                   core::ThreadPool& pool) override;
  void Score(const Query& query, std::span<float> scores) const override;
  bool SupportsRating() const override { return has_weights_; }
  float PredictRating(const Query& query, data::ItemId item) const override;

  // Number of training sequences containing `item` (0 for unknown items).
  uint32_t Support(data::ItemId item) const;

 private:
  explicit MostPopular(const MostPopularOptions& options)
      : options_(options), baseline_(options.baseline) {}

  MostPopularOptions options_;
  BaselinePredictor baseline_;
  std::vector<float> scores_;
  std::vector<uint32_t> support_;
  bool has_weights_ = false;
};

// Shared validation of BaselineOptions; `model` prefixes the message.
core::Status ValidateBaselineOptions(const BaselineOptions& options, std::string_view model);

// Helpers for DescribeParameters: append `"key":value` (with a leading comma unless `out` is
// "{") to a JSON object text under construction. Numbers use the shortest exact-enough form.
void AppendJsonNumber(std::string& out, std::string_view key, double value);
void AppendJsonUnsigned(std::string& out, std::string_view key, uint64_t value);
void AppendJsonString(std::string& out, std::string_view key, std::string_view value);
void AppendJsonBool(std::string& out, std::string_view key, bool value);
// Appends the baseline options as JSON members.
void AppendBaselineJson(const BaselineOptions& options, std::string& out);

}  // namespace melodai::rec
