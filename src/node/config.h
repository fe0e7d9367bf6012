// MelodAI — licensed under the Apache License 2.0.
// The node configuration file (TOML): which validator this node is, where its key, genesis
// and data live, and where it serves clients and metrics. Relative paths are resolved
// against the folder of the configuration file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"
#include "node/genesis.h"

namespace melodai::node {

struct NodeConfig {
  uint32_t validator_id = 0;
  std::filesystem::path key_file;
  std::filesystem::path genesis_file;
  std::filesystem::path data_dir;
  HostPort metrics_address{"127.0.0.1", 0};  // Port 0: no metrics server.
  // Consensus thread queue bound (messages from the network and clients).
  size_t max_inbox_messages = 100000;
};

// Parses TOML text; `base_dir` resolves relative paths. kDataLoss naming the line on a TOML
// syntax error or a field of the wrong type; kInvalidArgument on a bad value.
core::Result<NodeConfig> ParseNodeConfig(std::string_view toml_text, std::string_view source,
                                         const std::filesystem::path& base_dir);
core::Result<NodeConfig> ReadNodeConfig(const std::filesystem::path& path);
std::string NodeConfigToToml(const NodeConfig& config);

}  // namespace melodai::node
