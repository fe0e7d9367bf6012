// MelodAI — licensed under the Apache License 2.0.
// Metrics registry rendering and the cpp-httplib /metrics server.
#include "node/metrics.h"

#include <fmt/format.h>
#include <httplib.h>

#include <thread>

namespace melodai::node {

void LatencyHistogram::Observe(double milliseconds) {
  if (!(milliseconds >= 0)) milliseconds = 0;  // Also maps NaN to 0.
  size_t index = 0;
  while (index < kBoundsMs.size() && milliseconds > kBoundsMs[index]) ++index;
  buckets_[index].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<uint64_t>(milliseconds * 1000.0), std::memory_order_relaxed);
}

std::array<uint64_t, LatencyHistogram::kBoundsMs.size() + 1> LatencyHistogram::Cumulative()
    const {
  std::array<uint64_t, kBoundsMs.size() + 1> result{};
  uint64_t running = 0;
  for (size_t i = 0; i < result.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    result[i] = running;
  }
  return result;
}

Gauge& MetricsRegistry::AddGauge(std::string name, std::string help) {
  return gauges_.emplace_back(std::move(name), std::move(help)).metric;
}

Counter& MetricsRegistry::AddCounter(std::string name, std::string help) {
  return counters_.emplace_back(std::move(name), std::move(help)).metric;
}

LatencyHistogram& MetricsRegistry::AddHistogram(std::string name, std::string help) {
  return histograms_.emplace_back(std::move(name), std::move(help)).metric;
}

std::string MetricsRegistry::Render() const {
  std::string out;
  for (const auto& entry : gauges_) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", entry.name, entry.help,
                       entry.metric.value());
  }
  for (const auto& entry : counters_) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", entry.name, entry.help,
                       entry.metric.value());
  }
  for (const auto& entry : histograms_) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} histogram\n", entry.name, entry.help);
    const auto cumulative = entry.metric.Cumulative();
    for (size_t i = 0; i < LatencyHistogram::kBoundsMs.size(); ++i) {
      out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", entry.name,
                         LatencyHistogram::kBoundsMs[i], cumulative[i]);
    }
    out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", entry.name, cumulative.back());
    out += fmt::format("{}_sum {}\n{}_count {}\n", entry.name, entry.metric.sum_ms(), entry.name,
                       cumulative.back());
  }
  return out;
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  int port = 0;
};

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() { Stop(); }

core::Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    const HostPort& address, const MetricsRegistry& registry) {
  auto impl = std::make_unique<Impl>();
  impl->server.Get("/metrics", [&registry](const httplib::Request&, httplib::Response& response) {
    response.set_content(registry.Render(), "text/plain; version=0.0.4");
  });
  impl->port = address.port == 0 ? impl->server.bind_to_any_port(address.host)
                                 : (impl->server.bind_to_port(address.host, address.port)
                                        ? address.port
                                        : -1);
  if (impl->port <= 0) {
    return core::UnavailableError(
        fmt::format("metrics: cannot listen on {}", FormatHostPort(address)));
  }
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] { raw->server.listen_after_bind(); });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

uint16_t MetricsServer::port() const { return static_cast<uint16_t>(impl_->port); }

void MetricsServer::Stop() {
  if (impl_ == nullptr || !impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace melodai::node
