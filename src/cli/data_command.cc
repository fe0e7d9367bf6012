// MelodAI — licensed under the Apache License 2.0.
// `melodai data stats` (dataset statistics), `melodai data generate` (synthetic music world in
// the MPD slice format) and `melodai data split` (a protocol split as session TSV files).
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/file_util.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "data/dataset_stats.h"
#include "data/split_export.h"
#include "data/synthetic.h"

namespace melodai::cli {
namespace {

struct StatsOptions {
  std::string data;
  std::string format = "auto";
  std::string json_out;
  bool no_cache = false;
  size_t threads = 0;
};

int RunStats(const StatsOptions& options) {
  core::ThreadPool pool(ResolveThreads(options.threads));
  auto dataset = LoadWithLog(options.data, options.format, !options.no_cache, pool);
  if (!dataset.ok()) return ReportError(dataset.status());
  const data::DatasetStats stats = data::ComputeStats(*dataset);
  std::printf("%s", data::FormatStatsTable(stats).c_str());
  if (!options.json_out.empty()) {
    core::Status written = core::WriteFileAtomic(options.json_out, data::StatsToJson(stats) + "\n");
    if (!written.ok()) return ReportError(written);
  }
  return kExitOk;
}

int RunGenerate(const std::string& out, const data::SyntheticOptions& options) {
  MELODAI_LOG_INFO("generating a synthetic music world (seed {}) into {}", options.seed, out);
  auto summary = data::GenerateSyntheticMpd(options, out);
  if (!summary.ok()) return ReportError(summary.status());
  std::printf("wrote %s: %s\n", out.c_str(), data::FormatSyntheticSummary(*summary).c_str());
  return kExitOk;
}

struct SplitOptions {
  std::string data;
  std::string format = "auto";
  std::string out;
  bool no_cache = false;
  EvalFlags flags;
};

// Writes train.tsv, valid.tsv and test.tsv: the sequences of the protocol split (valid and test
// whole, as the queries see them), for reference implementations to train and evaluate on.
core::Status WriteSplit(const SplitOptions& options) {
  MELODAI_ASSIGN_OR_RETURN(rec::ExperimentOptions experiment, BuildExperimentOptions(options.flags, {"pop"}));
  MELODAI_RETURN_IF_ERROR(data::ValidateProtocolOptions(experiment.protocol));
  core::ThreadPool pool(ResolveThreads(options.flags.threads));
  MELODAI_ASSIGN_OR_RETURN(data::Dataset dataset, LoadWithLog(options.data, options.format, !options.no_cache, pool));
  MELODAI_ASSIGN_OR_RETURN(data::ProtocolSplit split, data::MakeProtocolSplit(dataset.sequences, experiment.protocol));
  std::error_code error;
  std::filesystem::create_directories(options.out, error);
  if (error) return core::IoError(fmt::format("cannot create {}: {}", options.out, error.message()));
  const std::pair<const char*, const data::Interactions*> parts[] = {
      {"train.tsv", &split.train}, {"valid.tsv", &split.valid.sequences}, {"test.tsv", &split.test.sequences}};
  for (const auto& [name, sequences] : parts) {
    MELODAI_ASSIGN_OR_RETURN(std::string tsv, data::SessionTsv(dataset.catalog, *sequences));
    const std::filesystem::path path = std::filesystem::path(options.out) / name;
    MELODAI_RETURN_IF_ERROR(core::WriteFileAtomic(path, tsv));
    std::printf("wrote %s: %zu sequences, %zu events\n", path.c_str(), sequences->size(), sequences->event_count());
  }
  std::printf("protocol %s, seed %llu, %zu training items, %zu test queries\n",
              std::string(data::ProtocolName(experiment.protocol.protocol)).c_str(),
              static_cast<unsigned long long>(experiment.protocol.seed), split.train_items, split.test.queries.size());
  return core::Status::Ok();
}

}  // namespace

void RegisterDataCommand(CLI::App& app, int& exit_code) {
  CLI::App* data_command = app.add_subcommand("data", "Inspect and generate datasets");
  data_command->require_subcommand(1);

  auto stats = std::make_shared<StatsOptions>();
  CLI::App* stats_command = data_command->add_subcommand("stats", "Print dataset statistics");
  stats_command->add_option("--data", stats->data, "dataset folder or file")->required();
  stats_command->add_option("--format", stats->format, "auto | mpd | lastfm | csv | arff")->capture_default_str();
  stats_command->add_option("--json", stats->json_out, "also write the statistics as JSON");
  stats_command->add_flag("--no-cache", stats->no_cache, "do not read or write the dataset cache");
  stats_command->add_option("--threads", stats->threads, "parser threads (0 = all cores)");
  stats_command->callback([stats, &exit_code] { exit_code = RunStats(*stats); });

  auto out = std::make_shared<std::string>();
  auto generator = std::make_shared<data::SyntheticOptions>();
  CLI::App* generate = data_command->add_subcommand("generate", "Write a synthetic world as MPD slices");
  generate->add_option("--out", *out, "output folder")->required();
  generate->add_option("--seed", generator->seed, "random seed")->capture_default_str();
  generate->add_option("--playlists", generator->playlist_count, "number of playlists")->capture_default_str();
  generate->add_option("--tracks", generator->track_count, "number of tracks")->capture_default_str();
  generate->add_option("--artists", generator->artist_count, "number of artists")->capture_default_str();
  generate->add_option("--genres", generator->genre_count, "number of genres")->capture_default_str();
  generate->callback([out, generator, &exit_code] { exit_code = RunGenerate(*out, *generator); });

  auto split = std::make_shared<SplitOptions>();
  split->flags.protocol = "next-item";
  CLI::App* split_command = data_command->add_subcommand(
      "split", "Write a protocol split as session TSV files (SessionId, ItemId = URI, Time = position) for "
               "reference implementations");
  split_command->add_option("--data", split->data, "dataset folder or file")->required();
  split_command->add_option("--format", split->format, "auto | mpd | lastfm | csv | arff")->capture_default_str();
  split_command->add_option("--out", split->out, "output folder (train.tsv, valid.tsv, test.tsv)")->required();
  split_command->add_flag("--no-cache", split->no_cache, "do not read or write the dataset cache");
  AddEvalFlags(*split_command, split->flags);
  split_command->callback([split, &exit_code] {
    const core::Status status = WriteSplit(*split);
    exit_code = status.ok() ? kExitOk : ReportError(status);
  });
}

}  // namespace melodai::cli
