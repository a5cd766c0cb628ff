#include "config/store/vm_records.h"

#include "config/policy/policy_dump.h"

namespace hnv::store {
namespace {

std::string GroupKey(uint32_t vsid, const MacAddr& mac, RecordType type) {
  return std::to_string(vsid) + "/" + mac.ToCompactString() + "/" +
         (type == RecordType::kStatic ? "" : TypeName(type));
}

}  // namespace

std::map<IpAddr, std::string> PaHosts(const StoreState& state,
                                      const std::map<std::string, HostDoc>& override_hosts) {
  std::map<IpAddr, std::string> out;
  for (const auto& [name, h] : override_hosts)
    for (const ProviderAddress& pa : h.provider_addresses) out.emplace(pa.address, name);
  for (const auto& [name, h] : state.hosts)
    if (!override_hosts.count(name))
      for (const ProviderAddress& pa : h.provider_addresses) out.emplace(pa.address, name);
  return out;
}

std::vector<GroupedVm> GroupRecords(const std::string& tenant,
                                    const std::vector<LookupRecord>& records,
                                    const std::map<IpAddr, std::string>& pa_host,
                                    std::vector<GroupError>* errors) {
  std::vector<GroupedVm> out;
  std::map<std::string, size_t> by_key;
  for (size_t i = 0; i < records.size(); ++i) {
    const LookupRecord& r = records[i];
    if (r.type == RecordType::kDynamic) {
      errors->push_back({i, "type",
                         "Dynamic records are learned by the hosts, not configured; the store "
                         "keeps them per host"});
      continue;
    }
    const auto host = pa_host.find(r.pa);
    if (host == pa_host.end()) {
      std::string known;
      for (const auto& [pa, h] : pa_host) known += (known.empty() ? "" : ", ") + h + " " + pa.ToString();
      errors->push_back({i, "pa",
                         r.pa.ToString() + " is not a provider address of any host" +
                             (known.empty() ? " (the store has no hosts: apply the host files too)"
                                            : " (" + known + ")")});
      continue;
    }
    auto [it, inserted] = by_key.emplace(GroupKey(r.vsid, r.mac, r.type), out.size());
    if (inserted) {
      GroupedVm g;
      g.vm.tenant = tenant;
      g.vm.vsid = r.vsid;
      g.vm.mac = r.mac;
      g.vm.type = r.type;
      g.vm.rule = r.rule;
      g.vm.host = host->second;
      out.push_back(std::move(g));
    }
    GroupedVm& g = out[it->second];
    if (g.vm.host != host->second) {
      errors->push_back({i, "pa",
                         r.pa.ToString() + " is host " + host->second + "'s, but the records of MAC " +
                             r.mac.ToCompactString() + " on VSID " + std::to_string(r.vsid) +
                             " before it say host " + g.vm.host + "; one VM is on one host"});
      continue;
    }
    if (g.vm.rule != r.rule) {
      errors->push_back({i, "rule",
                         "the records of one VM (MAC " + r.mac.ToCompactString() +
                             ") have one rule: " + RuleName(g.vm.rule)});
      continue;
    }
    if (r.type == RecordType::kStatic) g.vm.addresses.push_back(r.ca);
    if (g.vm.vm_name.empty()) g.vm.vm_name = r.vm_name;
    g.records.push_back(i);
  }
  return out;
}

void NameVms(const std::string& tenant, const std::map<std::string, VmDoc>* known,
             std::vector<GroupedVm>* vms) {
  for (GroupedVm& g : *vms) {
    const VmDoc* same = nullptr;
    if (known != nullptr)
      for (const auto& [name, v] : *known)
        if (v.vsid == g.vm.vsid && v.mac == g.vm.mac && v.type == g.vm.type) same = &v;
    if (same != nullptr && same->host == g.vm.host && g.vm.port.empty()) g.vm.port = same->port;
    if (!g.vm.name.empty()) continue;
    if (!g.vm.vm_name.empty())
      g.vm.name = g.vm.vm_name;
    else if (same != nullptr)
      g.vm.name = same->name;
    else
      g.vm.name = tenant + "-" + g.vm.mac.ToCompactString() +
                  (g.vm.type == RecordType::kStatic ? "" : "-" + std::string(TypeName(g.vm.type)));
  }
}

std::vector<LookupRecord> VmRecords(const VmDoc& vm, const HostDoc& host, Family family,
                                    std::string* error) {
  std::vector<LookupRecord> out;
  auto add = [&](const IpAddr& ca, RecordType type) {
    const ProviderAddress* pa = HostPa(host.provider_addresses, ca.family);
    if (pa == nullptr) {
      *error = "host " + host.name + " has no provider address";
      return;
    }
    out.push_back(LookupRecord{ca, vm.vsid, vm.mac, pa->address, vm.rule, type, vm.vm_name});
  };
  if (vm.type == RecordType::kStatic) {
    for (const IpAddr& a : vm.addresses) add(a, RecordType::kStatic);
  } else {
    IpAddr none;
    none.family = family;
    add(none, vm.type);
  }
  return out;
}

}  // namespace hnv::store
