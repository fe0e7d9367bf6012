// MelodAI — licensed under the Apache License 2.0.
// Training of the content tower (LibTorch): standardized features -> MLP -> unit embedding,
// multi-label binary cross-entropy against a tag-embedding table over cosine logits, Adam,
// seeded, one intra-op thread, early stopping on the validation queries' NDCG@10.
#include "rec/internal/torch_prelude.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "core/check.h"
#include "core/logging.h"
#include "core/rng.h"
#include "rec/content.h"
#include "rec/feature_knn.h"
#include "rec/popularity.h"

namespace melodai::rec {
namespace {

namespace F = torch::nn::functional;

// Tag frequencies are clamped into [kMinFrequency, 1 - kMinFrequency] before their logit
// initialises the tag bias, so a tag on every (or no) training song starts finite.
constexpr double kMinFrequency = 1e-3;
constexpr double kNormalizeEpsilon = 1e-8;
constexpr double kTagTableInitStd = 0.1;

// The tower and the tag head. Shapes: features [B, F] -> hidden [B, H] -> embedding [B, d]
// (unit rows; [B, d + F] with the feature skip); tag table [T, d (+ F)] (unit rows when used),
// bias [T]; logits [B, T].
struct ContentNetImpl : torch::nn::Module {
  ContentNetImpl(int64_t feature_dim, int64_t tag_count, const ContentTowerOptions& options,
                 const torch::Tensor& tag_frequency)
      : input_dropout(register_module("input_dropout", torch::nn::Dropout(options.input_dropout))),
        hidden(register_module("hidden", torch::nn::Linear(feature_dim, options.hidden_dim))),
        norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions(
                                         {static_cast<int64_t>(options.hidden_dim)})))),
        dropout(register_module("dropout", torch::nn::Dropout(options.dropout))),
        output(register_module("output",
                               torch::nn::Linear(options.hidden_dim, options.embedding_dim))),
        scale(options.logit_scale),
        skip(options.feature_skip) {
    const int64_t width =
        static_cast<int64_t>(options.embedding_dim) + (skip > 0.0 ? feature_dim : 0);
    tag_table =
        register_parameter("tag_table", torch::randn({tag_count, width}) * kTagTableInitStd);
    const torch::Tensor frequency = tag_frequency.clamp(kMinFrequency, 1.0 - kMinFrequency);
    tag_bias = register_parameter("tag_bias", torch::log(frequency / (1.0 - frequency)));
  }

  // With feature_skip = beta > 0 the embedding is [sqrt(1 - beta) mlp, sqrt(beta) unit features]
  // (still unit norm), so cosines mix the learned and the featknn similarity.
  torch::Tensor Embed(const torch::Tensor& features) {
    torch::Tensor x = input_dropout(features);
    x = dropout(torch::gelu(norm(hidden(x))));
    torch::Tensor learned =
        F::normalize(output(x), F::NormalizeFuncOptions().dim(1).eps(kNormalizeEpsilon));
    if (skip <= 0.0) return learned;
    const torch::Tensor unit =
        F::normalize(features, F::NormalizeFuncOptions().dim(1).eps(kNormalizeEpsilon));
    return torch::cat({learned * std::sqrt(1.0 - skip), unit * std::sqrt(skip)}, 1);
  }

  torch::Tensor Logits(const torch::Tensor& embedding) {
    const torch::Tensor tags =
        F::normalize(tag_table, F::NormalizeFuncOptions().dim(1).eps(kNormalizeEpsilon));
    return torch::matmul(embedding, tags.t()) * scale + tag_bias;
  }

  torch::nn::Dropout input_dropout;
  torch::nn::Linear hidden;
  torch::nn::LayerNorm norm;
  torch::nn::Dropout dropout;
  torch::nn::Linear output;
  torch::Tensor tag_table;
  torch::Tensor tag_bias;
  double scale;
  double skip;
};
TORCH_MODULE(ContentNet);

// The training matrices. features: every catalogue song [N, F]; train_features: the training
// songs [M, F]; labels [M, T] multi-hot, T = training tag sequences; tag_frequency [T].
struct TowerData {
  torch::Tensor features;
  torch::Tensor train_features;
  torch::Tensor labels;
  torch::Tensor tag_frequency;
};

TowerData MakeTowerData(const std::vector<float>& standardized, const data::Catalog& catalog,
                        const data::Interactions& train,
                        const std::vector<data::ItemId>& training_items) {
  const auto items = static_cast<int64_t>(catalog.size());
  const auto dim = static_cast<int64_t>(catalog.feature_dim());
  MELODAI_CHECK_EQ(standardized.size(), catalog.size() * catalog.feature_dim());
  TowerData data;
  data.features =
      torch::from_blob(const_cast<float*>(standardized.data()), {items, dim}, torch::kFloat32)
          .clone();
  std::vector<int64_t> rows(training_items.begin(), training_items.end());
  std::vector<int64_t> row_of(catalog.size(), -1);
  for (size_t r = 0; r < training_items.size(); ++r)
    row_of[training_items[r]] = static_cast<int64_t>(r);
  data.train_features = data.features.index_select(0, torch::tensor(rows, torch::kInt64));
  const auto tags = static_cast<int64_t>(train.size());
  std::vector<float> labels(training_items.size() * train.size(), 0.0f);
  for (size_t tag = 0; tag < train.size(); ++tag) {
    for (data::ItemId item : train.items(tag)) {
      MELODAI_CHECK_GE(row_of[item], 0);
      labels[static_cast<size_t>(row_of[item]) * train.size() + tag] = 1.0f;
    }
  }
  data.labels = torch::from_blob(labels.data(), {static_cast<int64_t>(training_items.size()), tags},
                                 torch::kFloat32)
                    .clone();
  data.tag_frequency = data.labels.mean(0);
  return data;
}

// One pass over the training songs in a fresh seeded order; returns the mean loss per cell.
double TrainEpoch(ContentNet& net, const TowerData& data, torch::optim::Adam& optimizer,
                  core::Rng& rng, uint32_t batch_size) {
  net->train();
  const auto songs = static_cast<size_t>(data.train_features.size(0));
  std::vector<int64_t> order(songs);
  for (size_t i = 0; i < songs; ++i) order[i] = static_cast<int64_t>(i);
  rng.Shuffle(order);
  double loss_sum = 0.0;
  for (size_t begin = 0; begin < songs; begin += batch_size) {
    const size_t end = std::min(songs, begin + batch_size);
    const torch::Tensor index =
        torch::tensor(std::vector<int64_t>(order.begin() + static_cast<long>(begin),
                                           order.begin() + static_cast<long>(end)),
                      torch::kInt64);
    const torch::Tensor logits =
        net->Logits(net->Embed(data.train_features.index_select(0, index)));
    const torch::Tensor loss =
        F::binary_cross_entropy_with_logits(logits, data.labels.index_select(0, index));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    loss_sum += loss.item<double>() * static_cast<double>(end - begin);
  }
  return songs == 0 ? 0.0 : loss_sum / static_cast<double>(songs);
}

std::vector<torch::Tensor> Snapshot(ContentNet& net) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> copy;
  for (const auto& parameter : net->parameters()) copy.push_back(parameter.detach().clone());
  return copy;
}

void Restore(ContentNet& net, const std::vector<torch::Tensor>& weights) {
  if (weights.empty()) return;
  torch::NoGradGuard no_grad;
  auto parameters = net->parameters();
  MELODAI_CHECK_EQ(parameters.size(), weights.size());
  for (size_t i = 0; i < parameters.size(); ++i) parameters[i].copy_(weights[i]);
}

// The unit embeddings of every catalogue song in evaluation mode, row-major.
std::vector<float> EmbedAll(ContentNet& net, const TowerData& data) {
  torch::NoGradGuard no_grad;
  net->eval();
  const torch::Tensor embedding = net->Embed(data.features).contiguous();
  const float* begin = embedding.data_ptr<float>();
  return std::vector<float>(begin, begin + embedding.numel());
}

}  // namespace

core::Status ContentTower::Fit(const data::Catalog& catalog, const data::Interactions& train,
                               core::ThreadPool& pool) {
  MELODAI_RETURN_IF_ERROR(ValidateTrainingData(catalog, train));
  const std::vector<data::ItemId> training_items = DistinctTrainingItems(train);
  MELODAI_ASSIGN_OR_RETURN(std::vector<float> standardized,
                           StandardizeFeatures(catalog, training_items));
  item_count_ = catalog.size();
  embedding_width_ = options_.EmbeddingWidth(catalog.feature_dim());
  report_ = ContentTrainingReport{};
  try {
    at::set_num_threads(1);  // Intra-op parallelism off: deterministic and fair to the others.
    torch::manual_seed(options_.seed);
    const TowerData data = MakeTowerData(standardized, catalog, train, training_items);
    ContentNet net(static_cast<int64_t>(catalog.feature_dim()), static_cast<int64_t>(train.size()),
                   options_, data.tag_frequency);
    for (const auto& parameter : net->parameters())
      report_.parameter_count += static_cast<uint64_t>(parameter.numel());
    torch::optim::Adam optimizer(
        net->parameters(),
        torch::optim::AdamOptions(options_.learning_rate).weight_decay(options_.weight_decay));
    core::Rng rng(options_.seed);
    std::vector<torch::Tensor> best;
    uint32_t epochs_without_gain = 0;
    for (uint32_t epoch = 1; epoch <= options_.epochs; ++epoch) {
      ContentEpochRecord record{epoch, TrainEpoch(net, data, optimizer, rng, options_.batch_size),
                                -1.0};
      embeddings_ = EmbedAll(net, data);
      record.valid_ndcg = ValidationNdcg(catalog, train, pool);
      report_.epochs.push_back(record);
      const bool measured = record.valid_ndcg >= 0.0;
      if (!measured || record.valid_ndcg > report_.best_valid_ndcg) {
        best = Snapshot(net);
        report_.best_epoch = epoch;
        report_.best_valid_ndcg = record.valid_ndcg;
        epochs_without_gain = 0;
      } else {
        ++epochs_without_gain;
      }
      MELODAI_LOG_DEBUG("[content] epoch {}: loss {:.4f}, valid NDCG@10 {:.4f}", epoch, record.loss,
                        record.valid_ndcg);
      if (measured && options_.patience > 0 && epochs_without_gain >= options_.patience) break;
    }
    Restore(net, best);
    embeddings_ = EmbedAll(net, data);
  } catch (const c10::Error& error) {
    return core::InternalError(fmt::format("LibTorch failed while training the content tower: {}",
                                           error.what_without_backtrace()));
  } catch (const std::exception& error) {
    return core::InternalError(fmt::format("training the content tower failed: {}", error.what()));
  }
  MELODAI_CHECK_EQ(embeddings_.size(), item_count_ * embedding_width_);
  MELODAI_LOG_INFO("[content] {} epochs, best epoch {} (valid NDCG@10 {:.4f}), {} parameters",
                   report_.epochs.size(), report_.best_epoch, report_.best_valid_ndcg,
                   report_.parameter_count);
  return core::Status::Ok();
}

}  // namespace melodai::rec
