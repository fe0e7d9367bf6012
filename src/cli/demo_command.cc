// MelodAI — licensed under the Apache License 2.0.
// `melodai demo`: the main job on the embedded default data. Builds a synthetic music world (or
// reads --data), prints its statistics, then fits and evaluates every recommender under one
// protocol and writes the report.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "data/dataset_stats.h"
#include "data/synthetic.h"

namespace melodai::cli {
namespace {

struct DemoOptions {
  std::string data;
  std::string out = "melodai-demo";
  data::SyntheticOptions world;
  EvalFlags flags;
  std::vector<std::string> models = {"all"};
};

core::Result<std::filesystem::path> PrepareWorld(const DemoOptions& options) {
  if (!options.data.empty()) return std::filesystem::path(options.data);
  const std::filesystem::path world = std::filesystem::path(options.out) / "world";
  MELODAI_LOG_INFO("step 1/3: generating the embedded synthetic music world (seed {}): {} playlists, "
                   "{} tracks, {} artists",
                   options.world.seed, options.world.playlist_count, options.world.track_count,
                   options.world.artist_count);
  MELODAI_ASSIGN_OR_RETURN(auto summary, data::GenerateSyntheticMpd(options.world, world));
  MELODAI_LOG_INFO("wrote {}: {}", world.string(), data::FormatSyntheticSummary(summary));
  return world;
}

int RunDemo(DemoOptions options) {
  core::ThreadPool pool(ResolveThreads(options.flags.threads));
  auto world = PrepareWorld(options);
  if (!world.ok()) return ReportError(world.status());
  MELODAI_LOG_INFO("step 2/3: loading {}", world->string());
  // The generated world is rewritten on every run, so caching it would only cost time.
  auto dataset = LoadWithLog(*world, "auto", !options.data.empty(), pool);
  if (!dataset.ok()) return ReportError(dataset.status());
  std::printf("== dataset: %s\n%s\n", world->string().c_str(),
              data::FormatStatsTable(data::ComputeStats(*dataset)).c_str());

  auto experiment = BuildExperimentOptions(options.flags, options.models);
  if (!experiment.ok()) return ReportError(experiment.status());
  experiment->config.threads = pool.thread_count();
  experiment->log = [](const std::string& line) { MELODAI_LOG_INFO("{}", line); };
  MELODAI_LOG_INFO("step 3/3: fitting and evaluating {} recommenders ({} protocol)", experiment->models.size(),
                   options.flags.protocol);
  auto report = rec::RunExperiment(*dataset, *experiment, pool);
  if (!report.ok()) return ReportError(report.status());
  std::printf("== %s protocol: %zu test queries over %zu items (history %s), seed %llu\n%s",
              report->protocol.c_str(), report->eval_queries, report->catalog_items,
              report->history_excluded ? "excluded" : "kept",
              static_cast<unsigned long long>(report->seed), rec::FormatExperimentTable(*report).c_str());
  const std::filesystem::path json_path = std::filesystem::path(options.out) / "report.json";
  nlohmann::json json = ExperimentToJson(*report);
  json["command"] = "demo";
  if (core::Status written = WriteJson(json_path, json); !written.ok()) return ReportError(written);
  std::printf("report: %s\n", json_path.string().c_str());
  return kExitOk;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* command = app.add_subcommand(
      "demo", "Main job: build a music world (synthetic by default), fit and evaluate every recommender");
  command->add_option("--data", options->data, "use this dataset instead of the synthetic world");
  command->add_option("--out", options->out, "output folder for the world and the report")->capture_default_str();
  command->add_option("--world-seed", options->world.seed, "seed of the synthetic world")->capture_default_str();
  command->add_option("--playlists", options->world.playlist_count, "synthetic playlists")->capture_default_str();
  command->add_option("--tracks", options->world.track_count, "synthetic tracks")->capture_default_str();
  command->add_option("--artists", options->world.artist_count, "synthetic artists")->capture_default_str();
  command->add_option("--model", options->models, "models to run (default: all)");
  AddEvalFlags(*command, options->flags);
  command->callback([options, &exit_code] { exit_code = RunDemo(*options); });
}

}  // namespace melodai::cli
