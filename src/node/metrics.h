// MelodAI — licensed under the Apache License 2.0.
// Prometheus-format metrics: a registry of gauges, counters and latency histograms (lock-free
// updates from any thread) and a small HTTP server (cpp-httplib, private to metrics.cc) that
// serves GET /metrics in the text exposition format.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "node/genesis.h"

namespace melodai::node {

class Gauge {
 public:
  void Set(int64_t value) { value_.store(value, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class Counter {
 public:
  void Add(uint64_t delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  // For counters mirrored from another component's monotonic total.
  void SetTotal(uint64_t total) { value_.store(total, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Fixed buckets in milliseconds (cumulative in the output, as Prometheus expects).
class LatencyHistogram {
 public:
  static constexpr std::array<double, 13> kBoundsMs = {1,   2,   5,    10,   20,   50,  100,
                                                       200, 500, 1000, 2000, 5000, 10000};
  void Observe(double milliseconds);
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  // Render helper: cumulative counts per bound, then +Inf.
  std::array<uint64_t, kBoundsMs.size() + 1> Cumulative() const;
  double sum_ms() const { return static_cast<double>(sum_us_.load()) / 1000.0; }

 private:
  std::array<std::atomic<uint64_t>, kBoundsMs.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_us_{0};
};

// Invariants: metrics are only added before Render() may run concurrently (during set-up);
// the returned references stay valid for the registry's lifetime (deque storage).
class MetricsRegistry {
 public:
  // REQUIRES: `name` is a valid Prometheus name, unique in this registry. Not thread-safe.
  Gauge& AddGauge(std::string name, std::string help);
  Counter& AddCounter(std::string name, std::string help);
  LatencyHistogram& AddHistogram(std::string name, std::string help);

  // The text exposition of every metric. Thread-safe after set-up.
  std::string Render() const;

 private:
  template <typename T>
  struct Entry {
    Entry(std::string entry_name, std::string entry_help)
        : name(std::move(entry_name)), help(std::move(entry_help)) {}
    std::string name;
    std::string help;
    T metric;
  };
  std::deque<Entry<Gauge>> gauges_;
  std::deque<Entry<Counter>> counters_;
  std::deque<Entry<LatencyHistogram>> histograms_;
};

// Serves `registry` on http://address/metrics from its own thread.
// Borrows `registry`, which must outlive the server.
class MetricsServer {
 public:
  // kUnavailable when the address cannot be bound. Port 0 picks a free port.
  static core::Result<std::unique_ptr<MetricsServer>> Start(const HostPort& address,
                                                            const MetricsRegistry& registry);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  uint16_t port() const;
  void Stop();

 private:
  struct Impl;
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace melodai::node
