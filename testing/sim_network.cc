// MelodAI — licensed under the Apache License 2.0.
// SimNetwork scheduling and fault injection.
#include "testing/sim_network.h"

#include "core/check.h"

namespace melodai::testing {

SimNetwork::SimNetwork(uint32_t endpoint_count, SimNetworkOptions options, uint64_t seed)
    : endpoint_count_(endpoint_count),
      options_(options),
      rng_(seed),
      group_(endpoint_count, 0),
      isolated_(endpoint_count, false) {
  MELODAI_CHECK_GT(endpoint_count, 0u);
  MELODAI_CHECK_LE(options.min_delay_ms, options.max_delay_ms);
}

bool SimNetwork::CanReach(uint32_t from, uint32_t to) const {
  MELODAI_CHECK_LT(from, endpoint_count_);
  MELODAI_CHECK_LT(to, endpoint_count_);
  if (isolated_[from] || isolated_[to]) return false;
  return group_[from] == group_[to];
}

void SimNetwork::Enqueue(uint32_t from, uint32_t to, std::string bytes, int64_t now_ms) {
  int64_t delay = options_.min_delay_ms +
                  static_cast<int64_t>(rng_.Uniform(
                      static_cast<uint64_t>(options_.max_delay_ms - options_.min_delay_ms + 1)));
  if (options_.reorder_probability > 0 && rng_.UniformDouble() < options_.reorder_probability) {
    delay += options_.max_delay_ms;
  }
  queue_.push(Entry{now_ms + delay, order_++, from, to, std::move(bytes)});
}

void SimNetwork::Send(uint32_t from, uint32_t to, std::string bytes, int64_t now_ms) {
  ++sent_;
  if (!CanReach(from, to) || queue_.size() >= options_.max_queued_messages ||
      (options_.loss_probability > 0 && rng_.UniformDouble() < options_.loss_probability)) {
    ++dropped_;
    return;
  }
  if (options_.duplicate_probability > 0 && rng_.UniformDouble() < options_.duplicate_probability) {
    ++duplicated_;
    Enqueue(from, to, bytes, now_ms);
  }
  Enqueue(from, to, std::move(bytes), now_ms);
}

void SimNetwork::Partition(const std::set<uint32_t>& group) {
  for (uint32_t endpoint = 0; endpoint < endpoint_count_; ++endpoint) {
    group_[endpoint] = group.contains(endpoint) ? 1 : 0;
  }
}

void SimNetwork::Isolate(uint32_t endpoint, bool isolated) {
  MELODAI_CHECK_LT(endpoint, endpoint_count_);
  isolated_[endpoint] = isolated;
}

void SimNetwork::Heal() {
  std::fill(group_.begin(), group_.end(), 0);
  std::fill(isolated_.begin(), isolated_.end(), false);
  options_.loss_probability = 0;
  options_.duplicate_probability = 0;
  options_.reorder_probability = 0;
}

std::optional<SimDelivery> SimNetwork::PopDue(int64_t until_ms) {
  while (!queue_.empty() && queue_.top().deliver_ms <= until_ms) {
    Entry entry = queue_.top();
    queue_.pop();
    if (!CanReach(entry.from, entry.to)) {
      ++dropped_;
      continue;
    }
    return SimDelivery{entry.deliver_ms, entry.from, entry.to, std::move(entry.bytes)};
  }
  return std::nullopt;
}

std::optional<int64_t> SimNetwork::NextDeliveryMs() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.top().deliver_ms;
}

}  // namespace melodai::testing
