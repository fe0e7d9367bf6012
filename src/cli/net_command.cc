// MelodAI — licensed under the Apache License 2.0.
// `melodai net local`: lays out a local network (keys, genesis, configurations), starts one
// `melodai node start` process per validator on 127.0.0.1, prints where everything is, and
// stops the processes on Ctrl-C.
#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "cli/cli_util.h"
#include "core/logging.h"
#include "node/key_file.h"
#include "node/local_network.h"
#include "node/process.h"

namespace melodai::cli {

extern std::atomic<bool> g_stop_requested;
void InstallStopHandlers();

namespace {

struct NetLocalOptions {
  size_t validators = 4;
  std::string folder = "melodai-local";
  uint16_t base_port = 0;
  std::string log_level = "info";
  uint32_t checkpoint_interval = 64;
  uint32_t view_change_timeout_ms = 1000;
};

int RunNetLocal(const NetLocalOptions& options) {
  node::LocalNetworkOptions layout;
  layout.validators = options.validators;
  layout.folder = std::filesystem::absolute(options.folder);
  layout.base_port = options.base_port;
  layout.client_accounts = 4;
  layout.consensus.checkpoint_interval = options.checkpoint_interval;
  layout.consensus.view_change_timeout_ms = options.view_change_timeout_ms;
  auto network = node::CreateLocalNetwork(layout);
  if (!network.ok()) return ReportError(network.status());
  InstallStopHandlers();
  const std::string self = node::SelfExecutablePath();
  std::vector<std::unique_ptr<node::ChildProcess>> children;
  for (size_t i = 0; i < options.validators; ++i) {
    const std::filesystem::path log = layout.folder / fmt::format("node{}.log", i);
    auto child = node::ChildProcess::Spawn(
        self, {"--log-level", options.log_level, "node", "start", "--config",
               network->config_files[i].string()},
        log);
    if (!child.ok()) return ReportError(child.status());
    const node::GenesisValidator& validator = network->genesis.validators[i];
    std::printf("validator %zu: pid %d peer %s client %s metrics http://%s/metrics data %s log %s\n",
                i, (*child)->pid(), node::FormatHostPort(validator.address).c_str(),
                node::FormatHostPort(validator.client_address).c_str(),
                node::FormatHostPort(network->metrics_addresses[i]).c_str(),
                network->data_dirs[i].c_str(), log.c_str());
    children.push_back(std::move(child).value());
  }
  std::printf("genesis %s; client key %s; press Ctrl-C to stop\n",
              network->genesis_file.c_str(),
              network->client_key_files.empty() ? "-" : network->client_key_files[0].c_str());
  std::fflush(stdout);
  int exit_code = kExitOk;
  while (!g_stop_requested.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (size_t i = 0; i < children.size(); ++i) {
      if (children[i] != nullptr && !children[i]->running()) {
        MELODAI_LOG_ERROR("validator {} exited; see its log", i);
        children[i].reset();
        exit_code = kExitFailure;
      }
    }
  }
  for (auto& child : children) {
    if (child != nullptr) child->Signal(SIGTERM);
  }
  for (auto& child : children) {
    if (child != nullptr && !child->Wait(10'000).has_value()) child->Signal(SIGKILL);
  }
  std::printf("stopped %zu validators\n", children.size());
  return exit_code;
}

}  // namespace

void RegisterNetCommand(CLI::App& app, int& exit_code) {
  CLI::App* net = app.add_subcommand("net", "Run a network of validators");
  net->require_subcommand(1);
  auto options = std::make_shared<NetLocalOptions>();
  CLI::App* local = net->add_subcommand("local", "Start N validator processes on 127.0.0.1 until Ctrl-C");
  local->add_option("--validators", options->validators, "number of validators (3f+1)")->capture_default_str();
  local->add_option("--dir", options->folder, "folder for keys, genesis, configs, data and logs")->capture_default_str();
  local->add_option("--base-port", options->base_port, "first port (0 = pick free ports)")->capture_default_str();
  local->add_option("--node-log-level", options->log_level, "log level of the validators")->capture_default_str();
  local->add_option("--checkpoint-interval", options->checkpoint_interval, "blocks between checkpoints")->capture_default_str();
  local->add_option("--view-change-timeout-ms", options->view_change_timeout_ms, "base view-change timeout")->capture_default_str();
  local->callback([options, &exit_code] { exit_code = RunNetLocal(*options); });
}

}  // namespace melodai::cli
