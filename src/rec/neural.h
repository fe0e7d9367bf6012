// MelodAI — licensed under the Apache License 2.0.
// Neural sequence recommenders on LibTorch: a vanilla RNN and GRU4Rec (session-parallel
// mini-batches, BPR-max or cross-entropy with popularity-sampled negatives), SASRec (causal
// self-attention) and TransGRU (the whitepaper's Transformer + GRU hybrid). This header is
// free of LibTorch types; the implementation lives in the *_torch.cc files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rec/recommender.h"

namespace melodai::rec {

enum class NeuralArchitecture : uint8_t {
  kRnn = 0,       // Vanilla tanh RNN, trained like GRU4Rec.
  kGru4Rec = 1,   // Hidasi et al.: GRU over the session, one step per event.
  kSasRec = 2,    // Kang & McAuley: causal self-attention over item + position embeddings.
  kTransGru = 3,  // Transformer branch + GRU branch, fused by a shared attention layer.
};
std::string_view NeuralArchitectureName(NeuralArchitecture architecture);
core::Result<NeuralArchitecture> ParseNeuralArchitecture(std::string_view name);

// Hyperparameters. Session models (rnn, gru4rec) use the names of the official GRU4Rec code
// (512 units, batch 128, 2048 popularity-sampled negatives, Adagrad with momentum) and its
// tuned BPR-max recipe by default. Attention models (sasrec, transgru) use
// dim/blocks/heads/max_length/dropout and Adam; they train with the full-catalogue softmax by
// default, and also with BPR-max or the sampled softmax (loss, n_sample). Defaults() gives the
// per-architecture defaults.
struct NeuralOptions {
  NeuralArchitecture architecture = NeuralArchitecture::kGru4Rec;
  uint64_t seed = 42;
  uint32_t n_epochs = 10;
  uint32_t batch_size = 128;
  double learning_rate = 0.05;
  double momentum = 0.4;          // Adagrad momentum (session models)
  std::string optimizer = "adagrad";  // "adagrad" (row-sparse, with momentum) or "adam"
  double lr_decay = 1.0;          // learning rate multiplied by this after every epoch
  double clip_norm = 0.0;         // global gradient-norm clipping of dense weights; 0 = off
  uint32_t patience = 0;          // stop after this many epochs without a better validation
                                  // NDCG@10; 0 = train all epochs (best epoch still kept)
  uint32_t valid_queries = 3000;  // validation queries scored after each epoch (0 = none)

  // Session models.
  uint32_t layers = 512;          // GRU / RNN units
  std::string loss = "cross-entropy";  // "cross-entropy" or "bpr-max"
  uint32_t n_sample = 2048;       // popularity-sampled extra negatives per mini-batch
  double sample_alpha = 0.2;      // negatives ~ popularity^alpha
  double bpreg = 1.85;            // BPR-max score regularisation
  double elu_param = 0.0;         // ELU applied to scores before BPR-max; 0 = none (linear)
  double logq = 0.0;              // logQ correction strength (cross-entropy only)
  double dropout_p_embed = 0.0;
  double dropout_p_hidden = 0.3;
  bool constrained_embedding = true;  // input embedding = output weights (tied); all models
  uint32_t embedding = 0;         // separate input embedding size when not constrained
                                  // (0 = hidden size)

  // Attention models.
  uint32_t dim = 64;
  uint32_t blocks = 2;
  uint32_t heads = 2;
  uint32_t max_length = 50;
  double dropout = 0.2;
  // TransGRU branches: "both" (the model), "transformer" or "gru" (ablations with the same
  // fusion head).
  std::string branches = "both";
  // TransGRU fusion: "residual" (the model) adds the branch states to the fusion head's output,
  // so the head learns a correction on top of the branches, and feeds the GRU the same
  // unit-scale item embedding as the Transformer; "plain" is the earlier design (the head's
  // output alone, the GRU fed ReLU(Linear(E))), kept for the ablation.
  std::string fusion = "residual";
  // Repeat term of the attention models (SASRec, TransGRU): "recency" adds to the score of every
  // item the window holds a learned value r[d] + u·S for each of its occurrences, d events back
  // from the query (RepeatNet's repeat mode reduced to a bias); "none" scores the output layer
  // alone (the only choice of the session models). With consecutive repeats collapsed, tracks
  // just played rarely come next, and the attention models' tied output layer otherwise ranks
  // them on top. Defaults() sets "recency" for SASRec and TransGRU.
  std::string repeat = "none";

  static NeuralOptions Defaults(NeuralArchitecture architecture);
  // kInvalidArgument naming the first absurd value.
  core::Status Validate() const;
  std::string ToJson() const;
};

// Per-epoch record of training.
struct EpochRecord {
  uint32_t epoch = 0;            // from 1
  double loss = 0.0;             // mean loss per event
  double seconds = 0.0;
  double events_per_second = 0.0;
  double valid_ndcg = -1.0;      // NDCG@10 on the validation queries; -1 when not measured
};

struct TrainingReport {
  std::vector<EpochRecord> epochs;
  uint32_t best_epoch = 0;
  double best_valid_ndcg = -1.0;
  double train_seconds = 0.0;
  double events_per_second = 0.0;  // training events over pure training time (no validation)
  uint64_t train_events = 0;
  uint64_t parameter_count = 0;
};

// Progress within an epoch, for a progress line.
struct TrainingProgress {
  uint32_t epoch = 0;
  uint32_t n_epochs = 0;
  uint64_t events_done = 0;
  uint64_t events_total = 0;
  double loss = 0.0;              // running mean in this epoch
  double events_per_second = 0.0;
};

// A neural Recommender with training controls and checkpoints.
// Thread safety: Fit, Save, SetValidation and SetProgress are not concurrent with anything;
// Score is thread-safe after Fit or Load.
class NeuralRecommender : public Recommender {
 public:
  // kInvalidArgument when options.Validate() fails.
  static core::Result<std::unique_ptr<NeuralRecommender>> Create(const NeuralOptions& options);

  // Restores a model written by Save for use with `catalog` (which must outlive it).
  // kNotFound / kIoError for the file, kDataLoss for a corrupt or truncated file or one whose
  // options need more weights than it holds (checked before the network is built; the message
  // names the file and the field), kFailedPrecondition when the file was trained on another
  // catalogue.
  static core::Result<std::unique_ptr<NeuralRecommender>> Load(const std::filesystem::path& path,
                                                               const data::Catalog& catalog);
  // As Load, from the bytes of a model file; `name` stands for the file in error messages.
  // `bytes` is only borrowed for the call.
  static core::Result<std::unique_ptr<NeuralRecommender>> LoadFromBytes(
      std::string_view bytes, std::string_view name, const data::Catalog& catalog);

  virtual const NeuralOptions& options() const = 0;
  virtual const TrainingReport& training_report() const = 0;
  virtual void SetProgress(std::function<void(const TrainingProgress&)> progress) = 0;
  // Writes weights, options and a catalogue fingerprint (atomically). REQUIRES: fitted.
  virtual core::Status Save(const std::filesystem::path& path) const = 0;
  // After every epoch, Fit saves the best model so far to `path` (empty: never).
  virtual void SetCheckpointPath(std::filesystem::path path) = 0;
};

}  // namespace melodai::rec
