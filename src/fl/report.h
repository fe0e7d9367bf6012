// MelodAI — licensed under the Apache License 2.0.
// Output of a simulation: per-round records as CSV and JSON (with the configuration and the
// personalization summary), and a one-line progress summary per round for command lines.
#pragma once

#include <filesystem>
#include <span>
#include <string>

#include "core/status.h"
#include "fl/simulator.h"

namespace melodai::fl {

// One header line and one line per round; columns in RoundRecord order. Unmeasured metrics
// (e.g. NDCG from a regression trainer, or rounds without evaluation) are empty cells.
std::string RoundsToCsv(std::span<const RoundRecord> rounds);

// {"config": {...}, "noise_multiplier": z, "final_epsilon": e, "personalization": {...},
//  "rounds": [{...}, ...]}. Non-finite numbers are written as null.
std::string SimulationToJson(const SimulationResult& result, const SimulationConfig& config);

// Write the above atomically. kIoError from the file system.
core::Status WriteRoundsCsv(const std::filesystem::path& path, const SimulationResult& result);
core::Status WriteSimulationJson(const std::filesystem::path& path, const SimulationResult& result,
                                 const SimulationConfig& config);

// "round 3/10: 20 sampled, 18 in time (1 late, 1 dropped), loss 0.4123, ndcg@10 0.1234,
//  eps 1.23, up 4.0 KB/client, 0.52 s".
std::string FormatRoundProgress(const RoundRecord& record, uint32_t total_rounds);

}  // namespace melodai::fl
