// MelodAI — licensed under the Apache License 2.0.
// The cold-start content protocol on tagged song sets (CAL500, emotions: the CAL10K stand-in)
// and its content tower: songs are split 70/15/15, every tag is a query whose history is its
// training songs and whose targets are its unseen test songs. Free of LibTorch types; the
// tower's training lives in content_tower_torch.cc. docs/CONTENT.md describes the protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/dataset.h"
#include "data/splits.h"
#include "rec/evaluator.h"
#include "rec/experiment.h"
#include "rec/feature_knn.h"
#include "rec/recommender.h"

namespace melodai::rec {

// Hyperparameters of the content tower. dropout, weight_decay and logit_scale were chosen on
// the CAL500 validation queries (held-out candidates, seeds 1 and 2; docs/CONTENT.md).
struct ContentTowerOptions {
  uint64_t seed = 42;
  uint32_t embedding_dim = 64;  // d: width of the song and tag embeddings
  uint32_t hidden_dim = 256;    // width of the MLP's hidden layer
  double input_dropout = 0.1;   // dropout on the standardized features
  double dropout = 0.5;         // dropout after the hidden layer
  uint32_t epochs = 200;        // at most this many passes over the training songs
  uint32_t patience = 25;       // stop after this many epochs without a better valid NDCG@10
                                // (0 = train every epoch; the best epoch is still kept)
  uint32_t batch_size = 32;     // training songs per Adam step
  double learning_rate = 1e-3;
  double weight_decay = 1e-3;  // L2 penalty of Adam
  double logit_scale = 5.0;    // tag logit = scale * cos(song, tag) + tag bias
  // beta in [0, 1): weight of the standardized-feature cosine inside the embedding (a skip path
  // around the MLP); 0 = the pure MLP embedding of embedding_dim values.
  double feature_skip = 0.0;

  // Values per song embedding: embedding_dim, plus feature_dim with the feature skip.
  size_t EmbeddingWidth(size_t feature_dim) const {
    return embedding_dim + (feature_skip > 0.0 ? feature_dim : 0);
  }

  // kInvalidArgument naming the first value outside its range.
  core::Status Validate() const;
  // The options as a JSON object text.
  std::string ToJson() const;
};

// Per-epoch record of the tower's training.
struct ContentEpochRecord {
  uint32_t epoch = 0;        // from 1
  double loss = 0.0;         // mean binary cross-entropy per (song, tag) cell
  double valid_ndcg = -1.0;  // NDCG@10 on the validation queries; -1 when none were set
};

struct ContentTrainingReport {
  std::vector<ContentEpochRecord> epochs;
  uint32_t best_epoch = 0;
  double best_valid_ndcg = -1.0;
  uint64_t parameter_count = 0;
};

// The content tower ("content"): an MLP maps a song's standardized audio features to a unit
// d-vector; it is trained on the training songs only, against their tags, with multi-label
// binary cross-entropy over cosine logits to a learned tag-embedding table (one row per
// training sequence: under the content protocol a sequence is a tag). Because it reads only
// features, it embeds songs it never saw. score(song) = cos(tower(song), mean of the history
// songs' embeddings).
// Invariants after Fit: embeddings_.size() == catalog size * embedding_width_ (=
// options.EmbeddingWidth(feature_dim)); every row has unit norm or is zero. Thread safety: Fit and
// SetValidation are not concurrent with anything; Score may run concurrently after Fit.
class ContentTower final : public Recommender {
 public:
  // kInvalidArgument when options.Validate() fails.
  static core::Result<std::unique_ptr<ContentTower>> Create(const ContentTowerOptions& options);

  std::string_view name() const override { return "content"; }
  std::string DescribeParameters() const override { return options_.ToJson(); }
  // Trains with Adam (seeded, one intra-op thread), after every epoch scores the validation
  // queries (when set) and keeps the epoch with the best NDCG@10. kInvalidArgument when the
  // catalogue has no features or the training data is empty or invalid; kInternal when
  // LibTorch fails (its message included).
  core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                   core::ThreadPool& pool) override;
  // History items outside the catalogue are ignored; an empty history scores every song 0.
  void Score(const Query& query, std::span<float> scores) const override;
  void SetValidation(const data::QuerySet* valid, bool exclude_history) override {
    valid_ = valid;
    valid_exclude_history_ = exclude_history;
  }
  // Restricts the validation ranking to the items flagged 1 (one flag per catalogue item), as
  // the protocol's candidate rule does; empty = every item. Borrowed: must outlive Fit.
  void SetValidationCandidates(std::span<const uint8_t> candidates) {
    valid_candidates_ = candidates;
  }

  const ContentTrainingReport& training_report() const { return report_; }
  const ContentTowerOptions& options() const { return options_; }
  // The unit embedding of `item` (EmbeddingWidth values). REQUIRES: Fit succeeded,
  // item < catalogue size.
  std::span<const float> Embedding(data::ItemId item) const;

 private:
  explicit ContentTower(const ContentTowerOptions& options) : options_(options) {}

  // NDCG@10 of the current embeddings on the validation queries, -1 when there are none.
  double ValidationNdcg(const data::Catalog& catalog, const data::Interactions& train,
                        core::ThreadPool& pool) const;

  ContentTowerOptions options_;
  ContentTrainingReport report_;
  size_t embedding_width_ = 0;  // values per row of embeddings_
  const data::QuerySet* valid_ = nullptr;
  bool valid_exclude_history_ = true;
  std::span<const uint8_t> valid_candidates_;
  size_t item_count_ = 0;
  std::vector<float> embeddings_;  // row-major, item_count_ x embedding_dim, unit rows
};

// A view of a fitted model that ranks only candidate items: every other item scores
// kNonCandidateScore, below anything a model writes (also below kUnseenItemScore), so the
// evaluator's top lists hold candidates first. Used by the held-out candidate rule.
// Both arguments are borrowed and must outlive the view. Thread safety: as the inner model.
class CandidateRestricted final : public Recommender {
 public:
  static constexpr float kNonCandidateScore = std::numeric_limits<float>::lowest();

  // REQUIRES: `inner` is fitted; candidates has one flag (0/1) per catalogue item.
  CandidateRestricted(const Recommender& inner, std::span<const uint8_t> candidates)
      : inner_(inner), candidates_(candidates) {}

  std::string_view name() const override { return inner_.name(); }
  std::string DescribeParameters() const override { return inner_.DescribeParameters(); }
  // A view is not trainable: always kFailedPrecondition.
  core::Status Fit(const data::Catalog& catalog, const data::Interactions& train,
                   core::ThreadPool& pool) override;
  void Score(const Query& query, std::span<float> scores) const override;

 private:
  const Recommender& inner_;
  std::span<const uint8_t> candidates_;
};

// Which songs a content query ranks (the query's history songs are always excluded).
enum class ContentCandidates : uint8_t {
  kCatalogue,  // every song of the catalogue: training songs without the tag and the other
               // held-out part compete with the targets
  kHeldOut,    // only the songs of the evaluated part (test, or valid for validation): pure
               // cold-start ranking, the usual per-tag retrieval protocol of CAL500
};
// Parses "catalogue" or "heldout"; kInvalidArgument otherwise.
core::Result<ContentCandidates> ParseContentCandidates(std::string_view text);
std::string_view ContentCandidatesName(ContentCandidates candidates);

// The protocol and the models of one content experiment.
struct ContentOptions {
  uint64_t seed = 42;            // the song split, ItemKNN and the tower
  double train_fraction = 0.70;  // of all songs, by data::SplitItems
  double valid_fraction = 0.15;  // the rest is test
  uint32_t min_history = 2;      // a tag is a query with >= this many training songs ...
  uint32_t min_targets = 1;      // ... and >= this many songs of the evaluated part
  ContentCandidates candidates = ContentCandidates::kCatalogue;
  EvalOptions eval;                // exclude_history is always forced to true
  bool evaluate_on_valid = false;  // report the validation queries instead of test
  FeatureKnnOptions feature_knn;
  ContentTowerOptions tower;  // tower.seed is replaced by `seed`
  // Progress lines for long work; may be empty.
  std::function<void(const std::string&)> log;
};

// Everything the evaluator needs for the protocol. Tag sequences list songs by ascending id.
struct ContentSplit {
  data::ItemSplit songs;
  // One sequence per tag with at least one training song: its training songs
  // (external_id = tag id, name = tag name). What models Fit on, and the evaluator's `train`.
  data::Interactions train;
  // One sequence per query tag: [training songs..., valid (resp. test) songs...], with
  // history_end = target_begin = number of training songs and target_end = its length.
  data::QuerySet valid;
  data::QuerySet test;
  // Candidate flags per catalogue item for the valid and test queries under kHeldOut (1 for
  // the songs of that part); empty under kCatalogue (every song is a candidate).
  std::vector<uint8_t> valid_candidates;
  std::vector<uint8_t> test_candidates;
  size_t tag_count = 0;     // tags the dataset names
  size_t tagged_songs = 0;  // songs with at least one tag
};

// The four models of the protocol in presentation order: "pop", "itemknn", "featknn",
// "content".
std::vector<std::string> ContentModelNames();

// Sets one option from text (for `--param key=value`): train_fraction, valid_fraction,
// min_history, min_targets, candidates (catalogue | heldout), aggregation (featknn), and the
// tower's dim, hidden, input_dropout, dropout, epochs, patience, batch_size, lr, weight_decay,
// logit_scale. kInvalidArgument for an unknown key (listing the valid ones) or a value that does
// not parse.
core::Status SetContentParameter(ContentOptions& options, std::string_view key,
                                 std::string_view value);

// kInvalidArgument naming the first absurd option (fractions, thresholds, tower options, k).
core::Status ValidateContentOptions(const ContentOptions& options);

// Builds the split. kInvalidArgument when the dataset has no features or no tags, its tag
// table does not match the catalogue, or an option is absurd; kFailedPrecondition when no tag
// qualifies as a test query.
core::Result<ContentSplit> MakeContentSplit(const data::Dataset& dataset,
                                            const ContentOptions& options);

// Splits `dataset` with MakeContentSplit, fits each of `models` (names from ContentModelNames)
// on the training tag sequences and evaluates it with rec::Evaluate (full catalogue, history
// excluded, restricted to the held-out songs under kHeldOut) on the test (or validation) queries.
// The report's protocol is "content"; its sequences/events count the tag sequences and song-tag
// assignments of the whole dataset. Uses every thread of `pool` for evaluation. kInvalidArgument
// for no or unknown models, no features or no tags; any split, fit or evaluation error is prefixed
// with the model name.
core::Result<ExperimentReport> RunContentExperiment(const data::Dataset& dataset,
                                                    const ContentOptions& options,
                                                    const std::vector<std::string>& models,
                                                    core::ThreadPool& pool);

}  // namespace melodai::rec
