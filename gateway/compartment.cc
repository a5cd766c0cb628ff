#include "gateway/compartment.h"

#include <linux/rtnetlink.h>

#include "daemon/log.h"

namespace hnv::gateway {

using nlohmann::json;

namespace {

IpPrefix HostPrefix(const IpAddr& a) { return IpPrefix{a, static_cast<uint8_t>(a.bits())}; }

RouteSpec ToRouteSpec(const StaticRoute& r, int oif) {
  RouteSpec s;
  s.destination = r.destination;
  s.gateway = r.next_hop;
  s.oif = oif;
  s.metric = r.metric;
  s.protocol = kRouteProtocolHnv;
  return s;
}

std::string AddrString(const IfAddress& a) { return a.addr.ToString() + "/" + std::to_string(a.len); }

json Pb(const PacketsBytes& p) { return {{"packets", p.packets}, {"bytes", p.bytes}}; }

}  // namespace

std::unique_ptr<Compartment> Compartment::Create(const CompartmentSpec& spec, const CompartmentEnv& env,
                                                 std::string* error) {
  std::unique_ptr<Compartment> c(new Compartment(spec, env));
  if (!c->Init(error)) {
    *error = "compartment " + spec.name + " (namespace " + spec.netns + "): " + *error;
    return nullptr;
  }
  return c;
}

bool Compartment::Init(std::string* error) {
  bool created = false;
  ns_ = NetNamespace::CreateOrOpen(spec_.netns, &created, error);
  if (!ns_) return false;
  Log("compartment %s: namespace %s %s", spec_.name.c_str(), spec_.netns.c_str(),
      created ? "created" : "exists, reused");
  auto tap = Tap::Create(*ns_, spec_.vm_interface, spec_.vm_mac, spec_.vm_mtu, error);
  if (!tap) return false;
  taps_.push_back(std::move(tap));
  for (const ExternalSpec& e : spec_.external) {
    tap = Tap::Create(*ns_, e.interface, e.mac, e.mtu, error);
    if (!tap) return false;
    taps_.push_back(std::move(tap));
  }
  nl_ = NetlinkConfig::Create(*ns_, error);
  if (!nl_) return false;

  CompartmentLayout layout;
  layout.vm_port = spec_.vm_port;
  layout.vm_mac = spec_.vm_mac;
  layout.vm_mtu = spec_.vm_mtu;
  layout.max_routes = spec_.max_routes;
  for (const ExternalSpec& e : spec_.external) layout.external.push_back({e.port, e.vlan, e.mac, e.mtu});
  if (!env_.tables->SetCompartment(spec_.id, layout, error)) return false;
  registered_ = true;
  env_.fastpath->ResetCounters(spec_.id);
  for (size_t i = 0; i < taps_.size(); ++i) {
    if (!env_.punt->AddTap(TapIdOf(spec_.id, static_cast<uint8_t>(i)), taps_[i]->fd())) {
      *error = "punt thread refused TAP " + taps_[i]->ifname();
      return false;
    }
  }
  MirrorCallbacks cbs;
  cbs.route = [this](bool add, const MirrorRoute& r) { OnRoute(add, r); };
  cbs.neighbor = [this](bool add, const MirrorNeighbor& n) { OnNeighbor(add, n); };
  cbs.address = [this](bool add, const MirrorAddress& a) { OnAddress(add, a); };
  mirror_ = NetlinkMirror::Create(*ns_, std::move(cbs), error);
  if (!mirror_) return false;
  if (!InstallConfig(spec_, nullptr, error)) return false;
  Poll();
  return true;
}

Compartment::~Compartment() {
  // The workers stop using the compartment first (after a grace period the
  // tables free it), then the punt thread lets go of the TAPs.
  if (registered_) env_.tables->RemoveCompartment(spec_.id);
  for (size_t i = 0; i < taps_.size(); ++i) env_.punt->RemoveTap(TapIdOf(spec_.id, static_cast<uint8_t>(i)));
  mirror_.reset();
  nl_.reset();
  taps_.clear();
  if (delete_ns_ && ns_) {
    std::string error;
    if (ns_->Delete(&error)) Log("compartment %s: namespace %s removed", spec_.name.c_str(), spec_.netns.c_str());
    else Log("compartment %s: %s", spec_.name.c_str(), error.c_str());
  }
}

bool Compartment::SameInterfaces(const CompartmentSpec& n) const {
  if (n.netns != spec_.netns || n.id != spec_.id || n.vm_interface != spec_.vm_interface ||
      n.vsid != spec_.vsid || n.vm_mac != spec_.vm_mac || n.vm_port != spec_.vm_port ||
      n.vm_mtu != spec_.vm_mtu || n.max_routes != spec_.max_routes || n.rdid != spec_.rdid ||
      n.external.size() != spec_.external.size())
    return false;
  for (size_t i = 0; i < n.external.size(); ++i) {
    const ExternalSpec& a = n.external[i];
    const ExternalSpec& b = spec_.external[i];
    if (a.interface != b.interface || a.port != b.port || a.vlan != b.vlan || a.mac != b.mac || a.mtu != b.mtu)
      return false;
  }
  return true;
}

bool Compartment::Update(const CompartmentSpec& next, std::string* error) {
  if (!InstallConfig(next, &spec_, error)) return false;
  spec_ = next;
  Poll();
  return true;
}

bool Compartment::InstallConfig(const CompartmentSpec& s, const CompartmentSpec* old, std::string* error) {
  auto addrs_of = [](const CompartmentSpec& c, size_t i) {
    return i == 0 ? std::vector<IfAddress>{c.vm_address} : c.external[i - 1].addresses;
  };
  auto has = [](const std::vector<IfAddress>& v, const IfAddress& a) {
    for (const IfAddress& x : v)
      if (x == a) return true;
    return false;
  };
  auto oif_of = [this](const CompartmentSpec& c, const StaticRoute& r) {
    if (r.interface.empty()) return 0;
    if (r.interface == c.vm_interface) return taps_[0]->ifindex();
    for (size_t i = 0; i < c.external.size(); ++i)
      if (c.external[i].interface == r.interface) return taps_[i + 1]->ifindex();
    return 0;
  };
  // Old routes first (a route may depend on an address that goes).
  if (old != nullptr) {
    for (const StaticRoute& r : old->routes) {
      bool kept = false;
      for (const StaticRoute& n : s.routes) kept = kept || n == r;
      std::string e;
      if (!kept && !nl_->DeleteRoute(ToRouteSpec(r, oif_of(*old, r)), &e))
        Log("compartment %s: %s", spec_.name.c_str(), e.c_str());
    }
  }
  for (size_t i = 0; i < taps_.size(); ++i) {
    const int ifindex = taps_[i]->ifindex();
    if (old != nullptr) {
      for (const IfAddress& a : addrs_of(*old, i)) {
        std::string e;
        if (!has(addrs_of(s, i), a) && !nl_->DeleteAddress(ifindex, a.addr, a.len, &e))
          Log("compartment %s: %s", spec_.name.c_str(), e.c_str());
      }
    }
    for (const IfAddress& a : addrs_of(s, i)) {
      if (old != nullptr && has(addrs_of(*old, i), a)) continue;
      if (!nl_->AddAddress(ifindex, a.addr, a.len, error, /*nodad=*/true)) {
        *error = taps_[i]->ifname() + ": address " + AddrString(a) + ": " + *error;
        return false;
      }
    }
  }
  for (const StaticRoute& r : s.routes) {
    if (!nl_->ReplaceRoute(ToRouteSpec(r, oif_of(s, r)), error)) {
      *error = "route " + r.destination.ToString() + " via " + r.next_hop.ToString() + ": " + *error;
      return false;
    }
  }
  return true;
}

void Compartment::Poll() {
  if (!mirror_) return;
  std::string error;
  if (!mirror_->Process(&error)) Log("compartment %s: netlink: %s", spec_.name.c_str(), error.c_str());
}

int Compartment::IfaceOf(int ifindex) const {
  for (size_t i = 0; i < taps_.size(); ++i)
    if (taps_[i]->ifindex() == ifindex) return static_cast<int>(i);
  return -1;
}

std::string Compartment::IfName(int ifindex) const {
  const int i = IfaceOf(ifindex);
  if (i >= 0) return taps_[static_cast<size_t>(i)]->ifname();
  return ifindex == 0 ? "" : "#" + std::to_string(ifindex);
}

void Compartment::OnRoute(bool add, const MirrorRoute& r) {
  if (r.table != RT_TABLE_MAIN) return;
  auto& by_metric = routes_[r.destination];
  if (add) by_metric[r.metric] = r;
  else by_metric.erase(r.metric);
  if (by_metric.empty()) routes_.erase(r.destination);
  Sync(r.destination);
}

void Compartment::OnAddress(bool add, const MirrorAddress& a) {
  const IpPrefix p = HostPrefix(a.addr);
  if (add) {
    addresses_.push_back(a);
    ++locals_[p];
  } else {
    for (auto it = addresses_.begin(); it != addresses_.end(); ++it) {
      if (*it == a) {
        addresses_.erase(it);
        break;
      }
    }
    if (auto it = locals_.find(p); it != locals_.end() && --it->second <= 0) locals_.erase(it);
  }
  Sync(p);
}

void Compartment::OnNeighbor(bool add, const MirrorNeighbor& n) {
  const int iface = IfaceOf(n.ifindex);
  const auto key = std::make_pair(n.ifindex, n.ip);
  if (add && n.usable) neighbors_[key] = n.mac;
  else neighbors_.erase(key);
  if (iface < 0 || !n.ip.is_v4()) return;
  std::string error;
  if (add && n.usable) {
    if (!env_.tables->SetNeighbor(spec_.id, static_cast<uint8_t>(iface), n.ip, n.mac, &error))
      Log("compartment %s: neighbour %s: %s", spec_.name.c_str(), n.ip.ToString().c_str(), error.c_str());
  } else {
    env_.tables->RemoveNeighbor(spec_.id, static_cast<uint8_t>(iface), n.ip);
  }
}

void Compartment::Sync(const IpPrefix& p) {
  if (!p.addr.is_v4()) return;  // IPv6 transit goes through the kernel (punt path)
  std::optional<NextHop> want;
  std::string why;
  if (locals_.count(p) != 0) {
    want = NextHop{NextHopKind::kLocal, 0, {}};
  } else if (auto it = routes_.find(p); it != routes_.end() && !it->second.empty()) {
    const MirrorRoute& r = it->second.begin()->second;  // lowest metric
    if (r.type == RTN_UNICAST) {
      const int iface = IfaceOf(r.oif);
      if (iface >= 0) want = NextHop{NextHopKind::kForward, static_cast<uint8_t>(iface), r.gateway};
      else want = NextHop{NextHopKind::kPunt, 0, {}};  // a device the dataplane does not own
    } else if (r.type == RTN_BLACKHOLE) {
      want = NextHop{NextHopKind::kBlackhole, 0, {}};
    } else {
      want = NextHop{NextHopKind::kPunt, 0, {}};  // unreachable, prohibit, ...: the kernel answers
    }
  }
  auto cur = installed_.find(p);
  if (!want) {
    if (cur != installed_.end()) {
      env_.tables->RemoveRoute(spec_.id, p);
      installed_.erase(cur);
    }
    not_installed_.erase(p);
    return;
  }
  if (cur != installed_.end() && cur->second == *want) return;
  std::string error;
  if (env_.tables->SetRoute(spec_.id, p, *want, &error)) {
    installed_[p] = *want;
    not_installed_.erase(p);
  } else {
    // The previous entry (if any) stays; the kernel still has the route, so
    // traffic the fast path cannot place reaches it through the punt path.
    not_installed_[p] = error;
    Log("compartment %s: route %s not in the fast path: %s", spec_.name.c_str(), p.ToString().c_str(),
        error.c_str());
  }
}

json Compartment::Status(const std::string& vm_port_label, const std::vector<std::string>& port_names) const {
  json ifs = json::array();
  for (size_t i = 0; i < taps_.size(); ++i) {
    json addrs = json::array();
    for (const MirrorAddress& a : addresses_)
      if (a.ifindex == taps_[i]->ifindex()) addrs.push_back(a.addr.ToString() + "/" + std::to_string(a.len));
    json o = {{"name", taps_[i]->ifname()}, {"ifindex", taps_[i]->ifindex()}, {"addresses", addrs}};
    if (i == 0) {
      o.update({{"role", "vm-network"}, {"mac", spec_.vm_mac.ToString()}, {"vsid", spec_.vsid},
                {"port", vm_port_label}, {"vlan", 0}, {"mtu", spec_.vm_mtu}});
    } else {
      const ExternalSpec& e = spec_.external[i - 1];
      o.update({{"role", "external"}, {"mac", e.mac.ToString()},
                {"port", e.port < port_names.size() ? port_names[e.port] : std::to_string(e.port)},
                {"vlan", e.vlan}, {"mtu", e.mtu}});
    }
    ifs.push_back(o);
  }
  json routes = json::array();
  for (const auto& [prefix, by_metric] : routes_) {
    for (const auto& [metric, r] : by_metric) {
      std::string fp = "kernel (IPv6)";
      if (prefix.addr.is_v4()) {
        auto it = installed_.find(prefix);
        const bool best = by_metric.begin()->first == metric;
        if (!best) fp = "shadowed";
        else if (locals_.count(prefix) != 0) fp = "local";
        else if (it != installed_.end()) fp = NextHopKindName(it->second.kind);
        else fp = "not installed: " + (not_installed_.count(prefix) ? not_installed_.at(prefix) : std::string("?"));
      }
      routes.push_back({{"destination", prefix.ToString()},
                        {"next_hop", r.gateway.IsUnspecified() ? (prefix.addr.is_v4() ? "0.0.0.0" : "::")
                                                                : r.gateway.ToString()},
                        {"interface", IfName(r.oif)},
                        {"metric", metric},
                        {"origin", RouteProtocolName(r.protocol)},
                        {"fast_path", fp}});
    }
  }
  for (const auto& [prefix, refs] : locals_) {
    routes.push_back({{"destination", prefix.ToString()}, {"next_hop", "local"}, {"interface", ""},
                      {"metric", 0}, {"origin", "address"},
                      {"fast_path", prefix.addr.is_v4() ? "local" : "kernel (IPv6)"}});
  }
  json neighbors = json::array();
  for (const auto& [key, mac] : neighbors_)
    neighbors.push_back({{"ip", key.second.ToString()}, {"mac", mac.ToString()}, {"interface", IfName(key.first)}});

  const CompartmentCounters c = env_.fastpath->Counters(spec_.id);
  json punted = json::object(), dropped = json::object();
  for (size_t i = 0; i < kPuntCount; ++i) punted[PuntName(static_cast<Punt>(i))] = c.punt[i];
  for (size_t i = 0; i < kGwDropCount; ++i) dropped[GwDropName(static_cast<GwDrop>(i))] = c.drop[i];
  PacketsBytes injected{c.inject_vm.packets + c.inject_external.packets, c.inject_vm.bytes + c.inject_external.bytes};
  json counters = {{"rx_vm", Pb(c.rx_vm)},       {"rx_external", Pb(c.rx_external)},
                   {"to_external", Pb(c.fwd_external)}, {"to_vm", Pb(c.fwd_vm)},
                   {"injected", Pb(injected)},   {"injected_vm", Pb(c.inject_vm)},
                   {"injected_external", Pb(c.inject_external)}, {"punted_total", Pb(c.punted)},
                   {"punted", punted},           {"dropped", dropped}};
  return {{"name", spec_.name},      {"id", spec_.id},        {"namespace", spec_.netns},
          {"rdid", spec_.rdid.ToString()}, {"vsid", spec_.vsid}, {"file", spec_.file},
          {"gateway_ca", AddrString(spec_.vm_address)},
          {"interfaces", ifs},       {"routes", routes},      {"neighbors", neighbors},
          {"counters", counters}};
}

}  // namespace hnv::gateway
