#include "gateway/compartment/mirror_service.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "daemon/log.h"

namespace hnv::gateway {

using nlohmann::json;

namespace {

IpPrefix HostPrefix(const IpAddr& a) { return IpPrefix{a, static_cast<uint8_t>(a.bits())}; }

const IpPrefix kDefaultV4{IpAddr{}, 0};

}  // namespace

bool MirrorService::Start(ServiceContext& ctx, std::string* error) {
  if (ctx.netns() == nullptr || ctx.taps().empty()) {
    *error = "needs the namespace and taps services before it";
    return false;
  }
  ctx_ = &ctx;
  MirrorCallbacks cbs;
  cbs.route = [this](bool add, const MirrorRoute& r) { OnRoute(add, r); };
  cbs.neighbor = [this](bool add, const MirrorNeighbor& n) { OnNeighbor(add, n); };
  cbs.address = [this](bool add, const MirrorAddress& a) { OnAddress(add, a); };
  cbs.table_route = [this](bool add, const MirrorRoute& r) { OnTableRoute(add, r); };
  cbs.rule = [this](bool add, const MirrorRule& r) { OnRule(add, r); };
  mirror_ = NetlinkMirror::Create(*ctx.netns(), std::move(cbs), error);
  if (!mirror_) return false;
  live_ = true;
  plan_ = PlanRules(std::vector<MirrorRule>(rules_.begin(), rules_.end()));
  if (!plan_.punt_all.empty() || !plan_.punt_tables.empty())
    Log("compartment %s: fast path: %s", ctx.spec().name.c_str(), plan_.Summary().c_str());
  SyncAll();
  return true;
}

void MirrorService::Stop(ServiceContext& /*ctx*/, StopReason /*why*/) {
  mirror_.reset();
  live_ = false;
}

void MirrorService::PollFds(std::vector<int>* fds) const {
  if (mirror_) fds->push_back(mirror_->fd());
}

bool MirrorService::Poll(ServiceContext& /*ctx*/, std::string* error) {
  return !mirror_ || mirror_->Process(error);
}

std::string MirrorService::IfName(int ifindex) const {
  const int i = ctx_->InterfaceOf(ifindex);
  if (i >= 0) return ctx_->taps()[static_cast<size_t>(i)]->ifname();
  return ifindex == 0 ? "" : "#" + std::to_string(ifindex);
}

// ---- what the mirror reports ----

void MirrorService::OnRoute(bool add, const MirrorRoute& r) {
  auto& by_metric = routes_[r.destination];
  if (add)
    by_metric[r.metric] = r;
  else
    by_metric.erase(r.metric);
  if (by_metric.empty()) routes_.erase(r.destination);
  Sync(r.destination);
}

void MirrorService::OnTableRoute(bool add, const MirrorRoute& r) {
  const auto key = std::make_tuple(r.table, r.destination, r.metric);
  const bool known = table_routes_.count(key) != 0;
  if (add)
    table_routes_[key] = r;
  else
    table_routes_.erase(key);
  if (!r.destination.addr.is_v4() || add == known) return;  // an update of a known route
  auto& tables = table_prefixes_[r.destination];
  if (add) {
    ++tables[r.table];
  } else if (--tables[r.table] <= 0) {
    tables.erase(r.table);
    if (tables.empty()) table_prefixes_.erase(r.destination);
  }
  if (plan_.punt_table(r.table)) SyncInside(r.destination);
}

void MirrorService::OnRule(bool add, const MirrorRule& r) {
  if (add)
    rules_.insert(r);
  else
    rules_.erase(r);
  if (!live_) return;
  RulePlan next = PlanRules(std::vector<MirrorRule>(rules_.begin(), rules_.end()));
  if (next == plan_) return;
  plan_ = std::move(next);
  Log("compartment %s: fast path: %s", ctx_->spec().name.c_str(), plan_.Summary().c_str());
  SyncAll();
}

void MirrorService::OnAddress(bool add, const MirrorAddress& a) {
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

void MirrorService::OnNeighbor(bool add, const MirrorNeighbor& n) {
  const int iface = ctx_->InterfaceOf(n.ifindex);
  const auto key = std::make_pair(n.ifindex, n.ip);
  if (add && n.usable)
    neighbors_[key] = n.mac;
  else
    neighbors_.erase(key);
  if (iface < 0 || !n.ip.is_v4()) return;
  const uint32_t id = ctx_->spec().id;
  std::string error;
  if (add && n.usable) {
    if (!ctx_->tables().SetNeighbor(id, static_cast<uint8_t>(iface), n.ip, n.mac, &error))
      Log("compartment %s: neighbour %s: %s", ctx_->spec().name.c_str(), n.ip.ToString().c_str(),
          error.c_str());
  } else {
    ctx_->tables().RemoveNeighbor(id, static_cast<uint8_t>(iface), n.ip);
  }
}

// ---- the fast path ----

uint32_t MirrorService::PuntTableAround(const IpPrefix& p) const {
  if (plan_.punt_tables.empty()) return 0;
  for (int len = p.len; len >= 0; --len) {
    auto it = table_prefixes_.find(IpPrefix{p.addr.Masked(len), static_cast<uint8_t>(len)});
    if (it == table_prefixes_.end()) continue;
    for (const auto& [table, count] : it->second)
      if (plan_.punt_table(table)) return table;
  }
  return 0;
}

void MirrorService::Sync(const IpPrefix& p) {
  if (!live_ || !p.addr.is_v4()) return;  // IPv6 transit goes through the kernel (punt path)
  std::optional<NextHop> want;
  const NextHop punt{NextHopKind::kPunt, 0, {}};
  auto main = routes_.find(p);
  const bool in_main = main != routes_.end() && !main->second.empty();
  if (locals_.count(p) != 0) {
    want = NextHop{NextHopKind::kLocal, 0, {}};
  } else if (!plan_.punt_all.empty()) {
    if (p == kDefaultV4) want = punt;  // everything else leaves the fast path
  } else if (const uint32_t t = PuntTableAround(p); t != 0) {
    auto own = table_prefixes_.find(p);
    const bool in_punt_table = own != table_prefixes_.end() && own->second.count(t) != 0;
    if (in_main || in_punt_table) want = punt;
  } else if (in_main) {
    const MirrorRoute& r = main->second.begin()->second;  // lowest metric
    if (r.type == RTN_UNICAST) {
      const int iface = ctx_->InterfaceOf(r.oif);
      if (iface >= 0)
        want = NextHop{NextHopKind::kForward, static_cast<uint8_t>(iface), r.gateway};
      else
        want = punt;  // a device the dataplane does not own
    } else if (r.type == RTN_BLACKHOLE) {
      want = NextHop{NextHopKind::kBlackhole, 0, {}};
    } else {
      want = punt;  // unreachable, prohibit, ...: the kernel answers
    }
  }
  const uint32_t id = ctx_->spec().id;
  auto cur = installed_.find(p);
  if (!want) {
    if (cur != installed_.end()) {
      ctx_->tables().RemoveRoute(id, p);
      installed_.erase(cur);
    }
    not_installed_.erase(p);
    return;
  }
  if (cur != installed_.end() && cur->second == *want) return;
  std::string error;
  if (ctx_->tables().SetRoute(id, p, *want, &error)) {
    installed_[p] = *want;
    not_installed_.erase(p);
  } else {
    // The previous entry (if any) stays; the kernel still has the route, so
    // traffic the fast path cannot place reaches it through the punt path.
    not_installed_[p] = error;
    Log("compartment %s: route %s not in the fast path: %s", ctx_->spec().name.c_str(),
        p.ToString().c_str(), error.c_str());
  }
}

void MirrorService::SyncInside(const IpPrefix& p) {
  Sync(p);
  for (auto it = routes_.lower_bound(IpPrefix{p.addr, 0}); it != routes_.end(); ++it) {
    if (!p.Contains(it->first.addr)) break;
    if (it->first.len > p.len) Sync(it->first);
  }
}

void MirrorService::SyncAll() {
  std::set<IpPrefix> all;
  for (const auto& [p, x] : routes_) all.insert(p);
  for (const auto& [p, x] : table_prefixes_) all.insert(p);
  for (const auto& [p, x] : locals_) all.insert(p);
  for (const auto& [p, x] : installed_) all.insert(p);
  all.insert(kDefaultV4);
  for (const IpPrefix& p : all) Sync(p);
}

// ---- status ----

std::string MirrorService::RouteFastPath(const IpPrefix& p, uint32_t table, bool best) const {
  if (!p.addr.is_v4()) return "kernel (IPv6)";
  const std::string name = RouteTableName(table);
  if (table != RT_TABLE_MAIN) {
    if (!plan_.punt_all.empty()) return plan_.punt_all_route;
    if (plan_.punt_table(table)) return "punt (table " + name + " precedes main)";
    if (plan_.later_tables.count(table) != 0) return "kernel (table " + name + " after main)";
    return "unused (no rule looks up table " + name + ")";
  }
  if (!best) return "shadowed";
  if (locals_.count(p) != 0) return "local";
  if (!plan_.punt_all.empty()) return plan_.punt_all_route;
  auto it = installed_.find(p);
  if (const uint32_t t = PuntTableAround(p); t != 0)
    return "punt (table " + RouteTableName(t) + " precedes main)";
  if (it != installed_.end()) return NextHopKindName(it->second.kind);
  auto why = not_installed_.find(p);
  return "not installed: " + (why != not_installed_.end() ? why->second : std::string("?"));
}

void MirrorService::AddCompartmentStatus(const ServiceContext& ctx, const StatusLabels& labels,
                                         json* out) const {
  const CompartmentSpec& spec = ctx.spec();
  json ifs = json::array();
  for (size_t i = 0; i < ctx.taps().size(); ++i) {
    const Tap& tap = *ctx.taps()[i];
    json addrs = json::array();
    for (const MirrorAddress& a : addresses_)
      if (a.ifindex == tap.ifindex())
        addrs.push_back(a.addr.ToString() + "/" + std::to_string(a.len));
    json o = {{"name", tap.ifname()}, {"ifindex", tap.ifindex()}, {"addresses", addrs}};
    if (i == 0) {
      o.update({{"role", "vm-network"},
                {"mac", spec.vm_mac.ToString()},
                {"vsid", spec.vsid},
                {"port", labels.vm_port},
                {"vlan", 0},
                {"mtu", spec.vm_mtu}});
    } else {
      const ExternalSpec& e = spec.external[i - 1];
      o.update(
          {{"role", "external"},
           {"mac", e.mac.ToString()},
           {"port", e.port < labels.ports.size() ? labels.ports[e.port] : std::to_string(e.port)},
           {"vlan", e.vlan},
           {"mtu", e.mtu}});
    }
    ifs.push_back(o);
  }
  json routes = json::array();
  auto route = [&](const IpPrefix& prefix, const MirrorRoute& r, bool best) {
    routes.push_back(
        {{"destination", prefix.ToString()},
         {"next_hop", r.gateway.IsUnspecified() ? (prefix.addr.is_v4() ? "0.0.0.0" : "::")
                                                : r.gateway.ToString()},
         {"interface", IfName(r.oif)},
         {"metric", r.metric},
         {"origin", RouteProtocolName(r.protocol)},
         {"table", RouteTableName(r.table)},
         {"fast_path", RouteFastPath(prefix, r.table, best)}});
  };
  for (const auto& [prefix, by_metric] : routes_)
    for (const auto& [metric, r] : by_metric) route(prefix, r, by_metric.begin()->first == metric);
  for (const auto& [key, r] : table_routes_) route(r.destination, r, true);
  for (const auto& [prefix, refs] : locals_) {
    routes.push_back({{"destination", prefix.ToString()},
                      {"next_hop", "local"},
                      {"interface", ""},
                      {"metric", 0},
                      {"origin", "address"},
                      {"table", "local"},
                      {"fast_path", prefix.addr.is_v4() ? "local" : "kernel (IPv6)"}});
  }
  json neighbors = json::array();
  for (const auto& [key, mac] : neighbors_)
    neighbors.push_back(
        {{"ip", key.second.ToString()}, {"mac", mac.ToString()}, {"interface", IfName(key.first)}});
  (*out)["interfaces"] = std::move(ifs);
  (*out)["routes"] = std::move(routes);
  (*out)["neighbors"] = std::move(neighbors);
  (*out)["fast_path"] = plan_.Summary();
}

ServiceStatus MirrorService::Status(const ServiceContext& /*ctx*/) const {
  size_t main_routes = 0;
  for (const auto& [p, by_metric] : routes_) main_routes += by_metric.size();
  json rules = json::array();
  for (const MirrorRule& r : rules_)
    rules.push_back((r.family == AF_INET6 ? "ipv6 " : "") + r.ToString());
  ServiceStatus s;
  s.summary = std::to_string(main_routes) + " routes in main, " +
              std::to_string(table_routes_.size()) + " in other tables, " +
              std::to_string(rules_.size()) + " rules, " + std::to_string(neighbors_.size()) +
              " neighbours; " + std::to_string(installed_.size()) + " fast path entries";
  s.detail = {{"main_routes", main_routes},
              {"table_routes", table_routes_.size()},
              {"neighbors", neighbors_.size()},
              {"addresses", addresses_.size()},
              {"rules", rules},
              {"fast_path", plan_.Summary()},
              {"fast_path_entries", installed_.size()},
              {"not_installed", not_installed_.size()},
              {"resyncs", mirror_ ? mirror_->resyncs() : 0}};
  return s;
}

}  // namespace hnv::gateway
