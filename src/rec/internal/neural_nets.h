// MelodAI — licensed under the Apache License 2.0.
// LibTorch modules of the neural recommenders. Included only by rec's *_torch.cc files.
// Shapes: B = batch, L = sequence window, N = catalogue items, D = model width.
#pragma once

#include "rec/internal/torch_prelude.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rec/neural.h"

namespace melodai::rec::internal {

// Session model (vanilla RNN or GRU4Rec), one step per event.
//   item_weights  Wy [N, H]  output weights, also the input embedding when constrained
//   item_bias     By [N]
//   input_table   E  [N, De] separate input embedding when not constrained (else undefined)
//   cell          GRUCell(De|H -> H) or RNNCell(tanh)
// Step: h' = cell(dropout(embed(x)), h). Scores of items Y: h' Wy[Y]^T + By[Y].
struct SessionNetImpl : torch::nn::Module {
  SessionNetImpl(int64_t items, const NeuralOptions& options);
  // input_vectors [B, In], hidden [B, H] -> [B, H].
  torch::Tensor Step(const torch::Tensor& input_vectors, const torch::Tensor& hidden);
  int64_t input_dim() const { return input_dim_; }

  torch::Tensor item_weights, item_bias, input_table;
  torch::nn::GRUCell gru{nullptr};
  torch::nn::RNNCell rnn{nullptr};
  int64_t hidden_dim_ = 0;
  int64_t input_dim_ = 0;
  bool constrained_ = true;
};
TORCH_MODULE(SessionNet);

// Inputs of an attention model for a batch of left-padded windows.
struct WindowBatch {
  torch::Tensor items;      // [B, L] int64, padding = N
  torch::Tensor artists;    // [B, L] int64, padding = artist count
  torch::Tensor feedback;   // [B, L, F] float: log position, repeat flag, log(1+weight)
  torch::Tensor padding;    // [B, L] bool, true at padding
};
inline constexpr int64_t kFeedbackFeatures = 3;

// Multi-head self-attention with an additive mask per sequence, written out because LibTorch
// 1.13's C++ MultiheadAttention accepts only one [L, L] mask for the whole batch (we need
// causal + per-sequence padding).
//   x [B, L, W], mask [B, 1, L, L] (0 or -inf) -> [B, L, W]
struct SelfAttentionImpl : torch::nn::Module {
  SelfAttentionImpl(int64_t width, int64_t heads, double dropout);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask);

  int64_t width_ = 0, heads_ = 1;
  torch::nn::Linear qkv{nullptr}, out{nullptr};
  torch::nn::Dropout attention_dropout{nullptr};
};
TORCH_MODULE(SelfAttention);

// One pre-LayerNorm Transformer encoder block (as in SASRec):
//   x = x + Dropout(SelfAttention(LN(x)));  x = x + Dropout(FFN(LN(x))), FFN = W->4W->W, GELU.
struct EncoderBlockImpl : torch::nn::Module {
  EncoderBlockImpl(int64_t width, int64_t heads, double dropout);
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask);

  torch::nn::LayerNorm attention_norm{nullptr}, feed_forward_norm{nullptr};
  SelfAttention attention{nullptr};
  torch::nn::Linear expand{nullptr}, contract{nullptr};
  torch::nn::Dropout dropout_{nullptr};
};
TORCH_MODULE(EncoderBlock);

// SASRec and TransGRU. Item embeddings are tied with the output layer unless
// constrained_embedding is false (then the output layer has its own table O: scores = S O^T + b).
//   SASRec:   X = E[x]·sqrt(D) + P[t] -> dropout -> `blocks` causal encoder blocks
//             -> LayerNorm -> S [B, L, D]
//   TransGRU: T = encoder blocks(E[x]·sqrt(D) + A[artist(x)] + P[t]) -> LayerNorm [B, L, D]
//             G = GRU(Linear([E[x]·sqrt(D) ; feedback(x)]))          [B, L, D]
//             C = [T ; G] (or one of them for the ablations)         [B, L, W], W = 2D or D
//             Z = causal multi-head self-attention(LN(C))  (shared alignment layer)
//             S = FFN(LayerNorm(C + Z)) -> D, + T + G (residual)     [B, L, D]
//             fusion "plain" (the earlier design): G = GRU(ReLU(Linear([E[x] ; f]))) and
//             S without the residual T + G.
//   scores = S E^T + b                                                [B, L, N]
//   repeat "recency": + R, R[b, t, i] = sum over the window's positions j <= t holding item i of
//             r[t - j] + u·S[b, t]  (r [L] and u [D] learned, both start at 0)
struct AttentionNetImpl : torch::nn::Module {
  AttentionNetImpl(int64_t items, int64_t artists, const NeuralOptions& options);
  // States S [B, L, D] for the window batch.
  torch::Tensor Forward(const WindowBatch& batch);
  // The output layer's item vectors [N, D]: the item embedding (tied, the default) or the
  // separate output table (constrained_embedding = false).
  torch::Tensor OutputWeights() const;
  bool has_repeat() const { return repeat_recency.defined(); }
  // The repeat values [B, L, L] of states S [B, L, D] and padding [B, L]: value[b, t, j] =
  // r[t - j] + u·S[b, t] for the positions j <= t that are not padding, 0 elsewhere.
  // REQUIRES: has_repeat().
  torch::Tensor RepeatValues(const torch::Tensor& states, const torch::Tensor& padding) const;

  bool use_transformer = true, use_gru = false, use_fusion = false, use_artist = false;
  bool residual_fusion = false;  // TransGRU fusion "residual" (see NeuralOptions::fusion)
  int64_t dim = 64, max_length = 50, items_ = 0;
  torch::nn::Embedding item_embedding{nullptr}, artist_embedding{nullptr},
      position_embedding{nullptr};
  torch::Tensor item_bias;
  torch::Tensor output_embedding;  // [N, D] when untied, else undefined
  torch::Tensor repeat_recency;    // r [L] with repeat "recency", else undefined
  torch::Tensor repeat_gate;       // u [D] with repeat "recency", else undefined
  torch::nn::Dropout input_dropout{nullptr};
  torch::nn::ModuleList encoder{nullptr};
  torch::nn::LayerNorm encoder_norm{nullptr};
  torch::nn::Linear gru_input{nullptr};
  torch::nn::GRU gru{nullptr};
  torch::nn::LayerNorm fusion_input_norm{nullptr};
  SelfAttention fusion{nullptr};
  torch::nn::LayerNorm fusion_norm{nullptr};
  torch::nn::Sequential head{nullptr};
};
TORCH_MODULE(AttentionNet);

// Adds the repeat term to `scores` [M, C]. Row m of `scores` is position rows[m] of the flattened
// [B * L] window batch whose items [B, L] (padding = N) and repeat values [B, L, L] are given;
// column c scores item row candidates[c] (sorted and distinct), or item row c when `candidates`
// is undefined (every item). Differentiable in `scores` and `values`.
torch::Tensor AddRepeatTerm(const torch::Tensor& scores, const torch::Tensor& values, const torch::Tensor& items,
                            const torch::Tensor& rows, const torch::Tensor& candidates);

// Additive attention mask [B, 1, L, L] from padding [B, L]: position t sees the positions
// s <= t that are not padding; a padding position sees itself only (no row is all -inf).
torch::Tensor AttentionMask(const torch::Tensor& padding);

// Named parameters of a module in a stable order, for checkpoints and optimizers.
std::vector<std::pair<std::string, torch::Tensor>> NamedParameters(torch::nn::Module& module);

}  // namespace melodai::rec::internal
