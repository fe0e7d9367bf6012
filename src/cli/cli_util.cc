// MelodAI — licensed under the Apache License 2.0.
// Shared CLI helpers.
#include "cli/cli_util.h"

#include "cli/commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "core/clock.h"
#include "core/file_util.h"
#include "core/logging.h"

namespace melodai::cli {

int ReportError(const core::Status& status) {
  std::fprintf(stderr, "melodai: error: %s\n", status.ToString().c_str());
  return status.code() == core::StatusCode::kInvalidArgument ? kExitUsage : kExitFailure;
}

size_t ResolveThreads(size_t requested) {
  if (requested == 0) requested = std::max(1u, std::thread::hardware_concurrency());
  return std::min<size_t>(requested, 256);
}

ProgressLine::ProgressLine(std::string label)
    : label_(std::move(label)),
      terminal_(::isatty(STDERR_FILENO) != 0),
      start_nanos_(core::SystemClock::Instance().NowNanos()) {}

void ProgressLine::Update(size_t done, size_t total) {
  const int64_t now = core::SystemClock::Instance().NowNanos();
  const int percent = total == 0 ? 100 : static_cast<int>(100 * done / total);
  // On a terminal: redraw at most 5 times a second. In a log: one line per 10%.
  if (terminal_ ? now - last_print_nanos_ < 200'000'000 && done < total
                : percent / 10 == last_percent_ / 10) {
    return;
  }
  last_print_nanos_ = now;
  last_percent_ = percent;
  const double elapsed = static_cast<double>(now - start_nanos_) * 1e-9;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
  std::fprintf(stderr, "%s%s %3d%% %zu/%zu  %.0f/s  elapsed %.1fs  ETA %.1fs%s",
               terminal_ ? "\r" : "", label_.c_str(), percent, done, total, rate, elapsed, eta,
               terminal_ ? "   " : "\n");
  std::fflush(stderr);
}

void ProgressLine::Finish() {
  if (terminal_ && last_percent_ >= 0) std::fprintf(stderr, "\n");
}

CLI::App* BenchCommand(CLI::App& app) {
  for (CLI::App* command : app.get_subcommands([](CLI::App* c) { return c->get_name() == "bench"; })) {
    return command;
  }
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  return bench;
}

core::Result<std::pair<std::string, std::string>> ParseParameter(const std::string& param) {
  const size_t equals = param.find('=');
  if (equals == std::string::npos || equals == 0) {
    return core::InvalidArgumentError("--param wants key=value, got '" + param + "'");
  }
  return std::make_pair(param.substr(0, equals), param.substr(equals + 1));
}

std::function<void(size_t, size_t)> EvaluationProgress() {
  auto progress = std::make_shared<std::unique_ptr<ProgressLine>>();
  return [progress](size_t done, size_t total) {
    if (!*progress) *progress = std::make_unique<ProgressLine>("  evaluating");
    (*progress)->Update(done, total);
    if (done == total) {
      (*progress)->Finish();
      progress->reset();
    }
  };
}

nlohmann::json ExperimentToJson(const rec::ExperimentReport& report) {
  nlohmann::json json;
  json["data"] = {{"source", report.data_source},
                  {"path", report.data_description},
                  {"catalog_items", report.catalog_items},
                  {"sequences", report.sequences},
                  {"events", report.events}};
  json["protocol"] = {{"name", report.protocol},
                      {"seed", report.seed},
                      {"history_excluded", report.history_excluded},
                      {"sequences_after_preprocessing", report.preprocess.sequences_out},
                      {"events_after_preprocessing", report.preprocess.events_out},
                      {"items_after_preprocessing", report.preprocess.items_out},
                      {"train_sequences", report.train_sequences},
                      {"train_events", report.train_events},
                      {"train_items", report.train_items},
                      {"eval_sequences", report.eval_sequences},
                      {"eval_queries", report.eval_queries}};
  json["threads"] = report.threads;
  json["models"] = nlohmann::json::array();
  for (const auto& model : report.models) {
    nlohmann::json entry;
    entry["model"] = model.model;
    entry["parameters"] = nlohmann::json::parse(model.parameters_json, nullptr, false);
    entry["fit_seconds"] = model.fit_seconds;
    entry["eval_seconds"] = model.result.seconds;
    entry["queries"] = model.result.query_count;
    entry["targets"] = model.result.target_count;
    entry["queries_per_second"] = model.result.queries_per_second;
    entry["metrics"] = model.result.metrics;
    json["models"].push_back(std::move(entry));
  }
  return json;
}

core::Result<data::Dataset> LoadWithLog(const std::filesystem::path& path, std::string_view format,
                                        bool use_cache, core::ThreadPool& pool) {
  data::LoadOptions options;
  MELODAI_ASSIGN_OR_RETURN(options.format, data::ParseDataFormat(format));
  options.use_cache = use_cache;
  options.pool = &pool;
  data::LoadInfo info;
  MELODAI_LOG_INFO("loading {}", path.string());
  auto dataset = data::LoadDataset(path, options, &info);
  if (!dataset.ok()) return dataset;
  if (!info.cache_note.empty()) MELODAI_LOG_WARN("{}", info.cache_note);
  MELODAI_LOG_INFO("loaded {} ({}) in {:.3f} s{}: {} items, {} sequences, {} events", path.string(),
                   data::DataFormatName(info.format), info.seconds,
                   info.from_cache ? " from cache " + info.cache_file.string() : "",
                   dataset->catalog.size(), dataset->sequences.size(),
                   dataset->sequences.event_count());
  return dataset;
}

core::Status WriteJson(const std::filesystem::path& path, const nlohmann::json& json) {
  return core::WriteFileAtomic(path, json.dump(2) + "\n");
}

}  // namespace melodai::cli
