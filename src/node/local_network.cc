// MelodAI — licensed under the Apache License 2.0.
// Local network layout: keys, genesis, configurations.
#include "node/local_network.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/bytes.h"
#include "core/file_util.h"
#include "crypto/hash.h"
#include "crypto/random_source.h"
#include "node/config.h"
#include "node/key_file.h"

namespace melodai::node {
namespace {

constexpr size_t kClientKeyFilesWritten = 4;

crypto::Ed25519KeyPair ValidatorKey(const std::filesystem::path& file) {
  if (auto existing = ReadKeyFile(file); existing.ok()) return std::move(existing).value();
  crypto::SystemRandomSource random;
  return crypto::Ed25519KeyPair::Generate(random);
}

core::Result<uint16_t> NextPort(const LocalNetworkOptions& options, uint16_t& next) {
  if (options.base_port == 0) return PickFreePort();
  if (next == 0) return core::InvalidArgumentError("local network: ran out of ports");
  return next++;
}

}  // namespace

crypto::Ed25519KeyPair LocalClientKey(uint64_t seed, uint64_t index) {
  core::ByteWriter writer;
  writer.PutString("melodai/local-client-key/v1");
  writer.PutU64(seed);
  writer.PutU64(index);
  const std::string& bytes = writer.buffer();
  const crypto::Digest32 digest =
      crypto::Blake2b256(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  return crypto::Ed25519KeyPair::FromSeed(std::span<const uint8_t, 32>(digest));
}

core::Result<uint16_t> PickFreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return core::UnavailableError("cannot create a socket to pick a port");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (!ok) return core::UnavailableError("cannot bind a free port on 127.0.0.1");
  return ntohs(address.sin_port);
}

core::Result<LocalNetwork> CreateLocalNetwork(const LocalNetworkOptions& options) {
  if (options.validators == 0) return core::InvalidArgumentError("local network: 0 validators");
  std::error_code error;
  std::filesystem::create_directories(options.folder, error);
  if (error) return core::IoError(fmt::format("cannot create {}: {}", options.folder.string(), error.message()));
  LocalNetwork network;
  network.genesis.chain_id = "melodai-local";
  network.genesis.timestamp_ms = 0;
  network.genesis.consensus = options.consensus;
  uint16_t next_port = options.base_port;
  std::vector<std::filesystem::path> key_files;
  for (size_t i = 0; i < options.validators; ++i) {
    const std::filesystem::path key_file = options.folder / fmt::format("validator{}.key", i);
    const crypto::Ed25519KeyPair key = ValidatorKey(key_file);
    MELODAI_RETURN_IF_ERROR(WriteKeyFile(key_file, key, /*overwrite=*/true));
    key_files.push_back(key_file);
    GenesisValidator validator;
    validator.public_key = key.public_key();
    MELODAI_ASSIGN_OR_RETURN(uint16_t peer_port, NextPort(options, next_port));
    MELODAI_ASSIGN_OR_RETURN(uint16_t client_port, NextPort(options, next_port));
    validator.address = {"127.0.0.1", peer_port};
    validator.client_address = {"127.0.0.1", client_port};
    network.genesis.validators.push_back(validator);
    uint16_t metrics_port = 0;
    if (options.metrics) {
      MELODAI_ASSIGN_OR_RETURN(metrics_port, NextPort(options, next_port));
    }
    network.metrics_addresses.push_back({"127.0.0.1", metrics_port});
  }
  for (size_t i = 0; i < options.client_accounts; ++i) {
    const crypto::Ed25519KeyPair key = LocalClientKey(options.seed, i);
    network.genesis.accounts.push_back({key.public_key(), options.client_balance});
    if (i < kClientKeyFilesWritten) {
      const std::filesystem::path file = options.folder / fmt::format("client{}.key", i);
      MELODAI_RETURN_IF_ERROR(WriteKeyFile(file, key, /*overwrite=*/true));
      network.client_key_files.push_back(file);
    }
  }
  network.genesis_file = options.folder / "genesis.json";
  MELODAI_RETURN_IF_ERROR(core::WriteFileAtomic(network.genesis_file, GenesisToJson(network.genesis)));
  for (size_t i = 0; i < options.validators; ++i) {
    NodeConfig config;
    config.validator_id = static_cast<uint32_t>(i);
    config.key_file = key_files[i].filename();
    config.genesis_file = network.genesis_file.filename();
    config.data_dir = fmt::format("data{}", i);
    config.metrics_address = network.metrics_addresses[i];
    const std::filesystem::path file = options.folder / fmt::format("node{}.toml", i);
    MELODAI_RETURN_IF_ERROR(core::WriteFileAtomic(file, NodeConfigToToml(config)));
    network.config_files.push_back(file);
    network.data_dirs.push_back(options.folder / config.data_dir);
  }
  return network;
}

}  // namespace melodai::node
