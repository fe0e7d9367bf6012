// MelodAI — licensed under the Apache License 2.0.
// Key file reading and writing (JSON, mode 0600).
#include "node/key_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/file_util.h"
#include "crypto/hash.h"

namespace melodai::node {

std::string PublicKeyToHex(const crypto::Ed25519PublicKey& key) {
  return crypto::ToHex(key.bytes);
}

core::Result<crypto::Ed25519PublicKey> PublicKeyFromHex(std::string_view hex) {
  MELODAI_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, crypto::FromHex(hex));
  if (bytes.size() != 32) {
    return core::InvalidArgumentError(
        fmt::format("public key: {} bytes where 32 were expected", bytes.size()));
  }
  crypto::Ed25519PublicKey key;
  std::copy(bytes.begin(), bytes.end(), key.bytes.begin());
  return key;
}

core::Status WriteKeyFile(const std::filesystem::path& path, const crypto::Ed25519KeyPair& key,
                          bool overwrite) {
  if (!overwrite && std::filesystem::exists(path)) {
    return core::AlreadyExistsError(fmt::format("key file {} already exists", path.string()));
  }
  const std::array<uint8_t, 32> seed = key.seed();
  nlohmann::json json;
  json["type"] = "ed25519";
  json["public_key"] = PublicKeyToHex(key.public_key());
  json["seed"] = crypto::ToHex(seed);
  std::string text = json.dump(2) + "\n";
  MELODAI_RETURN_IF_ERROR(core::WriteFileAtomic(path, text));
  // Wipe the serialized secret from memory; the file itself is owner-only.
  std::fill(text.begin(), text.end(), '\0');
  if (::chmod(path.c_str(), 0600) != 0) {
    return core::IoError(fmt::format("cannot restrict permissions of {}", path.string()));
  }
  return core::Status::Ok();
}

core::Result<crypto::Ed25519KeyPair> ReadKeyFile(const std::filesystem::path& path) {
  MELODAI_ASSIGN_OR_RETURN(std::string text, core::ReadFile(path));
  const std::string where = "key file " + path.string();
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  std::fill(text.begin(), text.end(), '\0');
  if (json.is_discarded() || !json.is_object()) {
    return core::DataLossError(where + ": not a JSON object");
  }
  if (!json.contains("type") || json["type"] != "ed25519") {
    return core::DataLossError(where + ": field 'type' must be \"ed25519\"");
  }
  if (!json.contains("seed") || !json["seed"].is_string()) {
    return core::DataLossError(where + ": missing string field 'seed'");
  }
  auto seed = crypto::FromHex(json["seed"].get<std::string>());
  if (!seed.ok() || seed->size() != 32) {
    return core::DataLossError(where + ": field 'seed' must be 64 hex digits");
  }
  std::array<uint8_t, 32> seed_bytes{};
  std::copy(seed->begin(), seed->end(), seed_bytes.begin());
  std::fill(seed->begin(), seed->end(), 0);
  crypto::Ed25519KeyPair key = crypto::Ed25519KeyPair::FromSeed(seed_bytes);
  seed_bytes.fill(0);
  if (json.contains("public_key")) {
    if (!json["public_key"].is_string() ||
        json["public_key"].get<std::string>() != PublicKeyToHex(key.public_key())) {
      return core::DataLossError(where + ": field 'public_key' does not match the seed");
    }
  }
  return key;
}

}  // namespace melodai::node
