// MelodAI — licensed under the Apache License 2.0.
// The `melodai` binary as a user meets it: bad input of every kind gives one clear error
// line naming the file and position and a non-zero exit, never a crash; the main commands
// succeed on the real and the generated data.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/file_util.h"
#include "testing/test_paths.h"

namespace melodai {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs the binary with its cache in `cache_dir` (a scratch folder unless given).
CliRun RunMelodai(const std::string& arguments, const std::filesystem::path& cache_dir = {}) {
  static const std::filesystem::path scratch_cache = testing::MakeTempDir("cli_default_cache");
  const std::string command = "MELODAI_CACHE_DIR=" + (cache_dir.empty() ? scratch_cache : cache_dir).string() +
                              " " + MELODAI_BINARY + " " + arguments + " 2>&1";
  CliRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t got;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.output.append(buffer.data(), got);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

// A folder holding one slice file with `content`.
std::filesystem::path SliceFolder(const std::string& name, const std::string& content) {
  const auto dir = testing::MakeTempDir(name);
  std::ofstream(dir / "mpd.slice.0-999.json") << content;
  return dir;
}

constexpr const char* kGoodSlice = R"({"info": {"slice": "0-999"}, "playlists": [
  {"name": "a", "pid": 1, "tracks": [
    {"track_uri": "spotify:track:1", "track_name": "x", "artist_name": "y"},
    {"track_uri": "spotify:track:2", "track_name": "x2", "artist_name": "y"}]}]})";

void ExpectCleanFailure(const CliRun& run, const std::string& must_mention) {
  EXPECT_NE(run.exit_code, 0) << run.output;
  EXPECT_LT(run.exit_code, 128) << "crashed: " << run.output;
  EXPECT_NE(run.output.find("melodai: error:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(must_mention), std::string::npos) << run.output;
}

TEST(CliTest, TruncatedSliceNamesFileAndPosition) {
  const std::string good = kGoodSlice;
  const auto dir = SliceFolder("cli_truncated", good.substr(0, good.size() / 2));
  CliRun run = RunMelodai("data stats --no-cache --data " + dir.string());
  ExpectCleanFailure(run, "mpd.slice.0-999.json:");
}

TEST(CliTest, InvalidJsonNamesFileAndPosition) {
  const auto dir = SliceFolder("cli_invalid", R"({"playlists": [ {"name": "a", "pid": 1, "tracks": [ }]})");
  ExpectCleanFailure(RunMelodai("data stats --no-cache --data " + dir.string()), "mpd.slice.0-999.json:");
}

TEST(CliTest, WrongFieldTypeNamesTheField) {
  const auto dir = SliceFolder(
      "cli_wrong_type", R"({"playlists": [{"name": "a", "pid": 1, "tracks": [{"track_uri": 42}]}]})");
  ExpectCleanFailure(RunMelodai("data stats --no-cache --data " + dir.string()), "track_uri");
}

TEST(CliTest, EmptyAndMissingFolders) {
  const auto empty = testing::MakeTempDir("cli_empty");
  ExpectCleanFailure(RunMelodai("data stats --no-cache --data " + empty.string()), empty.string());
  ExpectCleanFailure(RunMelodai("data stats --data " + (empty / "nope").string()), "nope");
}

TEST(CliTest, CsvMissingColumnAndNonNumericWeight) {
  const auto dir = testing::MakeTempDir("cli_csv");
  std::ofstream(dir / "missing.csv") << "user,item,weight\n1,10,2.0\n2\n";
  std::ofstream(dir / "weight.csv") << "user,item,weight\n1,10,2.0\n2,11,lots\n";
  ExpectCleanFailure(RunMelodai("data stats --no-cache --data " + (dir / "missing.csv").string()), "missing.csv:3");
  ExpectCleanFailure(RunMelodai("data stats --no-cache --data " + (dir / "weight.csv").string()), "weight.csv:3");
}

TEST(CliTest, AbsurdParametersAreRejected) {
  const auto dir = SliceFolder("cli_params", kGoodSlice);
  ExpectCleanFailure(RunMelodai("eval --no-cache --data " + dir.string() + " --model nonsense"), "nonsense");
  ExpectCleanFailure(RunMelodai("eval --no-cache --data " + dir.string() + " --test-fraction 3"), "fraction");
  ExpectCleanFailure(RunMelodai("eval --no-cache --data " + dir.string() + " --model als --param factors=-3"),
                     "factors");
}

TEST(CliTest, StatsOnRealSampleAndCacheReload) {
  const auto cache = testing::MakeTempDir("cli_cache");
  const std::string data = (testing::SharedDataDir() / "mpd-fullschema-sample").string();
  CliRun first = RunMelodai("data stats --data " + data, cache);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("1448"), std::string::npos) << first.output;
  CliRun cached = RunMelodai("data stats --data " + data, cache);
  ASSERT_EQ(cached.exit_code, 0) << cached.output;
  EXPECT_NE(cached.output.find("from cache"), std::string::npos) << cached.output;
}

TEST(CliTest, GenerateThenEvalEveryBaseline) {
  const auto dir = testing::MakeTempDir("cli_world");
  CliRun generate = RunMelodai("data generate --out " + (dir / "world").string() +
                            " --playlists 400 --tracks 3000 --artists 600 --seed 5");
  ASSERT_EQ(generate.exit_code, 0) << generate.output;
  CliRun eval = RunMelodai("eval --no-cache --data " + (dir / "world").string() + " --model all --threads 2 --json " +
                        (dir / "report.json").string());
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  for (const char* model : {"pop", "itemknn", "userknn", "als", "bpr"}) {
    EXPECT_NE(eval.output.find(model), std::string::npos) << eval.output;
  }
  auto json = core::ReadFile(dir / "report.json");
  ASSERT_TRUE(json.ok());
  EXPECT_NE(json->find("\"ndcg@10\""), std::string::npos);
}

}  // namespace
}  // namespace melodai
