// MelodAI — licensed under the Apache License 2.0.
// Experiment runner.
#include "rec/experiment.h"

#include <fmt/format.h>

#include "core/clock.h"

namespace melodai::rec {
namespace {

bool ResolveExclusion(HistoryExclusion mode, data::Protocol protocol) {
  switch (mode) {
    case HistoryExclusion::kYes: return true;
    case HistoryExclusion::kNo: return false;
    case HistoryExclusion::kAuto: break;
  }
  return protocol == data::Protocol::kContinuation;
}

void Log(const ExperimentOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

core::Result<ModelReport> FitAndEvaluate(const std::string& name, const data::Dataset& dataset,
                                         const data::ProtocolSplit& split, const data::QuerySet& queries,
                                         const ExperimentOptions& options, const EvalOptions& eval,
                                         core::ThreadPool& pool) {
  MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<Recommender> model, MakeRecommender(name, options.config));
  ModelReport report;
  report.model = std::string(model->name());
  report.parameters_json = model->DescribeParameters();
  model->SetValidation(&split.valid, eval.exclude_history);
  Log(options, fmt::format("[{}] fitting on {} sequences, {} events: {}", name, split.train.size(),
                           split.train.event_count(), report.parameters_json));
  if (options.before_fit) options.before_fit(*model);
  core::Stopwatch watch;
  MELODAI_RETURN_IF_ERROR(model->Fit(dataset.catalog, split.train, pool).WithContext(name));
  report.fit_seconds = watch.ElapsedSeconds();
  if (options.after_fit) MELODAI_RETURN_IF_ERROR(options.after_fit(*model).WithContext(name));
  Log(options, fmt::format("[{}] fitted in {:.2f} s; evaluating {} queries over {} items", name,
                           report.fit_seconds, queries.queries.size(), dataset.catalog.size()));
  MELODAI_ASSIGN_OR_RETURN(report.result, Evaluate(*model, dataset.catalog, split.train, queries, eval, pool));
  Log(options, fmt::format("[{}] evaluated in {:.2f} s ({:.0f} queries/s)", name, report.result.seconds,
                           report.result.queries_per_second));
  return report;
}

}  // namespace

core::Result<ExperimentReport> RunExperiment(const data::Dataset& dataset,
                                             const ExperimentOptions& options,
                                             core::ThreadPool& pool) {
  if (options.models.empty()) return core::InvalidArgumentError("no model requested");
  ExperimentReport report;
  report.data_source = dataset.source;
  report.data_description = dataset.description;
  report.catalog_items = dataset.catalog.size();
  report.sequences = dataset.sequences.size();
  report.events = dataset.sequences.event_count();
  report.protocol = std::string(data::ProtocolName(options.protocol.protocol));
  report.seed = options.protocol.seed;
  report.threads = pool.thread_count();

  Log(options, fmt::format("splitting {} sequences ({} protocol, seed {})", dataset.sequences.size(),
                           report.protocol, options.protocol.seed));
  MELODAI_ASSIGN_OR_RETURN(data::ProtocolSplit split, data::MakeProtocolSplit(dataset.sequences, options.protocol));
  const data::QuerySet& queries = options.evaluate_on_valid ? split.valid : split.test;
  if (queries.queries.empty()) return core::FailedPreconditionError("the evaluation split has no queries");
  report.preprocess = split.preprocess;
  report.train_sequences = split.train.size();
  report.train_events = split.train.event_count();
  report.train_items = split.train_items;
  report.eval_sequences = queries.sequences.size();
  report.eval_queries = queries.queries.size();

  EvalOptions eval = options.eval;
  eval.exclude_history = ResolveExclusion(options.exclude_history, options.protocol.protocol);
  report.history_excluded = eval.exclude_history;
  for (const std::string& name : options.models) {
    MELODAI_ASSIGN_OR_RETURN(ModelReport model_report,
                             FitAndEvaluate(name, dataset, split, queries, options, eval, pool));
    report.models.push_back(std::move(model_report));
  }
  return report;
}

std::string FormatExperimentTable(const ExperimentReport& report) {
  if (report.models.empty()) return "";
  // Columns: every metric of the first model, in map order, with a fixed preferred order first.
  std::vector<std::string> columns;
  const auto& first = report.models.front().result.metrics;
  for (const char* prefix : {"ndcg@", "map@", "mrr", "recall@", "precision@", "r_precision", "rmse",
                             "coverage@", "diversity@", "novelty@", "artist_gini@"}) {
    for (const auto& [name, value] : first) {
      if (name.rfind(prefix, 0) == 0 &&
          std::find(columns.begin(), columns.end(), name) == columns.end()) {
        columns.push_back(name);
      }
    }
  }
  std::string out = fmt::format("{:<10}", "model");
  for (const auto& column : columns) out += fmt::format(" {:>12}", column);
  out += fmt::format(" {:>9} {:>9}\n", "fit_s", "eval_s");
  for (const ModelReport& model : report.models) {
    out += fmt::format("{:<10}", model.model);
    for (const auto& column : columns) {
      auto found = model.result.metrics.find(column);
      out += found == model.result.metrics.end() ? fmt::format(" {:>12}", "n/a")
                                                 : fmt::format(" {:>12.4f}", found->second);
    }
    out += fmt::format(" {:>9.2f} {:>9.2f}\n", model.fit_seconds, model.result.seconds);
  }
  return out;
}

}  // namespace melodai::rec
