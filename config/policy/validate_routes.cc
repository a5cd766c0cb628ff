// ValidatePolicy's passes over customer routes, provider addresses and routes,
// VM ports, and the gateway's own subnet (see validate.h for the rules).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "config/policy/validate_internal.h"

namespace hnv::validate_internal {

void Validator::CheckProviderAddresses() {
  std::map<IpAddr, size_t> seen;
  for (size_t i = 0; i < p_.provider_addresses.size(); ++i) {
    const ProviderAddress& pa = p_.provider_addresses[i];
    bool address_ok = true;
    if (const char* why = NotUnicastReason(pa.address)) {
      errors_.Add(Section::kProviderAddresses, i, paddr_f::kAddress,
                  pa.address.ToString() + " " + why + "; a provider address is unicast");
      address_ok = false;
    } else if (auto [it, inserted] = seen.emplace(pa.address, i); !inserted) {
      errors_.Add(Section::kProviderAddresses, i, paddr_f::kAddress,
                  pa.address.ToString() + " is already " +
                      Ref(Section::kProviderAddresses, it->second) +
                      "; provider addresses are unique");
    }
    const int lo = pa.address.is_v4() ? 8 : 16;
    const int hi = pa.address.bits();
    const bool len_ok = pa.prefix_len >= lo && pa.prefix_len <= hi;
    if (!len_ok)
      errors_.Add(Section::kProviderAddresses, i, paddr_f::kPrefixLen,
                  RangeMessage(pa.prefix_len, lo, hi) + " for an " + FamilyName(pa.address.family) +
                      " provider address");
    if (const char* why = MacProblem(pa.mac))
      errors_.Add(Section::kProviderAddresses, i, paddr_f::kMac, MacMessage(pa.mac, why));
    if (pa.vlan > 4094)
      errors_.Add(Section::kProviderAddresses, i, paddr_f::kVlan,
                  RangeMessage(pa.vlan, 0, 4094) + " (0 = untagged)");
    if (address_ok) {
      has_pa_family_[Fam(pa.address.family)] = true;
      if (len_ok) reach_.Add(IpPrefix{pa.address.Masked(pa.prefix_len), pa.prefix_len}, 0);
    }
  }
}

void Validator::CheckProviderRoutes() {
  std::map<IpPrefix, size_t> seen;
  for (size_t i = 0; i < p_.provider_routes.size(); ++i) {
    const ProviderRoute& r = p_.provider_routes[i];
    const Family fam = r.destination.addr.family;
    bool ok = true;
    if (std::string e = PrefixShapeError(r.destination); !e.empty()) {
      errors_.Add(Section::kProviderRoutes, i, proute_f::kDestination, std::move(e));
      ok = false;
    } else if (auto [it, inserted] = seen.emplace(r.destination, i); !inserted) {
      errors_.Add(
          Section::kProviderRoutes, i, proute_f::kDestination,
          r.destination.ToString() + " duplicates " + Ref(Section::kProviderRoutes, it->second));
    }
    // The port must carry a PA of the route's family, and a next hop must be
    // on the subnet of one of them.
    bool port_has_family = false;
    bool next_hop_on_link = false;
    for (const ProviderAddress& pa : p_.provider_addresses) {
      if (pa.port != r.port || pa.address.family != fam) continue;
      port_has_family = true;
      if (pa.prefix_len <= pa.address.bits() &&
          IpPrefix{pa.address.Masked(pa.prefix_len), pa.prefix_len}.Contains(r.next_hop))
        next_hop_on_link = true;
    }
    if (!port_has_family) {
      errors_.Add(
          Section::kProviderRoutes, i, proute_f::kPort,
          "port " + std::to_string(r.port) + " has no " + FamilyName(fam) + " provider address");
      ok = false;
    }
    if (r.next_hop.family != fam) {
      errors_.Add(Section::kProviderRoutes, i, proute_f::kNextHop,
                  r.next_hop.ToString() + " is " + FamilyName(r.next_hop.family) +
                      " but the destination " + r.destination.ToString() + " is " +
                      FamilyName(fam));
      ok = false;
    } else if (!r.next_hop.IsUnspecified()) {
      if (const char* why = NotUnicastReason(r.next_hop)) {
        errors_.Add(Section::kProviderRoutes, i, proute_f::kNextHop,
                    r.next_hop.ToString() + " " + why + "; a next hop is a unicast address");
        ok = false;
      } else if (port_has_family && !next_hop_on_link) {
        errors_.Add(Section::kProviderRoutes, i, proute_f::kNextHop,
                    r.next_hop.ToString() + " is not on the subnet of any " + FamilyName(fam) +
                        " provider address on port " + std::to_string(r.port));
        ok = false;
      }
    }
    if (ok) reach_.Add(r.destination, 0);
  }
  reach_.Build();
}

void Validator::CheckCustomerRoutes() {
  struct RouteKey {
    int rd;
    IpPrefix destination;
    uint32_t metric;
    uint32_t index;
  };
  std::vector<RouteKey> keys;
  for (size_t i = 0; i < p_.customer_routes.size(); ++i) {
    const CustomerRoute& cr = p_.customer_routes[i];
    const int rd = FindRd(cr.rdid);
    if (rd < 0)
      errors_.Add(Section::kCustomerRoutes, i, croute_f::kRdid,
                  cr.rdid.ToString() + " is not a routing domain of this policy");
    std::optional<uint32_t> subnet;  // set only when it is in the route's routing domain
    if (!IsValidVsid(cr.vsid)) {
      errors_.Add(Section::kCustomerRoutes, i, croute_f::kVsid, VsidRangeMessage(cr.vsid));
    } else if (subnet = SubnetOf(cr.vsid); !subnet) {
      errors_.Add(Section::kCustomerRoutes, i, croute_f::kVsid,
                  std::to_string(cr.vsid) + " is not a virtual subnet of this policy");
    } else if (const int srd = subnets_[*subnet].rd; rd >= 0 && srd >= 0 && srd != rd) {
      errors_.Add(Section::kCustomerRoutes, i, croute_f::kVsid,
                  std::to_string(cr.vsid) + " belongs to routing domain " + RdName(srd) + ", not " +
                      RdName(rd));
      subnet.reset();
    }
    const bool rd_family = rd >= 0 && rds_[rd].has_family;
    if (std::string e = PrefixShapeError(cr.destination); !e.empty()) {
      errors_.Add(Section::kCustomerRoutes, i, croute_f::kDestination, std::move(e));
    } else if (rd_family && cr.destination.addr.family != rds_[rd].family) {
      errors_.Add(Section::kCustomerRoutes, i, croute_f::kDestination,
                  FamilyMismatch(cr.destination.ToString(), cr.destination.addr.family, rd));
    } else {
      if (rd >= 0)
        keys.push_back(RouteKey{rd, cr.destination, cr.metric, static_cast<uint32_t>(i)});
      // An on-link route says "these addresses are on this VSID": it stays
      // inside the VSID's prefix, or CAs would be reached on the wrong subnet.
      const SubnetInfo* si = subnet ? &subnets_[*subnet] : nullptr;
      const int f = Fam(cr.destination.addr.family);
      if (cr.next_hop.IsUnspecified() && si && !si->prefix_error && si->has[f] &&
          !(cr.destination.len >= si->prefix[f].len &&
            si->prefix[f].Contains(cr.destination.addr))) {
        errors_.Add(Section::kCustomerRoutes, i, croute_f::kDestination,
                    cr.destination.ToString() + " is on-link on " + SubnetName(*subnet) +
                        ", whose prefix is " + si->prefix[f].ToString() +
                        "; an on-link route stays inside its subnet's prefix");
      }
    }
    CheckCustomerRouteNextHop(i, rd, subnet);
  }

  std::sort(keys.begin(), keys.end(), [](const RouteKey& a, const RouteKey& b) {
    return std::tie(a.rd, a.destination, a.metric, a.index) <
           std::tie(b.rd, b.destination, b.metric, b.index);
  });
  for (size_t k = 1, owner = 0; k < keys.size(); ++k) {
    const RouteKey& a = keys[owner];
    const RouteKey& b = keys[k];
    if (a.rd != b.rd || a.destination != b.destination || a.metric != b.metric) {
      owner = k;
      continue;
    }
    errors_.Add(Section::kCustomerRoutes, b.index, croute_f::kDestination,
                b.destination.ToString() + " with metric " + std::to_string(b.metric) +
                    " duplicates " + Ref(Section::kCustomerRoutes, a.index) +
                    " in routing domain " + RdName(b.rd));
  }
}

void Validator::CheckCustomerRouteNextHop(size_t i, int rd, const std::optional<uint32_t>& subnet) {
  const CustomerRoute& cr = p_.customer_routes[i];
  const IpAddr& nh = cr.next_hop;
  if (rd < 0) return;
  RdInfo& info = rds_[rd];
  if (info.has_family && nh.family != info.family) {
    errors_.Add(Section::kCustomerRoutes, i, croute_f::kNextHop,
                FamilyMismatch(nh.ToString(), nh.family, rd));
    return;
  }
  if (nh.IsUnspecified()) return;  // on-link
  if (const char* why = NotUnicastReason(nh)) {
    errors_.Add(Section::kCustomerRoutes, i, croute_f::kNextHop,
                nh.ToString() + " " + why + "; a next hop is unspecified (on-link) or a CA");
    return;
  }
  const std::optional<uint32_t> home = info.subnets.Find(nh);
  if (!home) {
    errors_.Add(
        Section::kCustomerRoutes, i, croute_f::kNextHop,
        nh.ToString() + " is not inside any virtual subnet of routing domain " + RdName(rd));
    return;
  }
  const SubnetInfo& hs = subnets_[*home];
  const int f = Fam(nh.family);
  if (nh == hs.dfgw[f] || nh == hs.prefix[f].addr) {
    errors_.Add(Section::kCustomerRoutes, i, croute_f::kNextHop,
                nh.ToString() + " is the " + (nh == hs.dfgw[f] ? "default gateway" : "network") +
                    " address of " + SubnetName(*home) +
                    "; a next hop is a gateway's CA, not a reserved address");
    return;
  }
  const uint32_t home_vsid = p_.subnets[*home].vsid;
  if (subnet && cr.vsid != home_vsid) {
    errors_.Add(Section::kCustomerRoutes, i, croute_f::kVsid,
                std::to_string(cr.vsid) + " is not the next hop's subnet: " + nh.ToString() +
                    " is in " + SubnetName(*home) +
                    ", and a route through a gateway is on the gateway's VSID");
    return;
  }
  if (!info.has_gateway) {
    info.has_gateway = true;
    info.gateway = nh;
    info.gateway_route = static_cast<uint32_t>(i);
    info.gateway_vsid = home_vsid;
  } else if (info.gateway != nh) {
    errors_.Add(Section::kCustomerRoutes, i, croute_f::kNextHop,
                nh.ToString() + " differs from " + info.gateway.ToString() +
                    ", the gateway of routing domain " + RdName(rd) + " (" +
                    Ref(Section::kCustomerRoutes, info.gateway_route) +
                    "); one gateway address per routing domain");
  }
}

void Validator::CheckVmPorts() {
  std::map<uint16_t, size_t> pa_ports;
  for (size_t k = 0; k < p_.provider_addresses.size(); ++k)
    pa_ports.emplace(p_.provider_addresses[k].port, k);
  std::map<uint16_t, size_t> ports;
  std::map<std::pair<uint32_t, uint64_t>, size_t> macs;
  for (size_t i = 0; i < p_.vm_ports.size(); ++i) {
    const VmPort& vp = p_.vm_ports[i];
    if (auto pa = pa_ports.find(vp.port); pa != pa_ports.end()) {
      errors_.Add(Section::kVmPorts, i, port_f::kPort,
                  std::to_string(vp.port) + " is the uplink port of " +
                      Ref(Section::kProviderAddresses, pa->second));
    } else if (auto [it, inserted] = ports.emplace(vp.port, i); !inserted) {
      errors_.Add(Section::kVmPorts, i, port_f::kPort,
                  std::to_string(vp.port) + " is already the port of " +
                      Ref(Section::kVmPorts, it->second) + " (" + p_.vm_ports[it->second].vm_name +
                      ")");
    }
    if (const char* why = MacProblem(vp.mac))
      errors_.Add(Section::kVmPorts, i, port_f::kMac, MacMessage(vp.mac, why));
    if (!IsValidVsid(vp.vsid)) {
      errors_.Add(Section::kVmPorts, i, port_f::kVsid, VsidRangeMessage(vp.vsid));
    } else if (!SubnetOf(vp.vsid)) {
      errors_.Add(Section::kVmPorts, i, port_f::kVsid,
                  std::to_string(vp.vsid) + " is not a virtual subnet of this policy");
    } else if (auto [it, inserted] = macs.emplace(std::pair(vp.vsid, vp.mac.AsU64()), i);
               !inserted) {
      errors_.Add(Section::kVmPorts, i, port_f::kMac,
                  vp.mac.ToCompactString() + " is already on virtual subnet " +
                      std::to_string(vp.vsid) + " through " + Ref(Section::kVmPorts, it->second));
    }
  }
}

// "The Gateway must be on its own VSID": on the subnet that holds a routing
// domain's gateway, only the gateway itself (records with its CA or MAC,
// GatewayWildcard records) and the DFGW record may appear.
void Validator::CheckGatewaySubnets() {
  if (gateway_vsids_.empty()) return;
  std::unordered_map<uint32_t, std::vector<uint64_t>> macs;  // gateway VSID -> gateway MACs
  for (const LookupRecord& r : p_.records) {
    const int rd = GatewayRdOf(r.vsid);
    if (rd >= 0 && r.ca == rds_[rd].gateway) macs[r.vsid].push_back(r.mac.AsU64());
  }
  auto is_gateway_mac = [&](uint32_t vsid, const MacAddr& m) {
    auto it = macs.find(vsid);
    return it != macs.end() &&
           std::find(it->second.begin(), it->second.end(), m.AsU64()) != it->second.end();
  };
  for (size_t i = 0; i < p_.records.size(); ++i) {
    const LookupRecord& r = p_.records[i];
    const int rd = GatewayRdOf(r.vsid);
    if (rd < 0) continue;
    if (dfgw_record_[i] || r.type == RecordType::kGatewayWildcard || r.ca == rds_[rd].gateway ||
        is_gateway_mac(r.vsid, r.mac))
      continue;
    AddGatewayRecordError(i, r.vsid, rd);
  }
  for (size_t i = 0; i < p_.vm_ports.size(); ++i) {
    const VmPort& vp = p_.vm_ports[i];
    const int rd = GatewayRdOf(vp.vsid);
    if (rd < 0 || is_gateway_mac(vp.vsid, vp.mac)) continue;
    AddGatewayPortError(i, vp.vsid, rd);
  }
}

std::string Validator::GatewayMessage(uint32_t vsid, int rd) const {
  const RdInfo& info = rds_[rd];
  return std::to_string(vsid) + " is the subnet of the gateway " + info.gateway.ToString() + " (" +
         Ref(Section::kCustomerRoutes, info.gateway_route) +
         "); the gateway is on its own VSID, shared only with the default gateway record";
}

void Validator::AddGatewayRecordError(size_t i, uint32_t vsid, int rd) {
  errors_.Add(Section::kRecords, i, record_f::kVsid, GatewayMessage(vsid, rd));
}

void Validator::AddGatewayPortError(size_t i, uint32_t vsid, int rd) {
  errors_.Add(Section::kVmPorts, i, port_f::kVsid, GatewayMessage(vsid, rd));
}

}  // namespace hnv::validate_internal
