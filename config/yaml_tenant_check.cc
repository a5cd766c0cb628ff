// The checks of tenant sections that need more than one file: across tenants
// and against the gateway's ports (CheckTenants, phase 1), against the policy
// (ResolveTenant, phase 2); and the value rules of the tenant schema.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <optional>
#include <utility>

#include "config/yaml_tenant.h"

namespace hnv::config::yaml {

std::string InterfaceNameProblem(const std::string& name) {
  // The kernel's dev_valid_name(): IFNAMSIZ - 1 bytes.
  const bool ok = !name.empty() && name.size() <= 15 && name != "." && name != ".." &&
                  std::none_of(name.begin(), name.end(), [](char c) {
                    return c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c));
                  });
  if (!ok) {
    return "\"" + name +
           "\" is not a Linux interface name (1..15 characters, no '/', ':' or whitespace, "
           "not . or ..)";
  }
  if (name == "lo") return "lo is the namespace's loopback interface; choose another name";
  return "";
}

std::string NamespaceNameProblem(const std::string& name) {
  const bool ok =
      !name.empty() && name.size() <= 255 && name[0] != '.' && name[0] != '-' &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
      });
  if (ok) return "";
  return "\"" + name +
         "\" is not a network namespace name (at most 255 letters, digits, '.', '_' and '-', "
         "not starting with '.' or '-')";
}

std::optional<IfAddress> ParseIfAddress(const std::string& text, std::string* error) {
  const size_t slash = text.find('/');
  const std::optional<IpAddr> addr = IpAddr::Parse(text.substr(0, slash));
  if (addr && slash == std::string::npos) {
    *error = text + " has no prefix length (e.g. " + text + (addr->is_v4() ? "/24" : "/64") + ")";
    return std::nullopt;
  }
  const std::string len_text = slash == std::string::npos ? "" : text.substr(slash + 1);
  unsigned len = 0;
  const auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (!addr || len_text.empty() || len_text.size() > 3 || ec != std::errc() ||
      end != len_text.data() + len_text.size()) {
    *error = text + " is not an interface address (address/length, e.g. 10.1.3.2/24)";
    return std::nullopt;
  }
  if (len < 1 || len > static_cast<unsigned>(addr->bits())) {
    *error = text + ": length " + len_text + " is outside 1.." + std::to_string(addr->bits());
    return std::nullopt;
  }
  return IfAddress{*addr, static_cast<uint8_t>(len)};
}

IpPrefix SubnetOf(const IfAddress& a) { return IpPrefix{a.addr.Masked(a.len), a.len}; }

namespace {

bool IsV4Broadcast(const IpAddr& a, int len) {
  if (!a.is_v4() || len > 30) return false;
  const uint32_t host_mask = len == 0 ? ~0u : (1u << (32 - len)) - 1;
  return (a.v4_host() & host_mask) == host_mask;
}

}  // namespace

std::string HostAddressProblem(const IfAddress& a) {
  if (!a.addr.is_v4() || a.len > 30) return "";
  const IpPrefix subnet = SubnetOf(a);
  if (a.addr == subnet.addr)
    return a.ToString() + " is the network address of " + subnet.ToString() +
           "; an interface address is one of its hosts";
  if (IsV4Broadcast(a.addr, a.len))
    return a.ToString() + " is the broadcast address of " + subnet.ToString() +
           "; an interface address is one of its hosts";
  return "";
}

namespace {

const char* FamilyName(const IpAddr& a) { return a.is_v4() ? "IPv4" : "IPv6"; }

// "line 7" in the same file, "other.yaml:7" in another.
std::string At(int from_file, int file, int line, const std::vector<std::string>& files) {
  if (file == from_file) return "line " + std::to_string(line);
  return files[static_cast<size_t>(file)] + ":" + std::to_string(line);
}

// A YAML path with its location: "tenant.external[0] (line 14)".
std::string Ref(const FieldOrigin& o, int from_file, int file,
                const std::vector<std::string>& files) {
  return o.path + " (" + At(from_file, file, o.line, files) + ")";
}

struct Errors {
  ErrorList* list;
  void operator()(const TenantDraft& t, const FieldOrigin& o, std::string message) const {
    list->Add(t.file, t.file_name, o.line, o.path, std::move(message));
  }
};

// An address of one of a tenant's interfaces.
struct OwnAddress {
  IfAddress address;
  std::string interface;
  FieldOrigin origin;
};

void CheckInterfaces(TenantDraft& t, const std::vector<PortSpec>& ports, const PolicyBuilder& b,
                     const std::vector<std::string>& files, const Errors& err) {
  CompartmentSpec& s = t.spec;
  if (s.external.size() >= kMaxInterfaces) {
    err(t, t.external[kMaxInterfaces - 1].item,
        "a compartment has at most " + std::to_string(kMaxInterfaces - 1) +
            " external interfaces (interface 0 is vm_network)");
  }
  // Ports that carry a provider address: uplinks.
  std::map<std::string, size_t> uplinks;
  for (const PortRef& ref : b.port_refs)
    if (ref.kind == PortRef::Kind::kProviderAddress) uplinks.emplace(ref.name, ref.index);
  std::map<std::string, FieldOrigin> names{{s.vm_interface, t.vm_interface}};
  for (size_t j = 0; j < s.external.size(); ++j) {
    ExternalSpec& e = s.external[j];
    TenantDraft::External& o = t.external[j];
    if (!e.interface.empty()) {
      if (auto [it, inserted] = names.emplace(e.interface, o.interface); !inserted)
        err(t, o.interface,
            e.interface + " is already the name of " + Ref(it->second, t.file, t.file, files));
    }
    if (e.port_name.empty()) continue;
    const auto port = std::find_if(ports.begin(), ports.end(),
                                   [&](const PortSpec& p) { return p.name == e.port_name; });
    if (port == ports.end()) {
      std::string list;
      for (const PortSpec& p : ports) list += (list.empty() ? "" : ", ") + p.name;
      err(t, o.port,
          e.port_name + " is not a port of this gateway (" +
              (list.empty() ? "it has none" : "its ports: " + list) + ")");
      continue;
    }
    if (const auto up = uplinks.find(e.port_name); up != uplinks.end()) {
      const ElementOrigin& pa = b.origins.provider_addresses[up->second];
      err(t, o.port,
          e.port_name + " carries the provider address " +
              b.policy.provider_addresses[up->second].address.ToString() + " (" + pa.path + ", " +
              At(t.file, pa.file, pa.line, files) +
              "); an external interface is on a port without one");
      continue;
    }
    e.port = port->index;
    o.port_resolved = true;
  }
}

void CheckAddresses(TenantDraft& t, std::vector<OwnAddress>* own,
                    const std::vector<std::string>& files, const Errors& err) {
  const CompartmentSpec& s = t.spec;
  if (t.has_vm_address) own->push_back(OwnAddress{s.vm_address, s.vm_interface, t.address});
  for (size_t j = 0; j < s.external.size(); ++j) {
    const ExternalSpec& e = s.external[j];
    const TenantDraft::External& o = t.external[j];
    bool v6 = false;
    for (size_t k = 0; k < e.addresses.size(); ++k) {
      const IfAddress& a = e.addresses[k];
      v6 = v6 || a.addr.is_v6();
      for (const OwnAddress& other : *own) {
        if (other.address.addr == a.addr) {
          err(t, o.addresses[k],
              a.addr.ToString() + " is already an address of " + other.interface + ", " +
                  Ref(other.origin, t.file, t.file, files));
          break;
        }
        const IpPrefix mine = SubnetOf(a);
        const IpPrefix theirs = SubnetOf(other.address);
        if (other.interface != e.interface &&
            (mine.Contains(theirs.addr) || theirs.Contains(mine.addr))) {
          err(t, o.addresses[k],
              a.ToString() + " overlaps " + other.interface + "'s subnet " + theirs.ToString() +
                  ", " + Ref(other.origin, t.file, t.file, files) +
                  "; each interface of a compartment is on its own subnet");
          break;
        }
      }
      own->push_back(OwnAddress{a, e.interface, o.addresses[k]});
    }
    if (v6 && e.mtu < 1280)
      err(t, o.mtu, std::to_string(e.mtu) + " is below IPv6's minimum MTU, 1280");
  }
}

// Phase 1: what a route says about itself and the tenant's interface names.
void CheckRoutes(TenantDraft& t, const std::vector<std::string>& files, const Errors& err) {
  const CompartmentSpec& s = t.spec;
  std::string interfaces = s.vm_interface;
  for (const ExternalSpec& e : s.external) interfaces += ", " + e.interface;
  std::map<std::pair<IpPrefix, uint32_t>, size_t> seen;
  for (size_t j = 0; j < s.routes.size(); ++j) {
    const StaticRoute& r = s.routes[j];
    const TenantDraft::Route& o = t.routes[j];
    if (auto [it, inserted] = seen.emplace(std::pair(r.destination, r.metric), j); !inserted) {
      err(t, o.destination,
          r.destination.ToString() + " with metric " + std::to_string(r.metric) + " is already " +
              Ref(t.routes[it->second].item, t.file, t.file, files));
    }
    const bool known_interface =
        r.interface == s.vm_interface ||
        std::any_of(s.external.begin(), s.external.end(),
                    [&](const ExternalSpec& e) { return e.interface == r.interface; });
    if (!r.interface.empty() && !known_interface)
      err(t, o.interface, r.interface + " is not an interface of this tenant (" + interfaces + ")");
    if (r.next_hop.family != r.destination.addr.family) {
      err(t, o.next_hop,
          r.next_hop.ToString() + " is " + FamilyName(r.next_hop) + " and the destination " +
              r.destination.ToString() + " " + FamilyName(r.destination.addr));
    } else if (r.next_hop.IsUnspecified() && r.interface.empty()) {
      err(t, FieldOrigin{o.item.path + ".interface", o.item.line},
          "missing required key \"interface\" (a route without a next_hop is on-link through "
          "an interface)");
    }
  }
}

// Phase 2, once the VM network's address is known to be right: a next hop is
// a neighbour, not the compartment itself, and without `interface` on one of
// its connected subnets.
bool CheckNextHops(const TenantDraft& t, const std::vector<std::string>& files, const Errors& err) {
  const CompartmentSpec& s = t.spec;
  std::vector<OwnAddress> own{{s.vm_address, s.vm_interface, t.address}};
  for (size_t j = 0; j < s.external.size(); ++j)
    for (size_t k = 0; k < s.external[j].addresses.size(); ++k)
      own.push_back(OwnAddress{s.external[j].addresses[k], s.external[j].interface,
                               t.external[j].addresses[k]});
  std::string connected;
  for (const OwnAddress& a : own)
    connected +=
        (connected.empty() ? "" : ", ") + a.interface + " " + SubnetOf(a.address).ToString();
  bool ok = true;
  for (size_t j = 0; j < s.routes.size(); ++j) {
    const StaticRoute& r = s.routes[j];
    const TenantDraft::Route& o = t.routes[j];
    if (r.next_hop.IsUnspecified()) continue;
    const auto self = std::find_if(
        own.begin(), own.end(), [&](const OwnAddress& a) { return a.address.addr == r.next_hop; });
    const bool on_connected = std::any_of(own.begin(), own.end(), [&](const OwnAddress& a) {
      return SubnetOf(a.address).Contains(r.next_hop);
    });
    if (self != own.end()) {
      err(t, o.next_hop,
          r.next_hop.ToString() + " is this tenant's own address on " + self->interface + ", " +
              Ref(self->origin, t.file, t.file, files));
      ok = false;
    } else if (r.interface.empty() && !on_connected) {
      err(t, o.next_hop,
          r.next_hop.ToString() + " is not on a connected subnet of this tenant (" + connected +
              "); give interface for a next hop elsewhere");
      ok = false;
    }
  }
  return ok;
}

}  // namespace

void CheckTenants(std::vector<TenantDraft>* tenants, const std::string& namespace_prefix,
                  const std::vector<PortSpec>& ports, const PolicyBuilder& b,
                  const std::vector<std::string>& files, ErrorList* errors) {
  const Errors err{errors};
  std::map<std::string, size_t> names;
  std::map<std::string, size_t> namespaces;
  std::map<Guid, size_t> rds;
  // (port, VLAN) -> (tenant, external interface)
  std::map<std::pair<uint16_t, uint16_t>, std::pair<size_t, size_t>> attachments;
  for (size_t i = 0; i < tenants->size(); ++i) {
    TenantDraft& t = (*tenants)[i];
    CompartmentSpec& s = t.spec;
    bool duplicate_name = false;
    if (!s.name.empty()) {
      if (auto [it, inserted] = names.emplace(s.name, i); !inserted) {
        const TenantDraft& other = (*tenants)[it->second];
        err(t, t.name,
            s.name + " is already the tenant name of " +
                At(t.file, other.file, other.name.line, files) +
                "; a tenant's name is unique on the gateway");
        duplicate_name = true;
      }
      if (!t.has_namespace && !duplicate_name) {
        s.netns = namespace_prefix + s.name;
        if (std::string why = NamespaceNameProblem(s.netns); !why.empty()) {
          err(t, t.name, "the default namespace (namespace_prefix + name): " + why);
          s.netns.clear();
        }
      }
    }
    if (!s.netns.empty()) {
      if (auto [it, inserted] = namespaces.emplace(s.netns, i); !inserted) {
        const TenantDraft& other = (*tenants)[it->second];
        err(t, t.netns,
            s.netns + " is already the namespace of tenant " + other.spec.name + " (" +
                At(t.file, other.file, other.netns.line, files) + ")");
      }
    }
    if (s.rdid != Guid{}) {
      if (auto [it, inserted] = rds.emplace(s.rdid, i); !inserted) {
        const TenantDraft& other = (*tenants)[it->second];
        err(t, t.rdid,
            s.rdid.ToString() + " is already the routing domain of tenant " + other.spec.name +
                " (" + At(t.file, other.file, other.rdid.line, files) +
                "); one tenant per routing domain");
      }
    }
    CheckInterfaces(t, ports, b, files, err);
    for (size_t j = 0; j < s.external.size(); ++j) {
      const ExternalSpec& e = s.external[j];
      if (!t.external[j].port_resolved) continue;
      const auto key = std::pair(e.port, e.vlan);
      if (auto [it, inserted] = attachments.emplace(key, std::pair(i, j)); !inserted) {
        const auto [ti, tj] = it->second;
        const TenantDraft& other = (*tenants)[ti];
        const std::string whose = ti == i ? "" : " of tenant " + other.spec.name;
        err(t, t.external[j].vlan,
            "port " + e.port_name + " VLAN " + std::to_string(e.vlan) + " is already used by " +
                other.external[tj].item.path + whose + " (" +
                At(t.file, other.file, other.external[tj].vlan.line, files) +
                "); a port and VLAN carry one external interface");
      }
    }
    std::vector<OwnAddress> own;
    CheckAddresses(t, &own, files, err);
    CheckRoutes(t, files, err);
  }
}

bool ResolveTenant(TenantDraft* tp, const PolicyBuilder& b, const std::vector<std::string>& files,
                   ErrorList* errors) {
  TenantDraft& t = *tp;
  CompartmentSpec& s = t.spec;
  const Policy& p = b.policy;
  const Errors err{errors};
  s.vm_port = static_cast<uint16_t>(kFirstVirtualPort + s.id);

  const auto rd = std::find_if(p.routing_domains.begin(), p.routing_domains.end(),
                               [&](const RoutingDomain& d) { return d.rdid == s.rdid; });
  if (rd == p.routing_domains.end()) {
    std::string list;
    for (const RoutingDomain& d : p.routing_domains)
      list += (list.empty() ? "" : ", ") + d.rdid.ToString() + (d.name.empty() ? "" : " " + d.name);
    err(t, t.rdid,
        s.rdid.ToString() + " is not a routing domain of this gateway's policy (" +
            (list.empty() ? "it has none" : "its routing domains: " + list) + ")");
    return false;
  }
  const auto subnet = std::find_if(p.subnets.begin(), p.subnets.end(),
                                   [&](const VirtualSubnet& v) { return v.vsid == s.vsid; });
  const std::string vsid = "virtual subnet " + std::to_string(s.vsid);
  if (subnet == p.subnets.end()) {
    err(t, t.vsid, std::to_string(s.vsid) + " is not a virtual subnet of this gateway's policy");
    return false;
  }
  if (subnet->rdid != s.rdid) {
    err(t, t.vsid,
        std::to_string(s.vsid) + " is a virtual subnet of routing domain " +
            subnet->rdid.ToString() + ", not of this tenant's " + s.rdid.ToString());
    return false;
  }
  const IpAddr& a = s.vm_address.addr;
  const auto prefix = std::find_if(subnet->prefixes.begin(), subnet->prefixes.end(),
                                   [&](const IpPrefix& x) { return x.addr.family == a.family; });
  if (prefix == subnet->prefixes.end()) {
    err(t, t.address,
        a.ToString() + " is " + FamilyName(a) + "; " + vsid + " has no " + FamilyName(a) +
            " prefix");
    return false;
  }
  const std::string in_subnet = vsid + " (" + prefix->ToString() + ")";
  if (!prefix->Contains(a)) {
    err(t, t.address, s.vm_address.ToString() + " is outside " + in_subnet);
    return false;
  }
  IpAddr dfgw = prefix->addr;  // the subnet's first address
  for (int i = dfgw.bits() / 8 - 1; i >= 0 && ++dfgw.b[static_cast<size_t>(i)] == 0; --i) {
  }
  if (a == prefix->addr || IsV4Broadcast(a, prefix->len) || a == dfgw) {
    const char* what = a == prefix->addr ? "the network address"
                       : a == dfgw       ? "the default gateway (DFGW) address"
                                         : "the broadcast address";
    err(t, t.address,
        a.ToString() + " is " + what + " of " + in_subnet + "; the gateway CA is another one");
    return false;
  }
  bool ok = true;
  if (s.vm_address.len != prefix->len) {
    err(t, t.address,
        s.vm_address.ToString() + ": the length is that of " + in_subnet + ", " +
            std::to_string(prefix->len));
    ok = false;
  }
  const auto rec = std::find_if(p.records.begin(), p.records.end(), [&](const LookupRecord& r) {
    return r.vsid == s.vsid && r.ca == a;
  });
  if (rec == p.records.end()) {
    err(t, t.address,
        "no lookup record has " + a.ToString() + " on " + vsid +
            "; the gateway CA needs one (its MAC, and this gateway's provider address)");
    return false;
  }
  const ElementOrigin& ro = b.origins.records[static_cast<size_t>(rec - p.records.begin())];
  const std::string rec_ref = ro.path + " (" + At(t.file, ro.file, ro.line, files) + ")";
  const auto pa = std::find_if(p.provider_addresses.begin(), p.provider_addresses.end(),
                               [&](const ProviderAddress& x) { return x.address == rec->pa; });
  if (pa == p.provider_addresses.end()) {
    std::string mine;
    for (const ProviderAddress& x : p.provider_addresses)
      mine += (mine.empty() ? "" : ", ") + x.address.ToString();
    err(t, t.address,
        "the lookup record of " + a.ToString() + ", " + rec_ref + ", has the provider address " +
            rec->pa.ToString() + ", not one of this gateway's (" + mine + ")");
    ok = false;
  }
  if (t.has_mac && s.vm_mac != rec->mac) {
    err(t, t.mac,
        s.vm_mac.ToCompactString() + " is not the MAC of the lookup record of " + a.ToString() +
            ", " + rec_ref + ": " + rec->mac.ToCompactString());
    ok = false;
  }
  s.vm_mac = rec->mac;
  if (pa != p.provider_addresses.end()) {
    const uint32_t overhead = pa->address.is_v4() ? 42 : 62;
    const uint32_t limit = p.settings.underlay_mtu - overhead;
    if (!t.has_vm_mtu) {
      s.vm_mtu = limit;
    } else if (s.vm_mtu > limit) {
      err(t, t.vm_mtu,
          std::to_string(s.vm_mtu) + " is more than the VM network carries: underlay_mtu " +
              std::to_string(p.settings.underlay_mtu) + " - " + std::to_string(overhead) +
              " (NVGRE over " + FamilyName(pa->address) + ") = " + std::to_string(limit));
      ok = false;
    }
    if (a.is_v6() && s.vm_mtu < 1280) {
      err(t, t.vm_mtu, std::to_string(s.vm_mtu) + " is below IPv6's minimum MTU, 1280");
      ok = false;
    }
  }
  return CheckNextHops(t, files, err) && ok;
}

}  // namespace hnv::config::yaml
