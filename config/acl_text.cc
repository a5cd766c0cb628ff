#include "config/acl_text.h"

#include <charconv>
#include <cstring>
#include <strings.h>

#include "dataplane/packet/headers.h"

namespace hnv::config {
namespace {

bool Is(std::string_view a, const char* b) {
  return a.size() == std::strlen(b) && strncasecmp(a.data(), b, a.size()) == 0;
}

std::optional<uint32_t> Number(std::string_view s, uint32_t max) {
  uint32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty() || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<AclAddress> ParseAclAddress(std::string_view s, std::string* error) {
  AclAddress a;
  if (Is(s, "ANY") || s == "*") return a;
  a.any = false;
  if (s.find('/') != std::string_view::npos) {
    if (std::optional<IpPrefix> p = IpPrefix::Parse(s)) {
      a.prefix = *p;
      return a;
    }
    *error = std::string(s) + " is not a prefix (such as 10.0.1.0/24, with its host bits clear)";
    return std::nullopt;
  }
  if (std::optional<IpAddr> ip = IpAddr::Parse(s)) {
    a.prefix = IpPrefix{*ip, static_cast<uint8_t>(ip->is_v4() ? 32 : 128)};
    return a;
  }
  *error = std::string(s) + " is not ANY, an IP address or a prefix";
  return std::nullopt;
}

std::optional<PortRange> ParsePortRange(std::string_view s, std::string* error) {
  if (s.empty() || Is(s, "ANY") || s == "*") return PortRange{};
  const size_t dash = s.find('-');
  const std::optional<uint32_t> first = Number(s.substr(0, dash), 65535);
  const std::optional<uint32_t> last =
      dash == std::string_view::npos ? first : Number(s.substr(dash + 1), 65535);
  if (!first || !last) {
    *error = std::string(s) + " is not a port (0..65535) or a range N-M";
    return std::nullopt;
  }
  if (*first > *last) {
    *error = std::string(s) + " is an empty range";
    return std::nullopt;
  }
  return PortRange{static_cast<uint16_t>(*first), static_cast<uint16_t>(*last)};
}

std::optional<uint16_t> ParseAclProtocol(std::string_view s, std::string* error) {
  if (s.empty() || Is(s, "ANY") || s == "*") return kAnyProtocol;
  if (Is(s, "TCP")) return kIpProtoTcp;
  if (Is(s, "UDP")) return kIpProtoUdp;
  if (Is(s, "ICMP") || Is(s, "ICMPv4")) return uint16_t{1};
  if (Is(s, "ICMPv6")) return uint16_t{58};
  if (std::optional<uint32_t> n = Number(s, 255)) return static_cast<uint16_t>(*n);
  *error = std::string(s) + " is not a protocol (TCP, UDP, ICMP, ICMPv6, ANY or 0..255)";
  return std::nullopt;
}

std::optional<AclDirection> ParseAclDirection(std::string_view s, std::string* error) {
  if (Is(s, "Inbound")) return AclDirection::kInbound;
  if (Is(s, "Outbound")) return AclDirection::kOutbound;
  if (Is(s, "Both")) return AclDirection::kBoth;
  *error = std::string(s) + " is not a direction (Inbound, Outbound or Both)";
  return std::nullopt;
}

std::optional<AclAction> ParseAclAction(std::string_view s, std::string* error) {
  if (Is(s, "Allow")) return AclAction::kAllow;
  if (Is(s, "Deny")) return AclAction::kDeny;
  if (Is(s, "Meter")) return AclAction::kMeter;
  *error = std::string(s) + " is not an action (Allow, Deny or Meter)";
  return std::nullopt;
}

std::string AclAddressText(const AclAddress& a) {
  if (a.any) return "ANY";
  if (a.prefix.len == a.prefix.addr.bits()) return a.prefix.addr.ToString();
  return a.prefix.ToString();
}

std::string PortRangeText(const PortRange& r) {
  if (r.IsAny()) return "ANY";
  if (r.first == r.last) return std::to_string(r.first);
  return std::to_string(r.first) + "-" + std::to_string(r.last);
}

std::string AclProtocolText(uint16_t p) {
  switch (p) {
    case kAnyProtocol: return "ANY";
    case kIpProtoTcp: return "TCP";
    case kIpProtoUdp: return "UDP";
    case 1: return "ICMP";
    case 58: return "ICMPv6";
    default: return std::to_string(p);
  }
}

const char* AclDirectionText(AclDirection d) {
  return d == AclDirection::kInbound ? "Inbound" : d == AclDirection::kOutbound ? "Outbound" : "Both";
}

const char* AclActionText(AclAction a) {
  return a == AclAction::kAllow ? "Allow" : a == AclAction::kDeny ? "Deny" : "Meter";
}

}  // namespace hnv::config
