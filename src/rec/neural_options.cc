// MelodAI — licensed under the Apache License 2.0.
// Hyperparameters of the neural recommenders: per-architecture defaults, validation and the
// JSON text written into reports and checkpoints. Kept free of LibTorch so it builds fast.
#include <fmt/format.h>

#include "rec/neural.h"

namespace melodai::rec {

std::string_view NeuralArchitectureName(NeuralArchitecture architecture) {
  switch (architecture) {
    case NeuralArchitecture::kRnn: return "rnn";
    case NeuralArchitecture::kGru4Rec: return "gru4rec";
    case NeuralArchitecture::kSasRec: return "sasrec";
    case NeuralArchitecture::kTransGru: return "transgru";
  }
  return "unknown";
}

core::Result<NeuralArchitecture> ParseNeuralArchitecture(std::string_view name) {
  for (NeuralArchitecture architecture : {NeuralArchitecture::kRnn, NeuralArchitecture::kGru4Rec,
                                          NeuralArchitecture::kSasRec, NeuralArchitecture::kTransGru}) {
    if (name == NeuralArchitectureName(architecture)) return architecture;
  }
  return core::InvalidArgumentError(
      fmt::format("unknown neural architecture '{}' (valid: rnn, gru4rec, sasrec, transgru)", name));
}

NeuralOptions NeuralOptions::Defaults(NeuralArchitecture architecture) {
  NeuralOptions options;
  options.architecture = architecture;
  // 3,000 validation queries picked the RNN's epoch too noisily on MPD (0.0600 against 0.0635
  // and 0.0629 for the same recipe); 10,000 cost a few seconds per epoch.
  options.valid_queries = 10000;
  switch (architecture) {
    case NeuralArchitecture::kGru4Rec:
    case NeuralArchitecture::kRnn:
      // The official GRU4Rec code's tuned BPR-max recipe (512 units, batch 128, 2048 negatives).
      // Side by side with the official code on the same MPD split it gives 0.0694 next-track
      // NDCG@10 after 10 epochs against the official 0.0675, where cross-entropy over-fits from
      // epoch 4 (docs/BENCHMARKS.md section 8).
      options.loss = "bpr-max";
      options.elu_param = 0.5;
      options.bpreg = 1.95;
      options.sample_alpha = 0.4;
      options.dropout_p_embed = 0.5;
      options.dropout_p_hidden = 0.05;
      if (architecture == NeuralArchitecture::kRnn) {
        // A tanh cell diverges with GRU4Rec's step size: smaller steps, no momentum, clipped. On
        // MPD next-track the RNN then gives 0.0635 NDCG@10, where cross-entropy with 256 units
        // gave 0.0388.
        options.learning_rate = 0.02;
        options.momentum = 0.0;
        options.clip_norm = 5.0;
      }
      break;
    case NeuralArchitecture::kSasRec:
    case NeuralArchitecture::kTransGru:
      options.optimizer = "adam";
      options.learning_rate = 0.002;
      options.momentum = 0.0;
      options.batch_size = 64;
      options.n_epochs = 20;
      options.patience = 4;
      options.clip_norm = 5.0;
      options.n_sample = 0;  // full softmax over the catalogue
      options.loss = "cross-entropy";
      options.layers = 0;
      options.dropout_p_embed = 0.0;
      // The learned repeat term: on MPD next-track it lifts SASRec from 0.0463 to 0.0732 NDCG@10
      // and TransGRU from 0.0553 to 0.0714 (docs/BENCHMARKS.md section 8).
      options.repeat = "recency";
      break;
  }
  return options;
}

core::Status NeuralOptions::Validate() const {
  auto bad = [](std::string_view name, auto value, std::string_view rule) {
    return core::InvalidArgumentError(fmt::format("{} = {} is out of range ({})", name, value, rule));
  };
  if (n_epochs == 0 || n_epochs > 1000) return bad("n_epochs", n_epochs, "1..1000");
  if (batch_size == 0 || batch_size > 8192) return bad("batch_size", batch_size, "1..8192");
  if (!(learning_rate > 0.0 && learning_rate <= 10.0)) return bad("learning_rate", learning_rate, "(0, 10]");
  if (!(momentum >= 0.0 && momentum < 1.0)) return bad("momentum", momentum, "[0, 1)");
  if (optimizer != "adagrad" && optimizer != "adam") return bad("optimizer", optimizer, "adagrad or adam");
  if (!(lr_decay > 0.0 && lr_decay <= 1.0)) return bad("lr_decay", lr_decay, "(0, 1]");
  if (!(clip_norm >= 0.0)) return bad("clip_norm", clip_norm, ">= 0");
  if (n_sample > 100000) return bad("n_sample", n_sample, "0..100000");
  if (!(sample_alpha >= 0.0 && sample_alpha <= 1.0)) return bad("sample_alpha", sample_alpha, "[0, 1]");
  if (!(bpreg >= 0.0 && bpreg <= 100.0)) return bad("bpreg", bpreg, "[0, 100]");
  if (!(elu_param >= 0.0 && elu_param <= 100.0)) return bad("elu_param", elu_param, "[0, 100]");
  if (!(logq >= 0.0 && logq <= 10.0)) return bad("logq", logq, "[0, 10]");
  if (!(dropout_p_embed >= 0.0 && dropout_p_embed < 1.0)) return bad("dropout_p_embed", dropout_p_embed, "[0, 1)");
  if (!(dropout_p_hidden >= 0.0 && dropout_p_hidden < 1.0)) return bad("dropout_p_hidden", dropout_p_hidden, "[0, 1)");
  if (!(dropout >= 0.0 && dropout < 1.0)) return bad("dropout", dropout, "[0, 1)");
  if (loss != "bpr-max" && loss != "cross-entropy") return bad("loss", loss, "bpr-max or cross-entropy");
  const bool session = architecture == NeuralArchitecture::kRnn || architecture == NeuralArchitecture::kGru4Rec;
  if (session) {
    if (layers == 0 || layers > 4096) return bad("layers", layers, "1..4096");
    if (embedding > 4096) return bad("embedding", embedding, "0..4096");
    if (optimizer != "adagrad") return bad("optimizer", optimizer, "session models train with adagrad");
    if (repeat != "none") return bad("repeat", repeat, "session models have no repeat term: none");
  } else {
    if (dim == 0 || dim > 1024) return bad("dim", dim, "1..1024");
    if (heads == 0 || dim % heads != 0) return bad("heads", heads, "a divisor of dim");
    if (blocks == 0 || blocks > 16) return bad("blocks", blocks, "1..16");
    if (max_length < 2 || max_length > 1024) return bad("max_length", max_length, "2..1024");
    if (branches != "both" && branches != "transformer" && branches != "gru") {
      return bad("branches", branches, "both, transformer or gru");
    }
    if (fusion != "residual" && fusion != "plain") {
      return bad("fusion", fusion, "residual or plain");
    }
    if (repeat != "none" && repeat != "recency") return bad("repeat", repeat, "none or recency");
    if (architecture == NeuralArchitecture::kTransGru && branches != "both" && (2 * dim) % heads != 0) {
      return bad("heads", heads, "a divisor of 2 * dim");
    }
  }
  return core::Status::Ok();
}

std::string NeuralOptions::ToJson() const {
  std::string json = fmt::format(
      R"({{"architecture":"{}","seed":{},"n_epochs":{},"batch_size":{},"learning_rate":{},"momentum":{},)"
      R"("optimizer":"{}","lr_decay":{},"clip_norm":{},"patience":{},"valid_queries":{},)",
      NeuralArchitectureName(architecture), seed, n_epochs, batch_size, learning_rate, momentum, optimizer,
      lr_decay, clip_norm, patience, valid_queries);
  if (architecture == NeuralArchitecture::kRnn || architecture == NeuralArchitecture::kGru4Rec) {
    json += fmt::format(
        R"("layers":{},"loss":"{}","n_sample":{},"sample_alpha":{},"bpreg":{},"elu_param":{},"logq":{},)"
        R"("dropout_p_embed":{},"dropout_p_hidden":{},"constrained_embedding":{},"embedding":{}}})",
        layers, loss, n_sample, sample_alpha, bpreg, elu_param, logq, dropout_p_embed, dropout_p_hidden,
        constrained_embedding, embedding);
  } else {
    json += fmt::format(
        R"("dim":{},"blocks":{},"heads":{},"max_length":{},"dropout":{},"branches":"{}","fusion":"{}","repeat":"{}",)"
        R"("loss":"{}","n_sample":{},"sample_alpha":{},"bpreg":{},"elu_param":{},"constrained_embedding":{}}})",
        dim, blocks, heads, max_length, dropout, branches, fusion, repeat, loss, n_sample, sample_alpha, bpreg, elu_param,
        constrained_embedding);
  }
  return json;
}

}  // namespace melodai::rec
