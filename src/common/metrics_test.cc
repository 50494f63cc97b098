#include "common/metrics.h"

#include <gtest/gtest.h>

namespace pincer::metrics {
namespace {

TEST(Metrics, RendersCountersWithLabels) {
  Registry r;
  auto& f = r.AddCounter("http_requests_total", "Requests.", {"method", "route", "status"});
  f.With({"GET", "/v1/agents/:id", "200"}).Inc();
  f.With({"GET", "/v1/agents/:id", "200"}).Inc();
  f.With({"POST", "/v1/agents", "400"}).Inc();
  std::string out = r.Render();
  EXPECT_NE(out.find("# TYPE http_requests_total counter"), std::string::npos);
  EXPECT_NE(
      out.find("http_requests_total{method=\"GET\",route=\"/v1/agents/:id\",status=\"200\"} 2\n"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find("status=\"400\"} 1\n"), std::string::npos);
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.AddHistogram("d_seconds", "Durations.", {"route"}, {0.01, 0.1, 1});
  auto& child = h.With({"/x"});
  child.Observe(0.005);
  child.Observe(0.05);
  child.Observe(0.05);
  child.Observe(5);
  std::string out = r.Render();
  EXPECT_NE(out.find("d_seconds_bucket{route=\"/x\",le=\"0.01\"} 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("d_seconds_bucket{route=\"/x\",le=\"0.1\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("d_seconds_bucket{route=\"/x\",le=\"1\"} 3\n"), std::string::npos);
  EXPECT_NE(out.find("d_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(out.find("d_seconds_count{route=\"/x\"} 4\n"), std::string::npos);
}

TEST(Metrics, EscapesLabelValues) {
  Registry r;
  r.AddCounter("c", "C.", {"k"}).With({"a\"b\\c\n"}).Inc();
  EXPECT_NE(r.Render().find("c{k=\"a\\\"b\\\\c\\n\"} 1"), std::string::npos);
}

TEST(Metrics, ProcessMetricsReportRealNumbers) {
  std::string out;
  AppendProcessMetrics(out, 0);
  EXPECT_NE(out.find("process_resident_memory_bytes "), std::string::npos);
  EXPECT_EQ(out.find("process_resident_memory_bytes 0\n"), std::string::npos);
  EXPECT_NE(out.find("process_open_fds "), std::string::npos);
}

}  // namespace
}  // namespace pincer::metrics
