// MelodAI — licensed under the Apache License 2.0.
// Genesis JSON parsing, validation, printing and hashing.
#include "node/genesis.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "core/bytes.h"
#include "core/file_util.h"
#include "node/key_file.h"

namespace melodai::node {
namespace {

using nlohmann::json;

constexpr size_t kMaxValidators = 64;
constexpr size_t kMaxAccounts = 1u << 20;

core::Status Missing(std::string_view source, std::string_view field, std::string_view type) {
  return core::DataLossError(fmt::format("{}: field '{}' must be {}", source, field, type));
}

core::Result<uint64_t> GetUnsigned(const json& object, std::string_view source,
                                   const std::string& field, uint64_t max_value) {
  if (!object.contains(field) || !object[field].is_number_unsigned()) {
    return Missing(source, field, "a non-negative integer");
  }
  const uint64_t value = object[field].get<uint64_t>();
  if (value > max_value) {
    return core::DataLossError(fmt::format("{}: field '{}' = {} exceeds {}", source, field,
                                           value, max_value));
  }
  return value;
}

core::Result<std::string> GetString(const json& object, std::string_view source,
                                    const std::string& field) {
  if (!object.contains(field) || !object[field].is_string()) {
    return Missing(source, field, "a string");
  }
  return object[field].get<std::string>();
}

core::Result<crypto::Ed25519PublicKey> GetKey(const json& object, std::string_view where) {
  MELODAI_ASSIGN_OR_RETURN(std::string hex, GetString(object, where, "public_key"));
  auto key = PublicKeyFromHex(hex);
  if (!key.ok()) return core::DataLossError(fmt::format("{}.public_key: {}", where, key.status().message()));
  return *key;
}

core::Result<GenesisValidator> ParseValidator(const json& entry, const std::string& where) {
  if (!entry.is_object()) return core::DataLossError(where + ": must be an object");
  GenesisValidator validator;
  MELODAI_ASSIGN_OR_RETURN(validator.public_key, GetKey(entry, where));
  MELODAI_ASSIGN_OR_RETURN(std::string address, GetString(entry, where, "address"));
  MELODAI_ASSIGN_OR_RETURN(validator.address, ParseHostPort(address, where + ".address"));
  MELODAI_ASSIGN_OR_RETURN(std::string client, GetString(entry, where, "client_address"));
  MELODAI_ASSIGN_OR_RETURN(validator.client_address,
                           ParseHostPort(client, where + ".client_address"));
  return validator;
}

core::Status ParseConsensus(const json& root, std::string_view source,
                            ConsensusParameters& parameters) {
  if (!root.contains("consensus")) return core::Status::Ok();  // Defaults.
  const json& object = root["consensus"];
  if (!object.is_object()) return Missing(source, "consensus", "an object");
  const std::string where = std::string(source) + ": consensus";
  auto read = [&](const char* field, uint32_t& target, uint64_t max_value) -> core::Status {
    if (!object.contains(field)) return core::Status::Ok();
    MELODAI_ASSIGN_OR_RETURN(uint64_t value, GetUnsigned(object, where, field, max_value));
    if (value == 0) return core::InvalidArgumentError(fmt::format("{}.{} must be positive", where, field));
    target = static_cast<uint32_t>(value);
    return core::Status::Ok();
  };
  MELODAI_RETURN_IF_ERROR(read("checkpoint_interval", parameters.checkpoint_interval, 1u << 20));
  MELODAI_RETURN_IF_ERROR(read("max_block_transactions", parameters.max_block_transactions, 1u << 20));
  MELODAI_RETURN_IF_ERROR(read("view_change_timeout_ms", parameters.view_change_timeout_ms, 3600000));
  MELODAI_RETURN_IF_ERROR(read("tick_ms", parameters.tick_ms, 60000));
  return core::Status::Ok();
}

core::Status ParseAccounts(const json& root, std::string_view source, Genesis& genesis) {
  if (!root.contains("accounts")) return core::Status::Ok();
  const json& accounts = root["accounts"];
  if (!accounts.is_array() || accounts.size() > kMaxAccounts) {
    return Missing(source, "accounts", "an array of at most 2^20 entries");
  }
  std::set<crypto::Ed25519PublicKey> seen;
  for (size_t i = 0; i < accounts.size(); ++i) {
    const std::string where = fmt::format("{}: accounts[{}]", source, i);
    if (!accounts[i].is_object()) return core::DataLossError(where + ": must be an object");
    GenesisAccount account;
    MELODAI_ASSIGN_OR_RETURN(account.public_key, GetKey(accounts[i], where));
    MELODAI_ASSIGN_OR_RETURN(account.balance, GetUnsigned(accounts[i], where, "balance", UINT64_MAX));
    if (!seen.insert(account.public_key).second) {
      return core::InvalidArgumentError(where + ": duplicate account key");
    }
    genesis.accounts.push_back(account);
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<HostPort> ParseHostPort(std::string_view text, std::string_view what) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return core::InvalidArgumentError(fmt::format("{}: '{}' is not host:port", what, text));
  }
  HostPort result;
  result.host = std::string(text.substr(0, colon));
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return core::InvalidArgumentError(fmt::format("{}: bad port in '{}'", what, text));
  }
  result.port = static_cast<uint16_t>(port);
  return result;
}

std::string FormatHostPort(const HostPort& address) {
  return fmt::format("{}:{}", address.host, address.port);
}

core::Result<Genesis> ParseGenesis(std::string_view json_text, std::string_view source) {
  const json root = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded() || !root.is_object()) {
    return core::DataLossError(fmt::format("{}: not a JSON object", source));
  }
  Genesis genesis;
  MELODAI_ASSIGN_OR_RETURN(genesis.chain_id, GetString(root, source, "chain_id"));
  MELODAI_ASSIGN_OR_RETURN(uint64_t timestamp, GetUnsigned(root, source, "timestamp_ms", INT64_MAX));
  genesis.timestamp_ms = static_cast<int64_t>(timestamp);
  if (!root.contains("validators") || !root["validators"].is_array()) {
    return Missing(source, "validators", "an array");
  }
  const json& validators = root["validators"];
  if (validators.empty() || validators.size() > kMaxValidators) {
    return core::InvalidArgumentError(fmt::format("{}: {} validators; 1 to {} are allowed",
                                                  source, validators.size(), kMaxValidators));
  }
  std::set<crypto::Ed25519PublicKey> seen;
  for (size_t i = 0; i < validators.size(); ++i) {
    MELODAI_ASSIGN_OR_RETURN(
        GenesisValidator validator,
        ParseValidator(validators[i], fmt::format("{}: validators[{}]", source, i)));
    if (!seen.insert(validator.public_key).second) {
      return core::InvalidArgumentError(fmt::format("{}: validators[{}] repeats a key", source, i));
    }
    genesis.validators.push_back(std::move(validator));
  }
  MELODAI_RETURN_IF_ERROR(ParseAccounts(root, source, genesis));
  MELODAI_RETURN_IF_ERROR(ParseConsensus(root, source, genesis.consensus));
  if (root.contains("app")) {
    if (!root["app"].is_object()) return Missing(source, "app", "an object");
    genesis.app_section = root["app"].dump();
  }
  return genesis;
}

core::Result<Genesis> ReadGenesisFile(const std::filesystem::path& path) {
  MELODAI_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  return ParseGenesis(text, path.string());
}

std::string GenesisToJson(const Genesis& genesis) {
  json root;
  root["chain_id"] = genesis.chain_id;
  root["timestamp_ms"] = static_cast<uint64_t>(genesis.timestamp_ms);
  root["validators"] = json::array();
  for (const GenesisValidator& validator : genesis.validators) {
    root["validators"].push_back({{"public_key", PublicKeyToHex(validator.public_key)},
                                  {"address", FormatHostPort(validator.address)},
                                  {"client_address", FormatHostPort(validator.client_address)}});
  }
  root["accounts"] = json::array();
  for (const GenesisAccount& account : genesis.accounts) {
    root["accounts"].push_back(
        {{"public_key", PublicKeyToHex(account.public_key)}, {"balance", account.balance}});
  }
  root["consensus"] = {{"checkpoint_interval", genesis.consensus.checkpoint_interval},
                       {"max_block_transactions", genesis.consensus.max_block_transactions},
                       {"view_change_timeout_ms", genesis.consensus.view_change_timeout_ms},
                       {"tick_ms", genesis.consensus.tick_ms}};
  if (!genesis.app_section.empty()) root["app"] = json::parse(genesis.app_section);
  return root.dump(2) + "\n";
}

crypto::Digest32 GenesisHash(const Genesis& genesis) {
  core::ByteWriter writer;
  writer.PutString("melodai/genesis/v1");
  writer.PutString(genesis.chain_id);
  writer.PutI64(genesis.timestamp_ms);
  writer.PutU64(genesis.validators.size());
  for (const GenesisValidator& validator : genesis.validators) {
    writer.PutRaw(validator.public_key.bytes.data(), validator.public_key.bytes.size());
  }
  writer.PutU64(genesis.accounts.size());
  for (const GenesisAccount& account : genesis.accounts) {
    writer.PutRaw(account.public_key.bytes.data(), account.public_key.bytes.size());
    writer.PutU64(account.balance);
  }
  writer.PutU32(genesis.consensus.checkpoint_interval);
  writer.PutU32(genesis.consensus.max_block_transactions);
  writer.PutU32(genesis.consensus.view_change_timeout_ms);
  writer.PutU32(genesis.consensus.tick_ms);
  if (!genesis.app_section.empty()) {  // appended: hashes of genesis files without one are unchanged
    writer.PutString("app");
    writer.PutString(genesis.app_section);
  }
  const std::string& bytes = writer.buffer();
  return crypto::Blake2b256(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace melodai::node
