// MelodAI — licensed under the Apache License 2.0.
// The LibTorch modules of the neural recommenders: the session network of RNN/GRU4Rec and the
// attention network of SASRec/TransGRU (shapes in rec/internal/neural_nets.h).
#include "rec/internal/torch_prelude.h"

#include <cmath>

#include "rec/internal/neural_nets.h"

namespace melodai::rec::internal {
namespace {

// GRU4Rec's initialisation: uniform in +-sqrt(6 / (rows / row_scale + cols / col_scale)).
void InitUniform(torch::Tensor& tensor, double row_scale = 1.0, double col_scale = 1.0) {
  torch::NoGradGuard no_grad;
  const double rows = static_cast<double>(tensor.size(0)) / row_scale;
  const double cols = tensor.dim() > 1 ? static_cast<double>(tensor.size(1)) / col_scale : 1.0;
  const double sigma = std::sqrt(6.0 / (rows + cols));
  tensor.uniform_(-sigma, sigma);
}

}  // namespace

SessionNetImpl::SessionNetImpl(int64_t items, const NeuralOptions& options)
    : hidden_dim_(options.layers), constrained_(options.constrained_embedding) {
  item_weights = register_parameter("item_weights", torch::empty({items, hidden_dim_}));
  item_bias = register_parameter("item_bias", torch::zeros({items}));
  InitUniform(item_weights);
  input_dim_ = hidden_dim_;
  if (!constrained_) {
    input_dim_ = options.embedding > 0 ? options.embedding : hidden_dim_;
    input_table = register_parameter("input_table", torch::empty({items, input_dim_}));
    InitUniform(input_table);
  }
  if (options.architecture == NeuralArchitecture::kRnn) {
    rnn = register_module("rnn", torch::nn::RNNCell(torch::nn::RNNCellOptions(input_dim_, hidden_dim_)
                                                        .nonlinearity(torch::kTanh)));
    InitUniform(rnn->weight_ih);
    InitUniform(rnn->weight_hh);
    torch::NoGradGuard no_grad;
    rnn->bias_ih.zero_();
    rnn->bias_hh.zero_();
  } else {
    gru = register_module("gru", torch::nn::GRUCell(input_dim_, hidden_dim_));
    InitUniform(gru->weight_ih, 3.0, 1.0);
    InitUniform(gru->weight_hh, 3.0, 1.0);
    torch::NoGradGuard no_grad;
    gru->bias_ih.zero_();
    gru->bias_hh.zero_();
  }
}

torch::Tensor SessionNetImpl::Step(const torch::Tensor& input_vectors, const torch::Tensor& hidden) {
  return gru ? gru->forward(input_vectors, hidden) : rnn->forward(input_vectors, hidden);
}

SelfAttentionImpl::SelfAttentionImpl(int64_t width, int64_t heads, double dropout) : width_(width), heads_(heads) {
  qkv = register_module("qkv", torch::nn::Linear(width, 3 * width));
  out = register_module("out", torch::nn::Linear(width, width));
  attention_dropout = register_module("attention_dropout", torch::nn::Dropout(dropout));
}

torch::Tensor SelfAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  const int64_t batch = x.size(0), length = x.size(1), head_dim = width_ / heads_;
  // [B, L, 3, H, Dh] -> [3, B, H, L, Dh]
  const torch::Tensor projected = qkv->forward(x).view({batch, length, 3, heads_, head_dim}).permute({2, 0, 3, 1, 4});
  const torch::Tensor q = projected[0], k = projected[1], v = projected[2];
  torch::Tensor weights = torch::matmul(q, k.transpose(-2, -1)) * (1.0 / std::sqrt(static_cast<double>(head_dim)));
  weights = attention_dropout->forward(torch::softmax(weights + mask, -1));
  const torch::Tensor context = torch::matmul(weights, v).transpose(1, 2).reshape({batch, length, width_});
  return out->forward(context);
}

EncoderBlockImpl::EncoderBlockImpl(int64_t width, int64_t heads, double dropout) {
  attention_norm = register_module("attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  attention = register_module("attention", SelfAttention(width, heads, dropout));
  feed_forward_norm = register_module("feed_forward_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
  expand = register_module("expand", torch::nn::Linear(width, 4 * width));
  contract = register_module("contract", torch::nn::Linear(4 * width, width));
  dropout_ = register_module("dropout", torch::nn::Dropout(dropout));
}

torch::Tensor EncoderBlockImpl::forward(torch::Tensor x, const torch::Tensor& mask) {
  x = x + dropout_->forward(attention->forward(attention_norm->forward(x), mask));
  const torch::Tensor hidden = torch::gelu(expand->forward(feed_forward_norm->forward(x)));
  return x + dropout_->forward(contract->forward(dropout_->forward(hidden)));
}

torch::Tensor AttentionMask(const torch::Tensor& padding) {
  const int64_t length = padding.size(1);
  const torch::Tensor causal = torch::ones({length, length}, torch::kBool).triu(1);  // s > t
  const torch::Tensor eye = torch::eye(length, torch::kBool);
  // blocked[b, t, s] = s > t or (pad[b, s] and s != t)
  const torch::Tensor blocked = causal.unsqueeze(0) | (padding.unsqueeze(1) & eye.logical_not().unsqueeze(0));
  return torch::zeros(blocked.sizes()).masked_fill(blocked, -std::numeric_limits<float>::infinity()).unsqueeze(1);
}

AttentionNetImpl::AttentionNetImpl(int64_t items, int64_t artists, const NeuralOptions& options)
    : dim(options.dim), max_length(options.max_length), items_(items) {
  const bool transgru = options.architecture == NeuralArchitecture::kTransGru;
  use_transformer = !transgru || options.branches != "gru";
  use_gru = transgru && options.branches != "transformer";
  use_fusion = transgru;
  use_artist = transgru;
  residual_fusion = transgru && options.fusion == "residual";
  item_embedding = register_module(
      "item_embedding", torch::nn::Embedding(torch::nn::EmbeddingOptions(items + 1, dim).padding_idx(items)));
  {
    torch::NoGradGuard no_grad;
    item_embedding->weight.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(dim)));
    item_embedding->weight[items].zero_();
  }
  item_bias = register_parameter("item_bias", torch::zeros({items}));
  if (!options.constrained_embedding) {
    output_embedding = register_parameter(
        "output_embedding", torch::randn({items, dim}) * (1.0 / std::sqrt(static_cast<double>(dim))));
  }
  position_embedding = register_module("position_embedding", torch::nn::Embedding(max_length, dim));
  if (options.repeat == "recency") {
    repeat_recency = register_parameter("repeat_recency", torch::zeros({max_length}));
    repeat_gate = register_parameter("repeat_gate", torch::zeros({dim}));
  }
  input_dropout = register_module("input_dropout", torch::nn::Dropout(options.dropout));
  if (use_artist) {
    artist_embedding = register_module(
        "artist_embedding",
        torch::nn::Embedding(torch::nn::EmbeddingOptions(artists + 1, dim).padding_idx(artists)));
  }
  if (use_transformer) {
    encoder = register_module("encoder", torch::nn::ModuleList());
    for (uint32_t block = 0; block < options.blocks; ++block) {
      encoder->push_back(EncoderBlock(dim, options.heads, options.dropout));
    }
    encoder_norm = register_module("encoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim})));
  }
  if (use_gru) {
    gru_input = register_module("gru_input", torch::nn::Linear(dim + kFeedbackFeatures, dim));
    gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(dim, dim).batch_first(true)));
  }
  if (use_fusion) {
    const int64_t width = (use_transformer && use_gru) ? 2 * dim : dim;
    fusion_input_norm =
        register_module("fusion_input_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
    fusion = register_module("fusion", SelfAttention(width, options.heads, options.dropout));
    fusion_norm = register_module("fusion_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({width})));
    head = register_module("head", torch::nn::Sequential(torch::nn::Linear(width, 2 * dim), torch::nn::GELU(),
                                                         torch::nn::Dropout(options.dropout),
                                                         torch::nn::Linear(2 * dim, dim)));
  }
}

torch::Tensor AttentionNetImpl::Forward(const WindowBatch& batch) {
  // Positions count from the window's first real event (0, 1, ...), whatever the left padding:
  // a history prefix then looks the same at inference as inside a training window. Counting from
  // the right edge instead (SASRec's original alignment) tells the model during training how far
  // the playlist's end is, and at inference every history sits at "the end".
  const int64_t length = batch.items.size(1);
  const torch::Tensor pads = batch.padding.sum(1, /*keepdim=*/true);  // [B, 1]
  const torch::Tensor positions = (torch::arange(length, torch::kLong).unsqueeze(0) - pads).clamp_min(0);
  const torch::Tensor items = item_embedding->forward(batch.items);  // [B, L, D]
  const torch::Tensor mask = AttentionMask(batch.padding);           // [B, 1, L, L]
  const torch::Tensor keep = batch.padding.logical_not().unsqueeze(-1).to(torch::kFloat);
  // The unit-scale embedding E[x]·sqrt(D), read by the Transformer and by the residual GRU.
  torch::Tensor scaled;
  if (use_transformer || residual_fusion) scaled = items * std::sqrt(static_cast<double>(dim));
  std::vector<torch::Tensor> branches;
  if (use_transformer) {
    torch::Tensor x = scaled + position_embedding->forward(positions);
    if (use_artist) x = x + artist_embedding->forward(batch.artists);
    x = input_dropout->forward(x) * keep;
    for (const auto& block : *encoder) x = block->as<EncoderBlockImpl>()->forward(x, mask) * keep;
    branches.push_back(encoder_norm->forward(x) * keep);
  }
  if (use_gru) {
    torch::Tensor x;
    if (residual_fusion) {
      x = torch::cat({input_dropout->forward(scaled), batch.feedback}, -1);
      x = gru_input->forward(x) * keep;
    } else {
      x = torch::cat({input_dropout->forward(items), batch.feedback}, -1);
      x = torch::relu(gru_input->forward(x)) * keep;
    }
    branches.push_back(std::get<0>(gru->forward(x)) * keep);
  }
  torch::Tensor states = branches.size() == 1 ? branches[0] : torch::cat(branches, -1);
  if (!use_fusion) return states;
  const torch::Tensor aligned = fusion->forward(fusion_input_norm->forward(states), mask);
  torch::Tensor fused = head->forward(fusion_norm->forward(states + aligned));
  if (residual_fusion) {
    for (const torch::Tensor& branch : branches) fused = fused + branch;
  }
  return fused * keep;
}

torch::Tensor AttentionNetImpl::OutputWeights() const {
  return output_embedding.defined() ? output_embedding : item_embedding->weight.narrow(0, 0, items_);
}

torch::Tensor AttentionNetImpl::RepeatValues(const torch::Tensor& states, const torch::Tensor& padding) const {
  const int64_t length = states.size(1);
  const torch::Tensor t = torch::arange(length, torch::kLong).unsqueeze(1);  // [L, 1]
  const torch::Tensor j = torch::arange(length, torch::kLong).unsqueeze(0);  // [1, L]
  const torch::Tensor back = (t - j).clamp_min(0);                          // [L, L]
  const torch::Tensor recency = repeat_recency.index_select(0, back.reshape({-1})).reshape({1, length, length});
  const torch::Tensor gate = states.matmul(repeat_gate).unsqueeze(-1);      // [B, L, 1]
  const torch::Tensor seen = (j <= t).unsqueeze(0).logical_and(padding.logical_not().unsqueeze(1));  // [B, L, L]
  return (recency + gate) * seen.to(torch::kFloat);
}

torch::Tensor AddRepeatTerm(const torch::Tensor& scores, const torch::Tensor& values, const torch::Tensor& items,
                            const torch::Tensor& rows, const torch::Tensor& candidates) {
  const int64_t batch = items.size(0), length = items.size(1);
  // The window items each scored row may repeat, and their values: [M, L].
  const torch::Tensor history =
      items.unsqueeze(1).expand({batch, length, length}).reshape({batch * length, length}).index_select(0, rows);
  torch::Tensor value = values.reshape({batch * length, length}).index_select(0, rows);
  torch::Tensor column;
  if (!candidates.defined()) {
    column = history.clamp_max(scores.size(1) - 1);  // padding (value 0) onto any column
  } else {
    column = torch::searchsorted(candidates, history).clamp_max(candidates.size(0) - 1);
    const torch::Tensor present = candidates.index_select(0, column.reshape({-1})).reshape(column.sizes()) == history;
    value = value * present.to(torch::kFloat);  // items outside the candidates add nothing
  }
  return scores.scatter_add(1, column, value);
}

std::vector<std::pair<std::string, torch::Tensor>> NamedParameters(torch::nn::Module& module) {
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    named.emplace_back(item.key(), item.value());
  }
  return named;
}

}  // namespace melodai::rec::internal
