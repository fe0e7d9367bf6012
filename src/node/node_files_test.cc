// MelodAI — licensed under the Apache License 2.0.
// Tests of the node's files: key files (round trip, permissions, tampering), genesis JSON
// (round trip, hash stability and sensitivity, validation errors that name the field) and
// the TOML configuration (paths, defaults, syntax errors with line numbers).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

#include <fstream>

#include "core/file_util.h"
#include "crypto/random_source.h"
#include "node/config.h"
#include "node/genesis.h"
#include "node/key_file.h"
#include "node/local_network.h"
#include "testing/test_paths.h"

namespace melodai::node {
namespace {

crypto::Ed25519KeyPair TestKey(uint8_t fill) {
  std::array<uint8_t, 32> seed{};
  seed.fill(fill);
  return crypto::Ed25519KeyPair::FromSeed(seed);
}

TEST(KeyFileTest, RoundTripsWithOwnerOnlyPermissions) {
  const auto dir = testing::MakeTempDir("node_keys");
  crypto::DeterministicRandomSource random(5);
  const crypto::Ed25519KeyPair key = crypto::Ed25519KeyPair::Generate(random);
  ASSERT_TRUE(WriteKeyFile(dir / "v.key", key).ok());
  struct stat info {};
  ASSERT_EQ(::stat((dir / "v.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  auto read = ReadKeyFile(dir / "v.key");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->public_key(), key.public_key());
  EXPECT_EQ(WriteKeyFile(dir / "v.key", key).code(), core::StatusCode::kAlreadyExists);
}

TEST(KeyFileTest, TamperedOrMalformedFilesAreDataLoss) {
  const auto dir = testing::MakeTempDir("node_keys_bad");
  const std::string other = PublicKeyToHex(TestKey(2).public_key());
  std::ofstream(dir / "mismatch.key")
      << R"({"type":"ed25519","public_key":")" << other << R"(","seed":")"
      << std::string(64, '1') << "\"}";
  auto mismatch = ReadKeyFile(dir / "mismatch.key");
  EXPECT_EQ(mismatch.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(mismatch.status().message().find("public_key"), std::string::npos);
  std::ofstream(dir / "short.key") << R"({"type":"ed25519","seed":"abcd"})";
  EXPECT_EQ(ReadKeyFile(dir / "short.key").status().code(), core::StatusCode::kDataLoss);
  std::ofstream(dir / "junk.key") << "not json";
  EXPECT_EQ(ReadKeyFile(dir / "junk.key").status().code(), core::StatusCode::kDataLoss);
  EXPECT_EQ(ReadKeyFile(dir / "absent.key").status().code(), core::StatusCode::kNotFound);
}

Genesis SampleGenesis() {
  Genesis genesis;
  genesis.chain_id = "test-chain";
  genesis.timestamp_ms = 1700000000000;
  for (uint8_t i = 0; i < 4; ++i) {
    genesis.validators.push_back({TestKey(i + 10).public_key(),
                                  {"127.0.0.1", static_cast<uint16_t>(7000 + i)},
                                  {"127.0.0.1", static_cast<uint16_t>(7100 + i)}});
  }
  genesis.accounts.push_back({TestKey(50).public_key(), 1000000});
  genesis.consensus.checkpoint_interval = 16;
  return genesis;
}

TEST(GenesisTest, RoundTripsAndHashIgnoresOnlyAddresses) {
  const Genesis genesis = SampleGenesis();
  auto parsed = ParseGenesis(GenesisToJson(genesis), "genesis.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->validators.size(), 4u);
  EXPECT_EQ(parsed->max_faulty(), 1u);
  EXPECT_EQ(parsed->validators[3].client_address.port, 7103);
  EXPECT_EQ(parsed->accounts[0].balance, 1000000u);
  EXPECT_EQ(parsed->consensus.checkpoint_interval, 16u);
  EXPECT_EQ(GenesisHash(*parsed), GenesisHash(genesis));

  Genesis moved = genesis;
  moved.validators[0].address.port = 9999;
  EXPECT_EQ(GenesisHash(moved), GenesisHash(genesis));
  Genesis richer = genesis;
  richer.accounts[0].balance += 1;
  EXPECT_NE(GenesisHash(richer), GenesisHash(genesis));
  Genesis other_chain = genesis;
  other_chain.chain_id = "other";
  EXPECT_NE(GenesisHash(other_chain), GenesisHash(genesis));
}

TEST(GenesisTest, TheAppSectionIsPartOfTheNetworkIdentity) {
  const Genesis plain = SampleGenesis();
  const crypto::Digest32 plain_hash = GenesisHash(plain);
  nlohmann::json json = nlohmann::json::parse(GenesisToJson(plain));
  json["app"] = {{"payout_period_days", 30}, {"committee_seats", 7}};
  auto with_app = ParseGenesis(json.dump(), "genesis.json");
  ASSERT_TRUE(with_app.ok()) << with_app.status().ToString();
  EXPECT_NE(GenesisHash(*with_app), plain_hash);
  // Key order and spacing do not matter; the content does.
  auto reordered = ParseGenesis(GenesisToJson(*with_app), "genesis.json");
  ASSERT_TRUE(reordered.ok());
  EXPECT_EQ(GenesisHash(*reordered), GenesisHash(*with_app));
  json["app"]["committee_seats"] = 9;
  auto other_app = ParseGenesis(json.dump(), "genesis.json");
  ASSERT_TRUE(other_app.ok());
  EXPECT_NE(GenesisHash(*other_app), GenesisHash(*with_app));
  json["app"] = 3;
  EXPECT_EQ(ParseGenesis(json.dump(), "genesis.json").status().code(), core::StatusCode::kDataLoss);
}

TEST(GenesisTest, InvalidContentNamesTheField) {
  auto missing = ParseGenesis(R"({"chain_id":"x","timestamp_ms":1})", "g.json");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(missing.status().message().find("validators"), std::string::npos);

  std::string text = GenesisToJson(SampleGenesis());
  const std::string key = PublicKeyToHex(SampleGenesis().validators[0].public_key);
  std::string bad_key = text;
  bad_key.replace(bad_key.find(key), 4, "zzzz");
  auto bad = ParseGenesis(bad_key, "g.json");
  EXPECT_EQ(bad.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("validators[0]"), std::string::npos);

  Genesis duplicate = SampleGenesis();
  duplicate.validators[1].public_key = duplicate.validators[0].public_key;
  EXPECT_EQ(ParseGenesis(GenesisToJson(duplicate), "g.json").status().code(),
            core::StatusCode::kInvalidArgument);

  std::string bad_port = text;
  bad_port.replace(bad_port.find("127.0.0.1:7001"), 14, "127.0.0.1:70x1");
  EXPECT_EQ(ParseGenesis(bad_port, "g.json").status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseGenesis("[1,2]", "g.json").status().code(), core::StatusCode::kDataLoss);
}

TEST(NodeConfigTest, ParsesResolvesAndRoundTrips) {
  const std::string text = R"(
validator_id = 2
key_file = "keys/v2.key"
genesis_file = "/etc/melodai/genesis.json"
data_dir = "data2"
metrics_address = "127.0.0.1:9102"
)";
  auto config = ParseNodeConfig(text, "node.toml", "/srv/node");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->validator_id, 2u);
  EXPECT_EQ(config->key_file, std::filesystem::path("/srv/node/keys/v2.key"));
  EXPECT_EQ(config->genesis_file, std::filesystem::path("/etc/melodai/genesis.json"));
  EXPECT_EQ(config->metrics_address.port, 9102);
  EXPECT_EQ(config->max_inbox_messages, 100000u);
  auto again = ParseNodeConfig(NodeConfigToToml(*config), "again.toml", "/elsewhere");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->data_dir, config->data_dir);
}

TEST(NodeConfigTest, ErrorsNameLineOrField) {
  auto syntax = ParseNodeConfig("validator_id = 1\nkey_file = \"unterminated\n", "n.toml", "/");
  EXPECT_EQ(syntax.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(syntax.status().message().find("n.toml:2"), std::string::npos)
      << syntax.status().ToString();
  auto type = ParseNodeConfig("validator_id = \"one\"\n", "n.toml", "/");
  EXPECT_NE(type.status().message().find("validator_id"), std::string::npos);
  auto missing = ParseNodeConfig("validator_id = 1\nkey_file = \"k\"\ngenesis_file = \"g\"\n",
                                 "n.toml", "/");
  EXPECT_NE(missing.status().message().find("data_dir"), std::string::npos);
}

}  // namespace
}  // namespace melodai::node

namespace melodai::node {
namespace {

TEST(LocalNetworkTest, WritesAConsistentLayoutAndKeepsKeysOnRerun) {
  const auto dir = testing::MakeTempDir("node_local_network");
  LocalNetworkOptions options;
  options.folder = dir;
  options.validators = 4;
  options.client_accounts = 6;
  options.seed = 9;
  auto network = CreateLocalNetwork(options);
  ASSERT_TRUE(network.ok()) << network.status().ToString();
  auto genesis = ReadGenesisFile(network->genesis_file);
  ASSERT_TRUE(genesis.ok()) << genesis.status().ToString();
  EXPECT_EQ(genesis->validators.size(), 4u);
  EXPECT_EQ(genesis->accounts.size(), 6u);
  EXPECT_EQ(genesis->accounts[5].public_key, LocalClientKey(9, 5).public_key());
  EXPECT_NE(LocalClientKey(9, 5).public_key(), LocalClientKey(10, 5).public_key());
  for (uint32_t i = 0; i < 4; ++i) {
    auto config = ReadNodeConfig(network->config_files[i]);
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_EQ(config->validator_id, i);
    auto key = ReadKeyFile(config->key_file);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(key->public_key(), genesis->validators[i].public_key);
    EXPECT_EQ(config->data_dir, network->data_dirs[i]);
  }
  auto again = CreateLocalNetwork(options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(GenesisHash(again->genesis), GenesisHash(*genesis));  // Same keys: same network.
}

}  // namespace
}  // namespace melodai::node
