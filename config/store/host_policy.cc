#include "config/store/host_policy.h"

#include "config/store/vm_records.h"

#include <algorithm>
#include <set>

namespace hnv::store {
namespace {

using config::yaml::ElementOrigin;
using config::yaml::FieldOrigin;

std::string Idx(size_t i) { return "[" + std::to_string(i) + "]"; }

bool IsGatewayOf(const TenantDoc& t, const std::string& host) {
  return t.gateway && t.gateway->host == host;
}

}  // namespace

Family TenantFamily(const TenantDoc& t) {
  for (const VirtualSubnet& s : t.subnets)
    if (!s.prefixes.empty()) return s.prefixes.front().addr.family;
  return Family::kV4;
}

std::vector<std::string> TenantsOfHost(const StoreState& state, const std::string& host) {
  std::set<std::string> out;
  if (const auto it = state.host_vms.find(host); it != state.host_vms.end())
    for (const auto& [tenant, vms] : it->second)
      if (state.tenants.count(tenant)) out.insert(tenant);
  for (const auto& [name, t] : state.tenants)
    if (IsGatewayOf(t, host)) out.insert(name);
  return {out.begin(), out.end()};
}

std::vector<std::string> HostsOfTenant(const StoreState& state, const std::string& tenant) {
  std::set<std::string> hosts;
  if (const auto t = state.tenants.find(tenant); t != state.tenants.end() && t->second.gateway)
    hosts.insert(t->second.gateway->host);
  if (const auto it = state.vms.find(tenant); it != state.vms.end())
    for (const auto& [name, vm] : it->second) hosts.insert(vm.host);
  return {hosts.begin(), hosts.end()};
}

PolicyComposer::PolicyComposer(const StoreState& state, const HostDoc& host,
                               const OriginTable* table)
    : state_(state), host_(host), table_(table) {}

// Records where an element came from: the table's entry for `id` when the
// element was imported, else the store key `path` with `fields` (model
// field -> path suffix).
void PolicyComposer::Origin(std::vector<ElementOrigin>* section, const std::string& id,
                            std::string path,
                            std::initializer_list<std::pair<const char*, std::string>> fields) {
  if (table_ == nullptr) return;
  if (const auto it = table_->elements.find(id); it != table_->elements.end()) {
    section->push_back(it->second);
    return;
  }
  ElementOrigin o{0, path, 0, {}};
  for (const auto& [model, suffix] : fields) o.Set(model, FieldOrigin{path + suffix, 0});
  section->push_back(std::move(o));
}

void PolicyComposer::AddHost() {
  const std::string key = "hosts/" + host_.name;
  policy_.settings = host_.settings;
  if (table_ != nullptr) {
    const auto it = table_->elements.find("host/" + host_.name + "/settings");
    origins_.settings =
        it != table_->elements.end() ? it->second : ElementOrigin{0, key + ".settings", 0, {}};
  }
  for (size_t i = 0; i < host_.provider_addresses.size(); ++i) {
    policy_.provider_addresses.push_back(host_.provider_addresses[i]);
    Origin(&origins_.provider_addresses, "host/" + host_.name + "/pa/" + std::to_string(i),
           key + ".provider_addresses" + Idx(i), {{"prefix_len", ".prefix_length"}});
  }
  for (size_t i = 0; i < host_.provider_routes.size(); ++i) {
    policy_.provider_routes.push_back(host_.provider_routes[i]);
    Origin(&origins_.provider_routes, "host/" + host_.name + "/route/" + std::to_string(i),
           key + ".provider_routes" + Idx(i), {});
  }
}

void PolicyComposer::AddVm(const TenantDoc& t, const VmDoc& vm, Family family) {
  const std::string key = "tenants/" + t.name + "/vms/" + vm.name;
  const std::string id = "vm/" + t.name + "/" + vm.name;
  const auto host = state_.hosts.find(vm.host);
  if (host == state_.hosts.end()) {
    errors_.push_back(key + ": host " + vm.host + " is not in the store");
    return;
  }
  std::string error;
  const std::vector<LookupRecord> records = VmRecords(vm, host->second, family, &error);
  if (!error.empty()) errors_.push_back(key + ": " + error);
  for (size_t k = 0; k < records.size(); ++k) {
    policy_.records.push_back(records[k]);
    Origin(&origins_.records, id + "/record/" + std::to_string(k), key,
           {{"ca", ".addresses" + Idx(k)},
            {"vsid", ".vsid"},
            {"mac", ".mac"},
            {"pa", ".host"},
            {"rule", ".rule"},
            {"type", ".type"}});
  }
  // An adapter on this host (a gateway has none: validation says so).
  if (vm.host != host_.name || vm.port.empty() || host_.role == HostDoc::Role::kGateway) return;
  const auto port = std::find_if(host_.ports.begin(), host_.ports.end(),
                                 [&](const config::PortSpec& p) { return p.name == vm.port; });
  if (port == host_.ports.end()) {
    errors_.push_back(key + ": port " + vm.port + " is not a port of host " + host_.name);
    return;
  }
  policy_.vm_ports.push_back(VmPort{vm.name, port->index, vm.mac, vm.vsid});
  Origin(&origins_.vm_ports, id + "/port", key,
         {{"port", ".port"}, {"mac", ".mac"}, {"vsid", ".vsid"}});
}

void PolicyComposer::AddLearned(size_t first_record,
                                const std::map<std::string, const VmDoc*>& l2only) {
  // The CAs this routing domain's records hold already.
  std::set<IpAddr> cas;
  for (size_t i = first_record; i < policy_.records.size(); ++i)
    if (!policy_.records[i].ca.IsUnspecified()) cas.insert(policy_.records[i].ca);
  std::set<IpAddr> learned_cas;
  for (const auto& [key, doc] : state_.learned) {
    const LookupRecord& r = doc.record;
    const auto vm = l2only.find(std::to_string(r.vsid) + "/" + r.mac.ToCompactString());
    if (vm == l2only.end() || r.type != RecordType::kDynamic) continue;
    // The record must still say where the VM is (a migrated VM's old record
    // is stale), and never shadow a static CA; two hosts learn the same
    // record (both ends of the ARP exchange): keep one.
    const auto host = state_.hosts.find(vm->second->host);
    const ProviderAddress* pa =
        host == state_.hosts.end() ? nullptr : HostPa(host->second.provider_addresses, r.ca.family);
    if (pa == nullptr || pa->address != r.pa || cas.count(r.ca) || !learned_cas.insert(r.ca).second)
      continue;
    policy_.records.push_back(r);
    const std::string path = key.substr(state_.layout().root().size());
    Origin(&origins_.records, "learned/" + path, path, {});
  }
}

void PolicyComposer::AddTenant(const TenantDoc& t) {
  const std::string key = "tenants/" + t.name + "/spec";
  const std::string id = "tenant/" + t.name;
  const Family family = TenantFamily(t);
  policy_.routing_domains.push_back(t.routing_domain);
  Origin(&origins_.routing_domains, id + "/rd", key, {{"rdid", ".rdid"}});
  for (size_t i = 0; i < t.subnets.size(); ++i) {
    policy_.subnets.push_back(t.subnets[i]);
    policy_.subnets.back().rdid = t.routing_domain.rdid;
    Origin(&origins_.subnets, id + "/subnet/" + std::to_string(i),
           key + ".virtual_subnets" + Idx(i), {});
  }
  for (size_t i = 0; i < t.customer_routes.size(); ++i) {
    policy_.customer_routes.push_back(t.customer_routes[i]);
    policy_.customer_routes.back().rdid = t.routing_domain.rdid;
    Origin(&origins_.customer_routes, id + "/route/" + std::to_string(i),
           key + ".customer_routes" + Idx(i), {});
  }
  const size_t first_record = policy_.records.size();
  for (size_t i = 0; i < t.local_records.size(); ++i) {
    LookupRecord r = t.local_records[i];
    const ProviderAddress* pa = HostPa(host_.provider_addresses, r.ca.family);
    if (pa == nullptr) {
      errors_.push_back(key + ".local_records" + Idx(i) + ": host " + host_.name +
                        " has no provider address for a local record");
      continue;
    }
    r.pa = pa->address;
    policy_.records.push_back(r);
    Origin(&origins_.records, id + "/local/" + std::to_string(i), key + ".local_records" + Idx(i),
           {{"ca", ".customer_address"}, {"pa", ".provider_address"}});
  }
  std::map<std::string, const VmDoc*> l2only;  // "vsid/MAC"
  if (const auto it = state_.vms.find(t.name); it != state_.vms.end()) {
    for (const auto& [name, vm] : it->second) {
      AddVm(t, vm, family);
      if (vm.type == RecordType::kL2Only)
        l2only[std::to_string(vm.vsid) + "/" + vm.mac.ToCompactString()] = &vm;
    }
  }
  if (!l2only.empty()) AddLearned(first_record, l2only);
  if (!IsGatewayOf(t, host_.name)) return;
  // The compartment, and its interface into the VM network as a VM port
  // (LoadGatewayConfig's "compartment <name>").
  config::CompartmentSpec c = t.gateway->spec;
  c.name = t.name;
  c.rdid = t.routing_domain.rdid;
  c.vm_port = static_cast<uint16_t>(kFirstVirtualPort + c.id);
  for (config::ExternalSpec& e : c.external) {
    const auto port = std::find_if(host_.ports.begin(), host_.ports.end(),
                                   [&](const config::PortSpec& p) { return p.name == e.port_name; });
    if (port == host_.ports.end()) {
      errors_.push_back(key + ".gateway: port " + e.port_name + " is not a port of gateway " +
                        host_.name);
      continue;
    }
    e.port = port->index;
  }
  VmPort port{"compartment " + t.name, c.vm_port, c.vm_mac, c.vsid};
  port.Trust();  // the tenant's router: no port security (gateway_config.cc, AddVmPort)
  policy_.vm_ports.push_back(port);
  Origin(&origins_.vm_ports, id + "/gateway", key + ".gateway",
         {{"port", ".id"}, {"mac", ".vm_network.mac"}, {"vsid", ".vm_network.vsid"}});
  compartments_.push_back(std::move(c));
}

std::optional<HostPolicy> ComputeHostPolicy(const StoreState& state, const std::string& host) {
  const auto h = state.hosts.find(host);
  if (h == state.hosts.end()) return std::nullopt;
  PolicyComposer composer(state, h->second, nullptr);
  composer.AddHost();
  HostPolicy out;
  out.tenants = TenantsOfHost(state, host);
  for (const std::string& t : out.tenants) composer.AddTenant(state.tenants.at(t));
  out.policy = std::move(composer.policy());
  out.compartments = std::move(composer.compartments());
  out.errors = std::move(composer.errors());
  out.ports = h->second.ports;
  return out;
}

}  // namespace hnv::store
