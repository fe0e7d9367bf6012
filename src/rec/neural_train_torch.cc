// MelodAI — licensed under the Apache License 2.0.
// The trainers of the neural recommenders.
//   Session models (RNN, GRU4Rec): session-parallel mini-batches as in Hidasi et al. — B
//   sessions side by side, one step per event, a finished session's slot taken by the next
//   session with its hidden row reset — scored against the mini-batch's targets plus
//   popularity-sampled negatives, BPR-max or cross-entropy (with optional logQ correction),
//   Adagrad with momentum applied only to the embedding rows a step touched.
//   Attention models (SASRec, TransGRU): left-padded windows of max_length events, every
//   position predicts the next item, full-catalogue (or sampled) softmax, Adam.
// Both: seeded (the epoch's shuffle and negatives come from Rng(seed, epoch), dropout from
// torch::manual_seed(seed + epoch)), validation NDCG@10 after every epoch, best epoch kept,
// early stopping on patience, gradient clipping, per-epoch learning-rate decay.
#include "rec/internal/torch_prelude.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/clock.h"
#include "core/logging.h"
#include "core/rng.h"
#include "rec/internal/neural_model.h"

namespace melodai::rec::internal {
namespace {

constexpr double kAdagradEpsilon = 1e-6;

uint64_t EpochSeed(uint64_t seed, uint32_t epoch) {
  uint64_t state = seed ^ (0x9e3779b97f4a7c15ULL * (epoch + 1));
  return core::SplitMix64(state);
}

// Adagrad with momentum (GRU4Rec's optimizer): acc += g^2; mom = m * mom - lr * g / sqrt(acc + eps);
// w += mom. Row-sparse variant updates only the given rows.
struct AdagradState {
  torch::Tensor accumulator;
  torch::Tensor momentum;
};

void AdagradDense(torch::Tensor& weight, const torch::Tensor& grad, AdagradState& state, double lr, double momentum) {
  state.accumulator.add_(grad * grad);
  const torch::Tensor step = grad / (state.accumulator + kAdagradEpsilon).sqrt() * (-lr);
  if (momentum > 0.0) {
    state.momentum.mul_(momentum).add_(step);
    weight.add_(state.momentum);
  } else {
    weight.add_(step);
  }
}

void AdagradRows(torch::Tensor& weight, const torch::Tensor& rows, const torch::Tensor& grad, AdagradState& state,
                 double lr, double momentum) {
  torch::Tensor accumulator = state.accumulator.index_select(0, rows) + grad * grad;
  state.accumulator.index_copy_(0, rows, accumulator);
  torch::Tensor step = grad / (accumulator + kAdagradEpsilon).sqrt() * (-lr);
  if (momentum > 0.0) {
    step = state.momentum.index_select(0, rows) * momentum + step;
    state.momentum.index_copy_(0, rows, step);
  }
  weight.index_add_(0, rows, step);
}

// Events per model row in `rows`.
std::vector<double> RowCounts(const data::Interactions& rows, size_t row_count) {
  std::vector<double> counts(row_count, 0.0);
  for (data::ItemId item : rows.all_items()) counts[item] += 1.0;
  return counts;
}

// Negative-sampling weights: count^alpha, zero for rows never seen.
std::vector<double> SamplingWeights(const std::vector<double>& counts, double alpha) {
  std::vector<double> weights(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) weights[i] = counts[i] > 0 ? std::pow(counts[i], alpha) : 0.0;
  return weights;
}

AdagradState MakeState(const torch::Tensor& like, double momentum) {
  return {torch::zeros_like(like), momentum > 0.0 ? torch::zeros_like(like) : torch::Tensor()};
}

// Softmax cross-entropy with the target on the diagonal; logq subtracts logq * log Q(item).
torch::Tensor CrossEntropyLoss(torch::Tensor scores, const torch::Tensor& log_q, double logq) {
  if (logq > 0.0) scores = scores - logq * log_q.unsqueeze(0);
  const int64_t batch = scores.size(0);
  const torch::Tensor log_softmax = torch::log_softmax(scores, 1);
  return -log_softmax.narrow(1, 0, batch).diagonal().sum();
}

double ClipDense(std::vector<torch::Tensor>& parameters, double clip_norm) {
  if (clip_norm <= 0.0) return 0.0;
  return torch::nn::utils::clip_grad_norm_(parameters, clip_norm);
}

struct EpochTotals {
  double loss = 0.0;
  uint64_t events = 0;
  double seconds = 0.0;
};

// Finishes an epoch: validation, best-epoch bookkeeping, report. Returns true to stop early.
bool EndEpoch(NeuralModel& model, const data::Interactions& train, core::ThreadPool& pool, uint32_t epoch,
              const EpochTotals& totals, uint32_t& epochs_without_gain) {
  EpochRecord record;
  record.epoch = epoch;
  record.loss = totals.events ? totals.loss / static_cast<double>(totals.events) : 0.0;
  record.seconds = totals.seconds;
  record.events_per_second = totals.seconds > 0 ? static_cast<double>(totals.events) / totals.seconds : 0.0;
  record.valid_ndcg = model.ValidationNdcg(train, pool);
  TrainingReport& report = model.report_;
  report.epochs.push_back(record);
  report.train_seconds += totals.seconds;
  report.train_events += totals.events;
  report.events_per_second = report.train_seconds > 0 ? static_cast<double>(report.train_events) / report.train_seconds : 0;
  const bool measured = record.valid_ndcg >= 0.0;
  if (!measured || record.valid_ndcg > report.best_valid_ndcg) {
    report.best_epoch = epoch;
    report.best_valid_ndcg = record.valid_ndcg;
    epochs_without_gain = 0;
    if (measured) model.RememberBest();
    model.fitted_ = true;
    model.SaveCheckpoint();
  } else {
    ++epochs_without_gain;
  }
  MELODAI_LOG_INFO("[{}] epoch {}: loss {:.4f}, {:.0f} events/s, {:.1f} s, valid NDCG@10 {:.4f}{}", model.name(), epoch,
                   record.loss, record.events_per_second, record.seconds, record.valid_ndcg,
                   report.best_epoch == epoch ? " (best)" : "");
  const uint32_t patience = model.options_.patience;
  return measured && patience > 0 && epochs_without_gain >= patience;
}

// ---------------------------------------------------------------------------------------------
// Session-parallel training.

struct SessionSlots {
  std::vector<uint32_t> sequence;  // per slot: the training sequence it plays
  std::vector<uint32_t> position;  // per slot: index of the current input event
};

class SessionTrainer {
 public:
  SessionTrainer(NeuralModel& model, const data::Interactions& rows, const data::Interactions& train)
      : model_(model), train_(rows), catalog_train_(train) {
    const NeuralOptions& options = model.options_;
    for (uint32_t s = 0; s < rows.size(); ++s) {
      if (rows.items(s).size() >= 2) sessions_.push_back(s);
    }
    const std::vector<double> counts = RowCounts(rows, model.item_of_row_.size());
    const std::vector<double> weights = SamplingWeights(counts, options.sample_alpha);
    std::vector<float> log_q(counts.size());
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    for (size_t i = 0; i < counts.size(); ++i) {
      log_q[i] = static_cast<float>(std::log(std::max(counts[i], 1.0) / total));
    }
    sampler_ = std::make_unique<core::AliasTable>(weights);
    log_q_ = torch::tensor(log_q);
    SessionNetImpl& net = *model.session_;
    for (auto& parameter : net.parameters()) {
      if (parameter.is_same(net.item_weights) || parameter.is_same(net.item_bias) ||
          (net.input_table.defined() && parameter.is_same(net.input_table))) {
        continue;
      }
      dense_.push_back(parameter);
      dense_state_.push_back(MakeState(parameter, options.momentum));
    }
    weights_state_ = MakeState(net.item_weights, options.momentum);
    bias_state_ = MakeState(net.item_bias, options.momentum);
    if (net.input_table.defined()) input_state_ = MakeState(net.input_table, options.momentum);
    for (uint32_t s : sessions_) events_per_epoch_ += rows.items(s).size() - 1;
  }

  core::Status Run(core::ThreadPool& pool) {
    if (sessions_.empty()) return core::InvalidArgumentError("no training sequence has two events");
    uint32_t without_gain = 0;
    double lr = model_.options_.learning_rate;
    for (uint32_t epoch = 1; epoch <= model_.options_.n_epochs; ++epoch) {
      model_.network().train();
      const EpochTotals totals = RunEpoch(epoch, lr);
      if (!std::isfinite(totals.loss)) {
        return core::FailedPreconditionError(fmt::format("training diverged in epoch {} (loss is not finite); lower "
                                                         "learning_rate", epoch));
      }
      if (EndEpoch(model_, catalog_train_, pool, epoch, totals, without_gain)) break;
      lr *= model_.options_.lr_decay;
    }
    return core::Status::Ok();
  }

 private:
  EpochTotals RunEpoch(uint32_t epoch, double lr);
  double Step(const std::vector<int64_t>& inputs, const std::vector<int64_t>& targets, torch::Tensor& hidden,
              core::Rng& rng, double lr, double slots);

  NeuralModel& model_;
  const data::Interactions& train_;          // in model rows
  const data::Interactions& catalog_train_;  // in catalogue ids, for validation
  std::vector<uint32_t> sessions_;
  uint64_t events_per_epoch_ = 0;
  std::unique_ptr<core::AliasTable> sampler_;
  torch::Tensor log_q_;
  std::vector<torch::Tensor> dense_;
  std::vector<AdagradState> dense_state_;
  AdagradState weights_state_, bias_state_, input_state_;
};

// `slots` is the mini-batch width the epoch started with. The loss is divided by it, not by the
// rows still running: at the end of an epoch only a few long sessions are left, and dividing by
// their count would give each of their events up to `slots` times the weight of an event in a
// full batch (on MPD, with playlists of up to 250 tracks, that tail made BPR-max diverge).
double SessionTrainer::Step(const std::vector<int64_t>& inputs, const std::vector<int64_t>& targets,
                            torch::Tensor& hidden, core::Rng& rng, double lr, double slots) {
  const NeuralOptions& options = model_.options_;
  SessionNetImpl& net = *model_.session_;
  const auto batch = static_cast<int64_t>(inputs.size());
  std::vector<int64_t> rows(inputs);  // inputs, then targets, then negatives
  rows.insert(rows.end(), targets.begin(), targets.end());
  for (uint32_t i = 0; i < options.n_sample; ++i) rows.push_back(static_cast<int64_t>(sampler_->Sample(rng)));
  const torch::Tensor all = torch::tensor(rows, torch::kLong);
  const auto [unique, inverse] = at::_unique(all, /*sorted=*/true, /*return_inverse=*/true);
  const torch::Tensor weights = net.item_weights.detach().index_select(0, unique).requires_grad_(true);
  const torch::Tensor bias = net.item_bias.detach().index_select(0, unique).requires_grad_(true);
  const torch::Tensor input_rows = inverse.narrow(0, 0, batch);
  const torch::Tensor output_rows = inverse.narrow(0, batch, inverse.size(0) - batch);
  torch::Tensor input_unique, input_inverse, input_weights;
  torch::Tensor input;
  if (net.constrained_) {
    input = weights.index_select(0, input_rows);
  } else {
    std::tie(input_unique, input_inverse) = [&] {
      auto result = at::_unique(all.narrow(0, 0, batch), true, true);
      return std::make_pair(std::get<0>(result), std::get<1>(result));
    }();
    input_weights = net.input_table.detach().index_select(0, input_unique).requires_grad_(true);
    input = input_weights.index_select(0, input_inverse);
  }
  input = torch::dropout(input, options.dropout_p_embed, /*train=*/true);
  torch::Tensor state = net.Step(input, hidden);
  hidden = state.detach();
  state = torch::dropout(state, options.dropout_p_hidden, /*train=*/true);
  const torch::Tensor scores = state.mm(weights.index_select(0, output_rows).t()) + bias.index_select(0, output_rows).unsqueeze(0);
  torch::Tensor loss;
  if (options.loss == "bpr-max") {
    loss = BprMaxLoss(scores, torch::arange(batch, torch::kLong), options.elu_param, options.bpreg);
  } else {
    torch::Tensor log_q = log_q_.index_select(0, all.narrow(0, batch, all.size(0) - batch));
    if (options.n_sample > 0) log_q.narrow(0, batch, options.n_sample).mul_(options.sample_alpha);
    loss = CrossEntropyLoss(scores, log_q, options.logq);
  }
  for (auto& parameter : dense_) parameter.mutable_grad() = torch::Tensor();
  (loss / slots).backward();
  torch::NoGradGuard no_grad;
  ClipDense(dense_, options.clip_norm);
  for (size_t i = 0; i < dense_.size(); ++i) {
    if (dense_[i].grad().defined()) AdagradDense(dense_[i], dense_[i].grad(), dense_state_[i], lr, options.momentum);
  }
  AdagradRows(net.item_weights, unique, weights.grad(), weights_state_, lr, options.momentum);
  AdagradRows(net.item_bias, unique, bias.grad(), bias_state_, lr, options.momentum);
  if (!net.constrained_) AdagradRows(net.input_table, input_unique, input_weights.grad(), input_state_, lr, options.momentum);
  return loss.item<double>();
}

EpochTotals SessionTrainer::RunEpoch(uint32_t epoch, double lr) {
  const NeuralOptions& options = model_.options_;
  core::Rng rng(EpochSeed(options.seed, epoch));
  torch::manual_seed(EpochSeed(options.seed + 1, epoch));
  std::vector<uint32_t> order = sessions_;
  rng.Shuffle(std::span<uint32_t>(order));
  SessionSlots slots;
  size_t next = 0;
  const size_t batch = std::min<size_t>(options.batch_size, order.size());
  for (; next < batch; ++next) {
    slots.sequence.push_back(order[next]);
    slots.position.push_back(0);
  }
  torch::Tensor hidden = torch::zeros({static_cast<int64_t>(batch), model_.width_});
  EpochTotals totals;
  core::Stopwatch watch;
  std::vector<int64_t> inputs, targets;
  size_t steps = 0;
  while (!slots.sequence.empty()) {
    inputs.clear();
    targets.clear();
    for (size_t b = 0; b < slots.sequence.size(); ++b) {
      const auto items = train_.items(slots.sequence[b]);
      inputs.push_back(items[slots.position[b]]);
      targets.push_back(items[slots.position[b] + 1]);
    }
    const double loss = Step(inputs, targets, hidden, rng, lr, static_cast<double>(batch));
    totals.loss += loss;
    totals.events += inputs.size();
    // Advance; finished sessions hand their slot to the next one (hidden row reset) or leave.
    std::vector<int64_t> keep;
    std::vector<int64_t> reset;
    SessionSlots advanced;
    for (size_t b = 0; b < slots.sequence.size(); ++b) {
      uint32_t sequence = slots.sequence[b];
      uint32_t position = slots.position[b] + 1;
      if (position + 1 >= train_.items(sequence).size()) {
        if (next == order.size()) continue;
        sequence = order[next++];
        position = 0;
        reset.push_back(static_cast<int64_t>(advanced.sequence.size()));
      }
      keep.push_back(static_cast<int64_t>(b));
      advanced.sequence.push_back(sequence);
      advanced.position.push_back(position);
    }
    if (keep.size() != slots.sequence.size()) hidden = hidden.index_select(0, torch::tensor(keep, torch::kLong));
    if (!reset.empty()) hidden.index_fill_(0, torch::tensor(reset, torch::kLong), 0.0);
    slots = std::move(advanced);
    if (++steps % 64 == 0) {
      const double seconds = watch.ElapsedSeconds();
      model_.ReportProgress({epoch, options.n_epochs, totals.events, events_per_epoch_,
                             totals.loss / static_cast<double>(totals.events),
                             static_cast<double>(totals.events) / std::max(seconds, 1e-9)});
    }
  }
  totals.seconds = watch.ElapsedSeconds();
  return totals;
}

// ---------------------------------------------------------------------------------------------
// Window training of the attention models.

class AttentionTrainer {
 public:
  AttentionTrainer(NeuralModel& model, const data::Interactions& rows, const data::Interactions& train)
      : model_(model), train_(rows), catalog_train_(train) {
    windows_ = MakeWindows(rows, model.options_.max_length);
    for (const Window& window : windows_) events_per_epoch_ += window.end - window.begin - 1;
    const std::vector<double> weights =
        SamplingWeights(RowCounts(rows, model.item_of_row_.size()), model.options_.sample_alpha);
    sampler_ = std::make_unique<core::AliasTable>(weights);
    const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
    std::vector<float> log_q(weights.size());
    for (size_t i = 0; i < weights.size(); ++i) log_q[i] = static_cast<float>(std::log(std::max(weights[i], 1e-9) / total));
    log_q_ = torch::tensor(log_q);
    optimizer_ = std::make_unique<torch::optim::Adam>(model.network().parameters(),
                                                      torch::optim::AdamOptions(model.options_.learning_rate));
  }

  core::Status Run(core::ThreadPool& pool) {
    if (windows_.empty()) return core::InvalidArgumentError("no training sequence has two events");
    uint32_t without_gain = 0;
    double lr = model_.options_.learning_rate;
    for (uint32_t epoch = 1; epoch <= model_.options_.n_epochs; ++epoch) {
      for (auto& group : optimizer_->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      model_.network().train();
      const EpochTotals totals = RunEpoch(epoch);
      if (!std::isfinite(totals.loss)) {
        return core::FailedPreconditionError(fmt::format("training diverged in epoch {}; lower learning_rate", epoch));
      }
      if (EndEpoch(model_, catalog_train_, pool, epoch, totals, without_gain)) break;
      lr *= model_.options_.lr_decay;
    }
    return core::Status::Ok();
  }

 private:
  EpochTotals RunEpoch(uint32_t epoch);
  double Step(std::span<const Window> batch, core::Rng& rng, uint64_t& events);

  NeuralModel& model_;
  const data::Interactions& train_;          // in model rows
  const data::Interactions& catalog_train_;  // in catalogue ids, for validation
  std::vector<Window> windows_;
  uint64_t events_per_epoch_ = 0;
  std::unique_ptr<core::AliasTable> sampler_;
  torch::Tensor log_q_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
};

double AttentionTrainer::Step(std::span<const Window> batch, core::Rng& rng, uint64_t& events) {
  const NeuralOptions& options = model_.options_;
  AttentionNetImpl& net = *model_.attention_;
  const int64_t length = options.max_length;
  const auto size = static_cast<int64_t>(batch.size());
  std::vector<int64_t> targets;
  const WindowBatch input = MakeWindowBatch(model_, train_, batch, targets, events);
  const torch::Tensor window_states = net.Forward(input);
  const torch::Tensor states = window_states.reshape({size * length, options.dim});
  const torch::Tensor target = torch::tensor(targets, torch::kLong);
  const torch::Tensor valid = (target >= 0).nonzero().squeeze(1);
  const torch::Tensor chosen = states.index_select(0, valid);
  const torch::Tensor wanted = target.index_select(0, valid);
  const torch::Tensor item_weights = net.OutputWeights();
  // Scores over every item, or over this batch's targets + popularity negatives (each once; the
  // sampled softmax is logQ-corrected, BPR-max is not, as in the official GRU4Rec code).
  torch::Tensor scores, columns, log_q, candidates;
  if (options.n_sample == 0) {
    scores = chosen.mm(item_weights.t()) + net.item_bias.unsqueeze(0);
    columns = wanted;
  } else {
    std::vector<int64_t> negatives(options.n_sample);
    for (auto& negative : negatives) negative = static_cast<int64_t>(sampler_->Sample(rng));
    candidates = std::get<0>(at::_unique(torch::cat({wanted, torch::tensor(negatives, torch::kLong)}), true, false));
    scores = chosen.mm(item_weights.index_select(0, candidates).t()) + net.item_bias.index_select(0, candidates).unsqueeze(0);
    columns = torch::searchsorted(candidates, wanted);
    log_q = log_q_.index_select(0, candidates).unsqueeze(0);
  }
  if (net.has_repeat()) {
    scores = AddRepeatTerm(scores, net.RepeatValues(window_states, input.padding), input.items, valid, candidates);
  }
  const torch::Tensor loss =
      options.loss == "bpr-max"
          ? BprMaxLoss(scores, columns, options.elu_param, options.bpreg) / static_cast<double>(wanted.size(0))
          : torch::nn::functional::cross_entropy(log_q.defined() ? scores - log_q : scores, columns);
  optimizer_->zero_grad();
  loss.backward();
  if (options.clip_norm > 0.0) torch::nn::utils::clip_grad_norm_(model_.network().parameters(), options.clip_norm);
  optimizer_->step();
  {
    torch::NoGradGuard no_grad;
    net.item_embedding->weight[net.items_].zero_();  // keep the padding row at zero
  }
  return loss.item<double>() * static_cast<double>(wanted.size(0));
}

EpochTotals AttentionTrainer::RunEpoch(uint32_t epoch) {
  const NeuralOptions& options = model_.options_;
  core::Rng rng(EpochSeed(options.seed, epoch));
  torch::manual_seed(EpochSeed(options.seed + 1, epoch));
  rng.Shuffle(std::span<Window>(windows_));
  EpochTotals totals;
  core::Stopwatch watch;
  size_t steps = 0;
  for (size_t begin = 0; begin < windows_.size(); begin += options.batch_size) {
    const size_t count = std::min<size_t>(options.batch_size, windows_.size() - begin);
    uint64_t events = 0;
    totals.loss += Step(std::span<const Window>(windows_).subspan(begin, count), rng, events);
    totals.events += events;
    if (++steps % 8 == 0) {
      const double seconds = watch.ElapsedSeconds();
      model_.ReportProgress({epoch, options.n_epochs, totals.events, events_per_epoch_,
                             totals.loss / static_cast<double>(std::max<uint64_t>(totals.events, 1)),
                             static_cast<double>(totals.events) / std::max(seconds, 1e-9)});
    }
  }
  totals.seconds = watch.ElapsedSeconds();
  return totals;
}

}  // namespace

torch::Tensor BprMaxLoss(torch::Tensor scores, const torch::Tensor& target_columns, double elu_param, double bpreg) {
  if (elu_param > 0.0) scores = torch::elu(scores, elu_param);
  const torch::Tensor columns = target_columns.unsqueeze(1);
  const torch::Tensor off_target = torch::ones_like(scores).scatter_(1, columns, 0.0);
  const torch::Tensor masked = scores * off_target;
  const torch::Tensor exp = torch::exp(masked - std::get<0>(masked.max(1, true))) * off_target;
  const torch::Tensor softmax = exp / exp.sum(1, true);
  const torch::Tensor target = scores.gather(1, columns);
  const torch::Tensor ranking = -torch::log((torch::sigmoid(target - scores) * softmax).sum(1) + 1e-24);
  return (ranking + bpreg * (scores.square() * softmax).sum(1)).sum();
}

std::vector<Window> MakeWindows(const data::Interactions& rows, uint32_t length) {
  std::vector<Window> windows;
  for (uint32_t s = 0; s < rows.size(); ++s) {
    const auto n = static_cast<uint32_t>(rows.items(s).size());
    for (uint32_t end = n; end >= 2; end = end > length ? end - length : 0) {
      windows.push_back({s, end > length + 1 ? end - length - 1 : 0, end});
      if (end <= length + 1) break;
    }
  }
  return windows;
}

WindowBatch MakeWindowBatch(const NeuralModel& model, const data::Interactions& rows, std::span<const Window> batch,
                            std::vector<int64_t>& targets, uint64_t& events) {
  const AttentionNetImpl& net = *model.attention_;
  const int64_t length = model.options_.max_length;
  const auto size = static_cast<int64_t>(batch.size());
  const int64_t pad_artist = model.artist_rows_;
  std::vector<int64_t> items(size * length, net.items_), artists(size * length, pad_artist);
  targets.assign(size * length, -1);
  std::vector<int64_t> padding(size * length, 1);
  std::vector<float> feedback(size * length * kFeedbackFeatures, 0.0f);
  const bool has_weights = rows.has_weights();
  for (int64_t b = 0; b < size; ++b) {
    const Window& window = batch[b];
    const auto sequence = rows.items(window.sequence);
    const auto view = rows[window.sequence];
    const std::span<const float> weights = has_weights ? view.weights : std::span<const float>();
    const uint32_t inputs = window.end - window.begin - 1;
    for (uint32_t i = 0; i < inputs; ++i) {
      const int64_t slot = b * length + (length - inputs + i);
      const uint32_t event = window.begin + i;
      items[slot] = sequence[event];
      artists[slot] = model.artist_of_row_[sequence[event]];
      targets[slot] = sequence[event + 1];
      padding[slot] = 0;
      FeedbackFeatures(sequence, weights, event, &feedback[slot * kFeedbackFeatures]);
    }
    events += inputs;
  }
  WindowBatch input;
  input.items = torch::tensor(items, torch::kLong).reshape({size, length});
  input.artists = torch::tensor(artists, torch::kLong).reshape({size, length});
  input.feedback = torch::tensor(feedback).reshape({size, length, kFeedbackFeatures});
  input.padding = torch::tensor(padding, torch::kLong).to(torch::kBool).reshape({size, length});
  return input;
}

core::Status TrainSessionModel(NeuralModel& model, const data::Interactions& rows, const data::Interactions& train,
                               core::ThreadPool& pool) {
  SessionTrainer trainer(model, rows, train);
  return trainer.Run(pool);
}

core::Status TrainAttentionModel(NeuralModel& model, const data::Interactions& rows, const data::Interactions& train,
                                 core::ThreadPool& pool) {
  AttentionTrainer trainer(model, rows, train);
  return trainer.Run(pool);
}

}  // namespace melodai::rec::internal
