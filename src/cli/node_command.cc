// MelodAI — licensed under the Apache License 2.0.
// Validator commands: `melodai keys new|show`, `melodai genesis`, `melodai node
// start|inspect|status`. Registration of the ledger commands defined in net_command.cc,
// tx_command.cc and ledger_bench_command.cc also happens here.
#include <csignal>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/file_util.h"
#include "core/logging.h"
#include "crypto/hash.h"
#include "net/blocking_client.h"
#include "net/client_protocol.h"
#include "crypto/random_source.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/key_file.h"
#include "node/ledger_client.h"
#include "node/node.h"

namespace melodai::cli {

// Defined in net_command.cc, tx_command.cc and ledger_bench_command.cc.
void RegisterNetCommand(CLI::App& app, int& exit_code);
void RegisterTxCommand(CLI::App& app, int& exit_code);
void RegisterLedgerBenchCommand(CLI::App& app, int& exit_code);

// Set by SIGINT/SIGTERM; long-running ledger commands poll it.
std::atomic<bool> g_stop_requested{false};

void InstallStopHandlers() {
  struct sigaction action {};
  action.sa_handler = [](int) { g_stop_requested.store(true); };
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

namespace {

int RunKeysNew(const std::string& out, bool force) {
  crypto::SystemRandomSource random;
  const crypto::Ed25519KeyPair key = crypto::Ed25519KeyPair::Generate(random);
  core::Status written = node::WriteKeyFile(out, key, force);
  if (!written.ok()) return ReportError(written);
  std::printf("%s\n", node::PublicKeyToHex(key.public_key()).c_str());
  return kExitOk;
}

int RunKeysShow(const std::string& file) {
  auto key = node::ReadKeyFile(file);
  if (!key.ok()) return ReportError(key.status());
  std::printf("%s\n", node::PublicKeyToHex(key->public_key()).c_str());
  return kExitOk;
}

struct GenesisOptions {
  std::string chain_id = "melodai";
  std::vector<std::string> validator_keys;
  std::vector<std::string> addresses;
  std::vector<std::string> client_addresses;
  std::vector<std::string> accounts;  // "<hex key>:<balance>"
  std::string out;
  node::ConsensusParameters consensus;
  int64_t timestamp_ms = 0;
};

core::Result<node::Genesis> BuildGenesis(const GenesisOptions& options) {
  const size_t count = options.validator_keys.size();
  if (count == 0 || options.addresses.size() != count || options.client_addresses.size() != count) {
    return core::InvalidArgumentError(
        "give one --address and one --client-address per --validator-key");
  }
  node::Genesis genesis;
  genesis.chain_id = options.chain_id;
  genesis.timestamp_ms = options.timestamp_ms;
  genesis.consensus = options.consensus;
  for (size_t i = 0; i < count; ++i) {
    MELODAI_ASSIGN_OR_RETURN(crypto::Ed25519KeyPair key, node::ReadKeyFile(options.validator_keys[i]));
    node::GenesisValidator validator;
    validator.public_key = key.public_key();
    MELODAI_ASSIGN_OR_RETURN(validator.address, node::ParseHostPort(options.addresses[i], "--address"));
    MELODAI_ASSIGN_OR_RETURN(validator.client_address,
                             node::ParseHostPort(options.client_addresses[i], "--client-address"));
    genesis.validators.push_back(validator);
  }
  for (const std::string& account : options.accounts) {
    const size_t colon = account.find(':');
    if (colon == std::string::npos) {
      return core::InvalidArgumentError("--account must be <hex public key>:<balance>");
    }
    node::GenesisAccount entry;
    auto key = node::PublicKeyFromHex(account.substr(0, colon));
    if (!key.ok()) return key.status().WithContext("--account");
    entry.public_key = *key;
    try {
      entry.balance = std::stoull(account.substr(colon + 1));
    } catch (const std::exception&) {  // std::stoull reports bad numbers by exception.
      return core::InvalidArgumentError("--account: bad balance in '" + account + "'");
    }
    genesis.accounts.push_back(entry);
  }
  // Round trip through the parser so the same validation applies as when nodes read it.
  return node::ParseGenesis(node::GenesisToJson(genesis), "genesis");
}

int RunGenesis(const GenesisOptions& options) {
  auto genesis = BuildGenesis(options);
  if (!genesis.ok()) return ReportError(genesis.status());
  core::Status written = core::WriteFileAtomic(options.out, node::GenesisToJson(*genesis));
  if (!written.ok()) return ReportError(written);
  std::printf("%s\n", crypto::ToHex(node::GenesisHash(*genesis)).c_str());
  return kExitOk;
}

int RunNodeStart(const std::string& config_file) {
  auto config = node::ReadNodeConfig(config_file);
  if (!config.ok()) return ReportError(config.status());
  auto running = node::Node::Create(*config);
  if (!running.ok()) return ReportError(running.status());
  MELODAI_LOG_INFO("node {}: peers on port {}, clients on port {}, metrics on port {}",
                   config->validator_id, (*running)->peer_port(), (*running)->client_port(),
                   (*running)->metrics_port());
  InstallStopHandlers();
  core::Status status = (*running)->Run(g_stop_requested);
  if (!status.ok()) return ReportError(status);
  MELODAI_LOG_INFO("node {}: stopped", config->validator_id);
  return kExitOk;
}

int RunNodeInspect(const std::string& config_file, bool list_transactions) {
  auto config = node::ReadNodeConfig(config_file);
  if (!config.ok()) return ReportError(config.status());
  auto summary = node::InspectStore(*config, list_transactions);
  if (!summary.ok()) return ReportError(summary.status());
  nlohmann::json json;
  json["validator_id"] = config->validator_id;
  json["height"] = summary->height;
  json["view"] = summary->view;
  json["last_block_hash"] = crypto::ToHex(summary->last_block_hash);
  json["state_root"] = crypto::ToHex(summary->state_root);
  json["chain_digest"] = crypto::ToHex(summary->chain_digest);
  json["transaction_count"] = summary->transaction_count;
  if (list_transactions) {
    json["transactions"] = nlohmann::json::array();
    for (const crypto::Digest32& hash : summary->transaction_hashes) {
      json["transactions"].push_back(crypto::ToHex(hash));
    }
  }
  std::printf("%s\n", json.dump().c_str());
  return kExitOk;
}

int RunNodeStatus(const std::string& genesis_file, uint32_t validator, int timeout_ms) {
  auto genesis = node::ReadGenesisFile(genesis_file);
  if (!genesis.ok()) return ReportError(genesis.status());
  if (validator >= genesis->validators.size()) {
    return ReportError(core::InvalidArgumentError("--validator is outside the validator set"));
  }
  const node::HostPort& address = genesis->validators[validator].client_address;
  auto connection = net::BlockingClient::Connect(address.host, address.port, timeout_ms);
  if (!connection.ok()) return ReportError(connection.status());
  core::Status sent = (*connection)->Send(
      net::EncodeClientMessage(net::ClientMessageKind::kStatusRequest, ""));
  if (!sent.ok()) return ReportError(sent);
  while (true) {
    auto frame = (*connection)->Receive(timeout_ms);
    if (!frame.ok()) return ReportError(frame.status());
    if (!frame->has_value()) return ReportError(core::DeadlineExceededError("no status answer"));
    auto message = net::DecodeClientMessage(**frame);
    if (!message.ok() || message->kind != net::ClientMessageKind::kStatus) continue;
    auto status = net::DecodeNodeStatus(message->body);
    if (!status.ok()) return ReportError(status.status());
    nlohmann::json json = {{"validator_id", status->replica_id},
                           {"height", status->height},
                           {"view", status->view},
                           {"in_view_change", status->in_view_change},
                           {"last_block_hash", crypto::ToHex(status->last_block_hash)},
                           {"state_root", crypto::ToHex(status->state_root)},
                           {"committed_transactions", status->committed_transactions}};
    std::printf("%s\n", json.dump().c_str());
    return kExitOk;
  }
}

void RegisterKeys(CLI::App& app, int& exit_code) {
  CLI::App* keys = app.add_subcommand("keys", "Create and show Ed25519 key files");
  keys->require_subcommand(1);
  auto out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* create = keys->add_subcommand("new", "Generate a key file and print its public key");
  create->add_option("--out", *out, "key file to write (mode 0600)")->required();
  create->add_flag("--force", *force, "overwrite an existing file");
  create->callback([out, force, &exit_code] { exit_code = RunKeysNew(*out, *force); });
  auto file = std::make_shared<std::string>();
  CLI::App* show = keys->add_subcommand("show", "Print the public key of a key file");
  show->add_option("--key", *file, "key file")->required();
  show->callback([file, &exit_code] { exit_code = RunKeysShow(*file); });
}

void RegisterGenesis(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<GenesisOptions>();
  CLI::App* command = app.add_subcommand("genesis", "Write a genesis file and print its hash");
  command->add_option("--out", options->out, "genesis file to write")->required();
  command->add_option("--chain-id", options->chain_id, "chain identifier")->capture_default_str();
  command->add_option("--validator-key", options->validator_keys, "validator key file (repeat, in id order)")->required();
  command->add_option("--address", options->addresses, "validator peer address host:port (repeat)")->required();
  command->add_option("--client-address", options->client_addresses, "validator client address host:port (repeat)")->required();
  command->add_option("--account", options->accounts, "funded account <hex public key>:<balance> (repeat)");
  command->add_option("--timestamp-ms", options->timestamp_ms, "genesis block timestamp")->capture_default_str();
  command->add_option("--checkpoint-interval", options->consensus.checkpoint_interval, "blocks between checkpoints")->capture_default_str();
  command->add_option("--max-block-transactions", options->consensus.max_block_transactions, "batching limit")->capture_default_str();
  command->add_option("--view-change-timeout-ms", options->consensus.view_change_timeout_ms, "base view-change timeout")->capture_default_str();
  command->callback([options, &exit_code] { exit_code = RunGenesis(*options); });
}

void RegisterNode(CLI::App& app, int& exit_code) {
  CLI::App* command = app.add_subcommand("node", "Run or inspect a validator");
  command->require_subcommand(1);
  auto config = std::make_shared<std::string>();
  CLI::App* start = command->add_subcommand("start", "Run a validator until SIGINT/SIGTERM");
  start->add_option("--config", *config, "node configuration (TOML)")->required();
  start->callback([config, &exit_code] { exit_code = RunNodeStart(*config); });

  auto inspect_config = std::make_shared<std::string>();
  auto list = std::make_shared<bool>(false);
  CLI::App* inspect = command->add_subcommand("inspect", "Print a stopped validator's chain summary as JSON");
  inspect->add_option("--config", *inspect_config, "node configuration (TOML)")->required();
  inspect->add_flag("--transactions", *list, "also list every committed transaction hash");
  inspect->callback([inspect_config, list, &exit_code] {
    exit_code = RunNodeInspect(*inspect_config, *list);
  });

  auto genesis = std::make_shared<std::string>();
  auto validator = std::make_shared<uint32_t>(0);
  auto timeout = std::make_shared<int>(5000);
  CLI::App* status = command->add_subcommand("status", "Ask a running validator for its status (JSON)");
  status->add_option("--genesis", *genesis, "genesis file")->required();
  status->add_option("--validator", *validator, "validator id")->capture_default_str();
  status->add_option("--timeout-ms", *timeout, "answer timeout")->capture_default_str();
  status->callback([genesis, validator, timeout, &exit_code] {
    exit_code = RunNodeStatus(*genesis, *validator, *timeout);
  });
}

}  // namespace

void RegisterNodeCommand(CLI::App& app, int& exit_code) {
  RegisterKeys(app, exit_code);
  RegisterGenesis(app, exit_code);
  RegisterNode(app, exit_code);
  RegisterNetCommand(app, exit_code);
  RegisterTxCommand(app, exit_code);
  RegisterLedgerBenchCommand(app, exit_code);
}

}  // namespace melodai::cli
