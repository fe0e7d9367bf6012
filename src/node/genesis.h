// MelodAI — licensed under the Apache License 2.0.
// The genesis file (JSON): chain id, validator set with their addresses, initial account
// balances and consensus parameters. Its hash (over a canonical binary encoding of everything
// but the addresses) identifies the network: peers with another hash are refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

namespace melodai::node {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// Parses "host:port" (kInvalidArgument naming `what` on a bad value).
core::Result<HostPort> ParseHostPort(std::string_view text, std::string_view what);
std::string FormatHostPort(const HostPort& address);

struct GenesisValidator {
  crypto::Ed25519PublicKey public_key;
  HostPort address;         // Peer-to-peer (authenticated) port.
  HostPort client_address;  // Where clients submit transactions.
};

struct GenesisAccount {
  crypto::Ed25519PublicKey public_key;
  uint64_t balance = 0;
};

// Consensus parameters every validator must share.
struct ConsensusParameters {
  uint32_t checkpoint_interval = 64;       // Blocks between checkpoints (K).
  uint32_t max_block_transactions = 2000;  // Request batching limit per block.
  uint32_t view_change_timeout_ms = 1000;  // Base timeout before suspecting the primary.
  uint32_t tick_ms = 10;                   // Period of the replica's timer ticks.
};

struct Genesis {
  std::string chain_id;
  int64_t timestamp_ms = 0;
  std::vector<GenesisValidator> validators;
  std::vector<GenesisAccount> accounts;
  ConsensusParameters consensus;
  // The "app" object (the MelodAI application's genesis, docs/APP.md) in canonical JSON (keys
  // sorted, no spaces), or empty when the file has none. Kept whole so that GenesisHash binds
  // it: validators that disagree on it are different networks.
  std::string app_section;

  // Number of validators whose failure is tolerated: (n - 1) / 3.
  size_t max_faulty() const { return validators.empty() ? 0 : (validators.size() - 1) / 3; }
};

// Parses and validates genesis JSON. kDataLoss naming the field on malformed input,
// kInvalidArgument on inconsistent content (duplicate keys, fewer than 1 validator, a zero
// parameter). `source` names the input in messages.
core::Result<Genesis> ParseGenesis(std::string_view json_text, std::string_view source);
core::Result<Genesis> ReadGenesisFile(const std::filesystem::path& path);
std::string GenesisToJson(const Genesis& genesis);

// BLAKE2b-256 of the canonical encoding (chain id, timestamp, validator keys, accounts,
// parameters, and the app section when there is one; not the network addresses).
crypto::Digest32 GenesisHash(const Genesis& genesis);

}  // namespace melodai::node
