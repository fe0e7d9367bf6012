// MelodAI — licensed under the Apache License 2.0.
// The content protocol (song split, tag queries), the experiment runner and the parts of the
// content tower that need no LibTorch: options, scoring and validation.
#include "rec/content.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/check.h"
#include "core/clock.h"
#include "core/logging.h"
#include "rec/model_factory.h"
#include "rec/popularity.h"

namespace melodai::rec {
namespace {

// Upper bounds of the tower's sizes: far beyond anything useful on thousands of songs.
constexpr uint32_t kMaxEmbeddingDim = 4096;
constexpr uint32_t kMaxHiddenDim = 65536;
constexpr uint32_t kMaxEpochs = 100000;
constexpr uint32_t kMaxBatchSize = 1u << 20;

bool InRange(double value, double low, double high) {
  return std::isfinite(value) && value >= low && value <= high;
}

core::Status ParseDouble(std::string_view key, std::string_view text, double& out) {
  const char* end = text.data() + text.size();
  auto [next, error] = std::from_chars(text.data(), end, out);
  if (error != std::errc() || next != end || !std::isfinite(out)) {
    return core::InvalidArgumentError(
        fmt::format("--param {}: '{}' is not a finite number", key, text));
  }
  return core::Status::Ok();
}

core::Status ParseUnsigned(std::string_view key, std::string_view text, uint32_t& out) {
  const char* end = text.data() + text.size();
  auto [next, error] = std::from_chars(text.data(), end, out);
  if (error != std::errc() || next != end) {
    return core::InvalidArgumentError(
        fmt::format("--param {}: '{}' is not an unsigned 32-bit integer", key, text));
  }
  return core::Status::Ok();
}

void Log(const ContentOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

// Per tag, the songs of each split part that carry it, ascending. part_of: 0 train, 1 valid,
// 2 test.
struct TagMembers {
  std::vector<std::vector<data::ItemId>> by_part[3];
};

core::Status ValidateTagTable(const data::Dataset& dataset) {
  const data::ItemTags& tags = dataset.item_tags;
  if (dataset.catalog.feature_dim() == 0) {
    return core::InvalidArgumentError(
        fmt::format("dataset '{}' has no content features", dataset.description));
  }
  if (tags.empty() || tags.tag_names.size() == 0) {
    return core::InvalidArgumentError(fmt::format("dataset '{}' has no tags", dataset.description));
  }
  if (tags.offsets.size() != dataset.catalog.size() + 1 ||
      tags.offsets.back() != tags.tags.size()) {
    return core::InvalidArgumentError(
        fmt::format("dataset '{}': the tag table has {} offsets for {} songs", dataset.description,
                    tags.offsets.size(), dataset.catalog.size()));
  }
  for (size_t item = 0; item < dataset.catalog.size(); ++item) {
    if (tags.offsets[item] > tags.offsets[item + 1]) {
      return core::InvalidArgumentError(fmt::format("tag offsets decrease at song {}", item));
    }
  }
  for (uint32_t tag : tags.tags) {
    if (tag >= tags.tag_names.size()) {
      return core::InvalidArgumentError(
          fmt::format("tag id {} has no name ({} tags)", tag, tags.tag_names.size()));
    }
  }
  return core::Status::Ok();
}

TagMembers CollectTagMembers(const data::Dataset& dataset, const data::ItemSplit& songs) {
  std::vector<uint8_t> part_of(dataset.catalog.size(), 0);
  for (data::ItemId item : songs.valid) part_of[item] = 1;
  for (data::ItemId item : songs.test) part_of[item] = 2;
  const data::ItemTags& tags = dataset.item_tags;
  TagMembers members;
  for (auto& part : members.by_part) part.resize(tags.tag_names.size());
  for (size_t item = 0; item < dataset.catalog.size(); ++item) {
    for (uint64_t at = tags.offsets[item]; at < tags.offsets[item + 1]; ++at) {
      std::vector<data::ItemId>& list = members.by_part[part_of[item]][tags.tags[at]];
      // Items arrive ascending, so a repeated (song, tag) pair is adjacent.
      if (list.empty() || list.back() != item) list.push_back(static_cast<data::ItemId>(item));
    }
  }
  return members;
}

data::QuerySet BuildQueries(const data::Dataset& dataset, const TagMembers& members, size_t part,
                            const ContentOptions& options) {
  data::QuerySet set;
  set.kind = data::QueryKind::kSetCompletion;
  std::vector<data::ItemId> sequence;
  for (size_t tag = 0; tag < members.by_part[0].size(); ++tag) {
    const auto& history = members.by_part[0][tag];
    const auto& targets = members.by_part[part][tag];
    if (history.size() < options.min_history || targets.size() < options.min_targets) continue;
    sequence.assign(history.begin(), history.end());
    sequence.insert(sequence.end(), targets.begin(), targets.end());
    const auto index = static_cast<uint32_t>(set.sequences.size());
    set.sequences.Append(sequence, {}, {}, static_cast<int64_t>(tag),
                         dataset.item_tags.tag_names.Get(static_cast<uint32_t>(tag)));
    const auto history_end = static_cast<uint32_t>(history.size());
    set.queries.push_back(
        {index, history_end, history_end, static_cast<uint32_t>(sequence.size())});
  }
  MELODAI_CHECK_EQ(set.queries.size(), set.sequences.size());
  return set;
}

core::Result<std::unique_ptr<Recommender>> MakeContentModel(std::string_view name,
                                                            const ContentOptions& options) {
  if (name == "pop" || name == "itemknn") {
    ModelConfig config;
    config.seed = options.seed;
    return MakeRecommender(name, config);
  }
  if (name == "featknn")
    return std::unique_ptr<Recommender>(std::make_unique<FeatureKnn>(options.feature_knn));
  if (name == "content") {
    ContentTowerOptions tower = options.tower;
    tower.seed = options.seed;
    MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<ContentTower> model, ContentTower::Create(tower));
    return std::unique_ptr<Recommender>(std::move(model));
  }
  return core::InvalidArgumentError(fmt::format(
      "unknown model '{}' for the content protocol; valid: pop, itemknn, featknn, content", name));
}

core::Result<ModelReport> FitAndEvaluate(const std::string& name, const data::Dataset& dataset,
                                         const ContentSplit& split, const ContentOptions& options,
                                         core::ThreadPool& pool) {
  MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<Recommender> model, MakeContentModel(name, options));
  ModelReport report;
  report.model = std::string(model->name());
  report.parameters_json = model->DescribeParameters();
  model->SetValidation(split.valid.queries.empty() ? nullptr : &split.valid,
                       /*exclude_history=*/true);
  if (auto* tower = dynamic_cast<ContentTower*>(model.get()))
    tower->SetValidationCandidates(split.valid_candidates);
  Log(options, fmt::format("[{}] fitting on {} tag sequences, {} song-tag pairs: {}", name,
                           split.train.size(), split.train.event_count(), report.parameters_json));
  core::Stopwatch watch;
  MELODAI_RETURN_IF_ERROR(model->Fit(dataset.catalog, split.train, pool).WithContext(name));
  report.fit_seconds = watch.ElapsedSeconds();
  EvalOptions eval = options.eval;
  eval.exclude_history = true;
  const data::QuerySet& queries = options.evaluate_on_valid ? split.valid : split.test;
  const std::vector<uint8_t>& candidates =
      options.evaluate_on_valid ? split.valid_candidates : split.test_candidates;
  const CandidateRestricted restricted(*model, candidates);
  const Recommender& ranked =
      candidates.empty() ? *model : static_cast<const Recommender&>(restricted);
  auto evaluated = Evaluate(ranked, dataset.catalog, split.train, queries, eval, pool);
  if (!evaluated.ok()) return evaluated.status().WithContext(name);
  report.result = *std::move(evaluated);
  Log(options,
      fmt::format(
          "[{}] fitted in {:.2f} s; NDCG@{} {:.4f} on {} queries", name, report.fit_seconds, eval.k,
          report.result.metrics.count("ndcg@10") ? report.result.metrics.at("ndcg@10") : -1.0,
          report.result.query_count));
  return report;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ContentTowerOptions and the LibTorch-free half of ContentTower.

core::Status ContentTowerOptions::Validate() const {
  if (embedding_dim == 0 || embedding_dim > kMaxEmbeddingDim) {
    return core::InvalidArgumentError(
        fmt::format("content: dim must lie in [1, {}]", kMaxEmbeddingDim));
  }
  if (hidden_dim == 0 || hidden_dim > kMaxHiddenDim) {
    return core::InvalidArgumentError(
        fmt::format("content: hidden must lie in [1, {}]", kMaxHiddenDim));
  }
  if (!InRange(input_dropout, 0.0, 0.95))
    return core::InvalidArgumentError("content: input_dropout must lie in [0, 0.95]");
  if (!InRange(dropout, 0.0, 0.95))
    return core::InvalidArgumentError("content: dropout must lie in [0, 0.95]");
  if (epochs == 0 || epochs > kMaxEpochs) {
    return core::InvalidArgumentError(
        fmt::format("content: epochs must lie in [1, {}]", kMaxEpochs));
  }
  if (batch_size == 0 || batch_size > kMaxBatchSize) {
    return core::InvalidArgumentError(
        fmt::format("content: batch_size must lie in [1, {}]", kMaxBatchSize));
  }
  if (!InRange(learning_rate, 1e-9, 10.0) || learning_rate <= 0.0) {
    return core::InvalidArgumentError("content: lr must lie in (0, 10]");
  }
  if (!InRange(weight_decay, 0.0, 10.0))
    return core::InvalidArgumentError("content: weight_decay must lie in [0, 10]");
  if (!InRange(logit_scale, 1e-3, 1000.0))
    return core::InvalidArgumentError("content: logit_scale must lie in [0.001, 1000]");
  if (!InRange(feature_skip, 0.0, 0.99))
    return core::InvalidArgumentError("content: feature_skip must lie in [0, 0.99]");
  return core::Status::Ok();
}

std::string ContentTowerOptions::ToJson() const {
  std::string out = "{";
  AppendJsonUnsigned(out, "seed", seed);
  AppendJsonUnsigned(out, "dim", embedding_dim);
  AppendJsonUnsigned(out, "hidden", hidden_dim);
  AppendJsonNumber(out, "input_dropout", input_dropout);
  AppendJsonNumber(out, "dropout", dropout);
  AppendJsonUnsigned(out, "epochs", epochs);
  AppendJsonUnsigned(out, "patience", patience);
  AppendJsonUnsigned(out, "batch_size", batch_size);
  AppendJsonNumber(out, "lr", learning_rate);
  AppendJsonNumber(out, "weight_decay", weight_decay);
  AppendJsonNumber(out, "logit_scale", logit_scale);
  AppendJsonNumber(out, "feature_skip", feature_skip);
  AppendJsonString(out, "loss", "multilabel_bce_cosine_logits");
  out += '}';
  return out;
}

core::Result<std::unique_ptr<ContentTower>> ContentTower::Create(
    const ContentTowerOptions& options) {
  MELODAI_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<ContentTower>(new ContentTower(options));
}

std::span<const float> ContentTower::Embedding(data::ItemId item) const {
  MELODAI_CHECK_LT(item, item_count_);
  return std::span<const float>(embeddings_)
      .subspan(size_t{item} * embedding_width_, embedding_width_);
}

void ContentTower::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), item_count_);
  MELODAI_CHECK_EQ(embeddings_.size(), item_count_ * embedding_width_);
  std::fill(scores.begin(), scores.end(), 0.0f);
  const size_t dim = embedding_width_;
  std::vector<double> centroid(dim, 0.0);
  for (data::ItemId item : query.history) {
    if (item >= item_count_) continue;
    const auto row = Embedding(item);
    for (size_t c = 0; c < dim; ++c) centroid[c] += row[c];
  }
  double norm_squared = 0.0;
  for (double value : centroid) norm_squared += value * value;
  if (norm_squared <= 0.0) return;
  const double inverse_norm = 1.0 / std::sqrt(norm_squared);
  for (size_t item = 0; item < item_count_; ++item) {
    const auto row = Embedding(static_cast<data::ItemId>(item));
    double dot = 0.0;
    for (size_t c = 0; c < dim; ++c) dot += centroid[c] * row[c];
    scores[item] = static_cast<float>(dot * inverse_norm);  // rows are unit: this is the cosine
  }
}

double ContentTower::ValidationNdcg(const data::Catalog& catalog, const data::Interactions& train,
                                    core::ThreadPool& pool) const {
  if (valid_ == nullptr || valid_->queries.empty()) return -1.0;
  EvalOptions eval;
  eval.exclude_history = valid_exclude_history_;
  const CandidateRestricted restricted(*this, valid_candidates_);
  const Recommender& ranked =
      valid_candidates_.empty() ? static_cast<const Recommender&>(*this) : restricted;
  core::Result<EvalResult> result = Evaluate(ranked, catalog, train, *valid_, eval, pool);
  if (!result.ok()) {
    MELODAI_LOG_WARN("content: validation failed: {}", result.status().ToString());
    return -1.0;
  }
  return result->metrics.at("ndcg@10");
}

// ---------------------------------------------------------------------------------------------
// Protocol.

core::Status CandidateRestricted::Fit(const data::Catalog& catalog, const data::Interactions& train,
                                      core::ThreadPool& pool) {
  (void)catalog;
  (void)train;
  (void)pool;
  return core::FailedPreconditionError(
      "a candidate-restricted view cannot be trained; fit the inner model");
}

void CandidateRestricted::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), candidates_.size());
  inner_.Score(query, scores);
  for (size_t item = 0; item < scores.size(); ++item) {
    if (candidates_[item] == 0) scores[item] = kNonCandidateScore;
  }
}

core::Result<ContentCandidates> ParseContentCandidates(std::string_view text) {
  if (text == "catalogue") return ContentCandidates::kCatalogue;
  if (text == "heldout") return ContentCandidates::kHeldOut;
  return core::InvalidArgumentError(
      fmt::format("candidates must be catalogue or heldout, got '{}'", text));
}

std::string_view ContentCandidatesName(ContentCandidates candidates) {
  return candidates == ContentCandidates::kCatalogue ? "catalogue" : "heldout";
}

std::vector<std::string> ContentModelNames() { return {"pop", "itemknn", "featknn", "content"}; }

core::Status SetContentParameter(ContentOptions& options, std::string_view key,
                                 std::string_view value) {
  ContentTowerOptions& tower = options.tower;
  if (key == "train_fraction") return ParseDouble(key, value, options.train_fraction);
  if (key == "valid_fraction") return ParseDouble(key, value, options.valid_fraction);
  if (key == "min_history") return ParseUnsigned(key, value, options.min_history);
  if (key == "min_targets") return ParseUnsigned(key, value, options.min_targets);
  if (key == "candidates") {
    MELODAI_ASSIGN_OR_RETURN(options.candidates, ParseContentCandidates(value));
    return core::Status::Ok();
  }
  if (key == "aggregation") {
    MELODAI_ASSIGN_OR_RETURN(options.feature_knn.aggregation, ParseFeatureAggregation(value));
    return core::Status::Ok();
  }
  if (key == "dim") return ParseUnsigned(key, value, tower.embedding_dim);
  if (key == "hidden") return ParseUnsigned(key, value, tower.hidden_dim);
  if (key == "input_dropout") return ParseDouble(key, value, tower.input_dropout);
  if (key == "dropout") return ParseDouble(key, value, tower.dropout);
  if (key == "epochs") return ParseUnsigned(key, value, tower.epochs);
  if (key == "patience") return ParseUnsigned(key, value, tower.patience);
  if (key == "batch_size") return ParseUnsigned(key, value, tower.batch_size);
  if (key == "lr") return ParseDouble(key, value, tower.learning_rate);
  if (key == "weight_decay") return ParseDouble(key, value, tower.weight_decay);
  if (key == "logit_scale") return ParseDouble(key, value, tower.logit_scale);
  if (key == "feature_skip") return ParseDouble(key, value, tower.feature_skip);
  return core::InvalidArgumentError(
      fmt::format("unknown content parameter '{}'; valid: aggregation, batch_size, candidates, "
                  "dim, dropout, epochs, "
                  "feature_skip, hidden, "
                  "input_dropout, logit_scale, lr, min_history, min_targets, patience, "
                  "train_fraction, valid_fraction, "
                  "weight_decay",
                  key));
}

core::Status ValidateContentOptions(const ContentOptions& options) {
  if (!InRange(options.train_fraction, 0.0, 1.0) || options.train_fraction <= 0.0) {
    return core::InvalidArgumentError("content: train_fraction must lie in (0, 1)");
  }
  if (!InRange(options.valid_fraction, 0.0, 1.0))
    return core::InvalidArgumentError("content: valid_fraction must lie in [0, 1)");
  if (options.train_fraction + options.valid_fraction >= 1.0) {
    return core::InvalidArgumentError(
        "content: train_fraction + valid_fraction must be below 1 (test needs songs)");
  }
  if (options.min_history == 0)
    return core::InvalidArgumentError("content: min_history must be at least 1");
  if (options.min_targets == 0)
    return core::InvalidArgumentError("content: min_targets must be at least 1");
  if (options.eval.k == 0 || options.eval.k_large == 0)
    return core::InvalidArgumentError("content: k and k_large must be at least 1");
  return options.tower.Validate();
}

core::Result<ContentSplit> MakeContentSplit(const data::Dataset& dataset,
                                            const ContentOptions& options) {
  MELODAI_RETURN_IF_ERROR(ValidateContentOptions(options));
  MELODAI_RETURN_IF_ERROR(ValidateTagTable(dataset));
  ContentSplit split;
  MELODAI_ASSIGN_OR_RETURN(split.songs,
                           data::SplitItems(dataset.catalog.size(), options.train_fraction,
                                            options.valid_fraction, options.seed));
  const TagMembers members = CollectTagMembers(dataset, split.songs);
  split.tag_count = dataset.item_tags.tag_names.size();
  for (size_t item = 0; item < dataset.catalog.size(); ++item) {
    if (dataset.item_tags.offsets[item + 1] > dataset.item_tags.offsets[item]) ++split.tagged_songs;
  }
  for (size_t tag = 0; tag < split.tag_count; ++tag) {
    const auto& songs = members.by_part[0][tag];
    if (songs.empty()) continue;
    split.train.Append(songs, {}, {}, static_cast<int64_t>(tag),
                       dataset.item_tags.tag_names.Get(static_cast<uint32_t>(tag)));
  }
  split.valid = BuildQueries(dataset, members, 1, options);
  split.test = BuildQueries(dataset, members, 2, options);
  if (options.candidates == ContentCandidates::kHeldOut) {
    split.valid_candidates.assign(dataset.catalog.size(), 0);
    split.test_candidates.assign(dataset.catalog.size(), 0);
    for (data::ItemId item : split.songs.valid) split.valid_candidates[item] = 1;
    for (data::ItemId item : split.songs.test) split.test_candidates[item] = 1;
  }
  if (split.train.empty())
    return core::FailedPreconditionError("content: no training song carries a tag");
  if (split.test.queries.empty()) {
    return core::FailedPreconditionError(
        fmt::format("content: no tag has >= {} training songs and >= {} test songs",
                    options.min_history, options.min_targets));
  }
  return split;
}

core::Result<ExperimentReport> RunContentExperiment(const data::Dataset& dataset,
                                                    const ContentOptions& options,
                                                    const std::vector<std::string>& models,
                                                    core::ThreadPool& pool) {
  if (models.empty()) return core::InvalidArgumentError("no model requested");
  for (const std::string& name : models)
    MELODAI_RETURN_IF_ERROR(MakeContentModel(name, options).status());
  Log(options,
      fmt::format("content protocol: splitting {} songs {:.2f}/{:.2f} (seed {}), {} candidates",
                  dataset.catalog.size(), options.train_fraction, options.valid_fraction,
                  options.seed, ContentCandidatesName(options.candidates)));
  MELODAI_ASSIGN_OR_RETURN(ContentSplit split, MakeContentSplit(dataset, options));
  const data::QuerySet& queries = options.evaluate_on_valid ? split.valid : split.test;
  if (queries.queries.empty())
    return core::FailedPreconditionError("content: the evaluation split has no queries");
  ExperimentReport report;
  report.data_source = dataset.source;
  report.data_description = dataset.description;
  report.catalog_items = dataset.catalog.size();
  std::vector<uint32_t> used_tags(dataset.item_tags.tags.begin(), dataset.item_tags.tags.end());
  std::sort(used_tags.begin(), used_tags.end());
  report.sequences =
      static_cast<size_t>(std::unique(used_tags.begin(), used_tags.end()) - used_tags.begin());
  report.events = dataset.item_tags.tags.size();
  report.train_sequences = split.train.size();
  report.train_events = split.train.event_count();
  report.train_items = split.songs.train.size();
  report.eval_sequences = queries.sequences.size();
  report.eval_queries = queries.queries.size();
  report.history_excluded = true;
  report.protocol = "content";
  report.seed = options.seed;
  report.threads = pool.thread_count();
  Log(options,
      fmt::format("content protocol: {} train / {} valid / {} test songs, {} training tags, {} "
                  "valid and {} "
                  "test queries",
                  split.songs.train.size(), split.songs.valid.size(), split.songs.test.size(),
                  split.train.size(), split.valid.queries.size(), split.test.queries.size()));
  for (const std::string& name : models) {
    MELODAI_ASSIGN_OR_RETURN(ModelReport model_report,
                             FitAndEvaluate(name, dataset, split, options, pool));
    report.models.push_back(std::move(model_report));
  }
  return report;
}

}  // namespace melodai::rec
