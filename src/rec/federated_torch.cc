// MelodAI — licensed under the Apache License 2.0.
// FlatNeuralModel: the neural recommenders as flat weight vectors for federated training.
// Every call builds its own network replica from the flat weights, so devices train in
// parallel without sharing LibTorch state; local training is deterministic (no dropout, the
// device's sequence order drawn from the seed, one intra-op thread).
#include "rec/internal/torch_prelude.h"

#include <fmt/format.h>

#include <cmath>
#include <atomic>
#include <mutex>
#include <map>
#include <algorithm>
#include <numeric>

#include "core/rng.h"
#include "rec/federated.h"
#include "rec/internal/neural_model.h"

namespace melodai::rec {
namespace {

using internal::AttentionNet;
using internal::AttentionNetImpl;
using internal::NeuralModel;
using internal::SessionNet;
using internal::SessionNetImpl;

// Network construction draws its initial values from LibTorch's global generator; the
// mutex keeps seeded initialisation reproducible when other threads build replicas.
std::mutex& InitMutex() {
  static std::mutex mutex;
  return mutex;
}

uint64_t NextModelId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

size_t CountParameters(torch::nn::Module& module) {
  size_t count = 0;
  for (const auto& parameter : module.parameters()) count += static_cast<size_t>(parameter.numel());
  return count;
}

void CopyOut(torch::nn::Module& module, std::span<float> out) {
  torch::NoGradGuard no_grad;
  size_t offset = 0;
  for (const auto& parameter : module.parameters()) {
    const torch::Tensor values = parameter.detach().contiguous();
    const auto count = static_cast<size_t>(values.numel());
    std::copy_n(values.data_ptr<float>(), count, out.data() + offset);
    offset += count;
  }
}

void CopyIn(torch::nn::Module& module, std::span<const float> in) {
  torch::NoGradGuard no_grad;
  size_t offset = 0;
  for (auto& parameter : module.parameters()) {
    const auto count = static_cast<size_t>(parameter.numel());
    // from_blob does not copy; copy_ does, so `in` is only read.
    parameter.copy_(torch::from_blob(const_cast<float*>(in.data() + offset), parameter.sizes(), torch::kFloat));
    offset += count;
  }
}

class FlatNeuralModelImpl final : public FlatNeuralModel {
 public:
  FlatNeuralModelImpl(NeuralOptions options, const data::Catalog& catalog, std::vector<data::ItemId> item_of_row,
                      std::vector<double> row_counts)
      : layout_(options), row_counts_(std::move(row_counts)) {
    layout_.BuildNetworks(catalog, std::move(item_of_row));
    parameter_count_ = CountParameters(layout_.network());
    size_t offset = 0;
    for (const auto& named : layout_.network().named_parameters()) {
      const auto size = static_cast<size_t>(named.value().numel());
      blocks_.push_back({named.key(), offset, size});
      offset += size;
    }
    MELODAI_CHECK_EQ(offset, parameter_count_);
  }

  const NeuralOptions& options() const override { return layout_.options_; }
  size_t parameter_count() const override { return parameter_count_; }
  std::vector<ParameterBlock> parameter_blocks() const override { return blocks_; }
  size_t row_count() const override { return layout_.item_of_row_.size(); }

  std::vector<float> InitialWeights(uint64_t seed) const override {
    std::unique_ptr<NeuralModel> model = NewModel(seed);
    std::vector<float> weights(parameter_count_);
    CopyOut(model->network(), weights);
    return weights;
  }

  core::Result<LocalTrainingResult> TrainLocal(std::span<float> weights, const data::Interactions& sequences,
                                               const LocalTrainingOptions& options) const override;

  core::Result<std::unique_ptr<Recommender>> MakeRecommender(std::span<const float> weights) const override {
    MELODAI_RETURN_IF_ERROR(CheckSize(weights.size()));
    try {
      std::unique_ptr<NeuralModel> model = NewModel(layout_.options_.seed);
      CopyIn(model->network(), weights);
      model->network().eval();
      model->RefreshScoringCache();
      model->fitted_ = true;
      return std::unique_ptr<Recommender>(std::move(model));
    } catch (const c10::Error& error) {
      return core::InternalError(fmt::format("LibTorch failed building a model: {}", error.what_without_backtrace()));
    }
  }

 private:
  // The calling thread's replica of the network (same shapes) holding `weights`. Replicas are
  // cached per thread and per model (building one draws every initial value, which cost more
  // than a device's training); every call overwrites all weights, so nothing carries over.
  NeuralModel& Replica(std::span<const float> weights) const {
    struct Cached {
      uint64_t owner = 0;
      std::unique_ptr<NeuralModel> model;
    };
    thread_local Cached cached;
    if (cached.owner != id_ || !cached.model) {
      cached.model = NewModel(layout_.options_.seed);
      cached.owner = id_;
    }
    CopyIn(cached.model->network(), weights);
    return *cached.model;
  }

  // A model of this layout with the networks initialised from `seed`.
  std::unique_ptr<NeuralModel> NewModel(uint64_t seed) const {
    NeuralOptions options = layout_.options_;
    options.seed = seed;
    auto model = std::make_unique<NeuralModel>(options);
    std::lock_guard<std::mutex> lock(InitMutex());
    model->BuildNetworks(*layout_.catalog_, layout_.item_of_row_);
    return model;
  }

  core::Status CheckSize(size_t size) const {
    if (size == parameter_count_) return core::Status::Ok();
    return core::InvalidArgumentError(
        fmt::format("weight vector has {} values, the model has {}", size, parameter_count_));
  }

  // The output layer's randomness in one local run: sampled negatives (sampler and the
  // log-probabilities of every row) and dropout masks, each from its own generator.
  // The negative distribution ~ count^alpha over the item rows and its log-probabilities; built
  // once per alpha and shared read-only by every local run.
  struct NegativeTable {
    explicit NegativeTable(std::span<const double> weights) : table(weights) {}
    core::AliasTable table;
    torch::Tensor log_q;  // [rows]
  };
  std::shared_ptr<const NegativeTable> Negatives(double alpha) const;

  struct OutputLoss {
    uint32_t count = 0;  // 0 = full softmax
    std::shared_ptr<const NegativeTable> negatives;
    core::Rng* rng = nullptr;
    double dropout = 0.0;  // on the states, masks from dropout_rng
    core::Rng* dropout_rng = nullptr;
    bool bpr_max = false;  // BPR-max instead of cross-entropy
    double bpreg = 0.0;
    double elu_param = 0.0;
  };
  OutputLoss MakeOutputLoss(const LocalTrainingOptions& options, core::Rng& rng) const;

  // The attention models' repeat term of the scored rows (see internal::AddRepeatTerm).
  struct RepeatInput {
    torch::Tensor values;  // [B, L, L]
    torch::Tensor items;   // [B, L]
    torch::Tensor rows;    // [n] positions of the scored states in the flattened batch
  };
  // Sum of the cross-entropy (or BPR-max) of `states` [n, dim] against `targets` (model rows)
  // over the rows of `item_weights` / `item_bias`: all of them, or the targets plus sampled
  // negatives; `repeat` (optional) adds the repeat term to the scores.
  static torch::Tensor SoftmaxLoss(const torch::Tensor& input_states, const std::vector<int64_t>& targets,
                                   const torch::Tensor& item_weights, const torch::Tensor& item_bias,
                                   const OutputLoss& sampler, const RepeatInput* repeat = nullptr);

  // Sum of the cross-entropy over the next-item targets of `batch` (model rows) and the
  // number of targets.
  std::pair<torch::Tensor, int64_t> SessionLoss(SessionNetImpl& net, const data::Interactions& rows,
                                                std::span<const uint32_t> batch,
                                                const OutputLoss& sampler) const;
  std::pair<torch::Tensor, int64_t> AttentionLoss(NeuralModel& model, const data::Interactions& rows,
                                                  std::span<const internal::Window> batch,
                                                  const OutputLoss& sampler) const;

  NeuralModel layout_;  // shapes and row maps only; its weights are never used
  std::vector<double> row_counts_;  // training events per item row (popularity negatives)
  size_t parameter_count_ = 0;
  std::vector<ParameterBlock> blocks_;  // named_parameters() order = parameters() order
  mutable std::mutex negatives_mutex_;
  mutable std::map<double, std::shared_ptr<const NegativeTable>> negatives_;  // by alpha
  uint64_t id_ = NextModelId();  // keys the per-thread replicas
};

FlatNeuralModelImpl::OutputLoss FlatNeuralModelImpl::MakeOutputLoss(const LocalTrainingOptions& options,
                                                                       core::Rng& rng) const {
  OutputLoss sampler;
  sampler.count = options.sampled_negatives;
  sampler.dropout = options.dropout;
  sampler.bpr_max = options.loss == "bpr-max";
  sampler.bpreg = layout_.options_.bpreg;
  sampler.elu_param = layout_.options_.elu_param;
  if (sampler.count == 0) return sampler;
  sampler.negatives = Negatives(options.negative_alpha);
  sampler.rng = &rng;
  return sampler;
}

std::shared_ptr<const FlatNeuralModelImpl::NegativeTable> FlatNeuralModelImpl::Negatives(double alpha) const {
  std::lock_guard<std::mutex> lock(negatives_mutex_);
  auto found = negatives_.find(alpha);
  if (found != negatives_.end()) return found->second;
  std::vector<double> weights(row_counts_.size());
  double total = 0.0;
  for (size_t row = 0; row < weights.size(); ++row) {
    weights[row] = alpha == 0.0 ? 1.0 : std::pow(row_counts_[row], alpha);
    total += weights[row];
  }
  std::vector<float> log_q(weights.size());
  for (size_t row = 0; row < weights.size(); ++row) log_q[row] = static_cast<float>(std::log(weights[row] / total));
  auto table = std::make_shared<NegativeTable>(weights);
  table->log_q = torch::tensor(log_q);
  negatives_.emplace(alpha, table);
  return table;
}

torch::Tensor FlatNeuralModelImpl::SoftmaxLoss(const torch::Tensor& input_states, const std::vector<int64_t>& targets,
                                               const torch::Tensor& item_weights, const torch::Tensor& item_bias,
                                               const OutputLoss& sampler, const RepeatInput* repeat) {
  const auto sum = torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum);
  torch::Tensor states = input_states;
  if (sampler.dropout > 0.0) {
    // Inverted dropout with a mask drawn from the run's own generator.
    const auto count = static_cast<size_t>(states.numel());
    std::vector<float> mask(count);
    const auto kept = static_cast<float>(1.0 / (1.0 - sampler.dropout));
    for (float& value : mask) value = sampler.dropout_rng->UniformDouble() < sampler.dropout ? 0.0f : kept;
    states = states * torch::from_blob(mask.data(), states.sizes(), torch::kFloat).clone();
  }
  torch::Tensor scores, columns, log_q, index;
  if (sampler.count == 0) {
    scores = states.mm(item_weights.t()) + item_bias.unsqueeze(0);
    columns = torch::tensor(targets, torch::kLong);
  } else {
    // Candidates: the distinct targets and negatives, sorted; for the softmax each logit is
    // logQ-corrected, so the sampled softmax estimates the full one (Jean et al. 2015).
    std::vector<int64_t> candidates(targets);
    for (uint32_t i = 0; i < sampler.count; ++i) {
      candidates.push_back(static_cast<int64_t>(sampler.negatives->table.Sample(*sampler.rng)));
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::vector<int64_t> positions(targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      positions[i] = std::lower_bound(candidates.begin(), candidates.end(), targets[i]) - candidates.begin();
    }
    index = torch::tensor(candidates, torch::kLong);
    scores = states.mm(item_weights.index_select(0, index).t()) + item_bias.index_select(0, index).unsqueeze(0);
    columns = torch::tensor(positions, torch::kLong);
    log_q = sampler.negatives->log_q.index_select(0, index).unsqueeze(0);
  }
  if (repeat != nullptr) scores = internal::AddRepeatTerm(scores, repeat->values, repeat->items, repeat->rows, index);
  if (sampler.bpr_max) return internal::BprMaxLoss(scores, columns, sampler.elu_param, sampler.bpreg);
  return torch::nn::functional::cross_entropy(log_q.defined() ? scores - log_q : scores, columns, sum);
}

std::pair<torch::Tensor, int64_t> FlatNeuralModelImpl::SessionLoss(SessionNetImpl& net,
                                                                   const data::Interactions& rows,
                                                                   std::span<const uint32_t> batch,
                                                                   const OutputLoss& sampler) const {
  std::vector<torch::Tensor> states;
  std::vector<int64_t> targets;
  for (uint32_t sequence : batch) {
    const auto items = rows.items(sequence);
    const std::vector<int64_t> input_rows(items.begin(), items.end() - 1);
    const torch::Tensor index = torch::tensor(input_rows, torch::kLong);
    const torch::Tensor inputs = net.constrained_ ? net.item_weights.index_select(0, index)
                                                  : net.input_table.index_select(0, index);
    torch::Tensor hidden = torch::zeros({1, net.hidden_dim_});
    for (size_t i = 0; i + 1 < items.size(); ++i) {
      hidden = net.Step(inputs.narrow(0, static_cast<int64_t>(i), 1), hidden);
      states.push_back(hidden);
      targets.push_back(items[i + 1]);
    }
  }
  const torch::Tensor state = torch::cat(states, 0);
  return {SoftmaxLoss(state, targets, net.item_weights, net.item_bias, sampler),
          static_cast<int64_t>(targets.size())};
}

std::pair<torch::Tensor, int64_t> FlatNeuralModelImpl::AttentionLoss(NeuralModel& model,
                                                                     const data::Interactions& rows,
                                                                     std::span<const internal::Window> batch,
                                                                     const OutputLoss& sampler) const {
  AttentionNetImpl& net = *model.attention_;
  std::vector<int64_t> targets;
  uint64_t events = 0;
  const internal::WindowBatch input = internal::MakeWindowBatch(model, rows, batch, targets, events);
  const auto size = static_cast<int64_t>(batch.size());
  const torch::Tensor window_states = net.Forward(input);
  const torch::Tensor states = window_states.reshape({size * net.max_length, net.dim});
  const torch::Tensor target = torch::tensor(targets, torch::kLong);
  const torch::Tensor valid = (target >= 0).nonzero().squeeze(1);
  const torch::Tensor item_weights = net.OutputWeights();
  std::vector<int64_t> valid_targets;
  for (int64_t target_row : targets) {
    if (target_row >= 0) valid_targets.push_back(target_row);
  }
  RepeatInput repeat;
  if (net.has_repeat()) repeat = {net.RepeatValues(window_states, input.padding), input.items, valid};
  return {SoftmaxLoss(states.index_select(0, valid), valid_targets, item_weights, net.item_bias, sampler,
                      net.has_repeat() ? &repeat : nullptr),
          valid.size(0)};
}

core::Result<LocalTrainingResult> FlatNeuralModelImpl::TrainLocal(std::span<float> weights,
                                                                  const data::Interactions& sequences,
                                                                  const LocalTrainingOptions& options) const {
  MELODAI_RETURN_IF_ERROR(CheckSize(weights.size()));
  if (options.epochs == 0 || options.batch_size == 0 || !(options.learning_rate > 0.0) ||
      !(options.prox_mu >= 0.0) || !(options.clip_norm >= 0.0) || !(options.negative_alpha >= 0.0) ||
      !std::isfinite(options.negative_alpha) || options.sampled_negatives > 1'000'000 ||
      !(options.dropout >= 0.0 && options.dropout < 1.0)) {
    return core::InvalidArgumentError(fmt::format(
        "local training needs epochs >= 1, batch_size >= 1, learning_rate > 0, prox_mu >= 0, clip_norm >= 0, "
        "sampled_negatives <= 1000000, negative_alpha >= 0, dropout in [0, 1) (got {}, {}, {}, {}, {}, {}, {}, {})",
        options.epochs, options.batch_size, options.learning_rate, options.prox_mu, options.clip_norm,
        options.sampled_negatives, options.negative_alpha, options.dropout));
  }
  if (options.loss != "cross-entropy" && options.loss != "bpr-max") {
    return core::InvalidArgumentError(fmt::format("unknown local loss '{}' (cross-entropy or bpr-max)", options.loss));
  }
  const bool adagrad = options.optimizer == "adagrad";
  if (!adagrad && options.optimizer != "sgd") {
    return core::InvalidArgumentError(fmt::format("unknown local optimizer '{}' (sgd or adagrad)", options.optimizer));
  }
  for (const std::string& name : options.frozen) {
    if (std::none_of(blocks_.begin(), blocks_.end(), [&](const ParameterBlock& b) { return b.name == name; })) {
      return core::InvalidArgumentError(fmt::format("cannot freeze '{}': the model has no parameter of that name", name));
    }
  }
  try {
    at::set_num_threads(1);
    NeuralModel* model = &Replica(weights);
    model->network().eval();  // no dropout: a local run is a pure function of its inputs
    const data::Interactions rows = model->ToRows(sequences);
    const bool session = static_cast<bool>(model->session_);
    std::vector<uint32_t> usable;
    for (uint32_t s = 0; s < rows.size(); ++s) {
      if (rows.items(s).size() >= 2) usable.push_back(s);
    }
    if (usable.empty()) return core::InvalidArgumentError("no local sequence has two events the model knows");
    std::vector<internal::Window> windows;
    if (!session) windows = internal::MakeWindows(rows, layout_.options_.max_length);
    const size_t units = session ? usable.size() : windows.size();

    // A replica is reused across calls: set every parameter's trainability for this run.
    for (auto& named : model->network().named_parameters()) {
      const bool frozen = std::find(options.frozen.begin(), options.frozen.end(), named.key()) != options.frozen.end();
      named.value().set_requires_grad(!frozen);
    }
    std::vector<torch::Tensor> parameters;
    for (const auto& parameter : model->network().parameters()) {
      if (parameter.requires_grad()) parameters.push_back(parameter);
    }
    std::vector<torch::Tensor> start, accumulators;
    if (options.prox_mu > 0.0) {
      for (const auto& parameter : parameters) start.push_back(parameter.detach().clone());
    }
    if (adagrad) {
      for (const auto& parameter : parameters) accumulators.push_back(torch::zeros_like(parameter));
    }
    core::Rng rng(options.seed);
    core::Rng negative_rng = rng.Fork(1);
    core::Rng dropout_rng = rng.Fork(2);
    OutputLoss sampler = MakeOutputLoss(options, negative_rng);
    sampler.dropout_rng = &dropout_rng;
    LocalTrainingResult result;
    for (uint32_t epoch = 0; epoch < options.epochs; ++epoch) {
      std::vector<uint32_t> order(units);
      std::iota(order.begin(), order.end(), 0u);
      rng.Shuffle(order);
      double loss_sum = 0.0;
      int64_t targets = 0;
      for (size_t begin = 0; begin < units; begin += options.batch_size) {
        const size_t count = std::min<size_t>(options.batch_size, units - begin);
        torch::Tensor loss;
        int64_t batch_targets = 0;
        if (session) {
          std::vector<uint32_t> batch;
          for (size_t i = begin; i < begin + count; ++i) batch.push_back(usable[order[i]]);
          std::tie(loss, batch_targets) = SessionLoss(*model->session_, rows, batch, sampler);
        } else {
          std::vector<internal::Window> batch;
          for (size_t i = begin; i < begin + count; ++i) batch.push_back(windows[order[i]]);
          std::tie(loss, batch_targets) = AttentionLoss(*model, rows, batch, sampler);
        }
        for (auto& parameter : parameters) parameter.mutable_grad() = torch::Tensor();
        (loss / static_cast<double>(batch_targets)).backward();
        loss_sum += loss.item<double>();
        targets += batch_targets;
        torch::NoGradGuard no_grad;
        if (options.clip_norm > 0.0) torch::nn::utils::clip_grad_norm_(parameters, options.clip_norm);
        for (size_t p = 0; p < parameters.size(); ++p) {
          torch::Tensor grad = parameters[p].grad();
          if (!grad.defined()) continue;
          if (options.prox_mu > 0.0) grad = grad + options.prox_mu * (parameters[p] - start[p]);
          if (adagrad) {
            accumulators[p].add_(grad * grad);
            parameters[p].sub_(grad / (accumulators[p] + 1e-6).sqrt() * options.learning_rate);
          } else {
            parameters[p].sub_(grad * options.learning_rate);
          }
        }
        if (!session) model->attention_->item_embedding->weight[model->attention_->items_].zero_();
        ++result.steps;
      }
      result.events = static_cast<uint64_t>(targets);
      result.loss = targets > 0 ? loss_sum / static_cast<double>(targets) : 0.0;
      if (!std::isfinite(result.loss)) {
        return core::FailedPreconditionError(
            fmt::format("local training diverged in epoch {} (loss is not finite); lower the learning rate", epoch + 1));
      }
    }
    CopyOut(model->network(), weights);
    return result;
  } catch (const c10::Error& error) {
    return core::InternalError(fmt::format("LibTorch failed in local training: {}", error.what_without_backtrace()));
  }
}

}  // namespace

core::Result<std::unique_ptr<FlatNeuralModel>> FlatNeuralModel::Create(const NeuralOptions& options,
                                                                       const data::Catalog& catalog,
                                                                       const data::Interactions& train) {
  MELODAI_RETURN_IF_ERROR(options.Validate());
  if (train.ItemBound() > catalog.size()) return core::InvalidArgumentError("training items outside the catalogue");
  std::vector<double> count(catalog.size(), 0.0);
  bool has_pair = false;
  for (size_t s = 0; s < train.size(); ++s) {
    const auto items = train.items(s);
    has_pair = has_pair || items.size() >= 2;
    for (data::ItemId item : items) count[item] += 1.0;
  }
  if (!has_pair) return core::InvalidArgumentError("no training sequence has two events");
  std::vector<data::ItemId> item_of_row;
  std::vector<double> row_counts;
  for (data::ItemId item = 0; item < catalog.size(); ++item) {
    if (count[item] > 0.0) {
      item_of_row.push_back(item);
      row_counts.push_back(count[item]);
    }
  }
  try {
    return std::unique_ptr<FlatNeuralModel>(
        std::make_unique<FlatNeuralModelImpl>(options, catalog, std::move(item_of_row), std::move(row_counts)));
  } catch (const c10::Error& error) {
    return core::InternalError(fmt::format("LibTorch failed building a model: {}", error.what_without_backtrace()));
  }
}

}  // namespace melodai::rec
