// MelodAI — licensed under the Apache License 2.0.
// CSV / JSON output and the progress line.
#include "fl/report.h"

#include <gtest/gtest.h>

namespace melodai::fl {
namespace {

SimulationResult TwoRounds() {
  SimulationResult result;
  RoundRecord first;
  first.round = 1;
  first.sampled = 10;
  first.accepted = 9;
  first.stragglers = 1;
  first.applied = true;
  first.train_loss = 0.5;
  first.bytes_up = 900;
  first.bytes_up_per_client = 100;
  RoundRecord second = first;
  second.round = 2;
  second.applied = false;
  second.note = "1 updates arrived, 2 needed";
  second.evaluated = true;
  second.eval.loss = 0.25;
  second.eval.ndcg_at_10 = 0.125;
  result.rounds = {first, second};
  result.personalization.clients = 3;
  result.personalization.mean_gain = 0.01;
  return result;
}

TEST(ReportTest, CsvHasOneLinePerRoundAndEmptyCellsForMissingMetrics) {
  const std::string csv = RoundsToCsv(TwoRounds().rounds);
  size_t lines = 0;
  for (char c : csv) lines += c == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(csv.rfind("round,sampled,accepted,", 0), 0u);
  EXPECT_NE(csv.find("\n1,10,9,1,0,0,0,1,,0.5,0,,,,,,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n2,10,9,1,0,0,0,0,\"1 updates arrived, 2 needed\",0.5,"), std::string::npos);
}

TEST(ReportTest, JsonCarriesConfigRoundsAndNulls) {
  SimulationConfig config;
  config.aggregator.kind = AggregatorKind::kKrum;
  const std::string json = SimulationToJson(TwoRounds(), config);
  EXPECT_NE(json.find("\"aggregator\":\"krum\""), std::string::npos);
  EXPECT_NE(json.find("\"ndcg_at_10\":0.125"), std::string::npos);
  EXPECT_NE(json.find("\"eval_loss\":null"), std::string::npos);  // Round 1 was not evaluated.
  EXPECT_NE(json.find("\"note\":\"1 updates arrived, 2 needed\""), std::string::npos);
  EXPECT_NE(json.find("\"personalization\":{\"clients\":3"), std::string::npos);
}

TEST(ReportTest, ProgressLineSummarisesTheRound) {
  const SimulationResult result = TwoRounds();
  const std::string line = FormatRoundProgress(result.rounds[1], 5);
  EXPECT_NE(line.find("round 2/5: 10 sampled, 9 in time (1 late, 0 dropped)"), std::string::npos) << line;
  EXPECT_NE(line.find("skipped"), std::string::npos);
  EXPECT_NE(line.find("ndcg@10 0.1250"), std::string::npos);
}

}  // namespace
}  // namespace melodai::fl
