// MelodAI — licensed under the Apache License 2.0.
// NeuralRecommender: building the networks, scoring the full catalogue (history encoded with
// LibTorch, the item mat-vec with Eigen), the serving top-k (rec/internal/neural_serving.h),
// validation, best-epoch keeping and checkpoints in our own checked binary format.
#include "rec/internal/torch_prelude.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/bytes.h"
#include "core/file_util.h"
#include "core/check.h"
#include "core/clock.h"
#include "core/logging.h"
#include "rec/evaluator.h"
#include "rec/internal/neural_model.h"

namespace melodai::rec {

using internal::NeuralModel;

core::Result<std::unique_ptr<NeuralRecommender>> NeuralRecommender::Create(const NeuralOptions& options) {
  MELODAI_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<NeuralRecommender>(std::make_unique<NeuralModel>(options));
}

namespace internal {
namespace {

// Version 2 added the TransGRU `fusion` option; version 3 counts the attention models' positions
// from the window's first event (the weights of a version-2 SASRec/TransGRU file mean something
// else now); version 4 added the attention models' `repeat` option.
constexpr std::string_view kCheckpointMagic = "MELODAI-NEURAL-4";
constexpr std::string_view kCheckpointFamily = "MELODAI-NEURAL-";
constexpr size_t kMaxTensors = 4096;
constexpr size_t kMaxTensorDims = 4;
constexpr size_t kMaxTensorElements = size_t{1} << 31;

uint64_t CatalogFingerprint(const data::Catalog& catalog) {
  uint64_t hash = catalog.size();
  for (data::ItemId item = 0; item < catalog.size(); ++item) hash = core::Hash64(catalog.uri(item), hash);
  return hash;
}

// RAII: the network in eval mode (no dropout) for the scope, back to train mode after.
class EvalMode {
 public:
  explicit EvalMode(torch::nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalMode() { module_.train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

// The state of a session model after a history prefix, per scoring thread: consecutive
// next-item queries of one sequence extend the previous history by one item, so the GRU runs
// one step per query instead of the whole prefix.
// The cache holds a copy of the prefix it encoded and is used only when the new history starts
// with exactly those items (callers may reuse one buffer for different histories).
struct PrefixCache {
  const NeuralModel* owner = nullptr;
  uint64_t generation = 0;
  std::vector<data::ItemId> items;
  torch::Tensor hidden;
};
thread_local PrefixCache prefix_cache;
std::atomic<uint64_t> next_generation{1};

}  // namespace

void FeedbackFeatures(std::span<const data::ItemId> items, std::span<const float> weights, size_t index,
                      float* out) {
  out[0] = static_cast<float>(std::log1p(static_cast<double>(index)) / 5.0);
  bool repeat = false;
  for (size_t i = 0; i < index && !repeat; ++i) repeat = items[i] == items[index];
  out[1] = repeat ? 1.0f : 0.0f;
  out[2] = weights.empty() ? 0.0f : static_cast<float>(std::log1p(std::max(0.0f, weights[index])) / 5.0);
}

void NeuralModel::BuildNetworks(const data::Catalog& catalog, std::vector<data::ItemId> item_of_row) {
  catalog_ = &catalog;
  item_of_row_ = std::move(item_of_row);
  row_of_item_.assign(catalog.size(), -1);
  for (size_t row = 0; row < item_of_row_.size(); ++row) row_of_item_[item_of_row_[row]] = static_cast<int32_t>(row);
  // Artists get dense ids among the model's rows (in first-row order): the artist table holds
  // only the artists of known items, not every artist of the catalogue.
  artist_of_row_.clear();
  std::vector<int64_t> artist_id(catalog.artist_count(), -1);
  artist_rows_ = 0;
  for (data::ItemId item : item_of_row_) {
    int64_t& id = artist_id[catalog.artist(item)];
    if (id < 0) id = artist_rows_++;
    artist_of_row_.push_back(id);
  }
  torch::manual_seed(options_.seed);
  const auto items = static_cast<int64_t>(item_of_row_.size());
  if (options_.architecture == NeuralArchitecture::kRnn || options_.architecture == NeuralArchitecture::kGru4Rec) {
    session_ = SessionNet(items, options_);
    attention_ = nullptr;
    width_ = options_.layers;
  } else {
    attention_ = AttentionNet(items, artist_rows_, options_);
    session_ = nullptr;
    width_ = options_.dim;
  }
  report_.parameter_count = 0;
  for (const auto& parameter : network().parameters()) report_.parameter_count += parameter.numel();
}

data::Interactions NeuralModel::ToRows(const data::Interactions& train) const {
  data::Interactions rows(false, train.has_weights());
  std::vector<data::ItemId> items;
  std::vector<float> weights;
  for (size_t s = 0; s < train.size(); ++s) {
    const data::SequenceView view = train[s];
    items.clear();
    weights.clear();
    for (size_t i = 0; i < view.items.size(); ++i) {
      const int32_t row = row_of_item_[view.items[i]];
      if (row < 0) continue;
      items.push_back(static_cast<data::ItemId>(row));
      if (train.has_weights()) weights.push_back(view.weights[i]);
    }
    rows.Append(items, {}, weights, view.external_id, {});
  }
  return rows;
}

torch::nn::Module& NeuralModel::network() {
  return session_ ? static_cast<torch::nn::Module&>(*session_) : static_cast<torch::nn::Module&>(*attention_);
}

void NeuralModel::RefreshScoringCache() {
  torch::NoGradGuard no_grad;
  torch::Tensor weights = session_ ? session_->item_weights
                                   : attention_->OutputWeights();
  torch::Tensor bias = session_ ? session_->item_bias : attention_->item_bias;
  weights = weights.contiguous();
  bias = bias.contiguous();
  item_matrix_.assign(weights.data_ptr<float>(), weights.data_ptr<float>() + weights.numel());
  item_bias_.assign(bias.data_ptr<float>(), bias.data_ptr<float>() + bias.numel());
  generation_ = next_generation.fetch_add(1);
  std::lock_guard<std::mutex> lock(serving_mutex_);
  serving_.reset();  // Stale now; the next TopK builds the new one.
}

torch::Tensor NeuralModel::EncodeHistory(std::span<const data::ItemId> history, std::span<const float> weights,
                                         std::vector<RepeatBonus>* repeat) const {
  torch::NoGradGuard no_grad;
  if (repeat != nullptr) repeat->clear();
  if (session_) {
    PrefixCache& cache = prefix_cache;
    size_t start = 0;
    torch::Tensor hidden;
    if (cache.owner == this && cache.generation == generation_ && cache.hidden.defined() &&
        cache.items.size() <= history.size() &&
        std::equal(cache.items.begin(), cache.items.end(), history.begin())) {
      start = cache.items.size();
      hidden = cache.hidden;
    } else {
      hidden = torch::zeros({1, width_});
    }
    SessionNetImpl& net = *session_.ptr();
    for (size_t i = start; i < history.size(); ++i) {
      const int32_t row = row_of_item_[history[i]];
      if (row < 0) continue;
      const torch::Tensor index = torch::tensor({static_cast<int64_t>(row)}, torch::kLong);
      const torch::Tensor input = net.constrained_ ? net.item_weights.index_select(0, index)
                                                   : net.input_table.index_select(0, index);
      hidden = net.Step(input, hidden);
    }
    cache.owner = this;
    cache.generation = generation_;
    cache.items.assign(history.begin(), history.end());
    cache.hidden = hidden;
    return hidden.reshape({width_});
  }
  AttentionNetImpl& net = *attention_.ptr();
  const int64_t length = net.max_length;
  // The known items of the history with their weights, in order.
  std::vector<data::ItemId> known;
  std::vector<float> known_weights;
  for (size_t i = 0; i < history.size(); ++i) {
    const int32_t row = row_of_item_[history[i]];
    if (row < 0) continue;
    known.push_back(static_cast<data::ItemId>(row));
    if (!weights.empty()) known_weights.push_back(weights[i]);
  }
  const size_t take = std::min<size_t>(known.size(), static_cast<size_t>(length));
  const size_t offset = known.size() - take;
  std::vector<int64_t> items(length, net.items_), artists(length, artist_rows_);
  std::vector<float> feedback(length * kFeedbackFeatures, 0.0f);
  std::vector<uint8_t> padding(length, 1);
  for (size_t i = 0; i < take; ++i) {
    const size_t slot = length - take + i;
    items[slot] = known[offset + i];
    artists[slot] = artist_of_row_[known[offset + i]];
    padding[slot] = 0;
    FeedbackFeatures(known, known_weights, offset + i, &feedback[slot * kFeedbackFeatures]);
  }
  WindowBatch batch;
  batch.items = torch::tensor(items, torch::kLong).reshape({1, length});
  batch.artists = torch::tensor(artists, torch::kLong).reshape({1, length});
  batch.feedback = torch::tensor(feedback).reshape({1, length, kFeedbackFeatures});
  batch.padding = torch::tensor(std::vector<int64_t>(padding.begin(), padding.end()), torch::kLong)
                      .to(torch::kBool)
                      .reshape({1, length});
  const torch::Tensor states = net.Forward(batch);
  if (repeat != nullptr && net.has_repeat() && take > 0) {
    const torch::Tensor values = net.RepeatValues(states, batch.padding).select(0, 0).select(0, length - 1).contiguous();
    const float* value = values.data_ptr<float>();
    for (size_t slot = length - take; slot < static_cast<size_t>(length); ++slot) {
      repeat->push_back({static_cast<uint32_t>(items[slot]), value[slot]});
    }
  }
  return states.select(0, 0).select(0, length - 1).contiguous();
}

void NeuralModel::AddRepeatBonuses(std::span<const RepeatBonus> repeat, std::span<float> scores) const {
  for (const RepeatBonus& bonus : repeat) scores[item_of_row_[bonus.row]] += bonus.value;
}

void NeuralModel::Score(const Query& query, std::span<float> scores) const {
  MELODAI_CHECK(fitted_);
  std::vector<RepeatBonus> repeat;
  const torch::Tensor state = EncodeHistory(query.history, query.history_weights, &repeat);
  ScoreState(std::span<const float>(state.data_ptr<float>(), static_cast<size_t>(state.numel())), scores);
  AddRepeatBonuses(repeat, scores);
}

void NeuralModel::ScoreState(std::span<const float> state, std::span<float> scores) const {
  MELODAI_CHECK_EQ(scores.size(), row_of_item_.size());
  thread_local std::vector<float> row_scores;
  row_scores.resize(item_bias_.size());
  if (state.empty()) {
    std::copy(item_bias_.begin(), item_bias_.end(), row_scores.begin());  // Nothing known: the biases.
  } else {
    ExactScores(item_view(), state, 0, item_bias_.size(), row_scores);
  }
  // Items the model never saw rank below every known item.
  std::fill(scores.begin(), scores.end(), std::numeric_limits<float>::lowest());
  for (size_t row = 0; row < item_of_row_.size(); ++row) scores[item_of_row_[row]] = row_scores[row];
}

// ---------------------------------------------------------------------------------------------
// Serving: the int8 copy of the item matrix and the recurrent cell's weights, copied out of the
// networks once per weight generation; top-k through CertifiedTopK.

std::shared_ptr<const ServingCache> NeuralModel::PrepareServing() const {
  MELODAI_CHECK(fitted_);
  std::lock_guard<std::mutex> lock(serving_mutex_);
  if (serving_ && serving_->generation == generation_) return serving_;
  auto cache = std::make_shared<ServingCache>();
  cache->generation = generation_;
  cache->quantized = QuantizedItemMatrix::Build(item_view());
  if (session_) {
    torch::NoGradGuard no_grad;
    const SessionNetImpl& net = *session_.ptr();
    auto copy = [](const torch::Tensor& tensor, std::vector<float>& out) {
      const torch::Tensor data = tensor.detach().contiguous();
      out.assign(data.data_ptr<float>(), data.data_ptr<float>() + data.numel());
    };
    RecurrentCell& cell = cache->cell;
    cache->has_cell = true;
    cell.gru = static_cast<bool>(net.gru);
    cell.input_dim = static_cast<size_t>(net.input_dim());
    cell.hidden_dim = static_cast<size_t>(net.hidden_dim_);
    if (cell.gru) {
      copy(net.gru->weight_ih, cell.weight_ih);
      copy(net.gru->weight_hh, cell.weight_hh);
      copy(net.gru->bias_ih, cell.bias_ih);
      copy(net.gru->bias_hh, cell.bias_hh);
    } else {
      copy(net.rnn->weight_ih, cell.weight_ih);
      copy(net.rnn->weight_hh, cell.weight_hh);
      copy(net.rnn->bias_ih, cell.bias_ih);
      copy(net.rnn->bias_hh, cell.bias_hh);
    }
    cell.Pack();
    if (!net.constrained_) copy(net.input_table, cache->input_table);
    MELODAI_CHECK_EQ(cell.hidden_dim, static_cast<size_t>(width_));
  }
  serving_ = std::move(cache);
  return serving_;
}

void NeuralModel::EncodeForServing(const ServingCache& cache, std::span<const data::ItemId> history,
                                   std::span<const float> weights, bool serving_encoder,
                                   std::vector<float>& state, std::vector<RepeatBonus>* repeat) const {
  if (repeat != nullptr) repeat->clear();
  if (!cache.has_cell || !serving_encoder) {
    const torch::Tensor encoded = EncodeHistory(history, weights, repeat);
    state.assign(encoded.data_ptr<float>(), encoded.data_ptr<float>() + encoded.numel());
    return;
  }
  // Session models ignore the weights, as EncodeHistory does; unknown items are skipped.
  const RecurrentCell& cell = cache.cell;
  const float* table = cache.input_table.empty() ? item_matrix_.data() : cache.input_table.data();
  thread_local std::vector<float> inputs;
  inputs.clear();
  size_t steps = 0;
  for (const data::ItemId item : history) {
    MELODAI_CHECK_LT(item, row_of_item_.size());
    const int32_t row = row_of_item_[item];
    if (row < 0) continue;
    const float* input = table + static_cast<size_t>(row) * cell.input_dim;
    inputs.insert(inputs.end(), input, input + cell.input_dim);
    ++steps;
  }
  state.resize(cell.hidden_dim);
  cell.Run(inputs, steps, state);
}

size_t NeuralModel::TopK(const Query& query, std::span<const data::ItemId> excluded_sorted, size_t k,
                         std::span<ScoredItem> out, const ServingOptions& options, ServingStats* stats) const {
  MELODAI_CHECK(fitted_);
  MELODAI_CHECK_GE(out.size(), k);
  MELODAI_CHECK(std::is_sorted(excluded_sorted.begin(), excluded_sorted.end()));
  MELODAI_CHECK(excluded_sorted.empty() || excluded_sorted.back() < row_of_item_.size());
  if (k == 0) return 0;
  const std::shared_ptr<const ServingCache> cache = PrepareServing();
  const core::SystemClock& clock = core::SystemClock::Instance();
  const int64_t start = stats != nullptr ? clock.NowNanos() : 0;
  thread_local std::vector<float> state;
  thread_local std::vector<RepeatBonus> repeat;
  EncodeForServing(*cache, query.history, query.history_weights, options.serving_encoder, state, &repeat);
  if (stats != nullptr) stats->encode_nanos += clock.NowNanos() - start;
  // Rows increase with items (item_of_row_ is sorted), so the excluded rows come out sorted.
  thread_local std::vector<data::ItemId> excluded_rows;
  excluded_rows.clear();
  for (const data::ItemId item : excluded_sorted) {
    const int32_t row = row_of_item_[item];
    if (row >= 0 && (excluded_rows.empty() || excluded_rows.back() != static_cast<data::ItemId>(row))) {
      excluded_rows.push_back(static_cast<data::ItemId>(row));
    }
  }
  // The repeated rows that may be recommended, sorted and distinct: their exact scores with the
  // repeat term are merged with the certified top (k + their count) of the other rows.
  thread_local std::vector<uint32_t> repeated;
  repeated.clear();
  for (const RepeatBonus& bonus : repeat) repeated.push_back(bonus.row);
  std::sort(repeated.begin(), repeated.end());
  repeated.erase(std::unique(repeated.begin(), repeated.end()), repeated.end());
  std::erase_if(repeated, [](uint32_t row) {
    return std::binary_search(excluded_rows.begin(), excluded_rows.end(), static_cast<data::ItemId>(row));
  });
  const size_t wanted = k + repeated.size();
  const bool finite = std::all_of(state.begin(), state.end(), [](float value) { return std::isfinite(value); }) &&
                      std::all_of(repeat.begin(), repeat.end(),
                                  [](const RepeatBonus& bonus) { return std::isfinite(bonus.value); });
  if (state.empty() || !finite || !cache->quantized.usable() || item_of_row_.size() - excluded_rows.size() < wanted) {
    // Score's own path: also ranks the unknown items when fewer than k known ones remain (k plus
    // the repeated ones with a repeat term), and NaN scores (a diverged model) the way
    // SelectTopK does.
    thread_local std::vector<float> scores;
    scores.resize(row_of_item_.size());
    ScoreState(state, scores);
    AddRepeatBonuses(repeat, scores);
    if (stats != nullptr) {
      stats->exact_fallback = true;
      stats->rescored_rows += item_of_row_.size();
    }
    return SelectTopKExcludingSorted(scores, excluded_sorted, k, out);
  }
  if (repeated.empty()) {
    const size_t count = CertifiedTopK(item_view(), cache->quantized, state, excluded_rows, k, out, options, stats);
    for (size_t i = 0; i < count; ++i) out[i].item = item_of_row_[out[i].item];
    return count;
  }
  thread_local std::vector<ScoredItem> merged;
  merged.resize(wanted);
  const size_t count = CertifiedTopK(item_view(), cache->quantized, state, excluded_rows, wanted, merged, options, stats);
  merged.resize(count);
  std::erase_if(merged, [](const ScoredItem& entry) {
    return std::binary_search(repeated.begin(), repeated.end(), static_cast<uint32_t>(entry.item));
  });
  // The repeated rows' scores as Score computes them: the exact output-layer score, then every
  // window position's value in order.
  thread_local std::vector<float> repeated_scores;
  repeated_scores.resize(repeated.size());
  ExactRowScores(item_view(), state, repeated, repeated_scores);
  for (const RepeatBonus& bonus : repeat) {
    const auto at = std::lower_bound(repeated.begin(), repeated.end(), bonus.row);
    if (at != repeated.end() && *at == bonus.row) repeated_scores[at - repeated.begin()] += bonus.value;
  }
  for (size_t i = 0; i < repeated.size(); ++i) merged.push_back({repeated_scores[i], repeated[i]});
  const size_t take = std::min(k, merged.size());
  std::partial_sort(merged.begin(), merged.begin() + static_cast<std::ptrdiff_t>(take), merged.end(), RanksBefore);
  for (size_t i = 0; i < take; ++i) out[i] = {merged[i].score, item_of_row_[merged[i].item]};
  if (stats != nullptr) stats->rescored_rows += repeated.size();
  return take;
}

namespace {

const NeuralModel& AsNeuralModel(const NeuralRecommender& model) {
  const auto* neural = dynamic_cast<const NeuralModel*>(&model);
  MELODAI_CHECK_MSG(neural != nullptr, "not a model of NeuralRecommender::Create or Load");
  return *neural;
}

}  // namespace

size_t ServingTopK(const NeuralRecommender& model, const Query& query, std::span<const data::ItemId> excluded_sorted,
                   size_t k, std::span<ScoredItem> out, const ServingOptions& options, ServingStats* stats) {
  return AsNeuralModel(model).TopK(query, excluded_sorted, k, out, options, stats);
}

std::vector<float> HistoryState(const NeuralRecommender& model, std::span<const data::ItemId> history,
                                bool reference) {
  const NeuralModel& neural = AsNeuralModel(model);
  std::vector<float> state;
  if (reference) {
    MELODAI_CHECK(neural.fitted_);
    const torch::Tensor encoded = neural.EncodeHistory(history, {});
    state.assign(encoded.data_ptr<float>(), encoded.data_ptr<float>() + encoded.numel());
  } else {
    neural.EncodeForServing(*neural.PrepareServing(), history, {}, true, state);
  }
  return state;
}

double NeuralModel::ValidationNdcg(const data::Interactions& train, core::ThreadPool& pool) {
  if (valid_ == nullptr || valid_->queries.empty() || options_.valid_queries == 0) return -1.0;
  EvalMode eval_mode(network());
  RefreshScoringCache();
  fitted_ = true;
  EvalOptions eval;
  eval.exclude_history = valid_exclude_history_;
  eval.max_queries = options_.valid_queries;
  core::Result<EvalResult> result = Evaluate(*this, *catalog_, train, *valid_, eval, pool);
  if (!result.ok()) {
    MELODAI_LOG_WARN("validation failed: {}", result.status().ToString());
    return -1.0;
  }
  return result->metrics.at("ndcg@10");
}

void NeuralModel::RememberBest() {
  torch::NoGradGuard no_grad;
  best_weights_.clear();
  for (const auto& parameter : network().parameters()) best_weights_.push_back(parameter.detach().clone());
}

void NeuralModel::RestoreBest() {
  if (best_weights_.empty()) return;
  torch::NoGradGuard no_grad;
  auto parameters = network().parameters();
  MELODAI_CHECK_EQ(parameters.size(), best_weights_.size());
  for (size_t i = 0; i < parameters.size(); ++i) parameters[i].copy_(best_weights_[i]);
}

core::Status NeuralModel::Fit(const data::Catalog& catalog, const data::Interactions& train,
                              core::ThreadPool& pool) {
  if (train.empty() || train.event_count() < 2) return core::InvalidArgumentError("no training sequences");
  if (train.ItemBound() > catalog.size()) return core::InvalidArgumentError("training items outside the catalogue");
  try {
    at::set_num_threads(1);  // Intra-op parallelism off: BLAS threads do the large products.
    std::vector<uint8_t> seen(catalog.size(), 0);
    for (data::ItemId item : train.all_items()) seen[item] = 1;
    std::vector<data::ItemId> item_of_row;
    for (data::ItemId item = 0; item < catalog.size(); ++item) {
      if (seen[item]) item_of_row.push_back(item);
    }
    BuildNetworks(catalog, std::move(item_of_row));
    const data::Interactions rows = ToRows(train);
    report_ = TrainingReport{report_.epochs, 0, -1.0, 0.0, 0.0, 0, report_.parameter_count};
    report_.epochs.clear();
    best_weights_.clear();
    const bool session = static_cast<bool>(session_);
    MELODAI_RETURN_IF_ERROR(session ? TrainSessionModel(*this, rows, train, pool) : TrainAttentionModel(*this, rows, train, pool));
    RestoreBest();
    network().eval();
    RefreshScoringCache();
    fitted_ = true;
  } catch (const c10::Error& error) {
    return core::InternalError(fmt::format("LibTorch failed while training {}: {}", name(), error.what_without_backtrace()));
  }
  return core::Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Checkpoints: magic, options, catalogue fingerprint, training summary, named tensors, then a
// Hash64 checksum of everything before it. Every field is validated on load.

namespace {

void EncodeOptions(const NeuralOptions& o, core::ByteWriter& w) {
  w.PutU8(static_cast<uint8_t>(o.architecture));
  w.PutU64(o.seed);
  w.PutU32(o.n_epochs);
  w.PutU32(o.batch_size);
  w.PutF64(o.learning_rate);
  w.PutF64(o.momentum);
  w.PutString(o.optimizer);
  w.PutF64(o.lr_decay);
  w.PutF64(o.clip_norm);
  w.PutU32(o.patience);
  w.PutU32(o.valid_queries);
  w.PutU32(o.layers);
  w.PutString(o.loss);
  w.PutU32(o.n_sample);
  w.PutF64(o.sample_alpha);
  w.PutF64(o.bpreg);
  w.PutF64(o.elu_param);
  w.PutF64(o.logq);
  w.PutF64(o.dropout_p_embed);
  w.PutF64(o.dropout_p_hidden);
  w.PutU8(o.constrained_embedding ? 1 : 0);
  w.PutU32(o.embedding);
  w.PutU32(o.dim);
  w.PutU32(o.blocks);
  w.PutU32(o.heads);
  w.PutU32(o.max_length);
  w.PutF64(o.dropout);
  w.PutString(o.branches);
  w.PutString(o.fusion);
  w.PutString(o.repeat);
}

core::Status DecodeOptions(core::ByteReader& r, NeuralOptions& o) {
  uint8_t architecture = 0, constrained = 0;
  MELODAI_RETURN_IF_ERROR(r.GetU8(architecture, "architecture"));
  if (architecture > static_cast<uint8_t>(NeuralArchitecture::kTransGru)) {
    return core::DataLossError(fmt::format("unknown architecture code {}", architecture));
  }
  o.architecture = static_cast<NeuralArchitecture>(architecture);
  MELODAI_RETURN_IF_ERROR(r.GetU64(o.seed, "seed"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.n_epochs, "n_epochs"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.batch_size, "batch_size"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.learning_rate, "learning_rate"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.momentum, "momentum"));
  MELODAI_RETURN_IF_ERROR(r.GetString(o.optimizer, "optimizer", 32));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.lr_decay, "lr_decay"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.clip_norm, "clip_norm"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.patience, "patience"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.valid_queries, "valid_queries"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.layers, "layers"));
  MELODAI_RETURN_IF_ERROR(r.GetString(o.loss, "loss", 32));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.n_sample, "n_sample"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.sample_alpha, "sample_alpha"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.bpreg, "bpreg"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.elu_param, "elu_param"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.logq, "logq"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.dropout_p_embed, "dropout_p_embed"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.dropout_p_hidden, "dropout_p_hidden"));
  MELODAI_RETURN_IF_ERROR(r.GetU8(constrained, "constrained_embedding"));
  o.constrained_embedding = constrained != 0;
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.embedding, "embedding"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.dim, "dim"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.blocks, "blocks"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.heads, "heads"));
  MELODAI_RETURN_IF_ERROR(r.GetU32(o.max_length, "max_length"));
  MELODAI_RETURN_IF_ERROR(r.GetF64(o.dropout, "dropout"));
  MELODAI_RETURN_IF_ERROR(r.GetString(o.branches, "branches", 32));
  MELODAI_RETURN_IF_ERROR(r.GetString(o.fusion, "fusion", 32));
  MELODAI_RETURN_IF_ERROR(r.GetString(o.repeat, "repeat", 32));
  core::Status valid = o.Validate();
  if (!valid.ok()) return core::DataLossError(fmt::format("stored options are invalid: {}", valid.message()));
  return core::Status::Ok();
}

}  // namespace

core::Status NeuralModel::Save(const std::filesystem::path& path) const {
  if (!fitted_ || catalog_ == nullptr) return core::FailedPreconditionError("the model is not trained");
  core::ByteWriter writer;
  writer.PutString(kCheckpointMagic);
  EncodeOptions(options_, writer);
  writer.PutU64(catalog_->size());
  writer.PutU64(CatalogFingerprint(*catalog_));
  writer.PutU32(report_.best_epoch);
  writer.PutF64(report_.best_valid_ndcg);
  writer.PutArray(std::span<const data::ItemId>(item_of_row_));
  auto& module = const_cast<NeuralModel*>(this)->network();
  const auto named = NamedParameters(module);
  writer.PutU64(named.size());
  for (const auto& [name, tensor] : named) {
    writer.PutString(name);
    writer.PutU32(static_cast<uint32_t>(tensor.dim()));
    for (int64_t d = 0; d < tensor.dim(); ++d) writer.PutU64(static_cast<uint64_t>(tensor.size(d)));
    const torch::Tensor data = tensor.detach().contiguous();
    writer.PutArray(std::span<const float>(data.data_ptr<float>(), static_cast<size_t>(data.numel())));
  }
  const uint64_t checksum = core::Hash64(writer.buffer());
  writer.PutU64(checksum);
  return core::WriteFileAtomic(path, writer.buffer());
}

void NeuralModel::SaveCheckpoint() const {
  if (checkpoint_path_.empty()) return;
  const core::Status status = Save(checkpoint_path_);
  if (!status.ok()) MELODAI_LOG_WARN("checkpoint not written: {}", status.ToString());
}

namespace {

core::Status LoadTensors(core::ByteReader& reader, NeuralModel& model, const std::string& file) {
  uint64_t count = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(count, "tensor count").WithContext(file));
  auto named = NamedParameters(model.network());
  if (count != named.size() || count > kMaxTensors) {
    return core::DataLossError(fmt::format("{}: {} tensors stored, the architecture has {}", file, count, named.size()));
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : named) {
    std::string stored_name;
    uint32_t dims = 0;
    MELODAI_RETURN_IF_ERROR(reader.GetString(stored_name, "tensor name", 256).WithContext(file));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(dims, "tensor rank").WithContext(file));
    if (stored_name != name || dims != tensor.dim() || dims > kMaxTensorDims) {
      return core::DataLossError(fmt::format("{}: tensor '{}' (rank {}) where '{}' (rank {}) was expected", file,
                                             stored_name, dims, name, tensor.dim()));
    }
    for (uint32_t d = 0; d < dims; ++d) {
      uint64_t size = 0;
      MELODAI_RETURN_IF_ERROR(reader.GetU64(size, "tensor size").WithContext(file));
      if (size != static_cast<uint64_t>(tensor.size(d))) {
        return core::DataLossError(fmt::format("{}: tensor '{}' dimension {} is {}, expected {}", file, name, d,
                                               size, tensor.size(d)));
      }
    }
    std::vector<float> values;
    MELODAI_RETURN_IF_ERROR(reader.GetArray(values, name, kMaxTensorElements).WithContext(file));
    if (values.size() != static_cast<size_t>(tensor.numel())) {
      return core::DataLossError(fmt::format("{}: tensor '{}' holds {} values, expected {}", file, name,
                                             values.size(), tensor.numel()));
    }
    const auto bad = std::find_if(values.begin(), values.end(), [](float value) { return !std::isfinite(value); });
    if (bad != values.end()) {
      return core::DataLossError(fmt::format("{}: tensor '{}' value {} is {}: the stored model diverged or the file "
                                             "is corrupt",
                                             file, name, bad - values.begin(), *bad));
    }
    tensor.copy_(torch::from_blob(values.data(), tensor.sizes(), torch::kFloat));
  }
  return core::Status::Ok();
}

// The frame of a model file: long enough, the supported magic, the checksum. On success
// `reader` reads the bytes before the checksum and stands past the magic.
core::Status CheckFrame(std::string_view bytes, const std::string& file, core::ByteReader& reader) {
  if (bytes.size() < 8) return core::DataLossError(fmt::format("{}: too short to be a model file", file));
  uint64_t stored_checksum = 0;
  std::memcpy(&stored_checksum, bytes.data() + bytes.size() - 8, 8);
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  reader = core::ByteReader(body);
  std::string magic;
  if (!reader.GetString(magic, "magic", 64).ok() || !magic.starts_with(kCheckpointFamily)) {
    return core::DataLossError(fmt::format("{}: not a MelodAI neural model file (bad magic)", file));
  }
  if (magic != kCheckpointMagic) {
    return core::DataLossError(fmt::format("{}: model file format {} is not the supported {}; train the model again",
                                           file, magic, kCheckpointMagic));
  }
  if (core::Hash64(body) != stored_checksum) {
    return core::DataLossError(fmt::format("{}: checksum mismatch (the file is corrupt or truncated)", file));
  }
  return core::Status::Ok();
}

// The catalogue items the model knows, in row order: strictly increasing, within the catalogue.
core::Status ReadItemRows(core::ByteReader& reader, const data::Catalog& catalog, const std::string& file,
                          std::vector<data::ItemId>& item_of_row) {
  MELODAI_RETURN_IF_ERROR(reader.GetArray(item_of_row, "model items", catalog.size()).WithContext(file));
  for (size_t row = 0; row < item_of_row.size(); ++row) {
    if (item_of_row[row] >= catalog.size() || (row > 0 && item_of_row[row] <= item_of_row[row - 1])) {
      return core::DataLossError(fmt::format("{}: model item list is not strictly increasing within the catalogue "
                                             "at row {}", file, row));
    }
  }
  if (item_of_row.empty()) return core::DataLossError(fmt::format("{}: the model knows no items", file));
  return core::Status::Ok();
}

// A lower bound on the weights of the network `o` describes over `items` rows: the item table
// and one square layer per block (or the GRU's). Load compares it with the bytes left, so that a
// short file cannot make it allocate a network far larger than the file (up to gigabytes)
// before the missing tensors are noticed. The options are validated (widths <= 4096, blocks <=
// 16) and items <= catalogue size, so the products fit in 64 bits.
uint64_t MinParameterCount(const NeuralOptions& o, uint64_t items) {
  if (o.architecture == NeuralArchitecture::kRnn || o.architecture == NeuralArchitecture::kGru4Rec) {
    const uint64_t input_table = o.constrained_embedding ? 0 : (o.embedding > 0 ? o.embedding : o.layers);
    return items * (o.layers + input_table) + uint64_t{o.layers} * o.layers;
  }
  const bool transformer = o.architecture == NeuralArchitecture::kSasRec || o.branches != "gru";
  const uint64_t square_layers = transformer ? o.blocks : 1;
  return (items + o.max_length) * o.dim + square_layers * o.dim * o.dim;
}

}  // namespace

}  // namespace internal

core::Result<std::unique_ptr<NeuralRecommender>> NeuralRecommender::Load(const std::filesystem::path& path,
                                                                         const data::Catalog& catalog) {
  MELODAI_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(path));
  return LoadFromBytes(bytes, path.string(), catalog);
}

core::Result<std::unique_ptr<NeuralRecommender>> NeuralRecommender::LoadFromBytes(std::string_view bytes,
                                                                                  std::string_view name,
                                                                                  const data::Catalog& catalog) {
  const std::string file(name);
  core::ByteReader reader({});
  MELODAI_RETURN_IF_ERROR(internal::CheckFrame(bytes, file, reader));
  NeuralOptions options;
  MELODAI_RETURN_IF_ERROR(internal::DecodeOptions(reader, options).WithContext(file));
  uint64_t items = 0, fingerprint = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(items, "catalogue size").WithContext(file));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(fingerprint, "catalogue fingerprint").WithContext(file));
  if (items != catalog.size() || fingerprint != internal::CatalogFingerprint(catalog)) {
    return core::FailedPreconditionError(fmt::format(
        "{}: the model was trained on another catalogue ({} items) than the one loaded ({} items); load the "
        "same dataset it was trained on",
        file, items, catalog.size()));
  }
  auto model = std::make_unique<internal::NeuralModel>(options);
  MELODAI_RETURN_IF_ERROR(reader.GetU32(model->report_.best_epoch, "best epoch").WithContext(file));
  MELODAI_RETURN_IF_ERROR(reader.GetF64(model->report_.best_valid_ndcg, "best validation ndcg").WithContext(file));
  std::vector<data::ItemId> item_of_row;
  MELODAI_RETURN_IF_ERROR(internal::ReadItemRows(reader, catalog, file, item_of_row));
  const uint64_t min_weights = internal::MinParameterCount(options, item_of_row.size());
  if (min_weights > reader.remaining() / sizeof(float)) {
    return core::DataLossError(fmt::format("{}: the stored options and {} items need at least {} weights, but only "
                                           "{} bytes are left for them",
                                           file, item_of_row.size(), min_weights, reader.remaining()));
  }
  try {
    at::set_num_threads(1);
    model->BuildNetworks(catalog, std::move(item_of_row));
    MELODAI_RETURN_IF_ERROR(internal::LoadTensors(reader, *model, file));
    if (!reader.done()) return core::DataLossError(fmt::format("{}: {} unexpected trailing bytes", file, reader.remaining()));
    model->network().eval();
    model->RefreshScoringCache();
    model->fitted_ = true;
  } catch (const c10::Error& error) {
    return core::DataLossError(fmt::format("{}: LibTorch rejected the stored weights: {}", file,
                                           error.what_without_backtrace()));
  }
  return std::unique_ptr<NeuralRecommender>(std::move(model));
}

}  // namespace melodai::rec
