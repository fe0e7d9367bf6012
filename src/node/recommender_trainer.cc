// MelodAI — licensed under the Apache License 2.0.
#include "node/recommender_trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "rec/evaluator.h"

namespace melodai::node {
namespace {

// One sequence of `source` as its own Interactions (a device's local data).
data::Interactions OneSequence(const data::Interactions& source, size_t index, size_t length) {
  data::Interactions one(source.has_timestamps(), source.has_weights());
  const data::SequenceView view = source[index];
  one.Append(view.items.first(length), source.has_timestamps() ? view.timestamps.first(length) : view.timestamps,
             source.has_weights() ? view.weights.first(length) : view.weights, view.external_id, view.name);
  return one;
}

fl::EvalMetrics ToMetrics(const rec::EvalResult& result) {
  fl::EvalMetrics metrics;
  const auto get = [&](const char* name) {
    const auto found = result.metrics.find(name);
    return found == result.metrics.end() ? -1.0 : found->second;
  };
  metrics.ndcg_at_10 = get("ndcg@10");
  metrics.map_at_10 = get("map@10");
  metrics.recall_at_20 = get("recall@20");
  metrics.mrr = get("mrr");
  metrics.queries = result.query_count;
  return metrics;
}

}  // namespace

core::Result<std::unique_ptr<RecommenderTrainer>> RecommenderTrainer::Create(const data::Catalog& catalog,
                                                                             const data::ProtocolSplit& split,
                                                                             const RecommenderTrainerOptions& options,
                                                                             core::ThreadPool& pool) {
  if (split.train.empty()) return core::InvalidArgumentError("the training split has no sequences (no clients)");
  if (split.test.kind != data::QueryKind::kNextItem || split.test.queries.empty() ||
      split.valid.kind != data::QueryKind::kNextItem || split.valid.queries.empty()) {
    return core::InvalidArgumentError(
        "federated evaluation needs next-item validation and test queries (protocol next-item, valid_fraction > 0)");
  }
  if (!(options.personalization_holdout > 0.0 && options.personalization_holdout < 1.0)) {
    return core::InvalidArgumentError(
        fmt::format("personalization_holdout must be in (0, 1), got {}", options.personalization_holdout));
  }
  if (options.first_client >= split.train.size() ||
      (options.clients > 0 && options.clients > split.train.size() - options.first_client)) {
    return core::InvalidArgumentError(fmt::format("clients [{}, +{}) are outside the {} training sequences",
                                                  options.first_client, options.clients, split.train.size()));
  }
  std::unique_ptr<RecommenderTrainer> trainer(new RecommenderTrainer(catalog, split, options, pool));
  trainer->client_count_ = options.clients > 0 ? options.clients
                                               : static_cast<uint32_t>(split.train.size() - options.first_client);
  MELODAI_ASSIGN_OR_RETURN(trainer->model_, rec::FlatNeuralModel::Create(options.neural, catalog, split.train));
  MELODAI_RETURN_IF_ERROR(trainer->ResolveFreeze());
  // Evenly spread subset of the validation queries (queries of one sequence are consecutive, so
  // the first N would come from a few playlists only).
  const data::QuerySet& valid = split.valid;
  trainer->eval_queries_.kind = valid.kind;
  trainer->eval_queries_.sequences = valid.sequences;
  const size_t total = valid.queries.size();
  const size_t wanted = options.eval_queries == 0 ? total : std::min(options.eval_queries, total);
  for (size_t i = 0; i < wanted; ++i) trainer->eval_queries_.queries.push_back(valid.queries[i * total / wanted]);
  return trainer;
}

std::string RecommenderTrainer::Describe() const {
  return fmt::format("{} ({} parameters, {} item rows), {} clients", rec::NeuralArchitectureName(options_.neural.architecture),
                     model_->parameter_count(), model_->row_count(), client_count());
}

uint64_t RecommenderTrainer::client_examples(fl::ClientId client) const {
  if (client >= client_count()) return 0;
  const size_t length = split_.train.items(options_.first_client + client).size();
  return length >= 2 ? length - 1 : 0;
}

core::Status RecommenderTrainer::ResolveFreeze() {
  const std::vector<fl::ParameterBlock> blocks = parameter_blocks();
  const auto contains = [](const fl::ParameterBlock& block, const std::string& text) {
    return block.name.find(text) != std::string::npos;
  };
  for (const std::string& text : options_.freeze) {
    if (std::none_of(blocks.begin(), blocks.end(), [&](const fl::ParameterBlock& b) { return contains(b, text); })) {
      std::vector<std::string> names;
      for (const fl::ParameterBlock& block : blocks) names.push_back(block.name);
      return core::InvalidArgumentError(fmt::format("freeze '{}': no parameter name contains it (the model has: {})",
                                                    text, fmt::join(names, ", ")));
    }
  }
  for (const fl::ParameterBlock& block : blocks) {
    if (std::any_of(options_.freeze.begin(), options_.freeze.end(),
                    [&](const std::string& text) { return contains(block, text); })) {
      frozen_blocks_.push_back(block);
      frozen_names_.push_back(block.name);
    }
  }
  return core::Status::Ok();
}

std::vector<fl::ParameterBlock> RecommenderTrainer::parameter_blocks() const {
  std::vector<fl::ParameterBlock> blocks;
  for (const rec::ParameterBlock& block : model_->parameter_blocks()) {
    blocks.push_back({block.name, block.offset, block.size});
  }
  return blocks;
}

rec::LocalTrainingOptions RecommenderTrainer::LocalOptions(const fl::LocalTrainConfig& config) const {
  rec::LocalTrainingOptions local;
  local.epochs = config.epochs;
  local.learning_rate = config.learning_rate;
  local.batch_size = config.batch_size;
  local.prox_mu = config.prox_mu;
  local.seed = config.seed;
  local.optimizer = options_.local_optimizer;
  local.clip_norm = options_.local_clip_norm;
  local.sampled_negatives = options_.local_negatives;
  local.negative_alpha = options_.local_negative_alpha;
  local.dropout = options_.local_dropout;
  local.loss = options_.local_loss;
  local.frozen = frozen_names_;
  return local;
}

core::Result<fl::LocalTrainResult> RecommenderTrainer::TrainClient(fl::ClientId client, std::span<const float> global,
                                                                   const fl::LocalTrainConfig& config,
                                                                   std::span<float> update) const {
  if (client >= client_count()) {
    return core::InvalidArgumentError(fmt::format("client {} out of range ({} clients)", client, client_count()));
  }
  if (global.size() != parameter_count() || update.size() != parameter_count()) {
    return core::InvalidArgumentError(fmt::format("weights of {} / update of {} values, the model has {}",
                                                  global.size(), update.size(), parameter_count()));
  }
  if (client_examples(client) == 0) {
    return core::FailedPreconditionError(fmt::format("client {} has no training example", client));
  }
  std::copy(global.begin(), global.end(), update.begin());
  const size_t sequence = options_.first_client + client;
  const data::Interactions local = OneSequence(split_.train, sequence, split_.train.items(sequence).size());
  MELODAI_ASSIGN_OR_RETURN(const rec::LocalTrainingResult trained, model_->TrainLocal(update, local, LocalOptions(config)));
  for (size_t i = 0; i < update.size(); ++i) update[i] -= global[i];
  return fl::LocalTrainResult{trained.events, trained.loss};
}

core::Result<fl::EvalMetrics> RecommenderTrainer::EvaluateOn(std::span<const float> weights,
                                                             const data::QuerySet& queries,
                                                             bool exclude_history) const {
  MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<rec::Recommender> recommender, model_->MakeRecommender(weights));
  rec::EvalOptions eval;
  eval.exclude_history = exclude_history;
  MELODAI_ASSIGN_OR_RETURN(const rec::EvalResult result,
                           rec::Evaluate(*recommender, catalog_, split_.train, queries, eval, pool_));
  return ToMetrics(result);
}

core::Result<fl::EvalMetrics> RecommenderTrainer::Evaluate(std::span<const float> weights) const {
  // Validation, next-item protocol: history not excluded (a track may come back), as in the
  // central runs.
  return EvaluateOn(weights, eval_queries_, /*exclude_history=*/false);
}

core::Result<fl::EvalMetrics> RecommenderTrainer::EvaluateAll(std::span<const float> weights) const {
  return EvaluateOn(weights, split_.test, /*exclude_history=*/false);
}

core::Result<fl::PersonalizationResult> RecommenderTrainer::Personalize(fl::ClientId client,
                                                                        std::span<const float> global,
                                                                        const fl::LocalTrainConfig& config) const {
  if (client >= personalization_client_count()) {
    return core::InvalidArgumentError(
        fmt::format("device {} out of range ({} personalising devices)", client, personalization_client_count()));
  }
  const data::Interactions& sequences = split_.test.sequences;
  const size_t length = sequences.items(client).size();
  const size_t held_out = std::max<size_t>(
      1, static_cast<size_t>(std::llround(options_.personalization_holdout * static_cast<double>(length))));
  if (length < held_out + 2) {
    return core::FailedPreconditionError(fmt::format("device {} has {} events: too few to fine-tune and hold out {}",
                                                     client, length, held_out));
  }
  // The device's continuation query: history = all but the held-out tail (excluded from the
  // ranking, as in the continuation protocol), targets = the tail.
  data::QuerySet device;
  device.kind = data::QueryKind::kSetCompletion;
  device.sequences = OneSequence(sequences, client, length);
  const auto history = static_cast<uint32_t>(length - held_out);
  device.queries.push_back({0, history, history, static_cast<uint32_t>(length)});
  fl::PersonalizationResult result;
  MELODAI_ASSIGN_OR_RETURN(result.global, EvaluateOn(global, device, /*exclude_history=*/true));
  std::vector<float> tuned(global.begin(), global.end());
  const data::Interactions local = OneSequence(sequences, client, history);
  MELODAI_RETURN_IF_ERROR(model_->TrainLocal(tuned, local, LocalOptions(config)).status());
  MELODAI_ASSIGN_OR_RETURN(result.personalized, EvaluateOn(tuned, device, /*exclude_history=*/true));
  return result;
}

}  // namespace melodai::node
