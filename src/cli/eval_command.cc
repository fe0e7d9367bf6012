// MelodAI — licensed under the Apache License 2.0.
// `melodai eval`: fit classical recommenders on a protocol split and report full-ranking
// metrics as a table (stdout) and JSON (--json).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "rec/content.h"
#include "rec/experiment.h"

namespace melodai::cli {
namespace {

struct EvalCommandOptions {
  std::string data;
  std::string format = "auto";
  std::vector<std::string> models = {"pop"};
  std::string json_out;
  bool no_cache = false;
  EvalFlags flags;
};

}  // namespace

core::Result<rec::ExperimentOptions> BuildExperimentOptions(const EvalFlags& flags,
                                                            const std::vector<std::string>& models) {
  rec::ExperimentOptions options;
  MELODAI_ASSIGN_OR_RETURN(options.protocol.protocol, data::ParseProtocol(flags.protocol));
  if (flags.hide != "last" && flags.hide != "random") {
    return core::InvalidArgumentError("--hide must be last or random, got '" + flags.hide + "'");
  }
  options.protocol.hide_mode = flags.hide == "last" ? data::HideMode::kLast : data::HideMode::kRandom;
  options.protocol.hide_fraction = flags.hide_fraction;
  options.protocol.hide_count = flags.hide_count;
  options.protocol.test_fraction = flags.test_fraction;
  options.protocol.valid_fraction = flags.valid_fraction;
  options.protocol.seed = flags.seed;
  options.protocol.preprocess.collapse_repeats = !flags.no_collapse;
  options.protocol.preprocess.min_item_support = flags.min_item_support;
  options.protocol.preprocess.min_sequence_length = flags.min_length;
  options.protocol.drop_items_unseen_in_train = !flags.keep_unseen;
  if (flags.exclude_history == "auto") {
    options.exclude_history = rec::HistoryExclusion::kAuto;
  } else if (flags.exclude_history == "yes") {
    options.exclude_history = rec::HistoryExclusion::kYes;
  } else if (flags.exclude_history == "no") {
    options.exclude_history = rec::HistoryExclusion::kNo;
  } else {
    return core::InvalidArgumentError("--exclude-history must be auto, yes or no");
  }
  if (flags.k == 0 || flags.k > 1000 || flags.k_large == 0 || flags.k_large > 1000) {
    return core::InvalidArgumentError("--k and --k-large must lie in [1, 1000]");
  }
  options.eval.k = flags.k;
  options.eval.k_large = flags.k_large;
  options.eval.max_queries = flags.max_queries;
  options.evaluate_on_valid = flags.on_valid;
  options.config.seed = flags.seed;
  for (const std::string& param : flags.params) {
    MELODAI_ASSIGN_OR_RETURN(auto key_value, ParseParameter(param));
    options.config.overrides[key_value.first] = key_value.second;
  }
  for (const std::string& model : models) {
    if (model == "all") {
      for (const std::string& name : rec::RecommenderNames()) options.models.push_back(name);
    } else {
      options.models.push_back(model);
    }
  }
  // Fail before loading any data: every model name and parameter, and the protocol options.
  MELODAI_RETURN_IF_ERROR(data::ValidateProtocolOptions(options.protocol));
  for (const std::string& model : options.models) {
    MELODAI_RETURN_IF_ERROR(rec::MakeRecommender(model, options.config).status());
  }
  return options;
}

namespace {

// Prints the data, protocol and metrics table of `report`, writes --json; the exit code.
int PrintReport(const EvalCommandOptions& command, const rec::ExperimentReport& report);
int RunContentEval(const EvalCommandOptions& command);

int RunEval(const EvalCommandOptions& command) {
  if (command.flags.protocol == "content") return RunContentEval(command);
  auto options = BuildExperimentOptions(command.flags, command.models);
  if (!options.ok()) return ReportError(options.status());
  core::ThreadPool pool(ResolveThreads(command.flags.threads));
  options->config.threads = pool.thread_count();
  MELODAI_LOG_INFO("seed {} threads {}", command.flags.seed, pool.thread_count());

  auto dataset = LoadWithLog(command.data, command.format, !command.no_cache, pool);
  if (!dataset.ok()) return ReportError(dataset.status());

  options->log = [](const std::string& line) { MELODAI_LOG_INFO("{}", line); };
  options->eval.progress = EvaluationProgress();
  auto report = rec::RunExperiment(*dataset, *options, pool);
  if (!report.ok()) return ReportError(report.status());
  return PrintReport(command, *report);
}

int PrintReport(const EvalCommandOptions& command, const rec::ExperimentReport& report) {
  std::printf("data: %s (%zu items, %zu sequences, %zu events)\n", command.data.c_str(),
              report.catalog_items, report.sequences, report.events);
  std::printf("protocol: %s, seed %llu, train %zu sequences / %zu items, %s %zu queries, history %s\n",
              report.protocol.c_str(), static_cast<unsigned long long>(report.seed),
              report.train_sequences, report.train_items, command.flags.on_valid ? "valid" : "test",
              report.eval_queries, report.history_excluded ? "excluded" : "kept");
  std::printf("%s", rec::FormatExperimentTable(report).c_str());
  if (!command.json_out.empty()) {
    nlohmann::json json = ExperimentToJson(report);
    json["command"] = "eval";
    core::Status written = WriteJson(command.json_out, json);
    if (!written.ok()) return ReportError(written);
    MELODAI_LOG_INFO("wrote {}", command.json_out);
  }
  return kExitOk;
}

// `--protocol content`: the cold-start tag protocol of rec/content.h on tagged song sets
// (CAL500, emotions). Uses --seed, --k, --k-large, --max-queries, --on-valid, --threads and
// --param (rec::SetContentParameter keys); "all" means the protocol's four models.
core::Result<rec::ContentOptions> BuildContentOptions(const EvalCommandOptions& command,
                                                      std::vector<std::string>& models) {
  const EvalFlags& flags = command.flags;
  rec::ContentOptions options;
  options.seed = flags.seed;
  if (flags.k == 0 || flags.k > 1000 || flags.k_large == 0 || flags.k_large > 1000) {
    return core::InvalidArgumentError("--k and --k-large must lie in [1, 1000]");
  }
  options.eval.k = flags.k;
  options.eval.k_large = flags.k_large;
  options.eval.max_queries = flags.max_queries;
  options.evaluate_on_valid = flags.on_valid;
  for (const std::string& param : flags.params) {
    MELODAI_ASSIGN_OR_RETURN(auto key_value, ParseParameter(param));
    MELODAI_RETURN_IF_ERROR(rec::SetContentParameter(options, key_value.first, key_value.second));
  }
  MELODAI_RETURN_IF_ERROR(rec::ValidateContentOptions(options));
  const std::vector<std::string> known = rec::ContentModelNames();
  for (const std::string& model : command.models) {
    if (model == "all") {
      models.insert(models.end(), known.begin(), known.end());
    } else if (std::find(known.begin(), known.end(), model) != known.end()) {
      models.push_back(model);
    } else {
      return core::InvalidArgumentError("--model " + model +
                                        " is not a content-protocol model (pop | itemknn | featknn | content | all)");
    }
  }
  return options;
}

int RunContentEval(const EvalCommandOptions& command) {
  std::vector<std::string> models;
  auto options = BuildContentOptions(command, models);
  if (!options.ok()) return ReportError(options.status());
  core::ThreadPool pool(ResolveThreads(command.flags.threads));
  MELODAI_LOG_INFO("seed {} threads {}", command.flags.seed, pool.thread_count());
  auto dataset = LoadWithLog(command.data, command.format, !command.no_cache, pool);
  if (!dataset.ok()) return ReportError(dataset.status());
  options->log = [](const std::string& line) { MELODAI_LOG_INFO("{}", line); };
  auto report = rec::RunContentExperiment(*dataset, *options, models, pool);
  if (!report.ok()) return ReportError(report.status());
  return PrintReport(command, *report);
}

}  // namespace

void AddEvalFlags(CLI::App& command, EvalFlags& flags) {
  command.add_option("--protocol", flags.protocol, "next-item | continuation | leave-last-out | content")
      ->capture_default_str();
  command.add_option("--hide", flags.hide, "continuation: hide the last or a random k tracks")
      ->capture_default_str();
  command.add_option("--hide-fraction", flags.hide_fraction, "continuation: k = max(1, round(f * length))")
      ->capture_default_str();
  command.add_option("--hide-count", flags.hide_count, "continuation: fixed k (overrides --hide-fraction)");
  command.add_option("--test-fraction", flags.test_fraction, "share of sequences for test")->capture_default_str();
  command.add_option("--valid-fraction", flags.valid_fraction, "share of sequences for validation")
      ->capture_default_str();
  command.add_option("--min-item-support", flags.min_item_support, "drop items seen fewer times")
      ->capture_default_str();
  command.add_option("--min-length", flags.min_length, "drop shorter sequences")->capture_default_str();
  command.add_flag("--no-collapse", flags.no_collapse, "keep consecutive repeats");
  command.add_flag("--keep-unseen", flags.keep_unseen, "keep test items never seen in training");
  command.add_option("--exclude-history", flags.exclude_history,
                     "auto (continuation: yes, next-item: no) | yes | no")
      ->capture_default_str();
  command.add_option("--k", flags.k, "cut-off of the headline metrics")->capture_default_str();
  command.add_option("--k-large", flags.k_large, "second cut-off for Recall and MRR")->capture_default_str();
  command.add_option("--max-queries", flags.max_queries, "evaluate only the first N queries (0 = all)");
  command.add_flag("--on-valid", flags.on_valid, "evaluate on the validation split instead of test");
  command.add_option("--seed", flags.seed, "seed of the split and of every model")->capture_default_str();
  command.add_option("--threads", flags.threads, "worker threads (0 = all cores)")->capture_default_str();
  command.add_option("--param", flags.params, "model hyperparameter key=value (repeatable), e.g. factors=128");
}

void RegisterEvalCommand(CLI::App& app, int& exit_code) {
  auto command_options = std::make_shared<EvalCommandOptions>();
  CLI::App* command = app.add_subcommand("eval", "Evaluate recommenders with full-catalogue ranking");
  command->add_option("--data", command_options->data, "dataset folder or file")->required();
  command->add_option("--format", command_options->format, "auto | mpd | lastfm | csv | arff")
      ->capture_default_str();
  command->add_option("--model", command_options->models, "pop | itemknn | userknn | als | bpr | all (repeatable); content protocol: pop | itemknn | featknn | content | all")
      ->capture_default_str();
  command->add_option("--json", command_options->json_out, "write the report as JSON to this file");
  command->add_flag("--no-cache", command_options->no_cache, "do not read or write the dataset cache");
  AddEvalFlags(*command, command_options->flags);
  command->callback([command_options, &exit_code] { exit_code = RunEval(*command_options); });
}

}  // namespace melodai::cli
