// Port ACL fields as Hyper-V's cmdlets write them, parsed for the host YAML
// (yaml_acl.cc) and hnvctl's Add-/Remove-VMNetworkAdapter(Extended)Acl:
//   address   ANY, a prefix (10.0.1.0/24, fd00::/64) or an address (a /32 or /128)
//   ports     N or N-M (0..65535); ANY or empty: every port
//   protocol  TCP, UDP, ICMP, ICMPv6, a number 0..255, or ANY
//   direction Inbound, Outbound, Both; action Allow, Deny, Meter
// Each returns nullopt with *error set ("10.0.1.0/33: ...").
// Thread: any; pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dataplane/policy/model.h"

namespace hnv::config {

std::optional<AclAddress> ParseAclAddress(std::string_view s, std::string* error);
std::optional<PortRange> ParsePortRange(std::string_view s, std::string* error);
std::optional<uint16_t> ParseAclProtocol(std::string_view s, std::string* error);
std::optional<AclDirection> ParseAclDirection(std::string_view s, std::string* error);
std::optional<AclAction> ParseAclAction(std::string_view s, std::string* error);

std::string AclAddressText(const AclAddress& a);  // "ANY", "10.0.1.0/24", "10.0.1.103"
std::string PortRangeText(const PortRange& r);    // "ANY", "80", "8000-8080"
std::string AclProtocolText(uint16_t p);          // "ANY", "TCP", "47"
const char* AclDirectionText(AclDirection d);
const char* AclActionText(AclAction a);

}  // namespace hnv::config
