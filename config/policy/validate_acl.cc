// Port ACLs (validate.h, sections port_acls and port_extended_acls).
#include <map>
#include <set>
#include <tuple>

#include "config/policy/validate_internal.h"
#include "dataplane/packet/headers.h"
#include "dataplane/policy/port_acl.h"

namespace hnv::validate_internal {
namespace {

constexpr size_t kMaxAclsPerAdapter = 1000;  // rules of both kinds (MAC, meter, extended: scanned)
constexpr uint32_t kMaxIdleSessionTimeout = 86'400;

bool IsTcpOrUdp(uint16_t p) { return p == kIpProtoTcp || p == kIpProtoUdp; }

std::string AddressText(const AclAddress& a) { return a.any ? "ANY" : a.prefix.ToString(); }

}  // namespace

void Validator::CheckPortAcls() {
  std::map<std::string, size_t> adapters;  // vm_name -> rules
  for (const VmPort& v : p_.vm_ports) adapters.emplace(v.vm_name, 0);
  auto adapter = [&](Section s, size_t i, const std::string& vm) -> size_t* {
    auto it = adapters.find(vm);
    if (it == adapters.end()) {
      errors_.Add(s, i, acl_f::kVmName,
                  "\"" + vm + "\" is not the vm_name of a VM network adapter of this host");
      return nullptr;
    }
    return &it->second;
  };
  auto too_many = [&](Section s, size_t i, size_t* count, const std::string& vm) {
    if (count != nullptr && ++*count == kMaxAclsPerAdapter + 1)
      errors_.Add(s, i, acl_f::kVmName,
                  "adapter " + vm + " has more than " + std::to_string(kMaxAclsPerAdapter) +
                      " ACLs (port_acls and port_extended_acls together)");
  };

  size_t meters = 0;
  std::map<std::tuple<std::string, uint8_t, bool, std::string, uint8_t>, size_t> seen;
  for (size_t i = 0; i < p_.port_acls.size(); ++i) {
    const PortAcl& a = p_.port_acls[i];
    size_t* count = adapter(Section::kPortAcls, i, a.vm_name);
    too_many(Section::kPortAcls, i, count, a.vm_name);
    if (!a.by_mac && !a.remote_ip.any) {
      if (const std::string why = PrefixShapeError(a.remote_ip.prefix); !why.empty())
        errors_.Add(Section::kPortAcls, i, acl_f::kRemoteIp, why);
    }
    if (a.by_mac && a.remote_mac.AsU64() == 0)
      errors_.Add(Section::kPortAcls, i, acl_f::kRemoteMac, "000000000000 is not a MAC address");
    if (a.action == AclAction::kMeter) {
      if (a.by_mac)
        errors_.Add(Section::kPortAcls, i, acl_f::kAction,
                    "a Meter ACL counts traffic by remote IP address; give remote_ip_address "
                    "instead of remote_mac_address");
      meters += a.direction == AclDirection::kBoth ? 2 : 1;
      if (meters > kMaxAclMeters && meters - (a.direction == AclDirection::kBoth ? 2 : 1) <=
                                        kMaxAclMeters)
        errors_.Add(Section::kPortAcls, i, acl_f::kAction,
                    "more than " + std::to_string(kMaxAclMeters) +
                        " meters on this host (a Both meter counts twice)");
    }
    // One rule per (adapter, direction, remote address, action), as
    // Hyper-V keeps them: the same rule twice is an error, not a no-op.
    for (uint8_t d : {uint8_t{1}, uint8_t{2}}) {
      if ((static_cast<uint8_t>(a.direction) & d) == 0) continue;
      const auto key = std::make_tuple(a.vm_name, d, a.by_mac,
                                       a.by_mac ? a.remote_mac.ToString() : AddressText(a.remote_ip),
                                       static_cast<uint8_t>(a.action));
      if (auto [it, fresh] = seen.emplace(key, i); !fresh && it->second != i) {
        errors_.Add(Section::kPortAcls, i, acl_f::kRemoteIp,
                    "the same ACL (adapter, direction, remote address, action) as " +
                        Ref(Section::kPortAcls, it->second));
        break;
      }
    }
  }

  std::map<std::tuple<std::string, AclDirection, uint32_t>, size_t> weights;
  for (size_t i = 0; i < p_.port_extended_acls.size(); ++i) {
    const PortExtendedAcl& a = p_.port_extended_acls[i];
    const Section s = Section::kPortExtendedAcls;
    size_t* count = adapter(s, i, a.vm_name);
    too_many(s, i, count, a.vm_name);
    if (a.direction == AclDirection::kBoth)
      errors_.Add(s, i, acl_f::kDirection, "an extended ACL is Inbound or Outbound, not Both");
    if (a.action == AclAction::kMeter)
      errors_.Add(s, i, acl_f::kAction, "an extended ACL is Allow or Deny, not Meter");
    for (const auto& [addr, field] :
         {std::pair{&a.local_ip, acl_f::kLocalIp}, {&a.remote_ip, acl_f::kRemoteIp}})
      if (!addr->any)
        if (const std::string why = PrefixShapeError(addr->prefix); !why.empty())
          errors_.Add(s, i, field, why);
    for (const auto& [range, field] :
         {std::pair{&a.local_port, acl_f::kLocalPort}, {&a.remote_port, acl_f::kRemotePort}}) {
      if (range->first > range->last)
        errors_.Add(s, i, field,
                    std::to_string(range->first) + "-" + std::to_string(range->last) +
                        " is an empty port range");
      else if (!range->IsAny() && !IsTcpOrUdp(a.protocol))
        errors_.Add(s, i, field, "ports need protocol TCP or UDP");
    }
    if (a.protocol > 255 && a.protocol != kAnyProtocol)
      errors_.Add(s, i, acl_f::kProtocol, std::to_string(a.protocol) + " is outside 0..255");
    if (a.weight == 0)
      errors_.Add(s, i, acl_f::kWeight, "0 is not a weight; weights start at 1");
    else if (auto [it, fresh] = weights.emplace(std::make_tuple(a.vm_name, a.direction, a.weight), i);
             !fresh)
      errors_.Add(s, i, acl_f::kWeight,
                  "weight " + std::to_string(a.weight) + " is already used by " +
                      Ref(s, it->second) + " (weights are unique per adapter and direction)");
    if (a.stateful && a.action != AclAction::kAllow)
      errors_.Add(s, i, acl_f::kStateful, "only an Allow rule can be stateful");
    if (a.stateful && (a.idle_session_timeout == 0 || a.idle_session_timeout > kMaxIdleSessionTimeout))
      errors_.Add(s, i, acl_f::kStateful,
                  "idle_session_timeout " + RangeMessage(a.idle_session_timeout, 1,
                                                         kMaxIdleSessionTimeout) + " seconds");
  }
}

}  // namespace hnv::validate_internal
