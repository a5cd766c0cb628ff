// The "charon" and "frr" compartment services (vpn_services.h).
#include "s2s/compartment/vpn_services.h"

#include <sys/stat.h>

#include <memory>
#include <string>

#include "daemon/log.h"
#include "s2s/charon.h"
#include "s2s/frr.h"

namespace hnv::s2s {
namespace {

using gateway::CompartmentService;
using gateway::CompartmentSpec;
using gateway::ServiceContext;
using gateway::ServiceStatus;
using gateway::StopReason;

// "running" / "restarting (...)" of one daemon's status.
std::string DaemonState(const Json& d) {
  std::string s = d.value("state", "?");
  if (s != "running" && d.contains("last_exit")) s += " (" + d["last_exit"].get<std::string>() + ")";
  return s;
}

std::string CharonSummary(const Json& j) {
  std::string s;
  if (j.contains("connections")) {
    for (const Json& k : j["connections"])
      s += (s.empty() ? "" : ", ") + k.value("name", "?") + " " + k.value("state", "?");
  }
  if (j.contains("point_to_site"))
    s += (s.empty() ? "" : "; ") + std::to_string(j["point_to_site"]["clients"].size()) +
         " point-to-site clients";
  const std::string daemon = DaemonState(j["daemon"]);
  if (daemon != "running") s = "charon " + daemon + (s.empty() ? "" : "; " + s);
  return s;
}

std::string FrrSummary(const Json& j) {
  std::string s = "AS " + std::to_string(j.value("asn", 0u)) + ", " +
                  std::to_string(j.value("configured_neighbors", 0u)) +
                  " neighbours configured (hnvctl vpn show: their state)";
  for (const char* d : {"zebra", "bgpd"}) {
    const std::string state = DaemonState(j["daemons"][d]);
    if (state != "running") s += std::string("; ") + d + " " + state;
  }
  return s;
}

// One s2s service (CharonService or FrrService) as a compartment service.
template <typename Impl>
class VpnService final : public CompartmentService {
 public:
  VpnService(const char* name, std::shared_ptr<StatusRefresher> refresher)
      : name_(name), refresher_(std::move(refresher)) {}

  const char* name() const override { return name_; }

  bool Start(ServiceContext& ctx, std::string* error) override {
    if (ctx.netns() == nullptr) {
      *error = "needs the namespace service before it";
      return false;
    }
    if (!ctx.MakeStateDir(error)) return false;
    // zebra and bgpd run as frr: they must pass through the compartment's
    // directory (0700 by default) to their own (owned by frr, 0750).
    if (chmod(ctx.state_dir().c_str(), 0711) != 0) {
      *error = "chmod 0711 " + ctx.state_dir() + " failed";
      return false;
    }
    vpn_ = ctx.spec().vpn;
    impl_ = std::make_unique<Impl>(
        ServiceEnv{ctx.spec().name, ctx.netns()->name(), ctx.state_dir()}, refresher_);
    if (impl_->Start(ctx.spec().vpn, Clock::now(), error)) return true;
    std::string e;
    if (!impl_->Stop(&e)) Log("compartment %s: %s: %s", ctx.spec().name.c_str(), name_, e.c_str());
    impl_.reset();
    return false;
  }

  bool Update(ServiceContext& /*ctx*/, const CompartmentSpec& next, std::string* error) override {
    if (!impl_->Update(next.vpn, Clock::now(), error)) return false;
    vpn_ = next.vpn;
    return true;
  }

  bool Poll(ServiceContext& /*ctx*/, std::string* error) override {
    impl_->Poll(Clock::now());
    return Running(error);
  }

  ServiceStatus Status(const ServiceContext& /*ctx*/) const override {
    const Json j = CheapStatus();
    ServiceStatus s;
    s.summary = Summary(j);
    s.detail = nlohmann::json::parse(j.dump());
    return s;
  }

  nlohmann::json Inspect(const ServiceContext& /*ctx*/) const override {
    return nlohmann::json::parse(impl_->Status(Clock::now()).dump());
  }

  void Stop(ServiceContext& ctx, StopReason why) override {
    if (!impl_) return;
    if (why == StopReason::kDetach) {
      impl_->Detach();
    } else if (std::string e; !impl_->Stop(&e)) {
      Log("compartment %s: %s: %s", ctx.spec().name.c_str(), name_, e.c_str());
    }
    impl_.reset();
  }

 private:
  bool Running(std::string* error) const;
  Json CheapStatus() const;
  static std::string Summary(const Json& j);

  const char* name_;
  std::shared_ptr<StatusRefresher> refresher_;  // the gateway's, shared by every tenant
  TenantVpn vpn_;  // as last applied
  std::unique_ptr<Impl> impl_;
};

template <>
bool VpnService<CharonService>::Running(std::string* error) const {
  if (impl_->daemon().running()) return true;
  *error = "charon is not running; it is restarted after its backoff";
  return false;
}

template <>
bool VpnService<FrrService>::Running(std::string* error) const {
  for (const Daemon* d : {&impl_->zebra(), &impl_->bgpd()}) {
    if (d->running()) continue;
    *error = d->name() + " is not running; it is restarted after its backoff";
    return false;
  }
  return true;
}

// From charon's latest answer (the refresher's): its whole status, at once.
template <>
Json VpnService<CharonService>::CheapStatus() const {
  return impl_->Status(Clock::now());
}

// bgpd's state needs vtysh (a process, slow on a loaded machine): only the
// daemons and the configuration here; Inspect has the neighbours' state.
template <>
Json VpnService<FrrService>::CheapStatus() const {
  const auto now = Clock::now();
  Json j;
  j["daemons"] = {{"zebra", impl_->zebra().Status(now)}, {"bgpd", impl_->bgpd().Status(now)}};
  j["asn"] = vpn_.bgp.asn;
  j["configured_neighbors"] = vpn_.bgp.neighbors.size();
  return j;
}

template <>
std::string VpnService<CharonService>::Summary(const Json& j) {
  return CharonSummary(j);
}

template <>
std::string VpnService<FrrService>::Summary(const Json& j) {
  return FrrSummary(j);
}

}  // namespace

std::vector<gateway::ServiceFactory> VpnServices() {
  // One refresher (its few workers) for the gateway's every tenant.
  auto refresher = std::make_shared<StatusRefresher>();
  return {
      [refresher](const CompartmentSpec& spec) -> std::unique_ptr<CompartmentService> {
        if (!spec.vpn.NeedsCharon()) return nullptr;
        return std::make_unique<VpnService<CharonService>>("charon", refresher);
      },
      [refresher](const CompartmentSpec& spec) -> std::unique_ptr<CompartmentService> {
        if (!spec.vpn.NeedsFrr()) return nullptr;
        return std::make_unique<VpnService<FrrService>>("frr", refresher);
      },
  };
}

}  // namespace hnv::s2s
