// MelodAI — licensed under the Apache License 2.0.
// `melodai bench ledger`: starts N validator processes on 127.0.0.1, drives them with signed
// transfers from many client accounts for a fixed time, and reports committed transactions
// per second and commit latency (submission to f+1 matching signed replies) percentiles.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include <fmt/format.h>

#include "app/transfer_app.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/file_util.h"
#include "core/logging.h"
#include "node/ledger_client.h"
#include "node/local_network.h"
#include "node/process.h"

namespace melodai::cli {

extern std::atomic<bool> g_stop_requested;
void InstallStopHandlers();

namespace {

struct LedgerBenchOptions {
  size_t validators = 4;
  double seconds = 30;
  size_t clients = 2000;  // = transactions in flight (one per account at a time).
  size_t max_transactions = 300'000;
  uint32_t max_block_transactions = 2000;
  uint32_t checkpoint_interval = 64;
  std::string folder;
  std::string json_out;
  uint64_t seed = 1;
};

struct BenchResult {
  uint64_t submitted = 0;
  uint64_t confirmed = 0;
  uint64_t failed_codes = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
};

double Percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(fraction * values.size()));
  std::nth_element(values.begin(), values.begin() + index, values.end());
  return values[index];
}

// Signs every transaction up front, each with its sender's own key: account a sends nonces
// 0, 1, ... to account a+1. signed[a][k] is account a's k-th transfer.
std::vector<std::vector<std::string>> SignTransfers(const LedgerBenchOptions& options) {
  std::vector<crypto::Ed25519KeyPair> keys;
  for (size_t i = 0; i < options.clients; ++i) keys.push_back(node::LocalClientKey(options.seed, i));
  const size_t depth = std::max<size_t>(1, options.max_transactions / options.clients);
  std::vector<std::vector<std::string>> signed_transfers(options.clients);
  for (size_t sender = 0; sender < options.clients; ++sender) {
    const crypto::Ed25519PublicKey& receiver = keys[(sender + 1) % options.clients].public_key();
    for (size_t nonce = 0; nonce < depth; ++nonce) {
      signed_transfers[sender].push_back(
          ledger::EncodeTransaction(app::MakeTransfer(keys[sender], nonce, receiver, 1)));
    }
  }
  return signed_transfers;
}

struct InFlight {
  size_t account = 0;
  int64_t submitted_nanos = 0;
};

// Closed loop: every account has at most one transaction outstanding, so its nonces commit in
// order whatever the batching. Each transaction goes to the view-0 primary only (no request
// forwarding) and one other validator, rotating, is asked to reply as well: f+1 = 2 replies.
core::Result<BenchResult> Drive(node::LedgerClient& client, const LedgerBenchOptions& options,
                                const std::vector<std::vector<std::string>>& signed_transfers) {
  const uint32_t count = static_cast<uint32_t>(options.validators);
  std::vector<size_t> next_nonce(options.clients, 0);
  std::vector<size_t> ready(options.clients);
  for (size_t i = 0; i < ready.size(); ++i) ready[i] = i;
  std::map<crypto::Digest32, InFlight> in_flight;
  BenchResult result;
  const core::Clock& clock = core::SystemClock::Instance();
  const int64_t start = clock.NowNanos();
  const int64_t end = start + static_cast<int64_t>(options.seconds * 1e9);
  while (clock.NowNanos() < end && !g_stop_requested.load()) {
    std::vector<std::string> batch;
    std::vector<crypto::Digest32> hashes;
    std::vector<uint32_t> watchers;
    const int64_t now = clock.NowNanos();
    while (!ready.empty() && batch.size() < 500) {
      const size_t account = ready.back();
      ready.pop_back();
      if (next_nonce[account] >= signed_transfers[account].size()) continue;  // Exhausted.
      const std::string& bytes = signed_transfers[account][next_nonce[account]++];
      auto tx = ledger::DecodeTransaction(bytes);
      MELODAI_CHECK(tx.ok());  // Encoded above by us.
      const crypto::Digest32 hash = ledger::TransactionHash(*tx);
      in_flight[hash] = {account, now};
      batch.push_back(bytes);
      hashes.push_back(hash);
      watchers.push_back(count == 1 ? 0 : 1 + static_cast<uint32_t>(result.submitted % (count - 1)));
      ++result.submitted;
    }
    if (!batch.empty()) {
      MELODAI_RETURN_IF_ERROR(client.WatchMany(hashes, watchers));
      MELODAI_RETURN_IF_ERROR(client.SubmitMany(batch, {{0}}));
    } else if (in_flight.empty()) {
      MELODAI_LOG_WARN("bench: every pre-signed transaction committed before the time was up");
      break;
    }
    for (const node::Confirmation& confirmation : client.TakeConfirmations(batch.empty() ? 5 : 0)) {
      auto found = in_flight.find(confirmation.transaction_hash);
      if (found == in_flight.end()) continue;
      result.latencies_ms.push_back(static_cast<double>(clock.NowNanos() - found->second.submitted_nanos) * 1e-6);
      if (confirmation.code != 0) ++result.failed_codes;
      ++result.confirmed;
      ready.push_back(found->second.account);
      in_flight.erase(found);
    }
  }
  result.seconds = static_cast<double>(clock.NowNanos() - start) * 1e-9;
  return result;
}

core::Status WaitUntilServing(const node::LocalNetwork& network, std::unique_ptr<node::LedgerClient>& client) {
  for (int attempt = 0; attempt < 200 && !g_stop_requested.load(); ++attempt) {
    auto connected = node::LedgerClient::Connect(network.genesis, 1000);
    if (connected.ok() && (*connected)->connected().size() == network.genesis.validators.size()) {
      client = std::move(connected).value();
      return core::Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return core::UnavailableError("bench: the validators did not start serving within 20 s");
}

int RunLedgerBench(LedgerBenchOptions options) {
  if (options.validators == 0 || options.clients == 0 || options.seconds <= 0) {
    return ReportError(core::InvalidArgumentError("validators, clients and seconds must be positive"));
  }
  const std::filesystem::path folder =
      options.folder.empty() ? std::filesystem::temp_directory_path() / fmt::format("melodai-bench-{}", ::getpid())
                             : std::filesystem::path(options.folder);
  std::filesystem::remove_all(folder);
  node::LocalNetworkOptions layout;
  layout.validators = options.validators;
  layout.folder = folder;
  layout.client_accounts = options.clients;
  layout.seed = options.seed;
  layout.consensus.max_block_transactions = options.max_block_transactions;
  layout.consensus.checkpoint_interval = options.checkpoint_interval;
  auto network = node::CreateLocalNetwork(layout);
  if (!network.ok()) return ReportError(network.status());
  InstallStopHandlers();
  core::Stopwatch signing;
  const std::vector<std::vector<std::string>> encoded = SignTransfers(options);
  MELODAI_LOG_INFO("bench: signed {} transfers in {:.1f} s", encoded.size() * encoded[0].size(),
                   signing.ElapsedSeconds());
  std::vector<std::unique_ptr<node::ChildProcess>> children;
  for (size_t i = 0; i < options.validators; ++i) {
    auto child = node::ChildProcess::Spawn(
        node::SelfExecutablePath(),
        {"--log-level", "warn", "node", "start", "--config", network->config_files[i].string()},
        folder / fmt::format("node{}.log", i));
    if (!child.ok()) return ReportError(child.status());
    children.push_back(std::move(child).value());
  }
  std::unique_ptr<node::LedgerClient> client;
  core::Status serving = WaitUntilServing(*network, client);
  if (!serving.ok()) return ReportError(serving);
  auto result = Drive(*client, options, encoded);
  client.reset();
  for (auto& child : children) child->Signal(SIGTERM);
  for (auto& child : children) child->Wait(10'000);
  if (!result.ok()) return ReportError(result.status());
  const double rate = static_cast<double>(result->confirmed) / result->seconds;
  std::vector<double>& latencies = result->latencies_ms;
  const double p50 = Percentile(latencies, 0.50);
  const double p99 = Percentile(latencies, 0.99);
  std::printf("bench ledger: %zu validators, %zu client accounts (= transactions in flight), %.1f s\n",
              options.validators, options.clients, result->seconds);
  std::printf("  submitted %llu, committed %llu (%llu with a non-zero code)\n",
              static_cast<unsigned long long>(result->submitted),
              static_cast<unsigned long long>(result->confirmed),
              static_cast<unsigned long long>(result->failed_codes));
  std::printf("  throughput %.0f committed tx/s; latency p50 %.1f ms, p99 %.1f ms\n", rate, p50, p99);
  if (!options.json_out.empty()) {
    nlohmann::json json = {{"validators", options.validators}, {"clients", options.clients},
                           {"seconds", result->seconds},
                           {"submitted", result->submitted},   {"committed", result->confirmed},
                           {"failed_codes", result->failed_codes}, {"tx_per_second", rate},
                           {"latency_p50_ms", p50},            {"latency_p99_ms", p99}};
    core::Status written = core::WriteFileAtomic(options.json_out, json.dump(2) + "\n");
    if (!written.ok()) return ReportError(written);
  }
  if (options.folder.empty()) std::filesystem::remove_all(folder);
  return result->confirmed > 0 ? kExitOk : ReportError(core::AbortedError("nothing committed"));
}

}  // namespace

void RegisterLedgerBenchCommand(CLI::App& app, int& exit_code) {
  CLI::App* bench = BenchCommand(app);
  auto options = std::make_shared<LedgerBenchOptions>();
  CLI::App* ledger = bench->add_subcommand("ledger", "Committed tx/s and latency of N local validator processes");
  ledger->add_option("--validators", options->validators, "number of validators")->capture_default_str();
  ledger->add_option("--seconds", options->seconds, "measured duration")->capture_default_str();
  ledger->add_option("--clients", options->clients, "client accounts, each signing its own transfers with one outstanding")->capture_default_str();
  ledger->add_option("--max-transactions", options->max_transactions, "pre-signed transactions available")->capture_default_str();
  ledger->add_option("--max-block-transactions", options->max_block_transactions, "batching limit per block")->capture_default_str();
  ledger->add_option("--checkpoint-interval", options->checkpoint_interval, "blocks between checkpoints")->capture_default_str();
  ledger->add_option("--dir", options->folder, "keep the network folder here (default: a temporary one, removed)");
  ledger->add_option("--json", options->json_out, "also write the results as JSON");
  ledger->add_option("--seed", options->seed, "seed of the client keys")->capture_default_str();
  ledger->callback([options, &exit_code] { exit_code = RunLedgerBench(*options); });
}

}  // namespace melodai::cli
