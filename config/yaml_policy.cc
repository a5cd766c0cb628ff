#include "config/yaml_policy.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace hnv::config::yaml {
namespace {

constexpr uint64_t kU8 = std::numeric_limits<uint8_t>::max();
constexpr uint64_t kU16 = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();

constexpr IntSpec kVsidSpec{"a VSID", kVsidMin, kVsidMax, kU32};
constexpr IntSpec kVlanSpec{"a VLAN ID", 0, 4094, kU16};
constexpr IntSpec kPrefixLengthSpec{"a prefix length", 8, 128, kU8};
constexpr IntSpec kMetricSpec{"a metric", 0, kU32, kU32};
constexpr IntSpec kMtuSpec{"an MTU", 1280, 9216, kU32};
constexpr IntSpec kTtlSpec{"a TTL", 1, 255, kU8};
constexpr IntSpec kIcmpRateSpec{"a rate of ICMP errors per second", 0, kMaxIcmpErrorsPerSecond, kU32};
constexpr IntSpec kIcmpBurstSpec{"a burst of ICMP errors", 1, kMaxIcmpErrorsBurst, kU32};

constexpr EnumName<TranslationRule> kRules[] = {
    {"TranslationMethodEncap", TranslationRule::kEncap},
    {"encap", TranslationRule::kEncap},
    {"TranslationMethodNone", TranslationRule::kNone},
    {"none", TranslationRule::kNone},
};
constexpr EnumName<RecordType> kTypes[] = {
    {"Static", RecordType::kStatic},
    {"Dynamic", RecordType::kDynamic},
    {"L2Only", RecordType::kL2Only},
    {"GatewayWildcard", RecordType::kGatewayWildcard},
};
constexpr EnumName<MtuPolicy> kMtuPolicies[] = {
    {"icmp", MtuPolicy::kIcmp},
    {"clamp-mss", MtuPolicy::kClampMss},
    {"icmp-and-clamp", MtuPolicy::kIcmpAndClamp},
};
// Set-VMNetworkAdapter's switches: On / Off, as PowerShell writes them.
constexpr EnumName<bool> kOnOff[] = {
    {"On", true}, {"Off", false}, {"true", true}, {"false", false}};
constexpr EnumName<FlowIdMode> kFlowIdModes[] = {
    {"entropy", FlowIdMode::kEntropy},
    {"zero", FlowIdMode::kZero},
};

constexpr std::string_view kSettingsKeys[] = {"underlay_mtu", "mtu_policy", "flow_id", "outer_ttl",
                                              "icmp_errors_per_second", "icmp_errors_burst"};
constexpr std::string_view kPaKeys[] = {"address", "prefix_length", "mac", "vlan", "port"};
constexpr std::string_view kProviderRouteKeys[] = {"destination", "port", "next_hop"};
constexpr std::string_view kAdapterKeys[] = {
    "vm_name",      "mac",        "vsid", "port", "mac_address_spoofing", "dhcp_guard",
    "router_guard", "acls", "extended_acls"};
constexpr std::string_view kRdKeys[] = {"rdid", "name", "virtual_subnets", "customer_routes"};
constexpr std::string_view kSubnetKeys[] = {"vsid", "prefix", "prefixes"};
constexpr std::string_view kRouteKeys[] = {"vsid", "destination", "next_hop", "metric"};
constexpr std::string_view kRecordKeys[] = {
    "customer_address", "vsid", "mac", "provider_address", "rule", "type", "vm_name"};

enum class Need { kOptional, kRequired };

// Reads `key` of `m` with `parse`, stores it in *out and records where it
// came from as the model's `field`.
template <typename T, typename Parse>
void ReadField(const Map& m, std::string_view key, Need need, const char* field, ElementOrigin* o,
               T* out, Parse&& parse) {
  const std::optional<Value> v = need == Need::kRequired ? m.Need(key) : m.Get(key);
  if (!v) return;
  o->Set(field, *v);
  if (auto x = parse(*v)) *out = static_cast<T>(*x);
}

ElementOrigin Origin(const Reader& r, const Value& item) {
  return ElementOrigin{r.file_index(), item.path, item.line, {}};
}

// The unspecified address of the prefix's family: an on-link next hop.
IpAddr Unspecified(const IpPrefix& p) {
  IpAddr a;
  a.family = p.addr.family;
  return a;
}

void AddPortRef(Reader& r, const Map& m, PortRef::Kind kind, size_t index, ElementOrigin* o,
                PolicyBuilder* b) {
  const std::optional<Value> v = m.Need("port");
  if (!v) return;
  o->Set("port", *v);
  if (std::optional<std::string> name = r.Text(*v, "a port name"))
    b->port_refs.push_back(
        PortRef{kind, index, *name, r.file_index(), r.file(), FieldOrigin{v->path, v->line}});
}

void ReadSubnet(Reader& r, const Value& item, const RoutingDomain& rd, const FieldOrigin& rdid,
                PolicyBuilder* b) {
  std::optional<Map> m = r.AsMap(item, kSubnetKeys);
  if (!m) return;
  VirtualSubnet s;
  s.rdid = rd.rdid;
  ElementOrigin o = Origin(r, item);
  o.Set("rdid", rdid);
  ReadField(*m, "vsid", Need::kRequired, "vsid", &o, &s.vsid,
            [&](const Value& v) { return r.Uint(v, kVsidSpec); });
  const std::optional<Value> one = m->Get("prefix");
  const std::optional<Value> many = m->Get("prefixes");
  if (one && many) {
    r.Error(many->line, many->path, "\"prefix\" and \"prefixes\" are both given; use one");
  } else if (one) {
    o.Set("prefixes", *one);
    o.Set("prefixes[0]", *one);
    if (std::optional<IpPrefix> p = r.Prefix(*one)) s.prefixes.push_back(*p);
  } else if (many) {
    o.Set("prefixes", *many);
    for (const Value& pv : r.AsList(*many)) {
      o.Set("prefixes[" + std::to_string(s.prefixes.size()) + "]", pv);
      if (std::optional<IpPrefix> p = r.Prefix(pv)) s.prefixes.push_back(*p);
    }
  } else if (std::optional<Value> empty =
                 m->Find("prefix") ? m->Find("prefix") : m->Find("prefixes")) {
    r.Error(empty->line, empty->path, "a virtual subnet needs a prefix; this key has no value");
  } else {
    r.Error(m->line(), m->path() + ".prefix", "missing required key \"prefix\" (or \"prefixes\")");
  }
  b->policy.subnets.push_back(std::move(s));
  b->origins.subnets.push_back(std::move(o));
}

void ReadCustomerRoute(Reader& r, const Value& item, const RoutingDomain& rd,
                       const FieldOrigin& rdid, PolicyBuilder* b) {
  std::optional<Map> m = r.AsMap(item, kRouteKeys);
  if (!m) return;
  CustomerRoute cr;
  cr.rdid = rd.rdid;
  ElementOrigin o = Origin(r, item);
  o.Set("rdid", rdid);
  ReadField(*m, "vsid", Need::kRequired, "vsid", &o, &cr.vsid,
            [&](const Value& v) { return r.Uint(v, kVsidSpec); });
  ReadField(*m, "destination", Need::kRequired, "destination", &o, &cr.destination,
            [&](const Value& v) { return r.Prefix(v); });
  cr.next_hop = Unspecified(cr.destination);
  ReadField(*m, "next_hop", Need::kOptional, "next_hop", &o, &cr.next_hop,
            [&](const Value& v) { return r.Ip(v); });
  ReadField(*m, "metric", Need::kOptional, "metric", &o, &cr.metric,
            [&](const Value& v) { return r.Uint(v, kMetricSpec); });
  b->policy.customer_routes.push_back(cr);
  b->origins.customer_routes.push_back(std::move(o));
}

}  // namespace

void ReadSettings(Reader& r, const Value& v, PolicyBuilder* b) {
  std::optional<Map> m = r.AsMap(v, kSettingsKeys);
  if (!m) return;
  HostSettings& s = b->policy.settings;
  ElementOrigin& o = b->origins.settings;
  o = Origin(r, v);
  ReadField(*m, "underlay_mtu", Need::kOptional, "underlay_mtu", &o, &s.underlay_mtu,
            [&](const Value& x) { return r.Uint(x, kMtuSpec); });
  ReadField(*m, "mtu_policy", Need::kOptional, "mtu_policy", &o, &s.mtu_policy,
            [&](const Value& x) { return r.Enum<MtuPolicy>(x, kMtuPolicies, "an MTU policy"); });
  ReadField(*m, "flow_id", Need::kOptional, "flow_id_mode", &o, &s.flow_id_mode,
            [&](const Value& x) { return r.Enum<FlowIdMode>(x, kFlowIdModes, "a flow ID mode"); });
  ReadField(*m, "outer_ttl", Need::kOptional, "outer_ttl", &o, &s.outer_ttl,
            [&](const Value& x) { return r.Uint(x, kTtlSpec); });
  ReadField(*m, "icmp_errors_per_second", Need::kOptional, "icmp_errors_per_second", &o,
            &s.icmp_errors_per_second, [&](const Value& x) { return r.Uint(x, kIcmpRateSpec); });
  ReadField(*m, "icmp_errors_burst", Need::kOptional, "icmp_errors_burst", &o,
            &s.icmp_errors_burst, [&](const Value& x) { return r.Uint(x, kIcmpBurstSpec); });
}

void ReadProviderAddresses(Reader& r, const Value& v, PolicyBuilder* b) {
  for (const Value& item : r.AsList(v)) {
    std::optional<Map> m = r.AsMap(item, kPaKeys);
    if (!m) continue;
    ProviderAddress pa;
    ElementOrigin o = Origin(r, item);
    ReadField(*m, "address", Need::kRequired, "address", &o, &pa.address,
              [&](const Value& x) { return r.Ip(x); });
    ReadField(*m, "prefix_length", Need::kRequired, "prefix_len", &o, &pa.prefix_len,
              [&](const Value& x) { return r.Uint(x, kPrefixLengthSpec); });
    ReadField(*m, "mac", Need::kRequired, "mac", &o, &pa.mac,
              [&](const Value& x) { return r.Mac(x); });
    ReadField(*m, "vlan", Need::kOptional, "vlan", &o, &pa.vlan,
              [&](const Value& x) { return r.Uint(x, kVlanSpec); });
    AddPortRef(r, *m, PortRef::Kind::kProviderAddress, b->policy.provider_addresses.size(), &o, b);
    b->policy.provider_addresses.push_back(pa);
    b->origins.provider_addresses.push_back(std::move(o));
  }
}

void ReadProviderRoutes(Reader& r, const Value& v, PolicyBuilder* b) {
  for (const Value& item : r.AsList(v)) {
    std::optional<Map> m = r.AsMap(item, kProviderRouteKeys);
    if (!m) continue;
    ProviderRoute pr;
    ElementOrigin o = Origin(r, item);
    ReadField(*m, "destination", Need::kRequired, "destination", &o, &pr.destination,
              [&](const Value& x) { return r.Prefix(x); });
    AddPortRef(r, *m, PortRef::Kind::kProviderRoute, b->policy.provider_routes.size(), &o, b);
    pr.next_hop = Unspecified(pr.destination);
    ReadField(*m, "next_hop", Need::kOptional, "next_hop", &o, &pr.next_hop,
              [&](const Value& x) { return r.Ip(x); });
    b->policy.provider_routes.push_back(pr);
    b->origins.provider_routes.push_back(std::move(o));
  }
}

void ReadVmNetworkAdapters(Reader& r, const Value& v, PolicyBuilder* b) {
  for (const Value& item : r.AsList(v)) {
    std::optional<Map> m = r.AsMap(item, kAdapterKeys);
    if (!m) continue;
    VmPort vp;
    ElementOrigin o = Origin(r, item);
    ReadField(*m, "vm_name", Need::kRequired, "vm_name", &o, &vp.vm_name,
              [&](const Value& x) { return r.Text(x, "a VM name"); });
    ReadField(*m, "mac", Need::kRequired, "mac", &o, &vp.mac,
              [&](const Value& x) { return r.Mac(x); });
    ReadField(*m, "vsid", Need::kRequired, "vsid", &o, &vp.vsid,
              [&](const Value& x) { return r.Uint(x, kVsidSpec); });
    AddPortRef(r, *m, PortRef::Kind::kVmPort, b->policy.vm_ports.size(), &o, b);
    for (auto [key, out] :
         {std::pair{"mac_address_spoofing", &vp.mac_address_spoofing},
          std::pair{"dhcp_guard", &vp.dhcp_guard}, std::pair{"router_guard", &vp.router_guard}})
      ReadField(*m, key, Need::kOptional, key, &o, out,
                [&](const Value& x) { return r.Enum<bool>(x, kOnOff, "On or Off"); });
    ReadAdapterAcls(r, *m, vp.vm_name, b);
    b->policy.vm_ports.push_back(vp);
    b->origins.vm_ports.push_back(std::move(o));
  }
}

void ReadRoutingDomains(Reader& r, const Value& v, PolicyBuilder* b) {
  for (const Value& item : r.AsList(v)) {
    std::optional<Map> m = r.AsMap(item, kRdKeys);
    if (!m) continue;
    RoutingDomain rd;
    ElementOrigin o = Origin(r, item);
    ReadField(*m, "rdid", Need::kRequired, "rdid", &o, &rd.rdid,
              [&](const Value& x) { return r.Rdid(x); });
    ReadField(*m, "name", Need::kOptional, "name", &o, &rd.name,
              [&](const Value& x) { return r.Text(x, "a name"); });
    // Subnets and routes inherit the routing domain's ID, and errors about
    // it point at its rdid key.
    const FieldOrigin* found = o.Find("rdid");
    const FieldOrigin rdid = found ? *found : FieldOrigin{m->path() + ".rdid", m->line()};
    if (const std::optional<Value> subnets = m->Get("virtual_subnets"))
      for (const Value& s : r.AsList(*subnets)) ReadSubnet(r, s, rd, rdid, b);
    if (const std::optional<Value> routes = m->Get("customer_routes"))
      for (const Value& cr : r.AsList(*routes)) ReadCustomerRoute(r, cr, rd, rdid, b);
    b->policy.routing_domains.push_back(std::move(rd));
    b->origins.routing_domains.push_back(std::move(o));
  }
}

void ReadLookupRecords(Reader& r, const Value& v, PolicyBuilder* b) {
  for (const Value& item : r.AsList(v)) {
    std::optional<Map> m = r.AsMap(item, kRecordKeys);
    if (!m) continue;
    LookupRecord rec;
    ElementOrigin o = Origin(r, item);
    ReadField(*m, "customer_address", Need::kRequired, "ca", &o, &rec.ca,
              [&](const Value& x) { return r.Ip(x); });
    ReadField(*m, "vsid", Need::kRequired, "vsid", &o, &rec.vsid,
              [&](const Value& x) { return r.Uint(x, kVsidSpec); });
    ReadField(*m, "mac", Need::kRequired, "mac", &o, &rec.mac,
              [&](const Value& x) { return r.Mac(x); });
    if (const std::optional<Value> pa = m->Need("provider_address")) {
      o.Set("pa", *pa);
      if (pa->node.IsScalar() && pa->node.Scalar() == "local") {
        b->local_pas.push_back(LocalPaRef{b->policy.records.size(), r.file_index(), r.file(),
                                          FieldOrigin{pa->path, pa->line}});
      } else if (std::optional<std::string> text = r.Text(*pa, "an IP address or local")) {
        if (std::optional<IpAddr> a = IpAddr::Parse(*text))
          rec.pa = *a;
        else
          r.Error(pa->line, pa->path, *text + " is not an IPv4 or IPv6 address, nor \"local\"");
      }
    }
    ReadField(*m, "rule", Need::kOptional, "rule", &o, &rec.rule, [&](const Value& x) {
      return r.Enum<TranslationRule>(x, kRules, "a translation rule");
    });
    ReadField(*m, "type", Need::kOptional, "type", &o, &rec.type, [&](const Value& x) {
      return r.Enum<RecordType>(x, kTypes, "a lookup record type");
    });
    ReadField(*m, "vm_name", Need::kOptional, "vm_name", &o, &rec.vm_name,
              [&](const Value& x) { return r.Text(x, "a VM name"); });
    b->policy.records.push_back(std::move(rec));
    b->origins.records.push_back(std::move(o));
  }
}

void ResolvePorts(const std::vector<PortSpec>& ports, PolicyBuilder* b, ErrorList* errors) {
  for (const PortRef& ref : b->port_refs) {
    const PortSpec* port = nullptr;
    for (const PortSpec& p : ports)
      if (p.name == ref.name) port = &p;
    if (port == nullptr) {
      std::string names;
      for (const PortSpec& p : ports) names += (names.empty() ? "" : ", ") + p.name;
      errors->Add(ref.file, ref.file_name, ref.origin.line, ref.origin.path,
                  ref.name + " is not a port of this host (" +
                      (names.empty() ? "it has none" : "its ports: " + names) + ")");
      continue;
    }
    switch (ref.kind) {
      case PortRef::Kind::kProviderAddress:
        b->policy.provider_addresses[ref.index].port = port->index;
        break;
      case PortRef::Kind::kProviderRoute:
        b->policy.provider_routes[ref.index].port = port->index;
        break;
      case PortRef::Kind::kVmPort:
        b->policy.vm_ports[ref.index].port = port->index;
        break;
    }
  }
}

void ResolveLocalPas(PolicyBuilder* b, ErrorList* errors) {
  const std::vector<ProviderAddress>& pas = b->policy.provider_addresses;
  for (const LocalPaRef& ref : b->local_pas) {
    LookupRecord& rec = b->policy.records[ref.record];
    const ProviderAddress* chosen = nullptr;
    for (const ProviderAddress& pa : pas) {
      if (pa.address.family == rec.ca.family) {
        chosen = &pa;
        break;
      }
    }
    if (chosen == nullptr && !pas.empty()) chosen = &pas.front();
    if (chosen == nullptr) {
      errors->Add(ref.file, ref.file_name, ref.origin.line, ref.origin.path,
                  "local stands for this host's provider address, but the host has none "
                  "(provider_addresses is empty)");
      continue;
    }
    rec.pa = chosen->address;
  }
}

}  // namespace hnv::config::yaml
