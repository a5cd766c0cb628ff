// ReadNatSections: a tenant file's `nat:` and `load_balancers:`, keys,
// types and values only (what needs the tenant as a whole or the policy is
// in yaml_nat_check.cc).
#include "config/yaml_nat.h"
#include "config/yaml_origin.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>

#include "config/yaml_tenant.h"

namespace hnv::config::yaml {
namespace {

constexpr uint64_t kU16 = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();

constexpr IntSpec kPortSpec{"a port", 1, 65535, kU16};
constexpr IntSpec kCheckPortSpec{"a port", 0, 65535, kU16};
constexpr IntSpec kTimeoutSpec{"a timeout in seconds", 1, nat::kMaxTimeoutSeconds, kU32};
constexpr IntSpec kSessionsSpec{"a session count", 1, 1u << 27, kU32};
constexpr IntSpec kHostsSpec{"an address count", 1, 1u << 24, kU32};
constexpr IntSpec kConnsSpec{"a connection count", 1, 1u << 26, kU32};
constexpr IntSpec kTableSpec{"a table size", 251, 1000003, kU32};
constexpr IntSpec kWeightSpec{"a weight", 0, nat::kMaxWeight, kU32};
constexpr IntSpec kIntervalSpec{"an interval in ms", 100, 3600000, kU32};
constexpr IntSpec kCheckTimeoutSpec{"a timeout in ms", 10, 3600000, kU32};
constexpr IntSpec kRiseFallSpec{"a count", 1, 100, kU32};

constexpr std::string_view kNatSectionKeys[] = {
    "addresses", "interfaces", "internal", "ports",  "filtering",    "hairpinning",
    "timeouts",  "limits",     "static",   "port_forwards"};
constexpr std::string_view kPortsKeys[] = {"first", "last"};
constexpr std::string_view kTimeoutKeys[] = {"tcp_established", "tcp_transitory", "udp", "icmp"};
constexpr std::string_view kLimitKeys[] = {"sessions", "sessions_per_host", "hosts"};
constexpr std::string_view kStaticKeys[] = {"external", "internal"};
constexpr std::string_view kForwardKeys[] = {"protocol", "external", "external_port", "internal",
                                             "internal_port"};
constexpr std::string_view kLbKeys[] = {"name",       "vip",          "protocol",
                                        "port",       "table_size",   "empty_pool",
                                        "max_connections", "timeouts", "backends",
                                        "health_check"};
constexpr std::string_view kBackendKeys[] = {"address", "port", "weight"};
constexpr std::string_view kHealthKeys[] = {"type",        "port", "path", "interval_ms",
                                            "timeout_ms",  "rise", "fall"};

constexpr EnumName<nat::Filtering> kFilterings[] = {
    {"address-and-port-dependent", nat::Filtering::kAddressAndPortDependent},
    {"endpoint-independent", nat::Filtering::kEndpointIndependent},
};
constexpr EnumName<uint8_t> kProtocols[] = {{"tcp", 6}, {"udp", 17}};
constexpr EnumName<nat::EmptyPool> kEmptyPools[] = {{"drop", nat::EmptyPool::kDrop},
                                                    {"reset", nat::EmptyPool::kReset}};
constexpr EnumName<nat::HealthKind> kHealthKinds[] = {{"tcp", nat::HealthKind::kTcp},
                                                      {"http", nat::HealthKind::kHttp}};
constexpr EnumName<bool> kBools[] = {{"true", true}, {"false", false}};


// Sets *out from the key when present and valid.
template <typename T>
void SetUint(Reader& r, const Map& m, std::string_view key, const IntSpec& spec, T* out,
             FieldOrigin* origin = nullptr) {
  if (const std::optional<Value> x = m.Get(key)) {
    if (origin != nullptr) *origin = Of(*x);
    if (std::optional<uint64_t> n = r.UintIn(*x, spec)) *out = static_cast<T>(*n);
  }
}

void ReadTimeouts(Reader& r, const Value& v, nat::Timeouts* t) {
  std::optional<Map> m = r.AsMap(v, kTimeoutKeys);
  if (!m) return;
  SetUint(r, *m, "tcp_established", kTimeoutSpec, &t->tcp_established);
  SetUint(r, *m, "tcp_transitory", kTimeoutSpec, &t->tcp_transitory);
  SetUint(r, *m, "udp", kTimeoutSpec, &t->udp);
  SetUint(r, *m, "icmp", kTimeoutSpec, &t->icmp);
}

void ReadNat(Reader& r, const Value& v, NatDraft* d) {
  nat::NatSpec& s = d->spec.nat;
  s.enabled = true;
  d->nat = d->ports = d->limits = d->timeouts = Of(v);
  std::optional<Map> m = r.AsMap(v, kNatSectionKeys);
  if (!m) return;
  if (const std::optional<Value> x = m->Get("addresses")) {
    for (const Value& item : r.AsList(*x)) {
      if (std::optional<IpAddr> a = r.Ip(item)) {
        s.addresses.push_back(*a);
        d->addresses.push_back(Of(item));
      }
    }
  }
  if (const std::optional<Value> x = m->Get("interfaces")) {
    for (const Value& item : r.AsList(*x)) {
      if (std::optional<std::string> name = r.Text(item, "an interface name")) {
        s.interfaces.push_back(*name);
        d->interfaces.push_back(Of(item));
      }
    }
  }
  if (const std::optional<Value> x = m->Get("internal")) {
    for (const Value& item : r.AsList(*x)) {
      if (std::optional<IpPrefix> p = r.Prefix(item)) {
        s.internal.push_back(*p);
        d->internal.push_back(Of(item));
      }
    }
  }
  if (const std::optional<Value> x = m->Get("ports")) {
    d->ports = Of(*x);
    if (std::optional<Map> pm = r.AsMap(*x, kPortsKeys)) {
      SetUint(r, *pm, "first", kPortSpec, &s.ports.first);
      SetUint(r, *pm, "last", kPortSpec, &s.ports.last);
    }
  }
  if (const std::optional<Value> x = m->Get("filtering")) {
    if (auto f = r.Enum<nat::Filtering>(*x, kFilterings, "a filtering behaviour")) s.filtering = *f;
  }
  if (const std::optional<Value> x = m->Get("hairpinning")) {
    if (auto b = r.Enum<bool>(*x, kBools, "true or false")) s.hairpinning = *b;
  }
  if (const std::optional<Value> x = m->Get("timeouts")) {
    d->timeouts = Of(*x);
    ReadTimeouts(r, *x, &s.timeouts);
  }
  if (const std::optional<Value> x = m->Get("limits")) {
    d->limits = Of(*x);
    if (std::optional<Map> lm = r.AsMap(*x, kLimitKeys)) {
      SetUint(r, *lm, "sessions", kSessionsSpec, &s.limits.sessions);
      SetUint(r, *lm, "sessions_per_host", kSessionsSpec, &s.limits.sessions_per_host);
      SetUint(r, *lm, "hosts", kHostsSpec, &s.limits.hosts);
    }
  }
  if (const std::optional<Value> x = m->Get("static")) {
    for (const Value& item : r.AsList(*x)) {
      std::optional<Map> sm = r.AsMap(item, kStaticKeys);
      if (!sm) continue;
      nat::StaticNat sn;
      NatDraft::Static o{Of(item), Of(item), Of(item)};
      bool ok = true;
      if (const std::optional<Value> e = sm->Need("external")) {
        o.external = Of(*e);
        const std::optional<IpAddr> a = r.Ip(*e);
        ok = ok && a.has_value();
        if (a) sn.external = *a;
      } else {
        ok = false;
      }
      if (const std::optional<Value> i = sm->Need("internal")) {
        o.internal = Of(*i);
        const std::optional<IpAddr> a = r.Ip(*i);
        ok = ok && a.has_value();
        if (a) sn.internal = *a;
      } else {
        ok = false;
      }
      if (!ok) continue;
      s.static_nat.push_back(sn);
      d->statics.push_back(o);
    }
  }
  if (const std::optional<Value> x = m->Get("port_forwards")) {
    for (const Value& item : r.AsList(*x)) {
      std::optional<Map> fm = r.AsMap(item, kForwardKeys);
      if (!fm) continue;
      nat::PortForward f;
      NatDraft::Forward o{Of(item), Of(item), Of(item), Of(item), Of(item), Of(item)};
      bool ok = true;
      if (const std::optional<Value> p = fm->Need("protocol")) {
        o.protocol = Of(*p);
        const auto proto = r.Enum<uint8_t>(*p, kProtocols, "a protocol");
        ok = ok && proto.has_value();
        if (proto) f.protocol = *proto;
      } else {
        ok = false;
      }
      for (const auto& [key, addr, origin] :
           {std::tuple{"external", &f.external, &o.external},
            std::tuple{"internal", &f.internal, &o.internal}}) {
        const std::optional<Value> a = fm->Need(key);
        const std::optional<IpAddr> ip = a ? r.Ip(*a) : std::nullopt;
        if (a) *origin = Of(*a);
        ok = ok && ip.has_value();
        if (ip) *addr = *ip;
      }
      for (const auto& [key, port, origin] :
           {std::tuple{"external_port", &f.external_port, &o.external_port},
            std::tuple{"internal_port", &f.internal_port, &o.internal_port}}) {
        const std::optional<Value> p = fm->Need(key);
        const std::optional<uint64_t> n = p ? r.UintIn(*p, kPortSpec) : std::nullopt;
        if (p) *origin = Of(*p);
        ok = ok && n.has_value();
        if (n) *port = static_cast<uint16_t>(*n);
      }
      if (!ok) continue;
      s.port_forwards.push_back(f);
      d->forwards.push_back(o);
    }
  }
}

void ReadHealth(Reader& r, const Value& v, nat::HealthCheckSpec* h, NatDraft::Lb* o) {
  o->health = o->health_type = o->health_port = o->health_path = Of(v);
  o->health_interval = o->health_timeout = Of(v);
  std::optional<Map> m = r.AsMap(v, kHealthKeys);
  if (!m) return;
  if (const std::optional<Value> x = m->Need("type")) {
    o->health_type = Of(*x);
    if (auto k = r.Enum<nat::HealthKind>(*x, kHealthKinds, "a health check type")) h->kind = *k;
  }
  SetUint(r, *m, "port", kCheckPortSpec, &h->port, &o->health_port);
  if (const std::optional<Value> x = m->Get("path")) {
    o->health_path = Of(*x);
    if (std::optional<std::string> p = r.Text(*x, "a URL path")) {
      const bool ok = !p->empty() && (*p)[0] == '/' &&
                      std::none_of(p->begin(), p->end(), [](char c) {
                        return c <= ' ' || c == 0x7f;
                      });
      if (ok)
        h->path = *p;
      else
        r.Error(x->line, x->path,
                "\"" + *p + "\" is not a URL path (starting with '/', no spaces or control "
                            "characters)");
    }
  }
  SetUint(r, *m, "interval_ms", kIntervalSpec, &h->interval_ms, &o->health_interval);
  SetUint(r, *m, "timeout_ms", kCheckTimeoutSpec, &h->timeout_ms, &o->health_timeout);
  SetUint(r, *m, "rise", kRiseFallSpec, &h->rise);
  SetUint(r, *m, "fall", kRiseFallSpec, &h->fall);
}

void ReadLoadBalancer(Reader& r, const Value& item, NatDraft* d) {
  std::optional<Map> m = r.AsMap(item, kLbKeys);
  if (!m) return;
  nat::LoadBalancerSpec lb;
  NatDraft::Lb o;
  o.item = o.name = o.vip = o.protocol = o.port = o.table_size = o.empty_pool = Of(item);
  o.backends_key = o.health = o.health_type = o.health_port = o.health_path = Of(item);
  o.health_interval = o.health_timeout = Of(item);
  if (const std::optional<Value> x = m->Need("name")) {
    o.name = Of(*x);
    if (std::optional<std::string> n = r.Name(*x)) lb.name = *n;
  }
  if (const std::optional<Value> x = m->Need("vip")) {
    o.vip = Of(*x);
    if (std::optional<IpAddr> a = r.Ip(*x)) lb.vip = *a;
  }
  if (const std::optional<Value> x = m->Need("protocol")) {
    o.protocol = Of(*x);
    if (auto p = r.Enum<uint8_t>(*x, kProtocols, "a protocol")) lb.protocol = *p;
  }
  if (const std::optional<Value> x = m->Need("port")) {
    o.port = Of(*x);
    if (std::optional<uint64_t> n = r.UintIn(*x, kPortSpec)) lb.port = static_cast<uint16_t>(*n);
  }
  SetUint(r, *m, "table_size", kTableSpec, &lb.table_size, &o.table_size);
  if (const std::optional<Value> x = m->Get("empty_pool")) {
    o.empty_pool = Of(*x);
    if (auto e = r.Enum<nat::EmptyPool>(*x, kEmptyPools, "an empty-pool action"))
      lb.empty_pool = *e;
  }
  SetUint(r, *m, "max_connections", kConnsSpec, &lb.max_connections);
  if (const std::optional<Value> x = m->Get("timeouts")) ReadTimeouts(r, *x, &lb.timeouts);
  if (const std::optional<Value> x = m->Need("backends")) {
    o.backends_key = Of(*x);
    for (const Value& bv : r.AsList(*x)) {
      std::optional<Map> bm = r.AsMap(bv, kBackendKeys);
      if (!bm) continue;
      nat::Backend b;
      NatDraft::Lb::BackendOrigin bo{Of(bv), Of(bv), Of(bv), Of(bv)};
      bool ok = true;
      if (const std::optional<Value> a = bm->Need("address")) {
        bo.address = Of(*a);
        const std::optional<IpAddr> ip = r.Ip(*a);
        ok = ip.has_value();
        if (ip) b.address = *ip;
      } else {
        ok = false;
      }
      if (const std::optional<Value> p = bm->Need("port")) {
        bo.port = Of(*p);
        const std::optional<uint64_t> n = r.UintIn(*p, kPortSpec);
        ok = ok && n.has_value();
        if (n) b.port = static_cast<uint16_t>(*n);
      } else {
        ok = false;
      }
      SetUint(r, *bm, "weight", kWeightSpec, &b.weight, &bo.weight);
      if (!ok) continue;
      lb.backends.push_back(b);
      o.backends.push_back(bo);
    }
  }
  if (const std::optional<Value> x = m->Get("health_check")) ReadHealth(r, *x, &lb.health, &o);
  d->spec.load_balancers.push_back(std::move(lb));
  d->lbs.push_back(std::move(o));
}

}  // namespace

void ReadNatSections(Reader& r, const Map& root, bool own_file, TenantDraft* tenant) {
  for (const std::string_view key : kNatKeys) {
    const std::optional<Value> v = root.Get(key);
    if (!v) continue;
    if (!own_file) {
      r.Error(v->line, v->path,
              std::string(key) + " belongs in a tenant file (beside its tenant: section)");
      continue;
    }
    if (tenant == nullptr) continue;  // the missing tenant: is reported already
    if (key == "nat")
      ReadNat(r, *v, &tenant->nat);
    else
      for (const Value& item : r.AsList(*v)) ReadLoadBalancer(r, item, &tenant->nat);
  }
}

}  // namespace hnv::config::yaml
