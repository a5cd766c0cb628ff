// MirrorService ("mirror"): keeps the compartment's fast path (FIB and
// neighbours in GatewayTables) equal to what its namespace's kernel decides,
// the linux-cp pattern: the kernel and its daemons route, the dataplane
// forwards.
//
// Theory of operation. Start (after "namespace" and "taps") opens a
// NetlinkMirror on the namespace following the main table, the other tables
// (not local), the rules, the neighbours and the addresses; its initial
// dump is taken in, the rules planned (route_rules.h), then the FIB written
// once. From then on each change the mirror reports is translated at once:
//  - an address becomes a /32 kLocal entry (the kernel gets those frames);
//  - a main-table unicast route through one of our TAPs becomes kForward
//    (connected, or via its gateway); through any other device (lo, a VPN
//    tunnel) kPunt, so the kernel forwards it; blackhole kBlackhole;
//    unreachable/prohibit/throw kPunt (the kernel answers). Of several
//    routes to one prefix the lowest metric wins;
//  - a route in a punt table (an unconditional rule looks it up before
//    main): its prefix kPunt, and every main route at or inside it kPunt;
//  - while the plan says punt_all: no route in the fast path but
//    0.0.0.0/0 kPunt (and the local /32s): every packet goes to the kernel;
//  - a rule change re-plans and, when the plan changed, rewrites every
//    prefix (rules change rarely; a route change touches one prefix and, in a
//    punt table, the main prefixes inside it);
//  - a usable neighbour on one of our TAPs (IPv4) goes into the neighbour
//    table, and leaves it when it is gone or unusable.
// A prefix the FIB refuses (full) keeps its previous entry and is reported
// "not installed"; the kernel still has the route, so traffic the fast path
// cannot place reaches it through the punt path. IPv6 is not in the fast
// path (punted, forwarded by the kernel).
//
// Stop only closes the mirror: the "taps" service's Stop removes the
// compartment from GatewayTables, which drops its whole FIB and neighbours
// at once.
//
// Thread: control thread (ServiceContext).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gateway/compartment/route_rules.h"
#include "gateway/compartment/service.h"
#include "gateway/kernel/mirror.h"

namespace hnv::gateway {

class MirrorService final : public CompartmentService {
 public:
  const char* name() const override { return "mirror"; }
  bool Start(ServiceContext& ctx, std::string* error) override;
  void PollFds(std::vector<int>* fds) const override;
  bool Poll(ServiceContext& ctx, std::string* error) override;
  ServiceStatus Status(const ServiceContext& ctx) const override;
  void AddCompartmentStatus(const ServiceContext& ctx, const StatusLabels& labels,
                            nlohmann::json* compartment) const override;
  void Stop(ServiceContext& ctx, StopReason why) override;

  const RulePlan& plan() const { return plan_; }

 private:
  void OnRoute(bool add, const MirrorRoute& r);
  void OnTableRoute(bool add, const MirrorRoute& r);
  void OnNeighbor(bool add, const MirrorNeighbor& n);
  void OnAddress(bool add, const MirrorAddress& a);
  void OnRule(bool add, const MirrorRule& r);
  // Recomputes the fast path's entry for one IPv4 prefix.
  void Sync(const IpPrefix& p);
  // Sync(p) and every main prefix inside p.
  void SyncInside(const IpPrefix& p);
  void SyncAll();
  // The punt table with a prefix at or around p (0 = none).
  uint32_t PuntTableAround(const IpPrefix& p) const;
  std::string RouteFastPath(const IpPrefix& p, uint32_t table, bool best) const;
  std::string IfName(int ifindex) const;

  ServiceContext* ctx_ = nullptr;
  std::unique_ptr<NetlinkMirror> mirror_;
  bool live_ = false;  // false during the initial dump: the FIB is written once after it

  // The namespace as mirrored.
  std::map<IpPrefix, std::map<uint32_t, MirrorRoute>> routes_;  // main: prefix -> metric -> route
  std::map<std::tuple<uint32_t, IpPrefix, uint32_t>, MirrorRoute> table_routes_;  // other tables
  std::map<IpPrefix, std::map<uint32_t, int>> table_prefixes_;  // IPv4: prefix -> table -> routes
  std::set<MirrorRule> rules_;
  RulePlan plan_;
  std::map<IpPrefix, int> locals_;  // own addresses (/32, /128) -> refs
  std::vector<MirrorAddress> addresses_;
  std::map<std::pair<int, IpAddr>, MacAddr> neighbors_;
  // What the fast path holds (IPv4 only), and why a prefix is not there.
  std::map<IpPrefix, NextHop> installed_;
  std::map<IpPrefix, std::string> not_installed_;
};

}  // namespace hnv::gateway
