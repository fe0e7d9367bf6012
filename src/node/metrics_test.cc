// MelodAI — licensed under the Apache License 2.0.
// Tests of the metrics registry (Prometheus text format, cumulative histogram buckets) and of
// the /metrics HTTP server on a loopback port.
#include "node/metrics.h"

#include <gtest/gtest.h>
#include <httplib.h>

namespace melodai::node {
namespace {

TEST(MetricsTest, RendersGaugesCountersAndCumulativeHistograms) {
  MetricsRegistry registry;
  Gauge& height = registry.AddGauge("melodai_test_height", "Height.");
  Counter& dropped = registry.AddCounter("melodai_test_dropped_total", "Drops.");
  LatencyHistogram& latency = registry.AddHistogram("melodai_test_latency_ms", "Latency.");
  height.Set(42);
  dropped.Add(3);
  latency.Observe(0.5);
  latency.Observe(7);
  latency.Observe(100000);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("# TYPE melodai_test_height gauge\nmelodai_test_height 42\n"), std::string::npos);
  EXPECT_NE(text.find("melodai_test_dropped_total 3\n"), std::string::npos);
  EXPECT_NE(text.find("melodai_test_latency_ms_bucket{le=\"1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("melodai_test_latency_ms_bucket{le=\"10\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("melodai_test_latency_ms_bucket{le=\"10000\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("melodai_test_latency_ms_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("melodai_test_latency_ms_count 3\n"), std::string::npos);
}

TEST(MetricsTest, ServesMetricsOverHttp) {
  MetricsRegistry registry;
  registry.AddGauge("melodai_test_view", "View.").Set(7);
  auto server = MetricsServer::Start({"127.0.0.1", 0}, registry);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ASSERT_GT((*server)->port(), 0);
  httplib::Client client("127.0.0.1", (*server)->port());
  auto response = client.Get("/metrics");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->body.find("melodai_test_view 7"), std::string::npos);
  auto missing = client.Get("/nothing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  (*server)->Stop();
}

}  // namespace
}  // namespace melodai::node
