#include "config/store/validate_store.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <tuple>

#include "config/policy/policy_dump.h"
#include "config/policy/validate.h"

namespace hnv::store {
namespace {

using config::ConfigError;
using config::yaml::ElementOrigin;
using config::yaml::FieldOrigin;

bool HostNameOk(const std::string& n) {
  return !n.empty() && n.size() <= 255 && std::all_of(n.begin(), n.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
         });
}
bool TenantNameOk(const std::string& n) {
  return !n.empty() && n.size() <= 255 && std::all_of(n.begin(), n.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
         });
}
bool VmNameOk(const std::string& n) {
  return !n.empty() && n.size() <= 255 &&
         std::all_of(n.begin(), n.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20; });
}

std::string Join(const std::set<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

class Checker {
 public:
  Checker(const StoreState& s, const ValidationScope& scope, const OriginTable* table)
      : s_(s), scope_(scope), table_(table ? table : &empty_) {
    // A touched host touches the tenants it carries (their VMs name it).
    tenants_ = scope.tenants;
    for (const std::string& h : scope.hosts)
      for (const std::string& t : TenantsOfHost(s, h)) tenants_.insert(t);
  }

  std::vector<ConfigError> Run();

 private:
  struct Loc {
    int file = 0;
    int line = 0;
    std::string path;
  };

  // Where field `field` of element `id` is: its YAML origin when imported,
  // else `store_path` + `suffix`.
  Loc Where(const std::string& id, const std::string& field, const std::string& store_path,
            const std::string& suffix) const {
    const auto it = table_->elements.find(id);
    if (it == table_->elements.end()) return Loc{0, 0, store_path + suffix};
    const ElementOrigin& o = it->second;
    if (const FieldOrigin* f = o.Find(field)) return Loc{o.file, f->line, f->path};
    return Loc{o.file, o.line, o.path + (field.empty() ? "" : "." + field)};
  }
  // "tenants/contoso/spec.rdid" or "rdid (contoso.yaml:3)" for a message.
  std::string Ref(const Loc& l) const {
    if (l.line == 0) return l.path;
    return l.path + " (" + table_->files[l.file] + ":" + std::to_string(l.line) + ")";
  }
  void Error(const Loc& l, std::string message) {
    errors_.push_back({l.file, ConfigError{table_->files[l.file], l.line, l.path, std::move(message)}});
  }
  bool TenantTouched(const std::string& t) const { return scope_.all || tenants_.count(t); }
  bool HostTouched(const std::string& h) const { return scope_.all || scope_.hosts.count(h); }

  void CheckHosts();
  void CheckTenants();
  void CheckVms(const TenantDoc& t);
  void CheckGateways();
  void CheckPolicies();

  static const OriginTable empty_;
  const StoreState& s_;
  const ValidationScope& scope_;
  const OriginTable* table_;
  std::set<std::string> tenants_;  // touched, directly or through their hosts
  std::vector<std::pair<int, ConfigError>> errors_;
};
const OriginTable Checker::empty_;

void Checker::CheckHosts() {
  std::map<IpAddr, std::string> pa_owner;  // every host's PAs, first holder
  for (const auto& [name, h] : s_.hosts)
    for (const ProviderAddress& pa : h.provider_addresses) pa_owner.emplace(pa.address, name);
  for (const auto& [name, h] : s_.hosts) {
    if (!HostTouched(name)) continue;
    const std::string key = "hosts/" + name;
    if (!HostNameOk(name))
      Error(Where("host/" + name, "name", key, ".name"),
            "\"" + name + "\" is not a host name (letters, digits, '.', '_' and '-')");
    for (size_t i = 0; i < h.provider_addresses.size(); ++i) {
      const std::string& owner = pa_owner.at(h.provider_addresses[i].address);
      if (owner == name) continue;
      Error(Where("host/" + name + "/pa/" + std::to_string(i), "address", key,
                  ".provider_addresses[" + std::to_string(i) + "].address"),
            h.provider_addresses[i].address.ToString() + " is already a provider address of host " +
                owner + "; a PA belongs to one host in the data center");
    }
  }
}

void Checker::CheckVms(const TenantDoc& t) {
  const auto vms = s_.vms.find(t.name);
  if (vms == s_.vms.end()) return;
  std::set<uint32_t> vsids;
  for (const VirtualSubnet& sn : t.subnets) vsids.insert(sn.vsid);
  for (const auto& [name, vm] : vms->second) {
    const std::string key = "tenants/" + t.name + "/vms/" + name;
    const std::string id = "vm/" + t.name + "/" + name;
    if (!VmNameOk(name))
      Error(Where(id, "vm_name", key, ".name"), "\"" + name + "\" is not a VM name (1..255 printable characters)");
    const std::set<std::string>& holders = s_.vm_names.at(name);
    if (holders.size() > 1 && *holders.begin() != t.name)
      Error(Where(id, "vm_name", key, ".name"),
            "VM " + name + " is already a VM of tenant " + *holders.begin() +
                "; a VM name is unique in the data center");
    if (!vsids.count(vm.vsid))
      Error(Where(id, "vsid", key, ".vsid"),
            std::to_string(vm.vsid) + " is not a virtual subnet of tenant " + t.name);
    if (vm.type != RecordType::kStatic && !vm.addresses.empty())
      Error(Where(id, "addresses", key, ".addresses"),
            std::string("a ") + TypeName(vm.type) + " VM has no addresses (its record's CA is unspecified)");
    const auto host = s_.hosts.find(vm.host);
    if (host == s_.hosts.end()) {
      std::set<std::string> known;
      for (const auto& [h, d] : s_.hosts) known.insert(h);
      Error(Where(id, "host", key, ".host"),
            "host " + vm.host + " is not in the store" +
                (known.empty() ? "" : " (hosts: " + Join(known) + ")"));
      continue;
    }
    if (vm.port.empty()) continue;
    const HostDoc& h = host->second;
    const Loc port_loc = Where(id, "port", key, ".port");
    if (h.role == HostDoc::Role::kGateway) {
      Error(port_loc, "host " + h.name +
                          " is a gateway: it has no VM network adapters (a tenant's interface "
                          "into its VM network is its compartment)");
      continue;
    }
    const auto port = std::find_if(h.ports.begin(), h.ports.end(),
                                   [&](const config::PortSpec& p) { return p.name == vm.port; });
    if (port == h.ports.end()) {
      std::set<std::string> names;
      for (const config::PortSpec& p : h.ports) names.insert(p.name);
      Error(port_loc, vm.port + " is not a port of host " + h.name + " (ports: " + Join(names) + ")");
      continue;
    }
    // Within a tenant ValidatePolicy says it (vm_ports); across tenants, here.
    const std::set<std::string>& users = s_.port_users.at({vm.host, vm.port});
    const std::string& first = *users.begin();
    if (users.size() > 1 && first != t.name + "/" + name &&
        first.substr(0, first.find('/')) != t.name)
      Error(port_loc, "port " + vm.port + " of host " + h.name + " is already the adapter of VM " +
                          first.substr(first.find('/') + 1) + " of tenant " +
                          first.substr(0, first.find('/')) + "; a port carries one VM");
  }
}

void Checker::CheckTenants() {
  std::map<Guid, std::string> rdid_owner;
  std::map<uint32_t, std::string> vsid_owner;
  for (const auto& [name, t] : s_.tenants) {
    rdid_owner.emplace(t.routing_domain.rdid, name);
    for (const VirtualSubnet& sn : t.subnets) vsid_owner.emplace(sn.vsid, name);
  }
  auto subnet_ref = [&](const std::string& tenant, uint32_t vsid) {
    const TenantDoc& t = s_.tenants.at(tenant);
    for (size_t i = 0; i < t.subnets.size(); ++i)
      if (t.subnets[i].vsid == vsid)
        return Ref(Where("tenant/" + tenant + "/subnet/" + std::to_string(i), "vsid",
                         "tenants/" + tenant + "/spec", ".virtual_subnets[" + std::to_string(i) + "].vsid"));
    return std::string();
  };
  for (const auto& [name, t] : s_.tenants) {
    if (!TenantTouched(name)) continue;
    const std::string key = "tenants/" + name + "/spec";
    const std::string id = "tenant/" + name;
    if (!TenantNameOk(name))
      Error(Where(id + "/rd", "name", key, ".name"),
            "\"" + name + "\" is not a tenant name (letters, digits, '-' and '_')");
    const std::string& rd_owner = rdid_owner.at(t.routing_domain.rdid);
    if (rd_owner != name)
      Error(Where(id + "/rd", "rdid", key, ".rdid"),
            t.routing_domain.rdid.ToString() + " is already the routing domain of tenant " +
                rd_owner + " (" + Ref(Where("tenant/" + rd_owner + "/rd", "rdid",
                                            "tenants/" + rd_owner + "/spec", ".rdid")) +
                "); an RDID is unique in the data center");
    for (size_t i = 0; i < t.subnets.size(); ++i) {
      const std::string& owner = vsid_owner.at(t.subnets[i].vsid);
      if (owner == name) continue;
      Error(Where(id + "/subnet/" + std::to_string(i), "vsid", key,
                  ".virtual_subnets[" + std::to_string(i) + "].vsid"),
            std::to_string(t.subnets[i].vsid) + " is already a virtual subnet of tenant " + owner +
                " (" + subnet_ref(owner, t.subnets[i].vsid) + "); a VSID is unique in the data center");
    }
    CheckVms(t);
  }
  // VMs whose tenant document is missing.
  for (const auto& [tenant, vms] : s_.vms) {
    if (s_.tenants.count(tenant) || !TenantTouched(tenant)) continue;
    for (const auto& [name, vm] : vms)
      Error(Where("vm/" + tenant + "/" + name, "tenant", "tenants/" + tenant + "/vms/" + name,
                  ".tenant"),
            "tenant " + tenant + " is not in the store");
  }
}

void Checker::CheckGateways() {
  // Per gateway: id, namespace and (port, VLAN) -> the tenant holding it.
  std::map<std::pair<std::string, uint32_t>, std::string> ids;
  std::map<std::pair<std::string, std::string>, std::string> netns;
  std::map<std::tuple<std::string, std::string, uint16_t>, std::string> vlans;
  for (const auto& [name, t] : s_.tenants) {
    if (!t.gateway) continue;
    const GatewayDoc& g = *t.gateway;
    ids.emplace(std::make_pair(g.host, g.spec.id), name);
    netns.emplace(std::make_pair(g.host, g.spec.netns), name);
    for (const config::ExternalSpec& e : g.spec.external)
      vlans.emplace(std::make_tuple(g.host, e.port_name, e.vlan), name);
  }
  for (const auto& [name, t] : s_.tenants) {
    if (!t.gateway || !(TenantTouched(name) || HostTouched(t.gateway->host))) continue;
    const GatewayDoc& g = *t.gateway;
    const std::string key = "tenants/" + name + "/spec";
    const std::string id = "tenant/" + name + "/gateway";
    const auto host = s_.hosts.find(g.host);
    if (host == s_.hosts.end() || host->second.role != HostDoc::Role::kGateway) {
      Error(Where(id, "host", key, ".gateway.host"),
            g.host + (host == s_.hosts.end() ? " is not a host of the store" : " is not a gateway"));
      continue;
    }
    const HostDoc& gw = host->second;
    if (const std::string& o = ids.at({g.host, g.spec.id}); o != name)
      Error(Where(id, "id", key, ".gateway.id"),
            "compartment id " + std::to_string(g.spec.id) + " of gateway " + g.host +
                " is already tenant " + o + "'s");
    if (const std::string& o = netns.at({g.host, g.spec.netns}); o != name)
      Error(Where(id, "namespace", key, ".gateway.namespace"),
            "namespace " + g.spec.netns + " on gateway " + g.host + " is already tenant " + o + "'s");
    for (size_t i = 0; i < g.spec.external.size(); ++i) {
      const config::ExternalSpec& e = g.spec.external[i];
      const std::string f = "external[" + std::to_string(i) + "]";
      const auto port = std::find_if(gw.ports.begin(), gw.ports.end(),
                                     [&](const config::PortSpec& p) { return p.name == e.port_name; });
      const bool uplink =
          port != gw.ports.end() &&
          std::any_of(gw.provider_addresses.begin(), gw.provider_addresses.end(),
                      [&](const ProviderAddress& pa) { return pa.port == port->index; });
      if (port == gw.ports.end() || uplink)
        Error(Where(id, f + ".port", key, ".gateway." + f + ".port"),
              e.port_name + (uplink ? " carries a provider address: it is an uplink, not an "
                                      "external port of gateway "
                                    : " is not a port of gateway ") +
                  g.host);
      else if (const std::string& o = vlans.at({g.host, e.port_name, e.vlan}); o != name)
        Error(Where(id, f + ".vlan", key, ".gateway." + f + ".vlan"),
              "port " + e.port_name + " VLAN " + std::to_string(e.vlan) + " of gateway " + g.host +
                  " is already tenant " + o + "'s; a port and VLAN carry one external interface");
    }
    // The gateway CA: a VM of the tenant on that gateway.
    const VmDoc* ca_vm = nullptr;
    if (const auto vms = s_.vms.find(name); vms != s_.vms.end())
      for (const auto& [vm_name, vm] : vms->second)
        if (vm.vsid == g.spec.vsid &&
            std::count(vm.addresses.begin(), vm.addresses.end(), g.spec.vm_address.addr))
          ca_vm = &vm;
    const Loc addr = Where(id, "vm_network.address", key, ".gateway.vm_network.address");
    if (ca_vm == nullptr)
      Error(addr, "the gateway CA " + g.spec.vm_address.addr.ToString() + " on VSID " +
                      std::to_string(g.spec.vsid) + " is the address of no VM of tenant " + name);
    else if (ca_vm->host != g.host)
      Error(addr, "the gateway CA " + g.spec.vm_address.addr.ToString() + " is VM " + ca_vm->name +
                      "'s, on host " + ca_vm->host + ", not on gateway " + g.host);
    else if (!(ca_vm->mac == g.spec.vm_mac))
      Error(Where(id, "vm_network.mac", key, ".gateway.vm_network.mac"),
            g.spec.vm_mac.ToCompactString() + " is not the MAC of VM " + ca_vm->name +
                ", the gateway CA: " + ca_vm->mac.ToCompactString());
  }
}

void Checker::CheckPolicies() {
  std::set<std::string> tenants;
  for (const auto& [name, t] : s_.tenants)
    if (TenantTouched(name)) tenants.insert(name);
  for (const std::string& name : tenants) {
    const TenantDoc& t = s_.tenants.at(name);
    std::vector<std::string> hosts;
    for (const std::string& h : HostsOfTenant(s_, name))
      if (s_.hosts.count(h)) hosts.push_back(h);
    // A tenant on no host yet: its own sections alone (nothing to reach).
    HostDoc nowhere;
    nowhere.name = "(none)";
    const std::vector<const HostDoc*> carriers = [&] {
      std::vector<const HostDoc*> v;
      for (const std::string& h : hosts) v.push_back(&s_.hosts.at(h));
      if (v.empty()) v.push_back(&nowhere);
      return v;
    }();
    // error text -> (error, the hosts that have it), in first-seen order
    std::vector<std::pair<std::pair<int, ConfigError>, std::set<std::string>>> found;
    for (const HostDoc* h : carriers) {
      // On no host: the routing domain, subnets and routes (VMs need a host
      // for their PA; CheckVms reports a missing one).
      std::optional<StoreState> none;
      std::optional<TenantDoc> sections;
      if (h == &nowhere) {
        none.emplace(s_.layout());
        sections = t;
        sections->local_records.clear();
        sections->gateway.reset();
      }
      const StoreState& in = none ? *none : s_;
      const TenantDoc& tenant = sections ? *sections : t;
      // Composed without origins first (the common case: valid, and the
      // origins' strings cost more than the validation); with them, in the
      // same order, only to place the errors.
      std::vector<PolicyError> policy_errors;
      {
        PolicyComposer fast(in, *h, nullptr);
        fast.AddHost();
        fast.AddTenant(tenant);
        policy_errors = ValidatePolicy(fast.policy());
      }
      if (policy_errors.empty()) continue;
      PolicyComposer c(in, *h, table_);
      c.AddHost();
      c.AddTenant(tenant);
      config::yaml::ErrorList list;
      config::yaml::AddPolicyErrors(policy_errors, c.origins(), table_->files, h->ports, &list);
      for (ConfigError& e : list.TakeSorted()) {
        const int file = static_cast<int>(
            std::find(table_->files.begin(), table_->files.end(), e.file) - table_->files.begin());
        auto same = std::find_if(found.begin(), found.end(), [&](const auto& f) {
          return f.first.second.ToString() == e.ToString();
        });
        if (same == found.end()) {
          found.push_back({{file, std::move(e)}, {h->name}});
        } else {
          same->second.insert(h->name);
        }
      }
    }
    for (auto& [e, on] : found) {
      if (carriers.front() != &nowhere && (on.size() < carriers.size() || carriers.size() == 1))
        e.second.message += " (on " + std::string(on.size() > 1 ? "hosts " : "host ") + Join(on) + ")";
      errors_.push_back(std::move(e));
    }
  }
}

std::vector<ConfigError> Checker::Run() {
  CheckHosts();
  CheckTenants();
  CheckGateways();
  CheckPolicies();
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.line < b.second.line;
  });
  std::vector<ConfigError> out;
  for (auto& [file, e] : errors_)
    if (std::none_of(out.begin(), out.end(), [&](const ConfigError& o) { return o.ToString() == e.ToString(); }))
      out.push_back(std::move(e));
  return out;
}

}  // namespace

std::vector<ConfigError> ValidateStore(const StoreState& state, const ValidationScope& scope,
                                       const OriginTable* table) {
  return Checker(state, scope, table).Run();
}

}  // namespace hnv::store
