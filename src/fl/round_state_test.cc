// MelodAI — licensed under the Apache License 2.0.
// The round state machine: arrivals, dropouts, stragglers, deadline, early close.
#include "fl/round_state.h"

#include <gtest/gtest.h>

namespace melodai::fl {
namespace {

RoundPlan Plan(double deadline_ms, uint32_t min_updates = 1, uint32_t max_updates = 0) {
  RoundPlan plan;
  plan.round = 4;
  plan.sampled = {2, 5, 8, 9};
  plan.deadline_ms = deadline_ms;
  plan.min_updates = min_updates;
  plan.max_updates = max_updates;
  return plan;
}

TEST(RoundStateTest, DeadlineSeparatesAcceptedFromStragglers) {
  RoundStateMachine machine(Plan(100.0, 2));
  EXPECT_TRUE(machine.OnUpdate(8, 10.0).ok());
  EXPECT_TRUE(machine.OnDropout(5, 20.0).ok());
  EXPECT_TRUE(machine.OnUpdate(2, 99.9).ok());
  EXPECT_EQ(machine.phase(), RoundPhase::kCollecting);
  // Client 9 arrives exactly at the deadline: too late (the deadline is exclusive).
  EXPECT_EQ(machine.OnUpdate(9, 100.0).code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(machine.closed());
  EXPECT_TRUE(machine.succeeded());
  EXPECT_DOUBLE_EQ(machine.close_ms(), 100.0);
  EXPECT_EQ(machine.Accepted(), (std::vector<ClientId>{2, 8}));
  EXPECT_EQ(machine.outcome(9), ClientOutcome::kStraggler);
  EXPECT_EQ(machine.outcome(5), ClientOutcome::kDropped);
  EXPECT_EQ(machine.accepted_count(), 2u);
  EXPECT_EQ(machine.dropped_count(), 1u);
  EXPECT_EQ(machine.straggler_count(), 1u);
}

TEST(RoundStateTest, TickClosesAtTheDeadlineAndTooFewUpdatesFail) {
  RoundStateMachine machine(Plan(50.0, 2));
  EXPECT_TRUE(machine.OnUpdate(5, 49.0).ok());
  machine.OnTick(60.0);
  EXPECT_TRUE(machine.closed());
  EXPECT_FALSE(machine.succeeded());  // One update, two needed.
  EXPECT_EQ(machine.straggler_count(), 3u);
  EXPECT_EQ(machine.OnDropout(2, 70.0).code(), core::StatusCode::kFailedPrecondition);
}

TEST(RoundStateTest, ClosesEarlyWhenEveryoneAnsweredOrTheCapIsReached) {
  RoundStateMachine all(Plan(1000.0));
  for (ClientId c : {2, 5, 8}) EXPECT_TRUE(all.OnUpdate(c, 1.0 * c).ok());
  EXPECT_TRUE(all.OnDropout(9, 12.0).ok());
  EXPECT_TRUE(all.closed());
  EXPECT_DOUBLE_EQ(all.close_ms(), 12.0);
  EXPECT_EQ(all.straggler_count(), 0u);

  RoundStateMachine capped(Plan(1000.0, 1, 2));
  EXPECT_TRUE(capped.OnUpdate(9, 1.0).ok());
  EXPECT_TRUE(capped.OnUpdate(2, 2.0).ok());
  EXPECT_TRUE(capped.closed());
  EXPECT_EQ(capped.OnUpdate(5, 3.0).code(), core::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(capped.Accepted(), (std::vector<ClientId>{2, 9}));
}

TEST(RoundStateTest, RejectsUnknownAndDuplicateClients) {
  RoundStateMachine machine(Plan(100.0));
  EXPECT_EQ(machine.OnUpdate(3, 1.0).code(), core::StatusCode::kNotFound);
  EXPECT_TRUE(machine.OnUpdate(2, 1.0).ok());
  EXPECT_EQ(machine.OnUpdate(2, 2.0).code(), core::StatusCode::kAlreadyExists);
  EXPECT_EQ(machine.OnDropout(2, 3.0).code(), core::StatusCode::kAlreadyExists);
  EXPECT_EQ(machine.accepted_count(), 1u);
}

TEST(RoundStateTest, LatencyModelIsSeededAndHeavyTailed) {
  LatencyModel model;
  model.base_ms = 100.0;
  model.per_example_ms = 1.0;
  model.lognormal_sigma = 0.5;
  model.dropout_probability = 0.2;
  core::Rng a(1);
  core::Rng b(1);
  int dropped = 0;
  double maximum = 0.0;
  for (int i = 0; i < 2000; ++i) {
    const ClientTiming x = SimulateClientTiming(model, 100, 2, a);
    const ClientTiming y = SimulateClientTiming(model, 100, 2, b);
    EXPECT_EQ(x.latency_ms, y.latency_ms);
    dropped += x.dropped ? 1 : 0;
    if (!x.dropped) maximum = std::max(maximum, x.latency_ms);
  }
  EXPECT_NEAR(dropped / 2000.0, 0.2, 0.03);
  EXPECT_GT(maximum, 2.0 * 300.0);  // Median work is 300 ms; the tail is well beyond twice that.
  model.dropout_probability = 1.5;
  EXPECT_FALSE(ValidateLatencyModel(model).ok());
}

}  // namespace
}  // namespace melodai::fl
