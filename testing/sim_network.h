// MelodAI — licensed under the Apache License 2.0.
// SimNetwork: a deterministic simulated message network between numbered endpoints with
// seeded delay, loss, duplication, reordering (random delays) and partitions. Time is the
// simulation's milliseconds; the caller pops deliveries in time order.
#pragma once

#include <cstdint>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "core/rng.h"

namespace melodai::testing {

struct SimNetworkOptions {
  int64_t min_delay_ms = 1;
  int64_t max_delay_ms = 10;
  double loss_probability = 0.0;
  double duplicate_probability = 0.0;
  // Probability that a message is held back by an extra max_delay_ms (reordering).
  double reorder_probability = 0.0;
  size_t max_queued_messages = 1'000'000;  // Beyond this, sends are dropped.
};

struct SimDelivery {
  int64_t deliver_ms = 0;
  uint32_t from = 0;
  uint32_t to = 0;
  std::string bytes;
};

// Invariants: deliveries pop in (deliver_ms, send order) order, so a seed fixes the whole
// schedule; a message between endpoints in different partition groups is dropped at send and
// at delivery. Not thread-safe.
class SimNetwork {
 public:
  SimNetwork(uint32_t endpoint_count, SimNetworkOptions options, uint64_t seed);

  // Schedules `bytes` from `from` to `to` at time now_ms (may drop or duplicate it).
  void Send(uint32_t from, uint32_t to, std::string bytes, int64_t now_ms);

  // Splits the endpoints: each endpoint in `group` can reach only endpoints of its own group
  // (everyone not listed forms another group). Replaces any earlier partition.
  void Partition(const std::set<uint32_t>& group);
  // Isolates one endpoint from all others (and keeps other partitions).
  void Isolate(uint32_t endpoint, bool isolated);
  // Removes partitions and stops loss, duplication and reordering.
  void Heal();
  void set_options(const SimNetworkOptions& options) { options_ = options; }
  const SimNetworkOptions& options() const { return options_; }

  // The next delivery due at or before until_ms, if any.
  std::optional<SimDelivery> PopDue(int64_t until_ms);
  // Time of the next queued delivery, if any.
  std::optional<int64_t> NextDeliveryMs() const;

  bool CanReach(uint32_t from, uint32_t to) const;
  uint64_t sent() const { return sent_; }
  uint64_t dropped() const { return dropped_; }
  uint64_t duplicated() const { return duplicated_; }
  size_t queued() const { return queue_.size(); }

 private:
  struct Entry {
    int64_t deliver_ms;
    uint64_t order;
    uint32_t from;
    uint32_t to;
    std::string bytes;
    bool operator>(const Entry& other) const {
      return deliver_ms != other.deliver_ms ? deliver_ms > other.deliver_ms : order > other.order;
    }
  };
  void Enqueue(uint32_t from, uint32_t to, std::string bytes, int64_t now_ms);

  uint32_t endpoint_count_;
  SimNetworkOptions options_;
  core::Rng rng_;
  std::vector<uint32_t> group_;     // Partition group of each endpoint.
  std::vector<bool> isolated_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
  uint64_t order_ = 0;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
  uint64_t duplicated_ = 0;
};

}  // namespace melodai::testing
