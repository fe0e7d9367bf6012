// MelodAI — licensed under the Apache License 2.0.
// Logging: spdlog behind one set-up call. Log lines go to stderr so that a command's stdout
// carries only its result (tables, JSON).
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "core/status.h"

namespace melodai::core {

// Sets the process-wide logger: stderr, "[time] [level] message", level from `level_name`
// ("trace", "debug", "info", "warn", "error", "off"). Returns kInvalidArgument on an
// unknown name. Thread-safe after it returns.
Status InitLogging(std::string_view level_name);

}  // namespace melodai::core

#define MELODAI_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define MELODAI_LOG_INFO(...) spdlog::info(__VA_ARGS__)
#define MELODAI_LOG_WARN(...) spdlog::warn(__VA_ARGS__)
#define MELODAI_LOG_ERROR(...) spdlog::error(__VA_ARGS__)
