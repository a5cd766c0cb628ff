// rte_lpm_rcu_qsbr_add is still marked experimental in DPDK 22.11; this file
// is the only user.
#define ALLOW_EXPERIMENTAL_API 1
#include "gateway/fastpath/gateway_tables.h"

#include <rte_errno.h>
#include <rte_malloc.h>

#include <algorithm>
#include <set>
#include <tuple>

namespace hnv::gateway {
namespace {

std::atomic<uint64_t> g_instances{0};

// Control-side identity of a next hop, to share adjacencies.
using NextHopKey = std::tuple<uint8_t, uint8_t, IpAddr>;
NextHopKey KeyOf(const NextHop& nh) {
  return {static_cast<uint8_t>(nh.kind), nh.iface, nh.gateway};
}

uint32_t Tbl8GroupsFor(uint32_t max_routes, uint32_t percent) {
  const uint64_t g = uint64_t{max_routes} * percent / 100;
  return static_cast<uint32_t>(std::clamp<uint64_t>(g, 256, 1u << 24));
}

}  // namespace

const char* NextHopKindName(NextHopKind k) {
  switch (k) {
    case NextHopKind::kForward:
      return "forward";
    case NextHopKind::kLocal:
      return "local";
    case NextHopKind::kPunt:
      return "punt";
    case NextHopKind::kBlackhole:
      return "blackhole";
  }
  return "unknown";
}

// Control-side state of one compartment. The lpm and the adjacency array are
// what workers read (through the snapshot); the maps are the writer's index.
struct GatewayTables::Compartment {
  uint32_t id = 0;
  CompartmentLayout layout;
  rte_lpm* lpm = nullptr;
  std::unique_ptr<Adjacency[]> adj;
  uint32_t adj_capacity = 0;
  uint32_t max_routes = 0;
  uint32_t tbl8_groups = 0;
  std::map<IpPrefix, std::pair<NextHop, uint32_t>> routes;  // -> next hop, adjacency index
  uint32_t default_adj = CompartmentView::kNoDefault;     // 0.0.0.0/0 (not in the lpm)
  std::map<NextHopKey, uint32_t> adj_index;
  std::vector<uint32_t> adj_refs;
  std::vector<uint32_t> free_adj;
  // Shared with retire callbacks: an adjacency index freed by a route change
  // goes back to free_adj after its grace period, unless the FIB was replaced
  // (or the compartment removed) in the meantime.
  std::shared_ptr<uint64_t> fib_serial = std::make_shared<uint64_t>(0);
  std::map<std::pair<uint8_t, IpAddr>, MacAddr> neighbors;
  // Its features (feature.h) and the chain the snapshot points to.
  std::vector<std::shared_ptr<Feature>> features;
  std::unique_ptr<FeatureChain> chain;
};

GatewayTables::GatewayTables(const GatewayLimits& limits)
    : limits_(limits), instance_(g_instances.fetch_add(1)) {}

std::unique_ptr<GatewayTables> GatewayTables::Create(const GatewayLimits& limits,
                                                     rte_rcu_qsbr* qsv, std::string* error) {
  auto own = Reclaimer::Create(qsv, "gw_rcl" + std::to_string(g_instances.load()), 1u << 14, error);
  if (own == nullptr) return nullptr;
  std::unique_ptr<GatewayTables> t = Create(limits, *own, error);
  if (t != nullptr) t->own_reclaimer_ = std::move(own);
  return t;
}

std::unique_ptr<GatewayTables> GatewayTables::Create(const GatewayLimits& limits,
                                                     Reclaimer& reclaimer, std::string* error) {
  std::unique_ptr<GatewayTables> t(new GatewayTables(limits));
  t->reclaimer_ = &reclaimer;
  t->qsv_ = reclaimer.qsv();
  if (!t->Init(error)) return nullptr;
  return t;
}

bool GatewayTables::Init(std::string* error) {
  if (limits_.max_neighbors == 0) {
    *error = "gateway tables: max_neighbors must be at least 1";
    return false;
  }
  if (!neighbors_.Init(limits_.name + std::to_string(instance_) + "_nb", limits_.max_neighbors,
                       reclaimer_, error))
    return false;
  Publish();
  return true;
}

GatewayTables::~GatewayTables() {
  // No reader may run any more: what was retired goes now (the grace period
  // is over at once), then what is still published.
  if (reclaimer_ != nullptr) reclaimer_->Synchronize();
  for (auto& c : compartments_)
    if (c != nullptr && c->lpm != nullptr) rte_lpm_free(c->lpm);
  delete snapshot_.load();
}

void GatewayTables::Retire(std::function<void()> release) {
  reclaimer_->Retire(std::move(release));
}

void GatewayTables::Reclaim() { reclaimer_->Reclaim(); }

void GatewayTables::Synchronize() { reclaimer_->Synchronize(); }

void GatewayTables::Publish() {
  auto s = std::make_unique<GatewaySnapshot>();
  s->generation = ++generation_;
  s->vm_port_owner.fill(GatewaySnapshot::kNone);
  std::vector<std::pair<uint32_t, uint32_t>> classify;
  for (uint32_t id = 0; id < kMaxCompartments; ++id) {
    const Compartment* c = compartments_[id].get();
    if (c == nullptr) continue;
    CompartmentView& v = s->compartments[id];
    v.present = true;
    v.id = id;
    v.vm_port = c->layout.vm_port;
    v.iface_count = static_cast<uint8_t>(1 + c->layout.external.size());
    v.ifaces[0] = IfaceView{c->layout.vm_port, 0, c->layout.vm_mac, c->layout.vm_mtu};
    for (size_t i = 0; i < c->layout.external.size(); ++i) {
      const InterfaceLayout& e = c->layout.external[i];
      v.ifaces[i + 1] = IfaceView{e.port, e.vlan, e.mac, e.mtu};
      classify.emplace_back(GatewaySnapshot::ClassifyKey(e.port, e.vlan),
                            id << 8 | static_cast<uint32_t>(i + 1));
    }
    v.lpm = c->lpm;
    v.adj = c->adj.get();
    v.default_adj = c->default_adj;
    v.features = c->chain.get();
    s->vm_port_owner[c->layout.vm_port] = static_cast<uint16_t>(id);
  }
  s->classify = FlatU32Map(classify);
  const GatewaySnapshot* old = snapshot_.exchange(s.release(), std::memory_order_acq_rel);
  if (old != nullptr) Retire([old] { delete old; });
}

bool GatewayTables::CreateFib(Compartment& c, uint32_t max_routes, std::string* error) {
  const std::string name = limits_.name + std::to_string(instance_) + "f" +
                           std::to_string(++fib_serial_);
  rte_lpm_config cfg{};
  cfg.max_rules = max_routes;
  cfg.number_tbl8s = Tbl8GroupsFor(max_routes, limits_.tbl8_percent);
  rte_lpm* lpm = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &cfg);
  if (lpm == nullptr) {
    *error = "compartment " + std::to_string(c.id) + ": rte_lpm_create(" +
             std::to_string(max_routes) + " routes, " + std::to_string(cfg.number_tbl8s) +
             " tbl8 groups) failed: " + rte_strerror(rte_errno);
    return false;
  }
  rte_lpm_rcu_config rcu{};
  rcu.v = qsv_;
  rcu.mode = RTE_LPM_QSBR_MODE_DQ;
  if (rte_lpm_rcu_qsbr_add(lpm, &rcu) != 0) {
    *error = "compartment " + std::to_string(c.id) + ": rte_lpm_rcu_qsbr_add failed: " +
             rte_strerror(rte_errno);
    rte_lpm_free(lpm);
    return false;
  }
  c.lpm = lpm;
  c.max_routes = max_routes;
  c.tbl8_groups = cfg.number_tbl8s;
  c.adj_capacity = std::min<uint32_t>(max_routes + 1, 1u << 24);
  c.adj = std::make_unique<Adjacency[]>(c.adj_capacity);
  c.adj_index.clear();
  c.adj_refs.assign(c.adj_capacity, 0);
  c.free_adj.clear();
  for (uint32_t i = c.adj_capacity; i > 0; --i) c.free_adj.push_back(i - 1);
  c.fib_serial = std::make_shared<uint64_t>(fib_serial_);
  return true;
}

uint32_t GatewayTables::AcquireAdjacency(Compartment& c, const NextHop& nh) {
  const NextHopKey key = KeyOf(nh);
  if (auto it = c.adj_index.find(key); it != c.adj_index.end()) {
    ++c.adj_refs[it->second];
    return it->second;
  }
  if (c.free_adj.empty()) Reclaim();
  if (c.free_adj.empty()) return UINT32_MAX;
  const uint32_t i = c.free_adj.back();
  c.free_adj.pop_back();
  // The slot is free: no route and no reader in a grace period refers to it.
  // Before the lpm points at it (release).
  StoreAdjacency(c.adj.get(), i,
                 Adjacency{nh.kind, nh.iface, 0, nh.gateway.IsUnspecified() ? 0 : nh.gateway.v4_host()});
  c.adj_index.emplace(key, i);
  c.adj_refs[i] = 1;
  return i;
}

void GatewayTables::ReleaseAdjacency(Compartment& c, uint32_t index) {
  if (--c.adj_refs[index] != 0) return;
  const Adjacency& a = c.adj[index];
  IpAddr gw;
  if (a.gateway != 0) gw = IpAddr::V4(a.gateway);
  c.adj_index.erase(NextHopKey{static_cast<uint8_t>(a.kind), a.iface, gw});
  // A worker may have read this index from the lpm just before the change.
  Compartment* cp = &c;
  std::weak_ptr<uint64_t> serial = c.fib_serial;
  const uint64_t expect = *c.fib_serial;
  Retire([cp, serial, expect, index] {
    auto s = serial.lock();
    if (s != nullptr && *s == expect) cp->free_adj.push_back(index);
  });
}

bool GatewayTables::AddToFib(Compartment& c, const IpPrefix& dst, const NextHop& nh,
                             std::string* error) {
  const uint32_t adj = AcquireAdjacency(c, nh);
  if (adj == UINT32_MAX) {
    *error = "compartment " + std::to_string(c.id) + ": adjacency table full (" +
             std::to_string(c.adj_capacity) + ")";
    return false;
  }
  if (dst.len == 0) {
    c.default_adj = adj;  // published by the caller
    return true;
  }
  int rc = rte_lpm_add(c.lpm, dst.addr.v4_host(), dst.len, adj);
  if (rc == -ENOSPC) {
    // tbl8 groups may be waiting in the lpm's defer queue for a grace period.
    rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID);
    rc = rte_lpm_add(c.lpm, dst.addr.v4_host(), dst.len, adj);
  }
  if (rc != 0) {
    ReleaseAdjacency(c, adj);
    *error = "compartment " + std::to_string(c.id) + ": route " + dst.ToString() +
             ": FIB full (" + std::to_string(c.max_routes) + " routes, " +
             std::to_string(c.tbl8_groups) + " tbl8 groups): " + rte_strerror(-rc);
    return false;
  }
  return true;
}

bool GatewayTables::SetCompartment(uint32_t id, const CompartmentLayout& layout,
                                   std::string* error) {
  const std::string where = "compartment " + std::to_string(id) + ": ";
  if (id >= kMaxCompartments) {
    *error = where + "id must be below " + std::to_string(kMaxCompartments);
    return false;
  }
  if (layout.vm_port >= kMaxPorts) {
    *error = where + "vm_port " + std::to_string(layout.vm_port) + " is not a policy port";
    return false;
  }
  if (layout.vm_mac.IsMulticast() || layout.vm_mac.IsZero()) {
    *error = where + "vm_mac " + layout.vm_mac.ToString() + " is not a unicast MAC";
    return false;
  }
  if (layout.vm_mtu < 68) {
    *error = where + "vm_mtu " + std::to_string(layout.vm_mtu) + " is below 68";
    return false;
  }
  if (layout.external.size() + 1 > kMaxInterfaces) {
    *error = where + std::to_string(layout.external.size()) + " external interfaces, at most " +
             std::to_string(kMaxInterfaces - 1);
    return false;
  }
  if (layout.max_routes == 0 || layout.max_routes >= (1u << 24)) {
    *error = where + "max_routes must be 1..16777215";
    return false;
  }
  std::set<uint32_t> keys;
  for (size_t i = 0; i < layout.external.size(); ++i) {
    const InterfaceLayout& e = layout.external[i];
    const std::string iw = where + "interface " + std::to_string(i + 1) + ": ";
    if (e.port >= kMaxPorts || e.port == layout.vm_port) {
      *error = iw + "port " + std::to_string(e.port) + " is not an external policy port";
      return false;
    }
    if (e.vlan >= 4095) {
      *error = iw + "vlan " + std::to_string(e.vlan) + " is outside 0..4094";
      return false;
    }
    if (e.mac.IsMulticast() || e.mac.IsZero()) {
      *error = iw + "mac " + e.mac.ToString() + " is not a unicast MAC";
      return false;
    }
    if (e.mtu < 68) {
      *error = iw + "mtu " + std::to_string(e.mtu) + " is below 68";
      return false;
    }
    if (!keys.insert(GatewaySnapshot::ClassifyKey(e.port, e.vlan)).second) {
      *error = iw + "port " + std::to_string(e.port) + " vlan " + std::to_string(e.vlan) +
               " is used twice";
      return false;
    }
  }
  for (uint32_t other = 0; other < kMaxCompartments; ++other) {
    const Compartment* o = compartments_[other].get();
    if (o == nullptr || other == id) continue;
    if (o->layout.vm_port == layout.vm_port) {
      *error = where + "vm_port " + std::to_string(layout.vm_port) + " belongs to compartment " +
               std::to_string(other);
      return false;
    }
    for (const InterfaceLayout& e : o->layout.external) {
      if (e.port == layout.vm_port) {
        *error = where + "vm_port " + std::to_string(layout.vm_port) +
                 " is an external port of compartment " + std::to_string(other);
        return false;
      }
      if (keys.count(GatewaySnapshot::ClassifyKey(e.port, e.vlan)) != 0) {
        *error = where + "port " + std::to_string(e.port) + " vlan " + std::to_string(e.vlan) +
                 " belongs to compartment " + std::to_string(other);
        return false;
      }
    }
  }

  auto& slot = compartments_[id];
  if (slot == nullptr) {
    auto c = std::make_unique<Compartment>();
    c->id = id;
    if (!CreateFib(*c, layout.max_routes, error)) return false;
    c->layout = layout;
    slot = std::move(c);
    Publish();
    return true;
  }
  Compartment& c = *slot;
  if (layout.max_routes != c.max_routes) {
    if (c.routes.size() > layout.max_routes) {
      *error = where + "max_routes " + std::to_string(layout.max_routes) + " is below the " +
               std::to_string(c.routes.size()) + " routes it holds";
      return false;
    }
    // A new FIB with the same routes; the old one goes after a grace period.
    Compartment fresh;
    fresh.id = id;
    if (!CreateFib(fresh, layout.max_routes, error)) return false;
    fresh.routes = c.routes;
    for (auto& [prefix, route] : fresh.routes) {
      if (!AddToFib(fresh, prefix, route.first, error)) {
        rte_lpm_free(fresh.lpm);
        return false;
      }
      route.second = fresh.adj_index.at(KeyOf(route.first));
    }
    rte_lpm* old_lpm = c.lpm;
    Adjacency* old_adj = c.adj.release();
    c.lpm = fresh.lpm;
    c.adj = std::move(fresh.adj);
    c.adj_capacity = fresh.adj_capacity;
    c.max_routes = fresh.max_routes;
    c.tbl8_groups = fresh.tbl8_groups;
    c.routes = std::move(fresh.routes);
    c.adj_index = std::move(fresh.adj_index);
    c.adj_refs = std::move(fresh.adj_refs);
    c.default_adj = fresh.default_adj;
    c.free_adj = std::move(fresh.free_adj);
    c.fib_serial = fresh.fib_serial;  // the old FIB's pending index releases become no-ops
    Retire([old_lpm, old_adj] {
      rte_lpm_free(old_lpm);
      delete[] old_adj;
    });
  }
  c.layout = layout;
  RemoveNeighborsOf(id, static_cast<uint8_t>(1 + layout.external.size()));
  Publish();
  return true;
}

void GatewayTables::RemoveCompartment(uint32_t id) {
  if (id >= kMaxCompartments || compartments_[id] == nullptr) return;
  RemoveNeighborsOf(id, 0);
  std::unique_ptr<Compartment> c = std::move(compartments_[id]);
  Publish();  // no new reader finds its FIB
  *c->fib_serial = UINT64_MAX;  // pending adjacency releases become no-ops
  Compartment* raw = c.release();
  Retire([raw] {
    rte_lpm_free(raw->lpm);
    delete raw;
  });
}

bool GatewayTables::SetFeatures(uint32_t id, std::vector<std::shared_ptr<Feature>> features,
                                std::string* error) {
  if (id >= kMaxCompartments || compartments_[id] == nullptr) {
    *error = "compartment " + std::to_string(id) + " does not exist";
    return false;
  }
  std::stable_sort(features.begin(), features.end(), [](const auto& a, const auto& b) {
    return std::make_pair(a->slot(), a->order()) < std::make_pair(b->slot(), b->order());
  });
  std::unique_ptr<FeatureChain> chain;
  if (!features.empty()) {
    chain = std::make_unique<FeatureChain>();
    for (const std::shared_ptr<Feature>& f : features) {
      const bool pre = f->slot() == FeatureSlot::kPreRoute;
      uint8_t& n = pre ? chain->n_pre : chain->n_post;
      if (n == FeatureChain::kMaxPerSlot) {
        *error = "compartment " + std::to_string(id) + ": more than " +
                 std::to_string(FeatureChain::kMaxPerSlot) + " features in one slot";
        return false;
      }
      (pre ? chain->pre : chain->post)[n++] = f.get();
      chain->steers = chain->steers || f->steers();
    }
  }
  Compartment& c = *compartments_[id];
  std::swap(c.features, features);
  std::swap(c.chain, chain);
  Publish();
  // The old chain and features stay alive until no worker can hold them.
  auto* old_chain = chain.release();
  auto* old_features = new std::vector<std::shared_ptr<Feature>>(std::move(features));
  Retire([old_chain, old_features] {
    delete old_chain;
    delete old_features;
  });
  return true;
}

std::vector<std::shared_ptr<Feature>> GatewayTables::Features(uint32_t id) const {
  if (id >= kMaxCompartments || compartments_[id] == nullptr) return {};
  return compartments_[id]->features;
}

bool GatewayTables::SetRoute(uint32_t id, const IpPrefix& dst, const NextHop& nh,
                             std::string* error) {
  const std::string where = "compartment " + std::to_string(id) + ": route " + dst.ToString();
  if (id >= kMaxCompartments || compartments_[id] == nullptr) {
    *error = "compartment " + std::to_string(id) + " does not exist";
    return false;
  }
  if (!dst.addr.is_v4()) {
    *error = where +
             ": IPv6 routes are not forwarded by the dataplane in this version "
             "(IPv6 transit is punted to the compartment's kernel)";
    return false;
  }
  if (dst.len > 32 || dst.addr.Masked(dst.len) != dst.addr) {
    *error = where + ": not a valid IPv4 prefix (length 0..32, host bits clear)";
    return false;
  }
  Compartment& c = *compartments_[id];
  if (nh.kind == NextHopKind::kForward) {
    if (nh.iface >= 1 + c.layout.external.size()) {
      *error = where + ": interface " + std::to_string(nh.iface) + " does not exist";
      return false;
    }
    if (!nh.gateway.IsUnspecified() && !nh.gateway.is_v4()) {
      *error = where + ": gateway " + nh.gateway.ToString() + " is not IPv4";
      return false;
    }
  }
  NextHop canon = nh;
  if (canon.kind != NextHopKind::kForward) canon = NextHop{nh.kind, 0, IpAddr{}};
  auto it = c.routes.find(dst);
  if (it != c.routes.end() && it->second.first == canon) return true;
  if (it == c.routes.end() && c.routes.size() >= c.max_routes) {
    *error = where + ": FIB full (" + std::to_string(c.max_routes) + " routes)";
    return false;
  }
  if (!AddToFib(c, dst, canon, error)) return false;
  const uint32_t adj = c.adj_index.at(KeyOf(canon));
  if (dst.len == 0) Publish();  // the default route lives in the snapshot
  if (it != c.routes.end()) {
    const uint32_t old = it->second.second;
    it->second = {canon, adj};
    ReleaseAdjacency(c, old);
  } else {
    c.routes.emplace(dst, std::make_pair(canon, adj));
  }
  return true;
}

bool GatewayTables::RemoveRoute(uint32_t id, const IpPrefix& dst) {
  if (id >= kMaxCompartments || compartments_[id] == nullptr) return false;
  Compartment& c = *compartments_[id];
  auto it = c.routes.find(dst);
  if (it == c.routes.end()) return false;
  if (dst.len == 0) {
    c.default_adj = CompartmentView::kNoDefault;
    Publish();  // before the adjacency is released
  } else {
    rte_lpm_delete(c.lpm, dst.addr.v4_host(), dst.len);
  }
  ReleaseAdjacency(c, it->second.second);
  c.routes.erase(it);
  return true;
}

bool GatewayTables::SetNeighbor(uint32_t id, uint8_t iface, const IpAddr& ip, const MacAddr& mac,
                                std::string* error) {
  const std::string where = "compartment " + std::to_string(id) + ": neighbour " + ip.ToString();
  if (id >= kMaxCompartments || compartments_[id] == nullptr) {
    *error = "compartment " + std::to_string(id) + " does not exist";
    return false;
  }
  Compartment& c = *compartments_[id];
  if (iface >= 1 + c.layout.external.size()) {
    *error = where + ": interface " + std::to_string(iface) + " does not exist";
    return false;
  }
  if (mac.IsMulticast() || mac.IsZero()) {
    *error = where + ": " + mac.ToString() + " is not a unicast MAC";
    return false;
  }
  NeighborKey key;
  key.scope = id << 8 | iface;
  key.ip = ip;
  auto known = c.neighbors.find({iface, ip});
  if (known != c.neighbors.end() && known->second == mac) return true;
  if (!neighbors_.Upsert(key, NeighborEntry{mac, 0})) {
    *error = where + ": neighbour table full (" + std::to_string(limits_.max_neighbors) + ")";
    return false;
  }
  c.neighbors[{iface, ip}] = mac;
  return true;
}

void GatewayTables::RemoveNeighbor(uint32_t id, uint8_t iface, const IpAddr& ip) {
  if (id >= kMaxCompartments || compartments_[id] == nullptr) return;
  Compartment& c = *compartments_[id];
  if (c.neighbors.erase({iface, ip}) == 0) return;
  NeighborKey key;
  key.scope = id << 8 | iface;
  key.ip = ip;
  neighbors_.Remove(key);
}

void GatewayTables::RemoveNeighborsOf(uint32_t id, uint8_t min_iface) {
  Compartment& c = *compartments_[id];
  for (auto it = c.neighbors.begin(); it != c.neighbors.end();) {
    if (it->first.first < min_iface) {
      ++it;
      continue;
    }
    NeighborKey key;
    key.scope = id << 8 | it->first.first;
    key.ip = it->first.second;
    neighbors_.Remove(key);
    it = c.neighbors.erase(it);
  }
}

bool GatewayTables::HasCompartment(uint32_t id) const {
  return id < kMaxCompartments && compartments_[id] != nullptr;
}

const CompartmentLayout* GatewayTables::Layout(uint32_t id) const {
  return HasCompartment(id) ? &compartments_[id]->layout : nullptr;
}

std::vector<std::pair<IpPrefix, NextHop>> GatewayTables::Routes(uint32_t id) const {
  std::vector<std::pair<IpPrefix, NextHop>> out;
  if (!HasCompartment(id)) return out;
  for (const auto& [prefix, route] : compartments_[id]->routes) out.emplace_back(prefix, route.first);
  return out;
}

std::vector<NeighborInfo> GatewayTables::Neighbors(uint32_t id) const {
  std::vector<NeighborInfo> out;
  if (!HasCompartment(id)) return out;
  for (const auto& [k, mac] : compartments_[id]->neighbors) out.push_back({k.first, k.second, mac});
  return out;
}

size_t GatewayTables::Memory(uint32_t id) const {
  if (!HasCompartment(id)) return 0;
  const Compartment& c = *compartments_[id];
  const size_t tbl8 =
      sizeof(rte_lpm_tbl_entry) * RTE_LPM_TBL8_GROUP_NUM_ENTRIES * size_t{c.tbl8_groups};
  const size_t rules = 8 * size_t{c.max_routes};  // DPDK's internal rte_lpm_rule
  const size_t dq = 2 * sizeof(uint64_t) * size_t{c.tbl8_groups};  // token + tbl8 index
  const size_t adj = sizeof(Adjacency) * size_t{c.adj_capacity};
  return sizeof(rte_lpm) /* holds tbl24 */ + tbl8 + rules + dq + adj;
}

}  // namespace hnv::gateway
