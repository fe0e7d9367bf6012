// MelodAI — licensed under the Apache License 2.0.
// Goal: the ledger survives kill -9 of its primary with real processes, sockets and RocksDB.
// Method: create keys and a genesis with the `melodai` CLI, start 4 `melodai node start`
// processes on 127.0.0.1, submit transfers with `melodai tx transfer` (which waits for f+1
// matching signed replies), SIGKILL the primary, check that a view change happens and
// transfers still commit, restart the killed validator, wait for it to catch up, stop every
// node and compare the 4 stores offline with `melodai node inspect`: same height, chain and
// state root, and every confirmed transaction present.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "testing/test_paths.h"

namespace melodai {
namespace {

constexpr int kValidators = 4;

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout only; stderr goes to the test log.
};

std::string Quote(const std::string& argument) {
  std::string quoted = "'";
  for (char c : argument) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

CommandResult RunMelodai(const std::vector<std::string>& arguments) {
  std::string command = Quote(MELODAI_BINARY) + " --log-level warn";
  for (const std::string& argument : arguments) command += " " + Quote(argument);
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t read = 0;
  while ((read = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, read);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

pid_t StartNode(const std::filesystem::path& config, const std::filesystem::path& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::FILE* out = std::freopen(log.c_str(), "a", stdout);
    std::FILE* err = std::freopen(log.c_str(), "a", stderr);
    if (out == nullptr || err == nullptr) ::_exit(126);
    ::execl(MELODAI_BINARY, MELODAI_BINARY, "--log-level", "info", "node", "start", "--config",
            config.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Status JSON of validator `id`, or null when it does not answer.
nlohmann::json Status(const std::filesystem::path& genesis, int id) {
  const CommandResult result = RunMelodai({"node", "status", "--genesis", genesis.string(),
                                           "--validator", std::to_string(id), "--timeout-ms", "2000"});
  if (result.exit_code != 0) return nullptr;
  return nlohmann::json::parse(result.output, nullptr, false);
}

bool WaitFor(const std::function<bool()>& condition, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return condition();
}

// Submits `count` transfers and returns the hashes confirmed by f+1 validators.
std::vector<std::string> Transfer(const std::filesystem::path& dir, int count) {
  const CommandResult result = RunMelodai(
      {"tx", "transfer", "--genesis", (dir / "genesis.json").string(), "--key",
       (dir / "client.key").string(), "--to-key", (dir / "friend.key").string(), "--amount", "3",
       "--count", std::to_string(count), "--timeout-ms", "90000"});
  EXPECT_EQ(result.exit_code, 0) << result.output;
  std::vector<std::string> hashes;
  std::istringstream lines(result.output);
  for (std::string line; std::getline(lines, line);) {
    const nlohmann::json json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_object() && json.contains("transaction")) {
      EXPECT_EQ(json["code"], 0) << line;
      hashes.push_back(json["transaction"]);
    }
  }
  EXPECT_EQ(hashes.size(), static_cast<size_t>(count)) << result.output;
  return hashes;
}

class LedgerProcessTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (pid_t pid : pids_) {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  }

  // with_app: the genesis gets an "app" section (the MelodAI application) whose four grant
  // categories all go to the client key, instead of plain genesis accounts.
  void Layout(bool with_app = false) {
    dir_ = testing::MakeTempDir("ledger_process");
    std::vector<std::string> genesis = {"genesis", "--out", (dir_ / "genesis.json").string(),
                                        "--chain-id", "process-test", "--checkpoint-interval", "8",
                                        "--view-change-timeout-ms", "1000"};
    for (int i = 0; i < kValidators; ++i) {
      const std::string key = (dir_ / ("validator" + std::to_string(i) + ".key")).string();
      ASSERT_EQ(RunMelodai({"keys", "new", "--out", key}).exit_code, 0);
      genesis.insert(genesis.end(), {"--validator-key", key, "--address",
                                     "127.0.0.1:" + std::to_string(FreePort()), "--client-address",
                                     "127.0.0.1:" + std::to_string(FreePort())});
      std::ofstream(dir_ / ("node" + std::to_string(i) + ".toml"))
          << "validator_id = " << i << "\nkey_file = \"validator" << i
          << ".key\"\ngenesis_file = \"genesis.json\"\ndata_dir = \"data" << i << "\"\n";
    }
    const CommandResult client = RunMelodai({"keys", "new", "--out", (dir_ / "client.key").string()});
    ASSERT_EQ(client.exit_code, 0);
    ASSERT_EQ(RunMelodai({"keys", "new", "--out", (dir_ / "friend.key").string()}).exit_code, 0);
    client_key_ = client.output.substr(0, client.output.find('\n'));
    if (!with_app) genesis.insert(genesis.end(), {"--account", client_key_ + ":1000000"});
    ASSERT_EQ(RunMelodai(genesis).exit_code, 0);
    if (with_app) {
      std::ifstream in(dir_ / "genesis.json");
      nlohmann::json json = nlohmann::json::parse(in);
      // 1e9 MELAI with 9 decimals; team 10%, VC 10%, liquidity 7%, airdrop 2%.
      const auto grant = [&](uint64_t amount) {
        return nlohmann::json::array({{{"public_key", client_key_}, {"amount", amount}}});
      };
      json["app"] = {{"allocations",
                      {{"team", grant(100'000'000'000'000'000ULL)},
                       {"vc", grant(100'000'000'000'000'000ULL)},
                       {"liquidity", grant(70'000'000'000'000'000ULL)},
                       {"airdrop", grant(20'000'000'000'000'000ULL)}}}};
      std::ofstream(dir_ / "genesis.json") << json.dump(2);
    }
  }

  void Start(int id) {
    pids_[id] = StartNode(dir_ / ("node" + std::to_string(id) + ".toml"),
                          dir_ / ("node" + std::to_string(id) + ".log"));
    ASSERT_GT(pids_[id], 0);
  }

  std::filesystem::path dir_;
  std::string client_key_;
  std::vector<pid_t> pids_ = std::vector<pid_t>(kValidators, 0);
};

TEST_F(LedgerProcessTest, SurvivesKillOfThePrimaryAndConverges) {
  ASSERT_NO_FATAL_FAILURE(Layout());
  const std::filesystem::path genesis = dir_ / "genesis.json";
  for (int i = 0; i < kValidators; ++i) ASSERT_NO_FATAL_FAILURE(Start(i));
  ASSERT_TRUE(WaitFor([&] {
    for (int i = 0; i < kValidators; ++i) {
      if (Status(genesis, i).is_null()) return false;
    }
    return true;
  }, std::chrono::seconds(30))) << "validators did not start; logs in " << dir_;

  std::vector<std::string> confirmed = Transfer(dir_, 20);
  const nlohmann::json before = Status(genesis, 1);
  ASSERT_FALSE(before.is_null());
  const int primary = static_cast<int>(before["view"].get<uint64_t>() % kValidators);
  ::kill(pids_[primary], SIGKILL);
  ::waitpid(pids_[primary], nullptr, 0);
  pids_[primary] = 0;

  for (const std::string& hash : Transfer(dir_, 20)) confirmed.push_back(hash);
  const int survivor = (primary + 1) % kValidators;
  const nlohmann::json after = Status(genesis, survivor);
  ASSERT_FALSE(after.is_null());
  EXPECT_GT(after["view"].get<uint64_t>(), before["view"].get<uint64_t>()) << after.dump();

  ASSERT_NO_FATAL_FAILURE(Start(primary));
  for (const std::string& hash : Transfer(dir_, 10)) confirmed.push_back(hash);
  uint64_t final_height = 0;
  ASSERT_TRUE(WaitFor([&] {
    std::set<uint64_t> heights;
    for (int i = 0; i < kValidators; ++i) {
      const nlohmann::json status = Status(genesis, i);
      if (status.is_null()) return false;
      heights.insert(status["height"].get<uint64_t>());
    }
    final_height = *heights.begin();
    return heights.size() == 1;
  }, std::chrono::seconds(90))) << "the restarted validator did not catch up; logs in " << dir_;

  for (int i = 0; i < kValidators; ++i) {
    ::kill(pids_[i], SIGTERM);
    int status = 0;
    ::waitpid(pids_[i], &status, 0);
    pids_[i] = 0;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "validator " << i;
  }
  std::vector<nlohmann::json> summaries;
  for (int i = 0; i < kValidators; ++i) {
    const CommandResult inspect = RunMelodai(
        {"node", "inspect", "--transactions", "--config", (dir_ / ("node" + std::to_string(i) + ".toml")).string()});
    ASSERT_EQ(inspect.exit_code, 0) << "validator " << i;
    summaries.push_back(nlohmann::json::parse(inspect.output));
  }
  for (int i = 0; i < kValidators; ++i) {
    SCOPED_TRACE("validator " + std::to_string(i));
    EXPECT_EQ(summaries[i]["height"], final_height);
    EXPECT_EQ(summaries[i]["chain_digest"], summaries[0]["chain_digest"]);
    EXPECT_EQ(summaries[i]["last_block_hash"], summaries[0]["last_block_hash"]);
    EXPECT_EQ(summaries[i]["state_root"], summaries[0]["state_root"]);
    const std::set<std::string> stored(summaries[i]["transactions"].begin(),
                                       summaries[i]["transactions"].end());
    for (const std::string& hash : confirmed) EXPECT_TRUE(stored.contains(hash)) << hash;
  }
  EXPECT_EQ(confirmed.size(), 50u);
}

// The node runs the MelodAI application when the genesis has an "app" section: transfers pay
// the fee into the fee pool, and queries answer from the replicated state on every validator.
TEST_F(LedgerProcessTest, RunsTheMelodaiApplication) {
  ASSERT_NO_FATAL_FAILURE(Layout(/*with_app=*/true));
  const std::filesystem::path genesis = dir_ / "genesis.json";
  for (int i = 0; i < kValidators; ++i) ASSERT_NO_FATAL_FAILURE(Start(i));
  ASSERT_TRUE(WaitFor([&] {
    for (int i = 0; i < kValidators; ++i) {
      if (Status(genesis, i).is_null()) return false;
    }
    return true;
  }, std::chrono::seconds(30))) << "validators did not start; logs in " << dir_;
  EXPECT_EQ(Transfer(dir_, 3).size(), 3u);
  const CommandResult friend_key = RunMelodai({"keys", "show", "--key", (dir_ / "friend.key").string()});
  const std::string friend_hex = friend_key.output.substr(0, friend_key.output.find('\n'));
  const CommandResult balance =
      RunMelodai({"query", "--genesis", genesis.string(), "balance/" + friend_hex, "--all"});
  ASSERT_EQ(balance.exit_code, 0) << balance.output;
  // Every validator that answers says the same: 3 transfers of 3 base units ("<id>: 9").
  std::istringstream lines(balance.output);
  int answers = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    EXPECT_EQ(line.substr(line.find(": ") + 2), "9") << balance.output;
    ++answers;
  }
  EXPECT_GE(answers, 2) << balance.output;  // at least f + 1
  const CommandResult supply = RunMelodai({"query", "--genesis", genesis.string(), "supply"});
  ASSERT_EQ(supply.exit_code, 0) << supply.output;
  EXPECT_NE(supply.output.find("fee"), std::string::npos) << supply.output;
  for (int i = 0; i < kValidators; ++i) {
    ::kill(pids_[i], SIGTERM);
    ::waitpid(pids_[i], nullptr, 0);
    pids_[i] = 0;
  }
}

}  // namespace
}  // namespace melodai
