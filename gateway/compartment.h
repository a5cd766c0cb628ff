// Compartment: one tenant routing domain's stack inside hnv-gateway — its
// namespace, its TAPs, the configuration the tenant file puts into the
// namespace, and the mirror that keeps the fast path's FIB and neighbours
// equal to the namespace's.
//
// Theory of operation. Create opens (or makes) the named namespace, creates
// one TAP per compartment interface inside it (interface 0 into the VM
// network, 1.. external), registers the layout with the fast path
// (GatewayTables) and the TAP fds with the punt thread, then installs the
// tenant's addresses and static routes in the namespace through netlink
// (routes with protocol kRouteProtocolHnv). From then on the namespace is the
// source of truth: the NetlinkMirror reports its routes (main table),
// neighbours and addresses, and the compartment translates them into the
// fast path: an address becomes a /32 kLocal entry; a unicast route through
// one of our TAPs becomes kForward (connected or via a gateway); a route
// through any other device (lo, a VPN tunnel) kPunt, so the kernel forwards
// it; blackhole routes kBlackhole; unreachable/prohibit kPunt (the kernel
// answers with ICMP). Of several routes to one prefix the lowest metric
// wins. IPv6 is not in the fast path in this version: IPv6 transit reaches
// the kernel through the punt path and is forwarded there.
//
// Thread: control thread only (Create, Update, Poll, Status, destruction).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "config/compartment_spec.h"
#include "gateway/fastpath/gateway_fastpath.h"
#include "gateway/fastpath/gateway_tables.h"
#include "gateway/kernel/mirror.h"
#include "gateway/kernel/netlink.h"
#include "gateway/kernel/netns.h"
#include "gateway/kernel/punt_io.h"
#include "gateway/kernel/tap.h"

namespace hnv::gateway {

// The compartment as configured: the configuration's plain values.
using config::CompartmentSpec;
using config::ExternalSpec;
using config::IfAddress;
using config::StaticRoute;

// What a compartment plugs into (owned by the daemon, outlive compartments).
struct CompartmentEnv {
  GatewayTables* tables = nullptr;
  GatewayFastPath* fastpath = nullptr;
  PuntIo* punt = nullptr;
};

class Compartment {
 public:
  static std::unique_ptr<Compartment> Create(const CompartmentSpec& spec, const CompartmentEnv& env,
                                             std::string* error);
  // Detaches from the fast path and the punt thread and closes the TAPs; the
  // namespace stays unless DeleteNamespace() was called first.
  ~Compartment();
  Compartment(const Compartment&) = delete;
  Compartment& operator=(const Compartment&) = delete;

  // True when `next` differs only in addresses and static routes (Update can
  // apply it in place); otherwise the compartment must be re-created.
  bool SameInterfaces(const CompartmentSpec& next) const;
  // Applies changed addresses and static routes to the namespace.
  bool Update(const CompartmentSpec& next, std::string* error);
  // The tenant is gone: remove its namespace when this object goes.
  void DeleteNamespace() { delete_ns_ = true; }

  // Follows the namespace (non-blocking).
  void Poll();
  int mirror_fd() const { return mirror_ ? mirror_->fd() : -1; }

  const CompartmentSpec& spec() const { return spec_; }
  // hnvctl's view: interfaces, routes (with origin and what the fast path
  // does with each), neighbours, counters.
  nlohmann::json Status(const std::string& vm_port_label,
                        const std::vector<std::string>& port_names) const;

 private:
  Compartment(const CompartmentSpec& spec, const CompartmentEnv& env) : spec_(spec), env_(env) {}
  bool Init(std::string* error);
  bool InstallConfig(const CompartmentSpec& s, const CompartmentSpec* old, std::string* error);
  void OnRoute(bool add, const MirrorRoute& r);
  void OnNeighbor(bool add, const MirrorNeighbor& n);
  void OnAddress(bool add, const MirrorAddress& a);
  // Recomputes the fast path's entry for one IPv4 prefix.
  void Sync(const IpPrefix& p);
  int IfaceOf(int ifindex) const;  // -1 when not one of our TAPs
  std::string IfName(int ifindex) const;

  CompartmentSpec spec_;
  CompartmentEnv env_;
  std::unique_ptr<NetNamespace> ns_;
  std::vector<std::unique_ptr<Tap>> taps_;  // index = interface
  std::unique_ptr<NetlinkConfig> nl_;
  std::unique_ptr<NetlinkMirror> mirror_;
  bool registered_ = false;
  bool delete_ns_ = false;

  // The namespace as mirrored.
  std::map<IpPrefix, std::map<uint32_t, MirrorRoute>> routes_;  // prefix -> metric -> route
  std::map<IpPrefix, int> locals_;                               // own addresses (/32, /128) -> refs
  std::vector<MirrorAddress> addresses_;
  std::map<std::pair<int, IpAddr>, MacAddr> neighbors_;
  // What the fast path holds (IPv4 only), and why a prefix is not there.
  std::map<IpPrefix, NextHop> installed_;
  std::map<IpPrefix, std::string> not_installed_;
};

}  // namespace hnv::gateway
