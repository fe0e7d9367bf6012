// MelodAI — licensed under the Apache License 2.0.
// Lays out a local test network in one folder: validator keys, a genesis with funded client
// accounts, one TOML configuration and data folder per validator, all on 127.0.0.1 ports.
// Used by `melodai net local` and `melodai bench ledger`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "node/genesis.h"

namespace melodai::node {

struct LocalNetworkOptions {
  size_t validators = 4;
  std::filesystem::path folder;
  uint16_t base_port = 0;         // 0: pick free ports; else base, base+1, ... in order.
  size_t client_accounts = 1;     // Funded accounts whose keys derive from `seed`.
  uint64_t client_balance = 1'000'000'000;
  uint64_t seed = 1;
  ConsensusParameters consensus;
  bool metrics = true;
};

struct LocalNetwork {
  Genesis genesis;
  std::filesystem::path genesis_file;
  std::vector<std::filesystem::path> config_files;  // Index = validator id.
  std::vector<std::filesystem::path> data_dirs;
  std::vector<HostPort> metrics_addresses;
  std::vector<std::filesystem::path> client_key_files;  // Only the first few are written.
};

// Writes the layout into options.folder (created; existing key files are reused so a network
// can be restarted with its data). kInvalidArgument on zero validators.
core::Result<LocalNetwork> CreateLocalNetwork(const LocalNetworkOptions& options);

// The deterministic key of client account `index` for `seed` (bench and tests re-derive them).
crypto::Ed25519KeyPair LocalClientKey(uint64_t seed, uint64_t index);

// A TCP port on 127.0.0.1 that was free a moment ago. kUnavailable when none can be bound.
core::Result<uint16_t> PickFreePort();

}  // namespace melodai::node
