// Metrics: the counters JSON as Prometheus families, served over HTTP on
// loopback by prometheus-cpp, and the scrape passes Prometheus' own
// `promtool check metrics` (the prometheus package; scripts/install-deps.sh).
#include "daemon/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

namespace hnv::daemon {
namespace {

using nlohmann::json;

const json kSample = json::parse(R"({
  "counters": {
    "ports": [{"index": 0, "name": "uplink", "rx_packets": 10, "rx_bytes": 1000, "tx_packets": 12,
               "tx_bytes": 1500, "rx_missed": 1, "rx_errors": 0, "rx_nombuf": 0, "tx_errors": 0},
              {"index": 64, "name": "compartment contoso", "rx_packets": 5, "rx_bytes": 500,
               "tx_packets": 3, "tx_bytes": 300}],
    "drops": {"no-lookup-record": 2, "vsid-mismatch": 1},
    "gateway_drops": {"no-compartment": 4},
    "encapsulated": 7, "routed": 0},
  "compartments": [{"name": "contoso", "counters": {
    "to_vm": {"packets": 9, "bytes": 900}, "punted_total": {"packets": 2, "bytes": 120},
    "punted": {"no-route": 2, "local": 0}, "dropped": {"ttl-expired": 1}}}],
  "policy": {"generation": 3, "apply_seconds": 0.25}})");

// GET /metrics on 127.0.0.1:port; the body.
std::string Scrape(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "";
  }
  const std::string req = "GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string resp;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof(buf))) > 0;) resp.append(buf, static_cast<size_t>(n));
  close(fd);
  const size_t body = resp.find("\r\n\r\n");
  return body == std::string::npos ? "" : resp.substr(body + 4);
}

TEST(Metrics, FamiliesCarryTheCounters) {
  const auto f = ToFamilies(kSample);
  auto find = [&](const std::string& name) -> const prometheus::MetricFamily* {
    for (const auto& x : f)
      if (x.name == name) return &x;
    return nullptr;
  };
  const auto* rx = find("hnv_port_rx_packets_total");
  ASSERT_NE(rx, nullptr);
  ASSERT_EQ(rx->metric.size(), 2u);
  EXPECT_EQ(rx->metric[1].label[0].value, "compartment contoso");
  EXPECT_EQ(rx->metric[1].counter.value, 5);
  EXPECT_EQ(find("hnv_port_rx_missed_total")->metric.size(), 1u) << "only ports that report it";
  EXPECT_EQ(find("hnv_drops_total")->metric.size(), 2u);
  EXPECT_EQ(find("hnv_pipeline_encapsulated_total")->metric[0].counter.value, 7);
  EXPECT_EQ(find("hnv_gateway_drops_total")->metric[0].counter.value, 4);
  EXPECT_EQ(find("hnv_compartment_to_vm_packets_total")->metric[0].counter.value, 9);
  EXPECT_EQ(find("hnv_compartment_punts_total")->metric.size(), 2u);
  EXPECT_EQ(find("hnv_compartments")->metric[0].gauge.value, 1);
  EXPECT_EQ(find("hnv_policy_generation")->metric[0].gauge.value, 3);
  EXPECT_EQ(find("hnv_policy_apply_seconds")->metric[0].gauge.value, 0.25);
}

TEST(Metrics, ServedOnLoopbackAndPromtoolAcceptsThem) {
  Metrics m;
  std::string error;
  ASSERT_TRUE(m.Start("127.0.0.1:0", &error)) << error;
  ASSERT_NE(m.port(), 0);
  m.Publish(kSample);
  const std::string body = Scrape(m.port());
  EXPECT_NE(body.find("hnv_port_rx_packets_total{port=\"uplink\"} 10"), std::string::npos) << body;
  EXPECT_NE(body.find("hnv_compartment_punts_total{compartment=\"contoso\",reason=\"no-route\"} 2"),
            std::string::npos)
      << body;
  const std::string path = ::testing::TempDir() + "/hnv_metrics.txt";
  std::ofstream(path) << body;
  FILE* p = popen(("promtool check metrics < " + path + " 2>&1").c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = pclose(p);
  EXPECT_EQ(rc, 0) << "promtool check metrics:\n" << out << "\n" << body;
  // Published again, a scrape sees the new values.
  json next = kSample;
  next["counters"]["ports"][0]["rx_packets"] = 11;
  m.Publish(next);
  EXPECT_NE(Scrape(m.port()).find("hnv_port_rx_packets_total{port=\"uplink\"} 11"), std::string::npos);
}

TEST(Metrics, AnAddressInUseIsAClearError) {
  Metrics a, b;
  std::string error;
  ASSERT_TRUE(a.Start("127.0.0.1:0", &error)) << error;
  EXPECT_FALSE(b.Start("127.0.0.1:" + std::to_string(a.port()), &error));
  EXPECT_NE(error.find("cannot listen"), std::string::npos) << error;
}

}  // namespace
}  // namespace hnv::daemon
