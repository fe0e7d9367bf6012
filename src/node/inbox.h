// MelodAI — licensed under the Apache License 2.0.
// The bounded queue between the network threads (validator transport, client port) and the
// consensus thread. Producers never block: a full inbox drops the event and counts it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "core/check.h"
#include "net/client_server.h"
#include "net/transport.h"

namespace melodai::node {

struct InboxEvent {
  enum class Kind : uint8_t { kPeerMessage, kClientMessage };
  Kind kind = Kind::kPeerMessage;
  net::PeerId peer = 0;                    // kPeerMessage: the authenticated sender.
  net::ClientConnectionId connection = 0;  // kClientMessage: where to answer.
  std::string payload;
};

// Invariants: events_.size() <= capacity_. Thread-safe.
class Inbox {
 public:
  // REQUIRES: capacity > 0.
  explicit Inbox(size_t capacity) : capacity_(capacity) { MELODAI_CHECK_GT(capacity, 0u); }

  // Enqueues `event`; false (and counted in dropped()) when full.
  bool Push(InboxEvent event) {
    {
      std::lock_guard lock(mutex_);
      if (events_.size() >= capacity_) {
        ++dropped_;
        return false;
      }
      events_.push_back(std::move(event));
    }
    ready_.notify_one();
    return true;
  }

  // Moves every queued event into `out` (cleared first), waiting up to `timeout` for one.
  void PopAll(std::vector<InboxEvent>& out, std::chrono::milliseconds timeout) {
    out.clear();
    std::unique_lock lock(mutex_);
    ready_.wait_for(lock, timeout, [this] { return !events_.empty(); });
    out.assign(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
    events_.clear();
  }

  uint64_t dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<InboxEvent> events_;  // GUARDED_BY(mutex_)
  uint64_t dropped_ = 0;           // GUARDED_BY(mutex_)
};

}  // namespace melodai::node
