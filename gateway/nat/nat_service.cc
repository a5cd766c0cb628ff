#include "gateway/nat/nat_service.h"

#include <rte_cycles.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <numeric>

#include "daemon/log.h"

namespace hnv::gateway {

using nlohmann::json;

namespace {

bool Wanted(const nat::TenantNat& t) { return t.nat.enabled || !t.load_balancers.empty(); }

// What sizes the NAPT's per-worker tables: sessions survive a change of
// anything else.
bool SameNaptShape(const nat::NatSpec& a, const nat::NatSpec& b) {
  return a.enabled == b.enabled && a.addresses == b.addresses && a.ports == b.ports &&
         a.limits == b.limits && a.internal == b.internal;
}

uint32_t LbConnections(const nat::TenantNat& t) {
  uint64_t n = 0;
  for (const nat::LoadBalancerSpec& lb : t.load_balancers) n += lb.max_connections;
  return static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
}

std::string Addr(uint32_t raw) {
  const auto* b = reinterpret_cast<const uint8_t*>(&raw);
  return std::to_string(b[0]) + "." + std::to_string(b[1]) + "." + std::to_string(b[2]) + "." +
         std::to_string(b[3]);
}
uint16_t Port(uint16_t raw) { return static_cast<uint16_t>(raw >> 8 | raw << 8); }
std::string End(uint32_t addr_raw, uint16_t port_raw) {
  return Addr(addr_raw) + ":" + std::to_string(Port(port_raw));
}
const char* ProtoName(nat::Proto p) {
  return p == nat::Proto::kTcp ? "tcp" : p == nat::Proto::kUdp ? "udp" : "icmp";
}

void AddTo(nat::NatCounters* s, const nat::NatCounters& c) {
  s->out_napt += c.out_napt, s->in_napt += c.in_napt, s->out_static += c.out_static;
  s->in_static += c.in_static, s->icmp_errors += c.icmp_errors, s->hairpins += c.hairpins;
  s->in_local += c.in_local, s->sessions_created += c.sessions_created;
  s->sessions_expired += c.sessions_expired;
  for (size_t i = 0; i < nat::kDropCount; ++i) s->drop[i] += c.drop[i];
}
void AddTo(nat::LbCounters* s, const nat::LbCounters& c) {
  s->in_translated += c.in_translated, s->out_translated += c.out_translated;
  s->icmp_errors += c.icmp_errors, s->conns_created += c.conns_created;
  s->conns_expired += c.conns_expired, s->untracked += c.untracked, s->resets += c.resets;
  for (size_t i = 0; i < nat::kDropCount; ++i) s->drop[i] += c.drop[i];
}

template <typename Counters>
json Drops(const Counters& c) {
  json d = json::object();
  for (size_t i = 1; i < nat::kDropCount; ++i)
    if (c.drop[i] != 0) d[nat::DropName(static_cast<nat::Drop>(i))] = c.drop[i];
  return d;
}

bool InSubnet(const IpAddr& a, const IfAddress& net) {
  if (a.family != net.addr.family || a.family != Family::kV4) return false;
  uint32_t x, y;
  std::memcpy(&x, a.b.data(), 4);
  std::memcpy(&y, net.addr.b.data(), 4);
  const uint32_t mask = net.len == 0 ? 0 : HostToNet(~uint32_t{0} << (32 - net.len));
  return (x & mask) == (y & mask);
}

// The external addresses the NAT and the load balancers answer for.
std::vector<IpAddr> ExternalAddresses(const nat::TenantNat& t) {
  std::vector<IpAddr> v;
  if (t.nat.enabled) {
    v = t.nat.addresses;
    for (const nat::StaticNat& s : t.nat.static_nat) v.push_back(s.external);
    for (const nat::PortForward& f : t.nat.port_forwards) v.push_back(f.external);
  }
  for (const nat::LoadBalancerSpec& lb : t.load_balancers) v.push_back(lb.vip);
  std::sort(v.begin(), v.end(), [](const IpAddr& a, const IpAddr& b) { return a.b < b.b; });
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return v;
}

}  // namespace

ServiceFactory NatServiceFactory() {
  return [](const CompartmentSpec& s) -> std::unique_ptr<CompartmentService> {
    if (!Wanted(s.nat)) return nullptr;
    return std::make_unique<NatService>();
  };
}

std::vector<nat::HealthTarget> NatService::Targets(const nat::TenantNat& t) const {
  std::vector<nat::HealthTarget> targets;
  for (const nat::LoadBalancerSpec& lb : t.load_balancers) {
    if (lb.health.kind == nat::HealthKind::kNone) continue;
    for (const nat::Backend& b : lb.backends)
      targets.push_back({b.address, lb.health.port != 0 ? lb.health.port : b.port, lb.health});
  }
  return targets;
}

std::vector<std::vector<bool>> NatService::Healthy(const nat::TenantNat& t) const {
  std::vector<std::vector<bool>> healthy;
  const std::vector<nat::HealthState> states =
      checker_ ? checker_->States() : std::vector<nat::HealthState>{};
  size_t k = 0;
  for (const nat::LoadBalancerSpec& lb : t.load_balancers) {
    healthy.emplace_back(lb.backends.size(), true);
    if (lb.health.kind == nat::HealthKind::kNone) continue;
    for (size_t j = 0; j < lb.backends.size(); ++j, ++k)
      if (k < states.size()) healthy.back()[j] = states[k].up;
  }
  return healthy;
}

bool NatService::Install(ServiceContext& ctx, const CompartmentSpec& spec, std::string* error) {
  const nat::TenantNat& t = spec.nat;
  const uint32_t workers = std::max<uint32_t>(ctx.fastpath().workers(), 1);
  auto r = std::make_shared<NatFeatureRules>();
  r->tsc_per_ms = std::max<uint64_t>(rte_get_tsc_hz() / 1000, 1);
  NatClockMs(rte_rdtsc(), r->tsc_per_ms);  // starts the clock
  if (t.nat.enabled) {
    std::vector<IpAddr> locals{spec.vm_address.addr};
    for (const ExternalSpec& e : spec.external)
      for (const IfAddress& a : e.addresses) locals.push_back(a.addr);
    std::unique_ptr<nat::NatRules> rules = nat::NatRules::Build(t.nat, locals, error);
    if (!rules) return false;
    r->nat = std::move(rules);
    if (rules_ && rules_->nat_state && SameNaptShape(spec_.nat, t.nat)) {
      r->nat_state = rules_->nat_state;
    } else {
      r->nat_state = NatWorkers::CreateNat(t.nat, workers, 0x6e61740000000000ull | spec.id, error);
      if (!r->nat_state) return false;
    }
    for (size_t i = 0; i < spec.external.size(); ++i) {
      const auto& names = t.nat.interfaces;
      if (names.empty() ||
          std::find(names.begin(), names.end(), spec.external[i].interface) != names.end())
        r->nat_ifaces |= uint64_t{1} << (i + 1);
    }
  }
  if (!t.load_balancers.empty()) {
    std::unique_ptr<nat::LbRules> lb = nat::LbRules::Build(
        t.load_balancers, Healthy(t), rules_ ? rules_->lb.get() : nullptr, error);
    if (!lb) return false;
    r->lb = std::move(lb);
    if (rules_ && rules_->lb_state && LbConnections(spec_) == LbConnections(t)) {
      r->lb_state = rules_->lb_state;
    } else {
      r->lb_state = NatWorkers::CreateLb(LbConnections(t), workers, 0x6c62000000000000ull | spec.id, error);
      if (!r->lb_state) return false;
    }
  }
  r->trace_state = NatWorkers::CreateTrace(t, error);
  if (!r->trace_state) return false;
  if (!ctx.tables().SetFeatures(spec.id, MakeNatFeatures(r), error)) return false;
  rules_ = std::move(r);
  spec_ = t;
  id_ = spec.id;
  installed_ = true;
  return true;
}

bool NatService::ClaimAddresses(ServiceContext& ctx, const CompartmentSpec& spec,
                                std::string* error) {
  std::vector<std::pair<int, IpAddr>> want;
  for (const IpAddr& a : ExternalAddresses(spec.nat)) {
    bool own = false;
    int ifindex = 0;
    for (size_t i = 0; i < spec.external.size() && i + 1 < ctx.taps().size(); ++i)
      for (const IfAddress& ia : spec.external[i].addresses) {
        own = own || ia.addr == a;
        if (ifindex == 0 && InSubnet(a, ia)) ifindex = ctx.taps()[i + 1]->ifindex();
      }
    if (!own && ifindex != 0) want.emplace_back(ifindex, a);
  }
  for (const auto& [ifindex, a] : claimed_) {
    if (std::find(want.begin(), want.end(), std::make_pair(ifindex, a)) != want.end()) continue;
    std::string e;
    if (!nl_->DeleteAddress(ifindex, a, 32, &e)) Log("compartment %s: %s", spec.name.c_str(), e.c_str());
  }
  std::vector<std::pair<int, IpAddr>> had = std::move(claimed_);
  claimed_.clear();
  for (const auto& p : want) {
    if (std::find(had.begin(), had.end(), p) == had.end()) {
      std::string e;
      if (!nl_->AddAddress(p.first, p.second, 32, &e, /*nodad=*/true) &&
          e.find("exists") == std::string::npos) {
        *error = "external address " + p.second.ToString() + ": " + e;
        return false;
      }
    }
    claimed_.push_back(p);
  }
  return true;
}

bool NatService::Start(ServiceContext& ctx, std::string* error) {
  if (ctx.netns() == nullptr || ctx.taps().empty()) {
    *error = "needs the namespace and taps services before it";
    return false;
  }
  nl_ = NetlinkConfig::Create(*ctx.netns(), error);
  // What the fast path punts after translating (a next hop not resolved yet)
  // has one of the NAT's addresses as its source, which the kernel drops as
  // "martian" unless the interface accepts local sources.
  const std::string accept = "/proc/sys/net/ipv4/conf/" + ctx.spec().vm_interface + "/accept_local";
  bool accepted = false;
  std::string e;
  ctx.netns()->Enter([&] { accepted = static_cast<bool>(std::ofstream(accept) << "1\n"); }, &e);
  if (!accepted) Log("compartment %s: cannot set %s: %s", ctx.spec().name.c_str(), accept.c_str(), e.c_str());
  if (!nl_ || !ClaimAddresses(ctx, ctx.spec(), error) || !Install(ctx, ctx.spec(), error)) {
    Stop(ctx, StopReason::kStartFailed);
    return false;
  }
  std::vector<nat::HealthTarget> targets = Targets(spec_);
  if (!targets.empty()) {
    std::shared_ptr<std::atomic<bool>> flag = health_changed_;
    checker_ = nat::HealthChecker::StartIn(
        ctx.netns()->name(), std::move(targets),
        [flag](size_t, bool) { flag->store(true, std::memory_order_release); }, error);
    if (!checker_) {
      Stop(ctx, StopReason::kStartFailed);
      return false;
    }
  }
  return true;
}

bool NatService::Update(ServiceContext& ctx, const CompartmentSpec& next, std::string* error) {
  if (next.nat == spec_ && next.id == id_) return true;
  std::vector<nat::HealthTarget> targets = Targets(next.nat);
  if (checker_ && targets != Targets(spec_)) checker_->Update(targets);
  if (!ClaimAddresses(ctx, next, error) || !Install(ctx, next, error)) return false;
  if (!checker_ && !targets.empty()) {
    std::shared_ptr<std::atomic<bool>> flag = health_changed_;
    checker_ = nat::HealthChecker::StartIn(
        ctx.netns()->name(), std::move(targets),
        [flag](size_t, bool) { flag->store(true, std::memory_order_release); }, error);
    if (!checker_) return false;
  }
  return true;
}

bool NatService::Poll(ServiceContext& ctx, std::string* error) {
  if (!health_changed_->exchange(false, std::memory_order_acq_rel) || spec_.load_balancers.empty())
    return true;
  auto r = std::make_shared<NatFeatureRules>(*rules_);
  std::unique_ptr<nat::LbRules> lb =
      nat::LbRules::Build(spec_.load_balancers, Healthy(spec_), rules_->lb.get(), error);
  if (!lb) return false;
  r->lb = std::move(lb);
  if (!ctx.tables().SetFeatures(id_, MakeNatFeatures(r), error)) return false;
  rules_ = std::move(r);
  Log("tenant %s: load balancer pool health changed", ctx.spec().name.c_str());
  return true;
}

void NatService::Stop(ServiceContext& ctx, StopReason /*why*/) {
  checker_.reset();
  if (installed_ && ctx.tables().HasCompartment(id_)) {
    std::string e;
    ctx.tables().SetFeatures(id_, {}, &e);
  }
  installed_ = false;
  rules_.reset();
  for (const auto& [ifindex, a] : claimed_) {
    std::string e;
    if (nl_) nl_->DeleteAddress(ifindex, a, 32, &e);
  }
  claimed_.clear();
  nl_.reset();
}

ServiceStatus NatService::Status(const ServiceContext& /*ctx*/) const {
  ServiceStatus s;
  std::string sum;
  if (spec_.nat.enabled)
    sum = "nat: " + std::to_string(spec_.nat.addresses.size()) + " address(es), " +
          std::to_string(spec_.nat.static_nat.size()) + " static, " +
          std::to_string(spec_.nat.port_forwards.size()) + " port forward(s)";
  if (rules_ && rules_->lb) {
    const std::vector<std::vector<bool>> healthy = Healthy(spec_);
    for (size_t i = 0; i < spec_.load_balancers.size(); ++i) {
      const auto up = std::count(healthy[i].begin(), healthy[i].end(), true);
      sum += (sum.empty() ? "" : "; ") + ("lb " + spec_.load_balancers[i].name + ": " +
                                          std::to_string(up) + "/" +
                                          std::to_string(healthy[i].size()) + " healthy");
    }
  }
  s.summary = sum;
  return s;
}

json NatService::NatView(const ServiceContext& ctx, const NatQuery& q) const {
  json out = json::object();
  out["enabled"] = spec_.nat.enabled;
  if (!rules_ || !rules_->nat) return out;
  const NatFeatureRules& r = *rules_;
  const uint32_t workers = r.nat_state->workers;
  std::optional<IpAddr> filter_addr;
  if (!q.address.empty()) filter_addr = IpAddr::Parse(q.address);
  uint32_t filter_raw = 0;
  if (filter_addr) std::memcpy(&filter_raw, filter_addr->b.data(), 4);
  const auto filter_port = static_cast<uint16_t>(Port(static_cast<uint16_t>(q.port)));
  struct Copy {
    nat::NatCounters c;
    uint32_t sessions = 0, mappings = 0, hosts = 0, capacity = 0;
    std::vector<nat::Session> list;
  };
  std::vector<Copy> copies(workers);
  for (Copy& c : copies) c.list.reserve(std::min<uint32_t>(q.limit, 4096));
  const uint64_t now = NatClockMs(rte_rdtsc(), r.tsc_per_ms);
  ctx.fastpath().OnWorkers([&](uint32_t w) {
    if (w >= workers) return;
    const nat::NatWorker& nw = r.nat_state->napt[w];
    Copy& c = copies[w];
    c.c = nw.counters();
    if (!nw.napt()) return;
    const nat::NaptTable& t = nw.table();
    c.sessions = t.sessions();
    c.mappings = t.mappings();
    c.hosts = t.hosts();
    c.capacity = t.capacity();
    for (uint32_t i = 0; i < t.records() && c.list.size() < c.list.capacity(); ++i) {
      const nat::Session& s = t.at(i);
      if (!s.live()) continue;
      const uint32_t ext = r.nat->pool_address(s.ext_idx);
      if (filter_addr && s.in_addr != filter_raw && s.rem_addr != filter_raw && ext != filter_raw)
        continue;
      if (q.port != 0 && s.in_port != filter_port && s.rem_port != filter_port &&
          s.ext_port != filter_port)
        continue;
      c.list.push_back(s);
    }
  });
  nat::NatCounters sum;
  json sessions = json::array();
  uint64_t live = 0, mappings = 0, hosts = 0, capacity = 0;
  for (uint32_t w = 0; w < workers; ++w) {
    const Copy& c = copies[w];
    AddTo(&sum, c.c);
    live += c.sessions, mappings += c.mappings, hosts += c.hosts, capacity += c.capacity;
    for (const nat::Session& s : c.list) {
      if (sessions.size() >= q.limit) break;
      const auto left = static_cast<int32_t>(s.expires - static_cast<uint32_t>(now));
      sessions.push_back({{"protocol", ProtoName(s.proto())},
                          {"inside", End(s.in_addr, s.in_port)},
                          {"outside", End(r.nat->pool_address(s.ext_idx), s.ext_port)},
                          {"remote", End(s.rem_addr, s.rem_port)},
                          {"worker", w},
                          {"expires_in_s", std::max(left, 0) / 1000}});
    }
  }
  json addrs = json::array();
  for (const IpAddr& a : spec_.nat.addresses) addrs.push_back(a.ToString());
  out["addresses"] = addrs;
  out["sessions_live"] = live;
  out["sessions_capacity"] = capacity;
  out["mappings"] = mappings;
  out["hosts"] = hosts;
  out["counters"] = {{"out_napt", sum.out_napt},       {"in_napt", sum.in_napt},
                     {"out_static", sum.out_static},   {"in_static", sum.in_static},
                     {"icmp_errors", sum.icmp_errors}, {"hairpins", sum.hairpins},
                     {"in_local", sum.in_local},       {"sessions_created", sum.sessions_created},
                     {"sessions_expired", sum.sessions_expired}};
  out["dropped"] = Drops(sum);
  out["sessions"] = sessions;
  return out;
}

json NatService::LbView(const ServiceContext& ctx) const {
  json out = json::object();
  json lbs = json::array();
  if (!rules_ || !rules_->lb) {
    out["load_balancers"] = lbs;
    return out;
  }
  const NatFeatureRules& r = *rules_;
  const uint32_t workers = r.lb_state->workers;
  std::vector<nat::LbCounters> counters(workers);
  std::vector<uint32_t> conns(workers, 0);
  ctx.fastpath().OnWorkers([&](uint32_t w) {
    if (w >= workers) return;
    counters[w] = r.lb_state->lb[w].counters();
    conns[w] = r.lb_state->lb[w].connections();
  });
  nat::LbCounters sum;
  for (const nat::LbCounters& c : counters) AddTo(&sum, c);
  const std::vector<std::vector<bool>> healthy = Healthy(spec_);
  const std::vector<nat::HealthState> states =
      checker_ ? checker_->States() : std::vector<nat::HealthState>{};
  size_t k = 0;
  for (size_t i = 0; i < spec_.load_balancers.size(); ++i) {
    const nat::LoadBalancerSpec& lb = spec_.load_balancers[i];
    const std::vector<uint32_t> shares = r.lb->Shares(i);
    json backends = json::array();
    for (size_t j = 0; j < lb.backends.size(); ++j) {
      const nat::Backend& b = lb.backends[j];
      json be = {{"address", b.address.ToString()},
                 {"port", b.port},
                 {"weight", b.weight},
                 {"healthy", healthy[i][j]},
                 {"table_entries", j < shares.size() ? shares[j] : 0},
                 {"table_share", j < shares.size() && lb.table_size != 0
                                     ? static_cast<double>(shares[j]) / lb.table_size
                                     : 0.0}};
      if (lb.health.kind != nat::HealthKind::kNone && k < states.size()) {
        be["checks"] = states[k].checks;
        if (!states[k].last_error.empty()) be["last_error"] = states[k].last_error;
        ++k;
      }
      backends.push_back(std::move(be));
    }
    lbs.push_back({{"name", lb.name},
                   {"vip", lb.vip.ToString()},
                   {"protocol", lb.protocol == 6 ? "tcp" : "udp"},
                   {"port", lb.port},
                   {"table_size", lb.table_size},
                   {"health", lb.health.kind == nat::HealthKind::kNone   ? "none"
                              : lb.health.kind == nat::HealthKind::kTcp ? "tcp"
                                                                         : "http"},
                   {"backends", backends}});
  }
  out["load_balancers"] = lbs;
  out["connections"] = std::accumulate(conns.begin(), conns.end(), uint64_t{0});
  out["counters"] = {{"in_translated", sum.in_translated}, {"out_translated", sum.out_translated},
                     {"icmp_errors", sum.icmp_errors},     {"conns_created", sum.conns_created},
                     {"conns_expired", sum.conns_expired}, {"untracked", sum.untracked},
                     {"resets", sum.resets}};
  out["dropped"] = Drops(sum);
  return out;
}

}  // namespace hnv::gateway
