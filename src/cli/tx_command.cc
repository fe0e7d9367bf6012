// MelodAI — licensed under the Apache License 2.0.
// `melodai tx transfer`: signs transfers with a client key, submits them to every reachable
// validator and waits until f+1 validators sent matching signed replies for each.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "app/transfer_app.h"
#include "cli/cli_util.h"
#include "core/logging.h"
#include "core/clock.h"
#include "node/genesis.h"
#include "node/key_file.h"
#include "node/ledger_client.h"

namespace melodai::cli {
namespace {

struct TransferOptions {
  std::string genesis;
  std::string key;
  std::string to;
  std::string to_key;
  uint64_t amount = 0;
  uint64_t count = 1;
  int64_t nonce = -1;  // -1: ask the validators.
  int timeout_ms = 60'000;
};

// The highest next nonce any reachable validator reports (a lagging one may report less).
core::Result<uint64_t> NextNonce(node::LedgerClient& client, const crypto::Ed25519PublicKey& key) {
  const std::string request = "nonce/" + node::PublicKeyToHex(key);
  std::optional<uint64_t> best;
  core::Status last_error = core::UnavailableError("no validator answered the nonce query");
  for (uint32_t validator : client.connected()) {
    auto answer = client.Query(validator, request, 5000);
    if (!answer.ok()) {
      if (answer.status().code() == core::StatusCode::kNotFound) best = best.value_or(0);
      else last_error = answer.status();
      continue;
    }
    try {
      best = std::max(best.value_or(0), static_cast<uint64_t>(std::stoull(*answer)));
    } catch (const std::exception&) {  // std::stoull reports bad numbers by exception.
      last_error = core::DataLossError("validator answered a non-numeric nonce: " + *answer);
    }
  }
  if (!best.has_value()) return last_error;
  return *best;
}

int RunTransfer(const TransferOptions& options) {
  if (options.count == 0 || options.count > 100'000) {
    return ReportError(core::InvalidArgumentError("--count must be in [1, 100000]"));
  }
  auto genesis = node::ReadGenesisFile(options.genesis);
  if (!genesis.ok()) return ReportError(genesis.status());
  auto key = node::ReadKeyFile(options.key);
  if (!key.ok()) return ReportError(key.status());
  crypto::Ed25519PublicKey recipient;
  if (!options.to_key.empty()) {
    auto recipient_key = node::ReadKeyFile(options.to_key);
    if (!recipient_key.ok()) return ReportError(recipient_key.status());
    recipient = recipient_key->public_key();
  } else {
    auto parsed = node::PublicKeyFromHex(options.to);
    if (!parsed.ok()) return ReportError(parsed.status().WithContext("--to"));
    recipient = *parsed;
  }
  auto client = node::LedgerClient::Connect(*genesis, 3000);
  if (!client.ok()) return ReportError(client.status());
  uint64_t nonce = static_cast<uint64_t>(options.nonce);
  if (options.nonce < 0) {
    auto next = NextNonce(**client, key->public_key());
    if (!next.ok()) return ReportError(next.status());
    nonce = *next;
  }
  std::map<crypto::Digest32, uint64_t> outstanding;  // Hash -> nonce.
  uint64_t submitted = 0;
  size_t failures = 0;
  core::Stopwatch stopwatch;
  while ((submitted < options.count || !outstanding.empty()) &&
         stopwatch.ElapsedSeconds() * 1000 < options.timeout_ms) {
    // Keep within the application's nonce window so every transaction stays admissible.
    while (submitted < options.count && outstanding.size() < app::kMaxNonceGap / 2) {
      const ledger::Transaction tx = app::MakeTransfer(*key, nonce + submitted, recipient, options.amount);
      auto hash = (*client)->Submit(tx);
      if (!hash.ok()) return ReportError(hash.status());
      outstanding[*hash] = nonce + submitted;
      ++submitted;
    }
    for (const node::Confirmation& confirmation : (*client)->TakeConfirmations(200)) {
      auto found = outstanding.find(confirmation.transaction_hash);
      if (found == outstanding.end()) continue;
      nlohmann::json line = {{"transaction", crypto::ToHex(confirmation.transaction_hash)},
                             {"nonce", found->second},
                             {"height", confirmation.height},
                             {"code", confirmation.code}};
      std::printf("%s\n", line.dump().c_str());
      std::fflush(stdout);
      if (confirmation.code != 0) ++failures;
      outstanding.erase(found);
    }
    for (const node::ClientRejection& rejection : (*client)->TakeRejections()) {
      if (rejection.rejection.status_code == static_cast<uint8_t>(core::StatusCode::kAlreadyExists)) continue;
      MELODAI_LOG_WARN("validator {} rejected {}: {}", rejection.validator,
                       crypto::ToHex(rejection.rejection.transaction_hash), rejection.rejection.message);
    }
  }
  if (!outstanding.empty()) {
    return ReportError(core::DeadlineExceededError(fmt::format(
        "{} of {} transfers not confirmed by f+1 validators within {} ms", outstanding.size(),
        options.count, options.timeout_ms)));
  }
  if (failures > 0) {
    return ReportError(core::AbortedError(fmt::format("{} transfers executed with a non-zero code", failures)));
  }
  return kExitOk;
}

}  // namespace

void RegisterTxCommand(CLI::App& app, int& exit_code) {
  CLI::App* tx = app.add_subcommand("tx", "Submit transactions to a validator set");
  tx->require_subcommand(1);
  auto options = std::make_shared<TransferOptions>();
  CLI::App* transfer = tx->add_subcommand("transfer", "Transfer tokens; waits for f+1 matching replies");
  transfer->add_option("--genesis", options->genesis, "genesis file (validator addresses and keys)")->required();
  transfer->add_option("--key", options->key, "sender key file")->required();
  auto* to = transfer->add_option("--to", options->to, "recipient public key (hex)");
  auto* to_key = transfer->add_option("--to-key", options->to_key, "recipient key file");
  to->excludes(to_key);
  transfer->add_option("--amount", options->amount, "amount in base units")->required();
  transfer->add_option("--count", options->count, "number of transfers (consecutive nonces)")->capture_default_str();
  transfer->add_option("--nonce", options->nonce, "first nonce (-1 = ask the validators)")->capture_default_str();
  transfer->add_option("--timeout-ms", options->timeout_ms, "give up after this long")->capture_default_str();
  transfer->callback([options, &exit_code] {
    if (options->to.empty() && options->to_key.empty()) {
      exit_code = ReportError(core::InvalidArgumentError("give --to or --to-key"));
      return;
    }
    exit_code = RunTransfer(*options);
  });
}

}  // namespace melodai::cli
