#include "config/store/changes.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "config/json_model.h"
#include "config/store/vm_records.h"

namespace hnv::store {
namespace {

using config::Kind;
using Made = StoreWriter::Made;
using nlohmann::json;

Made Refuse(const std::string& label, std::string message) {
  Made m;
  m.errors.push_back(config::ConfigError{label, 0, "", std::move(message)});
  return m;
}

// A field of the change's object in canonical form, or nullopt.
std::optional<json> FieldOf(const config::Change& c, const char* name) {
  if (!c.object.is_object() || !c.object.contains(name) || c.object[name].is_null())
    return std::nullopt;
  const config::FieldSpec* spec = config::FindField(c.kind, name);
  if (spec == nullptr) return std::nullopt;
  config::FieldResult r = config::NormalizeField(spec->type, c.object[name]);
  return r.value;
}

const TenantDoc* TenantOfVsid(const StoreState& s, uint32_t vsid) {
  for (const auto& [name, t] : s.tenants)
    for (const VirtualSubnet& sn : t.subnets)
      if (sn.vsid == vsid) return &t;
  return nullptr;
}

const TenantDoc* TenantOfRdid(const StoreState& s, const Guid& rdid) {
  for (const auto& [name, t] : s.tenants)
    if (t.routing_domain.rdid == rdid) return &t;
  return nullptr;
}

// The first address of a prefix: its subnet's DFGW.
IpAddr FirstAddress(const IpPrefix& p) {
  IpAddr a = p.addr;
  for (int i = a.is_v4() ? 3 : 15; i >= 0; --i)
    if (++a.b[static_cast<size_t>(i)] != 0) break;
  return a;
}

// Whether `r` is the DFGW record of its subnet (its CA the subnet's first
// address): the store keeps it as a local record.
bool IsDfgw(const TenantDoc& t, const LookupRecord& r) {
  for (const VirtualSubnet& s : t.subnets)
    if (s.vsid == r.vsid)
      for (const IpPrefix& p : s.prefixes)
        if (!r.ca.IsUnspecified() && FirstAddress(p) == r.ca) return true;
  return false;
}

// The tenant as a Policy: its routing domain, subnets, routes and every
// record (local ones with an unspecified PA), as ApplyChange edits it.
struct Materialized {
  Policy policy;
  std::vector<std::string> errors;
};
Materialized Materialize(const StoreState& s, const TenantDoc& t) {
  Materialized m;
  Policy& p = m.policy;
  p.routing_domains.push_back(t.routing_domain);
  p.subnets = t.subnets;
  p.customer_routes = t.customer_routes;
  for (const LookupRecord& r : t.local_records) p.records.push_back(r);
  if (const auto vms = s.vms.find(t.name); vms != s.vms.end()) {
    for (const auto& [name, vm] : vms->second) {
      const auto host = s.hosts.find(vm.host);
      if (host == s.hosts.end()) {
        m.errors.push_back("VM " + name + " is on host " + vm.host + ", which the store does not have");
        continue;
      }
      std::string error;
      for (LookupRecord& r : VmRecords(vm, host->second, TenantFamily(t), &error))
        p.records.push_back(std::move(r));
      if (!error.empty()) m.errors.push_back("VM " + name + ": " + error);
    }
  }
  return m;
}

// The edited policy back into the tenant's documents.
Made Unmaterialize(const StoreState& s, TenantDoc t, const Policy& p, const std::string& label) {
  Made m;
  t.routing_domain = p.routing_domains.front();
  t.subnets = p.subnets;
  t.customer_routes = p.customer_routes;
  t.local_records.clear();
  std::vector<LookupRecord> vm_records;
  for (const LookupRecord& r : p.records) {
    if (r.pa.IsUnspecified() || IsDfgw(t, r)) {
      LookupRecord local = r;
      local.pa = IpAddr{};
      t.local_records.push_back(local);
    } else {
      vm_records.push_back(r);
    }
  }
  std::vector<GroupError> errors;
  std::vector<GroupedVm> vms = GroupRecords(t.name, vm_records, PaHosts(s), &errors);
  for (const GroupError& e : errors)
    m.errors.push_back(config::ConfigError{label, 0, e.field == "pa" ? "provider_address" : e.field,
                                           e.message});
  const auto known = s.vms.find(t.name);
  const std::map<std::string, VmDoc>* known_vms = known == s.vms.end() ? nullptr : &known->second;
  // A known VM keeps its identity (name, port) while its MAC, VSID and type stay.
  for (GroupedVm& g : vms)
    if (known_vms != nullptr)
      for (const auto& [name, v] : *known_vms)
        if (v.vsid == g.vm.vsid && v.mac == g.vm.mac && v.type == g.vm.type) {
          g.vm.name = v.name;
          g.vm.vm_name = g.vm.vm_name.empty() ? v.vm_name : g.vm.vm_name;
        }
  NameVms(t.name, known_vms, &vms);
  auto& out = m.edit.vms[t.name];
  for (GroupedVm& g : vms) {
    if (out.count(g.vm.name))
      m.errors.push_back(config::ConfigError{label, 0, "vm_name", "VM " + g.vm.name + " is named twice"});
    out[g.vm.name] = std::move(g.vm);
  }
  // VMs with an adapter and no records stay.
  if (known_vms != nullptr)
    for (const auto& [name, v] : *known_vms)
      if (v.type == RecordType::kStatic && v.addresses.empty() && !out.count(name)) out[name] = v;
  m.edit.replace_vms.insert(t.name);
  m.edit.tenants[t.name] = std::move(t);
  return m;
}

Made TenantChange(const StoreState& s, const TenantDoc& t, const config::Change& c,
                  const std::string& label) {
  Materialized mat = Materialize(s, t);
  if (!mat.errors.empty()) return Refuse(label, mat.errors.front());
  config::Change change = c;
  // `local` (the YAML's) stands for each host's own PA.
  if (change.kind == Kind::kLookupRecord && change.object.contains("provider_address") &&
      change.object["provider_address"] == "local")
    change.object["provider_address"] = TenantFamily(t) == Family::kV4 ? "0.0.0.0" : "::";
  if (std::string e = config::ApplyChange(&mat.policy, change); !e.empty()) return Refuse(label, e);
  return Unmaterialize(s, t, mat.policy, label);
}

Made HostChange(const StoreState& s, const config::Change& c, const std::string& host,
                const std::string& label) {
  const auto h = s.hosts.find(host);
  if (host.empty())
    return Refuse(label, std::string("in the store, a ") + config::KindName(c.kind) +
                             " change names its host (hnvctl --store URL --host NAME)");
  if (h == s.hosts.end()) return Refuse(label, "no host named " + host + " in the store");
  const HostDoc& doc = h->second;
  config::FromJsonOptions options;
  options.port_by_name = [&](std::string_view name) -> std::optional<uint16_t> {
    for (const config::PortSpec& p : doc.ports)
      if (p.name == name) return p.index;
    return std::nullopt;
  };
  Policy p;
  p.provider_addresses = doc.provider_addresses;
  p.provider_routes = doc.provider_routes;
  // This host's adapters.
  std::map<std::string, const VmDoc*> adapters;
  for (const auto& [tenant, vms] : s.vms)
    for (const auto& [name, vm] : vms) {
      if (vm.host != host || vm.port.empty()) continue;
      const auto port = std::find_if(doc.ports.begin(), doc.ports.end(),
                                     [&](const config::PortSpec& x) { return x.name == vm.port; });
      if (port == doc.ports.end()) continue;
      p.vm_ports.push_back(VmPort{name, port->index, vm.mac, vm.vsid});
      adapters[name] = &vm;
    }
  if (std::string e = config::ApplyChange(&p, c, options); !e.empty()) return Refuse(label, e);
  Made m;
  if (c.kind != Kind::kVmNetworkAdapter) {
    HostDoc next = doc;
    next.provider_addresses = p.provider_addresses;
    next.provider_routes = p.provider_routes;
    m.edit.hosts[host] = std::move(next);
    return m;
  }
  std::set<std::string> still;
  for (const VmPort& vp : p.vm_ports) {
    still.insert(vp.vm_name);
    const std::string port = doc.ports[vp.port].name;
    const TenantDoc* t = TenantOfVsid(s, vp.vsid);
    if (t == nullptr)
      return Refuse(label, "vsid: " + std::to_string(vp.vsid) +
                               " is not a virtual subnet of any tenant in the store");
    const VmDoc* vm = s.FindVm(vp.vm_name);
    if (vm == nullptr)  // the VM of that MAC on that VSID, under its new name
      if (const auto vms = s.vms.find(t->name); vms != s.vms.end())
        for (const auto& [name, v] : vms->second)
          if (v.vsid == vp.vsid && v.mac == vp.mac) vm = &v;
    VmDoc next;
    if (vm != nullptr) {
      next = *vm;
      if (vm->tenant != t->name)
        return Refuse(label, "vsid: " + std::to_string(vp.vsid) + " is tenant " + t->name +
                                 "'s, but VM " + vm->name + " is tenant " + vm->tenant + "'s");
      if (vm->name != vp.vm_name) m.edit.vms[t->name][vm->name] = std::nullopt;  // renamed
    } else {
      next.tenant = t->name;
    }
    next.name = vp.vm_name;
    next.vsid = vp.vsid;
    next.mac = vp.mac;
    next.host = host;
    next.port = port;
    if (vm != nullptr && ToJson(next) == ToJson(*vm)) continue;
    m.edit.vms[t->name][next.name] = std::move(next);
  }
  for (const auto& [name, vm] : adapters) {
    if (still.count(name)) continue;
    VmDoc detached = *vm;
    detached.port.clear();
    m.edit.vms[vm->tenant][name] = std::move(detached);
  }
  return m;
}

}  // namespace

Made MakeChange(const StoreState& s, const config::Change& c, const std::string& host) {
  const std::string label = c.op + " " + config::KindName(c.kind);
  switch (c.kind) {
    case Kind::kProviderAddress:
    case Kind::kProviderRoute:
    case Kind::kVmNetworkAdapter:
      return HostChange(s, c, host, label);
    case Kind::kLookupRecord:
    case Kind::kVirtualSubnet: {
      const std::optional<json> vsid = FieldOf(c, "vsid");
      const TenantDoc* t = vsid ? TenantOfVsid(s, vsid->get<uint32_t>()) : nullptr;
      if (t == nullptr && c.kind == Kind::kVirtualSubnet && c.op != "remove")
        if (const std::optional<json> rdid = FieldOf(c, "rdid"))
          t = TenantOfRdid(s, *Guid::Parse(rdid->get<std::string>()));
      if (t == nullptr)
        return Refuse(label, vsid ? "vsid: " + vsid->dump() + " is not a virtual subnet of any tenant in the store"
                                  : "in the store, a " + std::string(config::KindName(c.kind)) +
                                        " change names its vsid (the tenant is the VSID's)");
      return TenantChange(s, *t, c, label);
    }
    case Kind::kCustomerRoute:
    case Kind::kRoutingDomain: {
      const std::optional<json> rdid = FieldOf(c, "rdid");
      if (!rdid)
        return Refuse(label, "in the store, a " + std::string(config::KindName(c.kind)) +
                                 " change names its rdid (the tenant is the routing domain's)");
      const Guid g = *Guid::Parse(rdid->get<std::string>());
      const TenantDoc* t = TenantOfRdid(s, g);
      if (c.kind == Kind::kRoutingDomain && c.op == "new") {
        if (t != nullptr)
          return Refuse(label, "routing-domain rdid " + rdid->get<std::string>() +
                                   " already exists (tenant " + t->name + ")");
        config::FromJsonResult<RoutingDomain> rd = config::RoutingDomainFromJson(c.object);
        if (rd.error) return Refuse(label, rd.error->ToString());
        TenantDoc n;
        n.routing_domain = *rd.value;
        std::string name;
        for (char ch : rd.value->name)
          name += std::isalnum(static_cast<unsigned char>(ch))
                      ? static_cast<char>(std::tolower(static_cast<unsigned char>(ch)))
                      : '-';
        n.name = name.empty() ? "rd-" + g.ToString().substr(1, 8) : name;
        if (s.tenants.count(n.name))
          return Refuse(label, "tenant " + n.name + " already exists; name the routing domain otherwise");
        Made m;
        m.edit.tenants[n.name] = std::move(n);
        return m;
      }
      if (t == nullptr)
        return Refuse(label, "rdid: " + rdid->get<std::string>() +
                                 " is not the routing domain of any tenant in the store");
      if (c.kind == Kind::kRoutingDomain && c.op == "remove") {
        Made m;
        m.edit.remove_tenants.insert(t->name);
        return m;
      }
      return TenantChange(s, *t, c, label);
    }
    case Kind::kPortAcl:
    case Kind::kPortExtendedAcl:
      return Refuse(label, "port ACLs are not kept in the store yet: give them in the host's "
                           "file (acls, extended_acls) or to a host that runs from its files");
  }
  return Refuse(label, "unknown kind");
}

}  // namespace hnv::store
