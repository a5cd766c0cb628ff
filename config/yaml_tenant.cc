// ReadTenant: the `tenant:` section of one tenant file, keys, types and
// values only (what needs other tenants, the ports or the policy is in
// yaml_tenant_check.cc).
#include "config/yaml_tenant.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace hnv::config::yaml {
namespace {

constexpr uint64_t kU16 = std::numeric_limits<uint16_t>::max();
constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();

constexpr IntSpec kVsidSpec{"a VSID", kVsidMin, kVsidMax, kU32};
constexpr IntSpec kVlanSpec{"a VLAN ID", 0, 4094, kU16};
constexpr IntSpec kMtuSpec{"an MTU", 68, 65535, kU32};
constexpr IntSpec kMetricSpec{"a metric", 0, kU32, kU32};
constexpr IntSpec kMaxRoutesSpec{"a route count", 1, 1u << 24, kU32};

constexpr std::string_view kTenantKeys[] = {"name",       "rdid",     "namespace", "max_routes",
                                            "vm_network", "external", "routes"};
constexpr std::string_view kVmNetworkKeys[] = {"vsid", "address", "mac", "interface", "mtu"};
constexpr std::string_view kExternalKeys[] = {"interface", "port",      "vlan",
                                              "mac",       "addresses", "mtu"};
constexpr std::string_view kRouteKeys[] = {"destination", "next_hop", "interface", "metric"};

std::optional<std::string> TenantName(Reader& r, const Value& v) {
  std::optional<std::string> text = r.Text(v, "a tenant name");
  if (!text) return std::nullopt;
  const bool ok = !text->empty() && std::all_of(text->begin(), text->end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (ok) return text;
  r.Error(v.line, v.path, "\"" + *text + "\" is not a tenant name (letters, digits, '-' and '_')");
  return std::nullopt;
}

std::optional<std::string> Interface(Reader& r, const Value& v) {
  std::optional<std::string> text = r.Text(v, "an interface name");
  if (!text) return std::nullopt;
  if (std::string why = InterfaceNameProblem(*text); !why.empty()) {
    r.Error(v.line, v.path, why);
    return std::nullopt;
  }
  return text;
}

std::optional<MacAddr> UnicastMac(Reader& r, const Value& v) {
  std::optional<MacAddr> mac = r.Mac(v);
  if (!mac) return std::nullopt;
  const char* why = mac->IsZero()        ? "is the zero MAC"
                    : mac->IsBroadcast() ? "is the broadcast MAC"
                    : mac->IsMulticast() ? "is a multicast MAC"
                                         : nullptr;
  if (why == nullptr) return mac;
  r.Error(v.line, v.path, mac->ToCompactString() + " " + why + "; a unicast MAC is required");
  return std::nullopt;
}

std::optional<IfAddress> Address(Reader& r, const Value& v) {
  std::optional<std::string> text = r.Text(v, "an interface address");
  if (!text) return std::nullopt;
  std::string why;
  std::optional<IfAddress> a = ParseIfAddress(*text, &why);
  if (!a) r.Error(v.line, v.path, why);
  return a;
}

void ReadVmNetwork(Reader& r, const Value& v, TenantDraft* t) {
  t->vm = Of(v);
  t->vsid = t->address = t->mac = t->vm_interface = t->vm_mtu = t->vm;
  std::optional<Map> m = r.AsMap(v, kVmNetworkKeys);
  if (!m) return;
  CompartmentSpec& s = t->spec;
  if (const std::optional<Value> x = m->Need("vsid")) {
    t->vsid = Of(*x);
    if (std::optional<uint64_t> n = r.UintIn(*x, kVsidSpec)) s.vsid = static_cast<uint32_t>(*n);
  }
  if (const std::optional<Value> x = m->Need("address")) {
    t->address = t->mac = Of(*x);
    if (std::optional<IfAddress> a = Address(r, *x)) {
      s.vm_address = *a;
      t->has_vm_address = true;
    }
  }
  if (const std::optional<Value> x = m->Get("mac")) {
    t->mac = Of(*x);
    t->has_mac = true;
    if (std::optional<MacAddr> mac = UnicastMac(r, *x)) s.vm_mac = *mac;
  }
  if (const std::optional<Value> x = m->Get("interface")) {
    t->vm_interface = Of(*x);
    if (std::optional<std::string> name = Interface(r, *x)) s.vm_interface = *name;
  }
  if (const std::optional<Value> x = m->Get("mtu")) {
    t->vm_mtu = Of(*x);
    t->has_vm_mtu = true;
    if (std::optional<uint64_t> n = r.UintIn(*x, kMtuSpec)) s.vm_mtu = static_cast<uint32_t>(*n);
  }
}

void ReadExternal(Reader& r, const Value& item, TenantDraft* t) {
  std::optional<Map> m = r.AsMap(item, kExternalKeys);
  if (!m) return;
  ExternalSpec e;
  TenantDraft::External o;
  o.item = o.interface = o.port = o.vlan = o.mac = o.mtu = Of(item);
  if (const std::optional<Value> x = m->Need("interface")) {
    o.interface = Of(*x);
    if (std::optional<std::string> name = Interface(r, *x)) e.interface = *name;
  }
  if (const std::optional<Value> x = m->Need("port")) {
    o.port = o.vlan = Of(*x);
    if (std::optional<std::string> name = r.Text(*x, "a port name")) e.port_name = *name;
  }
  if (const std::optional<Value> x = m->Get("vlan")) {
    o.vlan = Of(*x);
    o.has_vlan = true;
    if (std::optional<uint64_t> n = r.UintIn(*x, kVlanSpec)) e.vlan = static_cast<uint16_t>(*n);
  }
  if (const std::optional<Value> x = m->Need("mac")) {
    o.mac = Of(*x);
    if (std::optional<MacAddr> mac = UnicastMac(r, *x)) e.mac = *mac;
  }
  if (const std::optional<Value> x = m->Get("addresses")) {
    for (const Value& av : r.AsList(*x)) {
      std::optional<IfAddress> a = Address(r, av);
      if (!a) continue;
      if (std::string why = HostAddressProblem(*a); !why.empty()) {
        r.Error(av.line, av.path, why);
        continue;
      }
      e.addresses.push_back(*a);
      o.addresses.push_back(Of(av));
    }
  }
  if (const std::optional<Value> x = m->Get("mtu")) {
    o.mtu = Of(*x);
    if (std::optional<uint64_t> n = r.UintIn(*x, kMtuSpec)) e.mtu = static_cast<uint32_t>(*n);
  }
  t->spec.external.push_back(std::move(e));
  t->external.push_back(std::move(o));
}

void ReadRoute(Reader& r, const Value& item, TenantDraft* t) {
  std::optional<Map> m = r.AsMap(item, kRouteKeys);
  if (!m) return;
  StaticRoute route;
  TenantDraft::Route o;
  o.item = o.destination = o.next_hop = o.interface = o.metric = Of(item);
  if (const std::optional<Value> x = m->Need("destination")) {
    o.destination = o.next_hop = Of(*x);
    if (std::optional<IpPrefix> p = r.Prefix(*x)) route.destination = *p;
  }
  route.next_hop.family = route.destination.addr.family;  // on-link
  if (const std::optional<Value> x = m->Get("next_hop")) {
    o.next_hop = Of(*x);
    o.has_next_hop = true;
    if (std::optional<IpAddr> a = r.Ip(*x)) route.next_hop = *a;
  }
  if (const std::optional<Value> x = m->Get("interface")) {
    o.interface = Of(*x);
    if (std::optional<std::string> name = r.Text(*x, "an interface name")) route.interface = *name;
  }
  if (const std::optional<Value> x = m->Get("metric")) {
    o.metric = Of(*x);
    if (std::optional<uint64_t> n = r.UintIn(*x, kMetricSpec))
      route.metric = static_cast<uint32_t>(*n);
  }
  t->spec.routes.push_back(route);
  t->routes.push_back(std::move(o));
}

}  // namespace

TenantDraft ReadTenant(Reader& r, const Value& v) {
  TenantDraft t;
  t.file = r.file_index();
  t.file_name = r.file();
  t.spec.file = r.file();
  t.section = Of(v);
  t.name = t.rdid = t.netns = t.max_routes = t.vm = t.section;
  t.vsid = t.address = t.mac = t.vm_interface = t.vm_mtu = t.section;
  std::optional<Map> m = r.AsMap(v, kTenantKeys);
  if (!m) return t;
  CompartmentSpec& s = t.spec;
  if (const std::optional<Value> x = m->Need("name")) {
    t.name = t.netns = Of(*x);
    if (std::optional<std::string> name = TenantName(r, *x)) s.name = *name;
  }
  if (const std::optional<Value> x = m->Need("rdid")) {
    t.rdid = Of(*x);
    if (std::optional<Guid> g = r.Rdid(*x)) s.rdid = *g;
  }
  if (const std::optional<Value> x = m->Get("namespace")) {
    t.netns = Of(*x);
    t.has_namespace = true;
    if (std::optional<std::string> name = r.Text(*x, "a namespace name")) {
      if (std::string why = NamespaceNameProblem(*name); !why.empty())
        r.Error(x->line, x->path, why);
      else
        s.netns = *name;
    }
  }
  if (const std::optional<Value> x = m->Get("max_routes")) {
    t.max_routes = Of(*x);
    if (std::optional<uint64_t> n = r.UintIn(*x, kMaxRoutesSpec))
      s.max_routes = static_cast<uint32_t>(*n);
  }
  if (const std::optional<Value> x = m->Need("vm_network")) ReadVmNetwork(r, *x, &t);
  if (const std::optional<Value> x = m->Get("external"))
    for (const Value& item : r.AsList(*x)) ReadExternal(r, item, &t);
  if (const std::optional<Value> x = m->Get("routes"))
    for (const Value& item : r.AsList(*x)) ReadRoute(r, item, &t);
  return t;
}

}  // namespace hnv::config::yaml
