#include "daemon/metrics.h"

#include <CivetServer.h>

#include <exception>
#include <map>

#include "daemon/log.h"

namespace hnv::daemon {

using nlohmann::json;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

namespace {

double Num(const json& v) { return v.is_number() ? v.get<double>() : 0; }

// Families by name, in the order first seen.
class Builder {
 public:
  void Add(const std::string& name, MetricType type, const std::string& help,
           std::vector<ClientMetric::Label> labels, double value) {
    auto it = index_.find(name);
    if (it == index_.end()) {
      it = index_.emplace(name, families_.size()).first;
      families_.push_back(MetricFamily{name, help, type, {}});
    }
    ClientMetric m;
    m.label = std::move(labels);
    if (type == MetricType::Counter) m.counter.value = value;
    else m.gauge.value = value;
    families_[it->second].metric.push_back(std::move(m));
  }
  std::vector<MetricFamily> Take() { return std::move(families_); }

 private:
  std::map<std::string, size_t> index_;
  std::vector<MetricFamily> families_;
};

// "no-lookup-record" -> "no_lookup_record" (a metric name's part).
std::string NamePart(std::string s) {
  for (char& c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
  return s;
}

void Counters(const json& c, Builder& b) {
  if (!c.is_object()) return;
  const json none = json::object();
  const json& ports = c.contains("ports") ? c["ports"] : json::array();
  for (const json& p : ports) {
    const std::vector<ClientMetric::Label> port{{"port", p.value("name", "")}};
    for (const char* f : {"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "rx_missed",
                          "rx_errors", "rx_nombuf", "tx_errors"})
      if (p.contains(f))
        b.Add(std::string("hnv_port_") + f + "_total", MetricType::Counter,
              std::string("Port counter ") + f + " (hnvctl counters)", port, Num(p[f]));
  }
  const json& drops = c.contains("drops") ? c["drops"] : none;
  for (const auto& [reason, n] : drops.items())
    b.Add("hnv_drops_total", MetricType::Counter, "Frames the HNV pipeline dropped, by reason",
          {{"reason", reason}}, Num(n));
  const json& gw_drops = c.contains("gateway_drops") ? c["gateway_drops"] : none;
  for (const auto& [reason, n] : gw_drops.items())
    b.Add("hnv_gateway_drops_total", MetricType::Counter,
          "Frames hnv-gateway dropped before any compartment, by reason", {{"reason", reason}}, Num(n));
  for (const auto& [key, v] : c.items())
    if (v.is_number())
      b.Add("hnv_pipeline_" + NamePart(key) + "_total", MetricType::Counter,
            "HNV pipeline counter " + key + " (hnvctl counters)", {}, Num(v));
}

void Compartments(const json& list, Builder& b) {
  if (!list.is_array()) return;
  b.Add("hnv_compartments", MetricType::Gauge, "Tenant compartments on this gateway", {},
        static_cast<double>(list.size()));
  for (const json& comp : list) {
    const std::string name = comp.value("name", "");
    static const json kNone = json::object();
    const json& c = comp.contains("counters") ? comp["counters"] : kNone;
    for (const auto& [key, v] : c.items()) {
      if (key == "punted" || key == "dropped") {
        const std::string family = key == "punted" ? "hnv_compartment_punts_total" : "hnv_compartment_drops_total";
        for (const auto& [reason, n] : v.items())
          b.Add(family, MetricType::Counter,
                std::string("Frames a compartment's fast path ") + (key == "punted" ? "punted to its namespace" : "dropped") + ", by reason",
                {{"compartment", name}, {"reason", reason}}, Num(n));
        continue;
      }
      if (!v.is_object()) continue;
      for (const char* unit : {"packets", "bytes"})
        if (v.contains(unit))
          b.Add("hnv_compartment_" + NamePart(key) + "_" + unit + "_total", MetricType::Counter,
                "Compartment counter " + key + " (hnvctl compartment)", {{"compartment", name}}, Num(v[unit]));
    }
  }
}

}  // namespace

std::vector<MetricFamily> ToFamilies(const json& metrics) {
  Builder b;
  if (!metrics.is_object()) return {};
  if (metrics.contains("counters")) Counters(metrics["counters"], b);
  if (metrics.contains("compartments")) Compartments(metrics["compartments"], b);
  if (metrics.contains("policy")) {
    const json& p = metrics["policy"];
    b.Add("hnv_policy_generation", MetricType::Gauge,
          "Generation of the policy the workers use (each applied change adds one)", {},
          Num(p.value("generation", json(0))));
    b.Add("hnv_policy_apply_seconds", MetricType::Gauge,
          "How long the last policy apply took (start, reload or hnvctl change)", {},
          Num(p.value("apply_seconds", json(0))));
  }
  return b.Take();
}

std::vector<MetricFamily> Metrics::Source::Collect() const {
  std::lock_guard<std::mutex> lock(mu_);
  return families_;
}

void Metrics::Source::Set(std::vector<MetricFamily> f) {
  std::lock_guard<std::mutex> lock(mu_);
  families_ = std::move(f);
}

Metrics::Metrics() = default;

Metrics::~Metrics() {
  if (exposer_) exposer_->RemoveCollectable(source_);
}

bool Metrics::Start(const std::string& address, std::string* error) {
  // civetweb says why it cannot listen only through this callback.
  callbacks_ = std::make_unique<CivetCallbacks>();
  callbacks_->log_message = [](const mg_connection*, const char* message) {
    Log("metrics: %s", message);
    return 1;
  };
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, 1, callbacks_.get());
  } catch (const std::exception& e) {
    *error = "--metrics " + address + ": cannot listen: " + e.what();
    return false;
  }
  exposer_->RegisterCollectable(source_);
  return true;
}

void Metrics::Publish(const json& metrics) { source_->Set(ToFamilies(metrics)); }

int Metrics::port() const {
  if (!exposer_) return 0;
  const std::vector<int> ports = exposer_->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace hnv::daemon
