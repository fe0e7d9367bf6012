// MelodAI — licensed under the Apache License 2.0.
// Registration of the subcommands. Each Register* adds one subcommand to `app`; when it runs,
// its callback stores the process exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "core/status.h"
#include "rec/experiment.h"

namespace melodai::cli {

void RegisterDataCommand(CLI::App& app, int& exit_code);
void RegisterEvalCommand(CLI::App& app, int& exit_code);
void RegisterDemoCommand(CLI::App& app, int& exit_code);
void RegisterSecaggCommand(CLI::App& app, int& exit_code);
void RegisterNodeCommand(CLI::App& app, int& exit_code);
void RegisterTrainCommand(CLI::App& app, int& exit_code);  // train and recommend
void RegisterTable1Command(CLI::App& app, int& exit_code);  // bench table1
// `tx <type>` for the MelodAI application and `query`; after RegisterNodeCommand (which adds tx).
void RegisterAppCommands(CLI::App& app, int& exit_code);
void RegisterTokenomicsCommand(CLI::App& app, int& exit_code);
void RegisterFlCommand(CLI::App& app, int& exit_code);  // fl sim, fl accountant

// The `melodai bench` command, created on first use; each benchmark adds a subcommand to it.
CLI::App* BenchCommand(CLI::App& app);

// Appends the GRU4Rec-style "key=value,key=value" hyperparameters in `ps` to `params` as
// key=value overrides, translating the official names (final_act, adapt, ...).
core::Status TranslateGru4RecParameters(const std::string& ps, std::vector<std::string>& params);

// Adds the protocol and evaluation flags shared by `eval` and `demo` to `command`.
struct EvalFlags {
  std::string protocol = "continuation";
  std::string hide = "last";
  double hide_fraction = 0.1;
  uint32_t hide_count = 0;
  double test_fraction = 0.1;
  double valid_fraction = 0.1;
  uint32_t min_item_support = 5;
  uint32_t min_length = 2;
  bool no_collapse = false;
  bool keep_unseen = false;
  std::string exclude_history = "auto";
  size_t k = 10;
  size_t k_large = 20;
  size_t max_queries = 0;
  bool on_valid = false;
  uint64_t seed = 42;
  size_t threads = 0;
  std::vector<std::string> params;
};
void AddEvalFlags(CLI::App& command, EvalFlags& flags);

// Turns the shared flags and model names ("all" expands) into experiment options;
// kInvalidArgument names the bad flag.
core::Result<rec::ExperimentOptions> BuildExperimentOptions(const EvalFlags& flags,
                                                            const std::vector<std::string>& models);

}  // namespace melodai::cli
