// MelodAI — licensed under the Apache License 2.0.
// The round state machine and the seeded latency model.
#include "fl/round_state.h"

#include <fmt/format.h>

#include <cmath>

namespace melodai::fl {

RoundStateMachine::RoundStateMachine(RoundPlan plan) : plan_(std::move(plan)) {
  MELODAI_CHECK_GE(plan_.min_updates, 1u);
  MELODAI_CHECK_GE(plan_.deadline_ms, 0.0);
  for (size_t i = 0; i < plan_.sampled.size(); ++i) {
    if (i > 0) MELODAI_CHECK_LT(plan_.sampled[i - 1], plan_.sampled[i]);
    outcomes_.emplace(plan_.sampled[i], ClientOutcome::kPending);
  }
  if (plan_.sampled.empty()) Close(0.0);
}

void RoundStateMachine::Advance(double now_ms) {
  MELODAI_CHECK_GE(now_ms, now_ms_);
  now_ms_ = now_ms;
  if (!closed() && now_ms >= plan_.deadline_ms) Close(plan_.deadline_ms);
}

void RoundStateMachine::Close(double now_ms) {
  MELODAI_CHECK(!closed());
  phase_ = RoundPhase::kClosed;
  close_ms_ = now_ms;
  for (auto& [client, outcome] : outcomes_) {
    if (outcome == ClientOutcome::kPending) {
      outcome = ClientOutcome::kStraggler;
      ++straggler_count_;
    }
  }
  MELODAI_CHECK_EQ(accepted_count_ + dropped_count_ + straggler_count_, outcomes_.size());
}

core::Status RoundStateMachine::OnUpdate(ClientId client, double now_ms) {
  Advance(now_ms);
  auto found = outcomes_.find(client);
  if (found == outcomes_.end()) {
    return core::NotFoundError(fmt::format("client {} is not in round {}", client, plan_.round));
  }
  if (found->second == ClientOutcome::kStraggler) {
    return core::DeadlineExceededError(
        fmt::format("update of client {} arrived after round {} closed", client, plan_.round));
  }
  if (found->second != ClientOutcome::kPending) {
    return core::AlreadyExistsError(fmt::format("client {} already answered", client));
  }
  MELODAI_CHECK(!closed());
  found->second = ClientOutcome::kAccepted;
  ++accepted_count_;
  ++answered_;
  if (answered_ == outcomes_.size() ||
      (plan_.max_updates != 0 && accepted_count_ >= plan_.max_updates)) {
    Close(now_ms);
  }
  return core::Status::Ok();
}

core::Status RoundStateMachine::OnDropout(ClientId client, double now_ms) {
  Advance(now_ms);
  auto found = outcomes_.find(client);
  if (found == outcomes_.end()) {
    return core::NotFoundError(fmt::format("client {} is not in round {}", client, plan_.round));
  }
  if (closed()) return core::FailedPreconditionError(fmt::format("round {} is closed", plan_.round));
  if (found->second != ClientOutcome::kPending) {
    return core::AlreadyExistsError(fmt::format("client {} already answered", client));
  }
  found->second = ClientOutcome::kDropped;
  ++dropped_count_;
  ++answered_;
  if (answered_ == outcomes_.size()) Close(now_ms);
  return core::Status::Ok();
}

void RoundStateMachine::OnTick(double now_ms) { Advance(now_ms); }

ClientOutcome RoundStateMachine::outcome(ClientId client) const {
  auto found = outcomes_.find(client);
  MELODAI_CHECK(found != outcomes_.end());
  return found->second;
}

std::vector<ClientId> RoundStateMachine::Accepted() const {
  std::vector<ClientId> accepted;
  accepted.reserve(accepted_count_);
  for (const auto& [client, outcome] : outcomes_) {
    if (outcome == ClientOutcome::kAccepted) accepted.push_back(client);
  }
  return accepted;
}

core::Status ValidateLatencyModel(const LatencyModel& model) {
  if (!(model.base_ms >= 0.0) || !(model.per_example_ms >= 0.0) || !(model.lognormal_sigma >= 0.0)) {
    return core::InvalidArgumentError("latency model times and sigma must be non-negative");
  }
  if (!(model.dropout_probability >= 0.0 && model.dropout_probability <= 1.0)) {
    return core::InvalidArgumentError(
        fmt::format("dropout probability {} is outside [0, 1]", model.dropout_probability));
  }
  return core::Status::Ok();
}

ClientTiming SimulateClientTiming(const LatencyModel& model, uint64_t examples, uint32_t epochs,
                                  core::Rng& rng) {
  ClientTiming timing;
  const double work_ms =
      model.base_ms + model.per_example_ms * static_cast<double>(examples) * static_cast<double>(epochs);
  timing.latency_ms = work_ms * std::exp(model.lognormal_sigma * rng.Normal());
  timing.dropped = rng.Bernoulli(model.dropout_probability);
  if (timing.dropped) timing.latency_ms *= rng.UniformDouble();  // Fails part way through.
  return timing;
}

}  // namespace melodai::fl
