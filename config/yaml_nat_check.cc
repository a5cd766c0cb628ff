// The checks of a tenant's `nat:` and `load_balancers:` that need the tenant
// as a whole (CheckNat, phase 1) or the policy (ResolveNat, phase 2).
#include <algorithm>
#include <map>
#include <tuple>

#include "config/yaml_nat.h"
#include "config/yaml_tenant.h"

namespace hnv::config::yaml {
namespace {

const char* ProtoName(uint8_t p) { return p == 6 ? "tcp" : "udp"; }

// "nat.addresses[0] (line 29)": the other end of a conflict, in this file.
std::string Ref(const FieldOrigin& o) { return o.path + " (line " + std::to_string(o.line) + ")"; }

struct Checker {
  TenantDraft& t;
  ErrorList* errors;
  bool failed = false;

  void Err(const FieldOrigin& o, std::string message) {
    errors->Add(t.file, t.file_name, o.line, o.path, std::move(message));
    failed = true;
  }
  const nat::NatSpec& n() const { return t.nat.spec.nat; }

  // The external interface whose subnet holds `a`, or null.
  const ExternalSpec* Attachment(const IpAddr& a) const {
    for (const ExternalSpec& e : t.spec.external)
      for (const IfAddress& x : e.addresses)
        if (SubnetOf(x).Contains(a)) return &e;
    return nullptr;
  }
  std::string Subnets() const {
    std::string s;
    for (const ExternalSpec& e : t.spec.external)
      for (const IfAddress& x : e.addresses)
        s += (s.empty() ? "" : ", ") + e.interface + " " + SubnetOf(x).ToString();
    return s.empty() ? "it has no external interface address" : "its external subnets: " + s;
  }
  // An external address (pool, static, forward, VIP): IPv4, on an external
  // subnet, a host of it.
  bool External(const IpAddr& a, const FieldOrigin& o, const char* what) {
    if (!a.is_v4()) {
      Err(o, a.ToString() + " is IPv6; NAT44 and the load balancer translate IPv4");
      return false;
    }
    const ExternalSpec* e = Attachment(a);
    if (e == nullptr) {
      Err(o, a.ToString() + " is not on an external interface of this tenant (" + Subnets() +
                 "); " + what + " must be reachable there");
      return false;
    }
    for (const IfAddress& x : e->addresses) {
      if (!SubnetOf(x).Contains(a) || HostAddressProblem({a, x.len}).empty()) continue;
      Err(o, a.ToString() + " is the network or broadcast address of " + e->interface + "'s " +
                 SubnetOf(x).ToString());
      return false;
    }
    return true;
  }
  bool V4(const IpAddr& a, const FieldOrigin& o) {
    if (a.is_v4()) return true;
    Err(o, a.ToString() + " is IPv6; NAT44 and the load balancer translate IPv4");
    return false;
  }
  bool InPool(const IpAddr& a) const {
    return std::find(n().addresses.begin(), n().addresses.end(), a) != n().addresses.end();
  }
  bool InPortRange(uint16_t p) const { return p >= n().ports.first && p <= n().ports.last; }

  void Interfaces() {
    const NatDraft& d = t.nat;
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < n().interfaces.size(); ++i) {
      const std::string& name = n().interfaces[i];
      const bool external = std::any_of(t.spec.external.begin(), t.spec.external.end(),
                                        [&](const auto& e) { return e.interface == name; });
      if (!external) {
        std::string list;
        for (const auto& e : t.spec.external) list += (list.empty() ? "" : ", ") + e.interface;
        Err(d.interfaces[i], name + " is not an external interface of this tenant (" +
                                 (list.empty() ? "it has none" : list) + ")");
      } else if (auto [it, fresh] = seen.emplace(name, i); !fresh) {
        Err(d.interfaces[i], name + " is already " + Ref(d.interfaces[it->second]));
      }
    }
  }

  void Pool() {
    const NatDraft& d = t.nat;
    if (n().addresses.size() > nat::kMaxPoolAddresses)
      Err(d.addresses[nat::kMaxPoolAddresses],
          "a NAT has at most " + std::to_string(nat::kMaxPoolAddresses) + " pool addresses");
    for (size_t i = 0; i < n().addresses.size(); ++i) {
      const IpAddr& a = n().addresses[i];
      if (!External(a, d.addresses[i], "a pool address")) continue;
      for (size_t j = 0; j < i; ++j)
        if (n().addresses[j] == a) {
          Err(d.addresses[i], a.ToString() + " is already " + Ref(d.addresses[j]));
          break;
        }
      const ExternalSpec* e = Attachment(a);
      if (!n().interfaces.empty() &&
          std::find(n().interfaces.begin(), n().interfaces.end(), e->interface) ==
              n().interfaces.end())
        Err(d.addresses[i], a.ToString() + " is on " + e->interface +
                                ", which is not one of nat.interfaces (translated traffic "
                                "leaves through those)");
    }
    for (size_t i = 0; i < n().internal.size(); ++i) V4(n().internal[i].addr, d.internal[i]);
    if (n().ports.first > n().ports.last)
      Err(d.ports, "first " + std::to_string(n().ports.first) + " is above last " +
                       std::to_string(n().ports.last));
    if (n().limits.sessions_per_host > n().limits.sessions)
      Err(d.limits, "sessions_per_host " + std::to_string(n().limits.sessions_per_host) +
                        " is above sessions " + std::to_string(n().limits.sessions));
  }

  void Statics() {
    const NatDraft& d = t.nat;
    for (size_t i = 0; i < n().static_nat.size(); ++i) {
      const nat::StaticNat& s = n().static_nat[i];
      const NatDraft::Static& o = d.statics[i];
      if (External(s.external, o.external, "a static external address")) {
        if (InPool(s.external))
          Err(o.external, s.external.ToString() +
                              " is a NAT pool address; a static mapping needs an address of "
                              "its own");
      }
      V4(s.internal, o.internal);
      for (size_t j = 0; j < i; ++j) {
        if (n().static_nat[j].external == s.external)
          Err(o.external, s.external.ToString() + " is already " + Ref(d.statics[j].external));
        if (n().static_nat[j].internal == s.internal)
          Err(o.internal, s.internal.ToString() + " is already " + Ref(d.statics[j].internal));
      }
    }
  }

  const NatDraft::Static* StaticExternal(const IpAddr& a) const {
    for (size_t i = 0; i < n().static_nat.size(); ++i)
      if (n().static_nat[i].external == a) return &t.nat.statics[i];
    return nullptr;
  }
  const NatDraft::Static* StaticInternal(const IpAddr& a) const {
    for (size_t i = 0; i < n().static_nat.size(); ++i)
      if (n().static_nat[i].internal == a) return &t.nat.statics[i];
    return nullptr;
  }

  void Forwards() {
    const NatDraft& d = t.nat;
    std::map<std::tuple<IpAddr, uint8_t, uint16_t>, size_t> ext, in;
    for (size_t i = 0; i < n().port_forwards.size(); ++i) {
      const nat::PortForward& f = n().port_forwards[i];
      const NatDraft::Forward& o = d.forwards[i];
      if (External(f.external, o.external, "a port forward's external address")) {
        if (const NatDraft::Static* s = StaticExternal(f.external))
          Err(o.external, f.external.ToString() + " is the static mapping " + Ref(s->item) +
                              ", which forwards every port already");
        if (InPool(f.external) && InPortRange(f.external_port))
          Err(o.external_port,
              std::to_string(f.external_port) + " is in the NAT's port range " +
                  std::to_string(n().ports.first) + "-" + std::to_string(n().ports.last) +
                  " on its pool address " + f.external.ToString() +
                  "; forward a port outside it, or from another address");
      }
      if (V4(f.internal, o.internal)) {
        if (const NatDraft::Static* s = StaticInternal(f.internal))
          Err(o.internal, f.internal.ToString() + " has the static mapping " + Ref(s->item) +
                              "; its answers could not tell which to use");
      }
      if (auto [it, fresh] = ext.emplace(std::tuple(f.external, f.protocol, f.external_port), i);
          !fresh)
        Err(o.external_port, std::string(ProtoName(f.protocol)) + " " + f.external.ToString() +
                                 ":" + std::to_string(f.external_port) + " is already forwarded by " +
                                 Ref(d.forwards[it->second].item));
      if (auto [it, fresh] = in.emplace(std::tuple(f.internal, f.protocol, f.internal_port), i);
          !fresh)
        Err(o.internal_port, std::string(ProtoName(f.protocol)) + " " + f.internal.ToString() +
                                 ":" + std::to_string(f.internal_port) +
                                 " is already the inside end of " +
                                 Ref(d.forwards[it->second].item) +
                                 "; its answers could not tell which to use");
    }
  }

  void LoadBalancers() {
    const NatDraft& d = t.nat;
    const auto& lbs = t.nat.spec.load_balancers;
    std::map<std::string, size_t> names;
    std::map<std::tuple<IpAddr, uint8_t, uint16_t>, size_t> vips;
    // (backend address, protocol, port) -> (load balancer, backend)
    std::map<std::tuple<IpAddr, uint8_t, uint16_t>, std::pair<size_t, size_t>> dips;
    for (size_t i = 0; i < lbs.size(); ++i) {
      const nat::LoadBalancerSpec& lb = lbs[i];
      const NatDraft::Lb& o = d.lbs[i];
      if (!lb.name.empty())
        if (auto [it, fresh] = names.emplace(lb.name, i); !fresh)
          Err(o.name, lb.name + " is already the name of " + Ref(d.lbs[it->second].item));
      if (External(lb.vip, o.vip, "a VIP")) {
        if (const NatDraft::Static* s = StaticExternal(lb.vip))
          Err(o.vip, lb.vip.ToString() + " is the static mapping " + Ref(s->item) +
                         "'s external address");
        if (InPool(lb.vip) && InPortRange(lb.port))
          Err(o.port, std::to_string(lb.port) + " is in the NAT's port range " +
                          std::to_string(n().ports.first) + "-" + std::to_string(n().ports.last) +
                          " on its pool address " + lb.vip.ToString());
        for (size_t j = 0; j < n().port_forwards.size(); ++j) {
          const nat::PortForward& f = n().port_forwards[j];
          if (f.external == lb.vip && f.protocol == lb.protocol && f.external_port == lb.port)
            Err(o.port, std::string(ProtoName(lb.protocol)) + " " + lb.vip.ToString() + ":" +
                            std::to_string(lb.port) + " is already forwarded by " +
                            Ref(d.forwards[j].item));
        }
        if (auto [it, fresh] = vips.emplace(std::tuple(lb.vip, lb.protocol, lb.port), i); !fresh)
          Err(o.port, std::string(ProtoName(lb.protocol)) + " " + lb.vip.ToString() + ":" +
                          std::to_string(lb.port) + " is already the VIP of " +
                          Ref(d.lbs[it->second].item));
      }
      if (lb.empty_pool == nat::EmptyPool::kReset && lb.protocol != 6)
        Err(o.empty_pool, "reset answers TCP only; a udp load balancer drops (empty_pool: drop)");
      if (!nat::IsPrime(lb.table_size))
        Err(o.table_size, std::to_string(lb.table_size) + " is not a prime (Maglev needs one; " +
                              "65537 is)");
      if (lb.backends.empty() && o.backends.empty())
        Err(o.backends_key, "a load balancer needs at least one backend");
      if (lb.backends.size() > nat::kMaxBackends) {
        Err(o.backends[nat::kMaxBackends].item,
            "a pool has at most " + std::to_string(nat::kMaxBackends) + " backends");
      } else if (static_cast<uint64_t>(lb.backends.size()) * 10 > lb.table_size) {
        Err(o.table_size, std::to_string(lb.table_size) + " entries for " +
                              std::to_string(lb.backends.size()) +
                              " backends: the table needs at least 10 entries per backend for "
                              "even shares");
      }
      if (lb.health.kind != nat::HealthKind::kNone && lb.health.timeout_ms > lb.health.interval_ms)
        Err(o.health_timeout, std::to_string(lb.health.timeout_ms) + " is above interval_ms " +
                                  std::to_string(lb.health.interval_ms));
      for (size_t j = 0; j < lb.backends.size(); ++j) {
        const nat::Backend& b = lb.backends[j];
        const auto& bo = o.backends[j];
        if (!V4(b.address, bo.address)) continue;
        if (const NatDraft::Static* s = StaticInternal(b.address))
          Err(bo.address, b.address.ToString() + " has the static mapping " + Ref(s->item) +
                              "; its answers could not tell which to use");
        for (size_t k = 0; k < n().port_forwards.size(); ++k) {
          const nat::PortForward& f = n().port_forwards[k];
          if (f.internal == b.address && f.protocol == lb.protocol && f.internal_port == b.port)
            Err(bo.port, std::string(ProtoName(f.protocol)) + " " + b.address.ToString() + ":" +
                             std::to_string(b.port) + " is the inside end of " +
                             Ref(d.forwards[k].item) + "; its answers could not tell which to use");
        }
        const auto key = std::tuple(b.address, lb.protocol, b.port);
        if (auto [it, fresh] = dips.emplace(key, std::pair(i, j)); !fresh) {
          const auto [li, bj] = it->second;
          Err(bo.item, std::string(ProtoName(lb.protocol)) + " " + b.address.ToString() + ":" +
                           std::to_string(b.port) + " is already " +
                           Ref(d.lbs[li].backends[bj].item) +
                           "; a backend's port serves one load balancer (its answers are "
                           "translated by it)");
        }
      }
    }
  }
};

}  // namespace

void CheckNat(TenantDraft* t, const std::vector<std::string>& files, ErrorList* errors) {
  (void)files;  // every reference is in the tenant file itself
  Checker c{*t, errors};
  c.Interfaces();
  c.Pool();
  c.Statics();
  c.Forwards();
  c.LoadBalancers();
}

bool ResolveNat(TenantDraft* t, const PolicyBuilder& b, const std::vector<std::string>& files,
                ErrorList* errors) {
  (void)files;
  Checker c{*t, errors};
  NatDraft& d = t->nat;
  nat::NatSpec& n = d.spec.nat;
  const bool used = n.enabled || !d.spec.load_balancers.empty();
  if (!used) return true;
  std::vector<std::pair<IpPrefix, uint32_t>> subnets;  // the routing domain's IPv4 prefixes
  for (const VirtualSubnet& v : b.policy.subnets)
    if (v.rdid == t->spec.rdid)
      for (const IpPrefix& p : v.prefixes)
        if (p.addr.is_v4()) subnets.emplace_back(p, v.vsid);
  const FieldOrigin& where = n.enabled ? d.nat : d.lbs.front().item;
  if (subnets.empty()) {
    c.Err(where, "routing domain " + t->spec.rdid.ToString() +
                     " has no IPv4 virtual subnet; NAT44 and the load balancer translate IPv4");
    return false;
  }
  std::string list;
  for (const auto& [p, vsid] : subnets)
    list += (list.empty() ? "" : ", ") + p.ToString() + " (VSID " + std::to_string(vsid) + ")";
  auto inside = [&](const IpAddr& a, const FieldOrigin& o) {
    if (!a.is_v4()) return;  // reported in phase 1
    const bool in = std::any_of(subnets.begin(), subnets.end(),
                                [&](const auto& s) { return s.first.Contains(a); });
    if (!in)
      c.Err(o, a.ToString() + " is not in a virtual subnet of routing domain " +
                   t->spec.rdid.ToString() + " (its IPv4 subnets: " + list + ")");
    else if (a == t->spec.vm_address.addr)
      c.Err(o, a.ToString() + " is the gateway's own address in the VM network");
  };
  for (size_t i = 0; i < n.static_nat.size(); ++i)
    inside(n.static_nat[i].internal, d.statics[i].internal);
  for (size_t i = 0; i < n.port_forwards.size(); ++i)
    inside(n.port_forwards[i].internal, d.forwards[i].internal);
  for (size_t i = 0; i < d.spec.load_balancers.size(); ++i)
    for (size_t j = 0; j < d.spec.load_balancers[i].backends.size(); ++j)
      inside(d.spec.load_balancers[i].backends[j].address, d.lbs[i].backends[j].address);
  if (n.internal.empty())
    for (const auto& [p, vsid] : subnets) n.internal.push_back(p);
  return !c.failed;
}

}  // namespace hnv::config::yaml
