// MelodAI — licensed under the Apache License 2.0.
// Helpers shared by the subcommands: exit codes, error printing, progress lines, thread counts,
// and JSON conversion of reports.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <utility>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/loader.h"
#include "rec/experiment.h"

namespace melodai::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "melodai: error: <status>" to stderr and returns kExitFailure (kExitUsage for
// kInvalidArgument).
int ReportError(const core::Status& status);

// 0 -> every hardware thread; capped at 256.
size_t ResolveThreads(size_t requested);

// Writes a single progress line on stderr ("\r" rewriting when stderr is a terminal).
class ProgressLine {
 public:
  explicit ProgressLine(std::string label);
  // done of total, with rate and ETA; rate-limited to ~5 updates a second.
  void Update(size_t done, size_t total);
  void Finish();

 private:
  std::string label_;
  bool terminal_;
  int64_t start_nanos_;
  int64_t last_print_nanos_ = 0;
  int last_percent_ = -1;
};

// Splits a `--param key=value` flag; kInvalidArgument naming the flag when it has no key or '='.
core::Result<std::pair<std::string, std::string>> ParseParameter(const std::string& param);

// An evaluation progress callback that draws one "evaluating" ProgressLine per evaluation.
std::function<void(size_t, size_t)> EvaluationProgress();

nlohmann::json ExperimentToJson(const rec::ExperimentReport& report);

// Loads a dataset in `format` ("auto", "mpd", ...; kInvalidArgument when unknown), through
// the cache unless use_cache is false, parsing on `pool`, and logs what happened.
core::Result<data::Dataset> LoadWithLog(const std::filesystem::path& path, std::string_view format,
                                        bool use_cache, core::ThreadPool& pool);

// Writes `json` (pretty) to `path`, creating folders.
core::Status WriteJson(const std::filesystem::path& path, const nlohmann::json& json);

}  // namespace melodai::cli
