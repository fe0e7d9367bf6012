// MelodAI — licensed under the Apache License 2.0.
// Node configuration: TOML parsing with toml++ (its parse_error exception is caught here and
// turned into a Status) and printing.
#include "node/config.h"

#include <fmt/format.h>

#include <sstream>
#include <toml++/toml.h>

#include "core/file_util.h"

namespace melodai::node {
namespace {

std::filesystem::path Resolve(const std::filesystem::path& base, const std::string& value) {
  const std::filesystem::path path(value);
  return path.is_absolute() ? path : base / path;
}

core::Result<std::string> RequireString(const toml::table& table, std::string_view source,
                                        std::string_view key) {
  const std::optional<std::string> value = table[key].value<std::string>();
  if (!value.has_value()) {
    return core::DataLossError(fmt::format("{}: '{}' must be a string", source, key));
  }
  return *value;
}

}  // namespace

core::Result<NodeConfig> ParseNodeConfig(std::string_view toml_text, std::string_view source,
                                         const std::filesystem::path& base_dir) {
  toml::table table;
  try {
    table = toml::parse(toml_text, source);
  } catch (const toml::parse_error& error) {  // toml++ reports syntax errors by exception.
    return core::DataLossError(fmt::format("{}:{}:{}: {}", source, error.source().begin.line,
                                           error.source().begin.column, error.description()));
  }
  NodeConfig config;
  const std::optional<int64_t> id = table["validator_id"].value<int64_t>();
  if (!id.has_value() || *id < 0 || *id > 1000) {
    return core::DataLossError(fmt::format("{}: 'validator_id' must be an integer in [0, 1000]", source));
  }
  config.validator_id = static_cast<uint32_t>(*id);
  MELODAI_ASSIGN_OR_RETURN(std::string key_file, RequireString(table, source, "key_file"));
  MELODAI_ASSIGN_OR_RETURN(std::string genesis_file, RequireString(table, source, "genesis_file"));
  MELODAI_ASSIGN_OR_RETURN(std::string data_dir, RequireString(table, source, "data_dir"));
  config.key_file = Resolve(base_dir, key_file);
  config.genesis_file = Resolve(base_dir, genesis_file);
  config.data_dir = Resolve(base_dir, data_dir);
  if (table.contains("metrics_address")) {
    MELODAI_ASSIGN_OR_RETURN(std::string metrics, RequireString(table, source, "metrics_address"));
    MELODAI_ASSIGN_OR_RETURN(config.metrics_address,
                             ParseHostPort(metrics, std::string(source) + ": metrics_address"));
  }
  if (table.contains("max_inbox_messages")) {
    const std::optional<int64_t> limit = table["max_inbox_messages"].value<int64_t>();
    if (!limit.has_value() || *limit < 16 || *limit > 10'000'000) {
      return core::InvalidArgumentError(
          fmt::format("{}: 'max_inbox_messages' must be an integer in [16, 10000000]", source));
    }
    config.max_inbox_messages = static_cast<size_t>(*limit);
  }
  return config;
}

core::Result<NodeConfig> ReadNodeConfig(const std::filesystem::path& path) {
  MELODAI_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  return ParseNodeConfig(text, path.string(), path.parent_path());
}

std::string NodeConfigToToml(const NodeConfig& config) {
  toml::table table;
  table.insert("validator_id", static_cast<int64_t>(config.validator_id));
  table.insert("key_file", config.key_file.string());
  table.insert("genesis_file", config.genesis_file.string());
  table.insert("data_dir", config.data_dir.string());
  table.insert("metrics_address", FormatHostPort(config.metrics_address));
  table.insert("max_inbox_messages", static_cast<int64_t>(config.max_inbox_messages));
  std::ostringstream out;
  out << table << "\n";
  return out.str();
}

}  // namespace melodai::node
