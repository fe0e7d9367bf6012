// MelodAI — licensed under the Apache License 2.0.
// One evaluation experiment: split a dataset by a protocol, fit each requested model on the
// training part and evaluate it on the test (or validation) queries under the same protocol.
// Used by `melodai eval`, `melodai demo` and the benchmark tables.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/dataset.h"
#include "data/splits.h"
#include "rec/evaluator.h"
#include "rec/model_factory.h"

namespace melodai::rec {

enum class HistoryExclusion : uint8_t { kAuto, kYes, kNo };

struct ExperimentOptions {
  data::ProtocolOptions protocol;
  EvalOptions eval;
  // kAuto: exclude history for continuation (RecSys Challenge rule), keep it for next-item and
  // leave-last-out (GRU4Rec reference protocol, where a track may legitimately come back).
  HistoryExclusion exclude_history = HistoryExclusion::kAuto;
  std::vector<std::string> models;
  ModelConfig config;
  bool evaluate_on_valid = false;
  // Progress lines (stage text) for long work; may be empty.
  std::function<void(const std::string&)> log;
  // Called with each model just before Fit (e.g. to attach a training progress line) and just
  // after it (e.g. to save it); either may be empty. An error from after_fit ends the run.
  std::function<void(Recommender&)> before_fit;
  std::function<core::Status(Recommender&)> after_fit;
};

struct ModelReport {
  std::string model;
  std::string parameters_json;
  double fit_seconds = 0.0;
  EvalResult result;
};

struct ExperimentReport {
  std::string data_source;
  std::string data_description;
  size_t catalog_items = 0;
  size_t sequences = 0;
  size_t events = 0;
  data::PreprocessReport preprocess;
  size_t train_sequences = 0;
  size_t train_events = 0;
  size_t train_items = 0;
  size_t eval_sequences = 0;
  size_t eval_queries = 0;
  bool history_excluded = true;
  std::string protocol;
  uint64_t seed = 0;
  size_t threads = 1;
  std::vector<ModelReport> models;
};

// Runs the experiment. Errors: kInvalidArgument for unknown models or parameters, any split or
// fit error, each prefixed with the model name.
core::Result<ExperimentReport> RunExperiment(const data::Dataset& dataset,
                                             const ExperimentOptions& options,
                                             core::ThreadPool& pool);

// A fixed-width text table: one row per model, the headline metrics as columns.
std::string FormatExperimentTable(const ExperimentReport& report);

}  // namespace melodai::rec
