// MelodAI — licensed under the Apache License 2.0.
// Builds a recommender from its short name and textual parameter overrides, so that the
// command line and configuration files can choose models without knowing their classes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "rec/neural.h"
#include "rec/recommender.h"

namespace melodai::rec {

struct ModelConfig {
  // Seed of every random choice a model makes (ALS initialisation, BPR sampling and fold-in).
  uint64_t seed = 42;
  // The size of the pool the caller will hand to Fit (0 = unknown). A hint only: no model may
  // let its results depend on it (ALS and ItemKNN give identical results for any pool size;
  // BPR trains on one thread), so it never changes what a model learns.
  size_t threads = 0;
  // Parameter name -> value text, e.g. {"factors", "128"}; see RecommenderParameterNames.
  std::map<std::string, std::string> overrides;
};

// The valid model names, in presentation order: "pop", "itemknn", "userknn", "als", "bpr".
std::vector<std::string> RecommenderNames();

// The neural models (LibTorch): "rnn", "gru4rec", "sasrec", "transgru". Not part of "all".
std::vector<std::string> NeuralRecommenderNames();

// The options of the neural model `name` (its defaults, then config.seed and the overrides),
// for callers that need the NeuralRecommender interface (training with checkpoints).
// Same errors as MakeRecommender.
core::Result<NeuralOptions> MakeNeuralOptions(std::string_view name, const ModelConfig& config);

// The parameter names `name` accepts in ModelConfig::overrides, sorted.
// kInvalidArgument for an unknown model name (listing the valid names).
core::Result<std::vector<std::string>> RecommenderParameterNames(std::string_view name);

// Creates the (unfitted) model `name` with its defaults, then the overrides applied.
// kInvalidArgument for an unknown name (the message lists the valid names), an unknown
// parameter (the message lists the valid ones), a value that does not parse or is out of
// range (the message names the parameter), or threads above 4096.
// The returned model owns nothing external; call Fit before Score.
core::Result<std::unique_ptr<Recommender>> MakeRecommender(std::string_view name,
                                                           const ModelConfig& config);

}  // namespace melodai::rec
