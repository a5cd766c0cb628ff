// Metrics: both daemons' counters in the Prometheus text format, served on
// `--metrics ADDRESS` (host:port; off without it) by prometheus-cpp's
// Exposer (its own HTTP threads, GET /metrics).
//
// Theory of operation. The counters are read where they may be read, on the
// control thread: once a second the shell asks the program for them
// (Program::Metrics, the JSON `hnvctl counters` and `compartments` show) and
// Publish turns that into metric families (ToFamilies, below) kept under a
// mutex; a scrape (on an Exposer thread) copies the last ones. So a scrape
// never touches the dataplane, and what it sees is at most a second old.
//
// Names: hnv_port_{rx,tx}_{packets,bytes}_total{port}, hnv_port_{rx_missed,
// rx_errors,rx_nombuf,tx_errors}_total{port}, hnv_drops_total{reason},
// hnv_pipeline_<counter>_total (switched, routed, encapsulated, ...);
// hnv-gateway adds hnv_gateway_drops_total{reason},
// hnv_compartment_<counter>_{packets,bytes}_total{compartment},
// hnv_compartment_punts_total{compartment,reason},
// hnv_compartment_drops_total{compartment,reason}, hnv_compartments; both
// hnv_policy_generation and hnv_policy_apply_seconds (the last apply's
// duration: start, reload, hnvctl change).
//
// Thread: Start and Publish on the control thread; Collect on Exposer threads.
#pragma once

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

struct CivetCallbacks;  // civetweb's (CivetServer.h)

namespace hnv::daemon {

// The program's counters JSON ({"counters": ..., "compartments": [...],
// "policy": {"generation", "apply_seconds"}}) as metric families.
std::vector<prometheus::MetricFamily> ToFamilies(const nlohmann::json& metrics);

class Metrics {
 public:
  Metrics();
  ~Metrics();
  // Listens on `address` ("127.0.0.1:9464", "[::1]:9464"); false and why if it cannot.
  bool Start(const std::string& address, std::string* error);
  void Publish(const nlohmann::json& metrics);
  // The port it listens on (for ":0").
  int port() const;

 private:
  class Source final : public prometheus::Collectable {
   public:
    std::vector<prometheus::MetricFamily> Collect() const override;
    void Set(std::vector<prometheus::MetricFamily> f);

   private:
    mutable std::mutex mu_;
    std::vector<prometheus::MetricFamily> families_;
  };
  std::shared_ptr<Source> source_ = std::make_shared<Source>();
  std::unique_ptr<CivetCallbacks> callbacks_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

}  // namespace hnv::daemon
