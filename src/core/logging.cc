// MelodAI — licensed under the Apache License 2.0.
// Logger set-up.
#include "core/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace melodai::core {

Status InitLogging(std::string_view level_name) {
  const spdlog::level::level_enum level = spdlog::level::from_str(std::string(level_name));
  if (level == spdlog::level::off && level_name != "off") {
    return InvalidArgumentError("unknown log level '" + std::string(level_name) +
                                "' (use trace, debug, info, warn, error or off)");
  }
  auto logger = spdlog::stderr_color_mt("melodai");
  logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
  logger->set_level(level);
  spdlog::set_default_logger(logger);
  return Status::Ok();
}

}  // namespace melodai::core
