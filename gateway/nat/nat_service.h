// NatService "nat": a compartment's NAT and load balancers (the tenant
// file's nat: and load_balancers:, config/README.md), as a compartment
// service (gateway/compartment/service.h) that installs the features of
// nat_feature.h in the compartment's fast path and runs the backends'
// health checks from its namespace.
//
// Theory of operation.
//  - Start: compiles NatRules (the NAT's addresses, internal prefixes,
//    static NAT, port forwards; the compartment's own addresses mark pool
//    addresses whose unsolicited inbound traffic is the namespace's) and
//    LbRules (every backend healthy until its checks say otherwise), sizes
//    the per-worker tables (NatWorkers, nat_feature.h) and installs the two
//    features (GatewayTables::SetFeatures). A HealthChecker thread enters the
//    namespace and checks the backends of the load balancers that have a
//    health check.
//  - Update (hnvctl apply): a tenant whose nat: and load_balancers: did not
//    change is not touched. Otherwise new rules are compiled and published
//    with new features; the per-worker NAPT state is kept when its shape is
//    unchanged (pool addresses, port range, limits), so sessions of rules
//    that stay keep flowing, and made anew otherwise (its sessions end).
//    Static NAT and port forwards keep no state: a removed one ends at
//    once. The load balancers' connection tables are kept while the total
//    of max_connections is unchanged (a connection keeps its backend across
//    pool changes; a removed VIP's connections end, its frames pass), and
//    LbRules reuses the Maglev table of every VIP whose inputs are the same.
//  - The NAT's external addresses (pool, static, port forwards, VIPs) that
//    are not an interface's own are added to the namespace's external
//    interface on whose subnet they are, as /32 (nodad), so that its kernel
//    answers ARP for them; frames to them are the features' before the route
//    decision, and what the features pass goes to that kernel (a local
//    address). They are removed with the service or when a rule drops them.
//  - Poll: when a backend's health changed (the checker's thread sets a
//    flag), LbRules is rebuilt over the healthy backends (only changed
//    VIPs' tables) and published.
//  - Stop: the features leave the compartment (freed after a grace period),
//    the checker thread is joined.
//  - Views (hnvctl nat / lb): every worker copies its counters and, up to a
//    limit, its sessions or connections, on the worker (OnWorkers).
//
// Thread: control thread only (the checker's callback only sets a flag).
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gateway/compartment/service.h"
#include "gateway/kernel/netlink.h"
#include "gateway/nat/nat_feature.h"
#include "nat/health/health_checker.h"

namespace hnv::gateway {

// A factory for Gateway::AddService: a "nat" service for tenants with a
// nat: or load_balancers: section.
ServiceFactory NatServiceFactory();

// What `hnvctl nat` asks for.
struct NatQuery {
  std::string address;  // only sessions with this inside, outside or remote address ("" = all)
  uint32_t port = 0;    // and this port (0 = any)
  uint32_t limit = 1000;
};

class NatService final : public CompartmentService {
 public:
  const char* name() const override { return "nat"; }
  bool Start(ServiceContext& ctx, std::string* error) override;
  bool Update(ServiceContext& ctx, const CompartmentSpec& next, std::string* error) override;
  bool Poll(ServiceContext& ctx, std::string* error) override;
  ServiceStatus Status(const ServiceContext& ctx) const override;
  void Stop(ServiceContext& ctx, StopReason why) override;

  // hnvctl nat TENANT: the NAT's rules, counters (drops by reason) and sessions.
  nlohmann::json NatView(const ServiceContext& ctx, const NatQuery& q) const;
  // hnvctl lb TENANT: each load balancer's backends with health, weight and share.
  nlohmann::json LbView(const ServiceContext& ctx) const;

 private:
  // Compiles `t` into new features and installs them; `keep` lends its
  // per-worker state where it still fits.
  bool Install(ServiceContext& ctx, const CompartmentSpec& spec, std::string* error);
  std::vector<std::vector<bool>> Healthy(const nat::TenantNat& t) const;
  std::vector<nat::HealthTarget> Targets(const nat::TenantNat& t) const;
  // Adds the external addresses `spec` needs and removes those it no longer does.
  bool ClaimAddresses(ServiceContext& ctx, const CompartmentSpec& spec, std::string* error);

  uint32_t id_ = 0;
  bool installed_ = false;
  nat::TenantNat spec_;  // what is installed
  std::shared_ptr<const NatFeatureRules> rules_;
  std::unique_ptr<nat::HealthChecker> checker_;
  std::unique_ptr<NetlinkConfig> nl_;
  std::vector<std::pair<int, IpAddr>> claimed_;  // (ifindex, address) added as /32
  // target index -> (load balancer, backend), for Targets()' order
  std::vector<std::pair<size_t, size_t>> target_of_;
  std::shared_ptr<std::atomic<bool>> health_changed_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace hnv::gateway
