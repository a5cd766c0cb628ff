// JSON <-> policy model, for the control socket (control.h): the objects that
// `get`, `new`, `set` and `remove` carry. Field names are those of the YAML
// files (config/README.md); values are accepted in the same spellings as the
// YAML (MACs as 600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01; rules
// TranslationMethodEncap/encap and TranslationMethodNone/none; types
// Static/Dynamic/L2Only/GatewayWildcard; enums case-insensitive; integers as
// JSON numbers or decimal strings) and produced in one canonical spelling
// (MACs compact upper-case, enums as the chapter writes them, GUIDs
// "{...}" lower-case, integers as numbers).
//
// Objects per kind (* = required when an object is created, i.e. in kFull
// mode):
//   lookup-record       customer_address*, vsid*, mac*, provider_address*,
//                       rule (TranslationMethodEncap), type (Static), vm_name
//                       (customer_address is optional for L2Only and
//                       GatewayWildcard records: default 0.0.0.0)
//   customer-route      rdid*, vsid*, destination*, next_hop (on-link), metric (0)
//   provider-address    address*, prefix_length*, port*, mac, vlan (0)
//   provider-route      destination*, port*, next_hop (on-link)
//   vm-network-adapter  vm_name*, port*, mac*, vsid*, mac_address_spoofing (Off),
//                       dhcp_guard (On), router_guard (On)
//   routing-domain      rdid*, name
//   virtual-subnet      vsid*, rdid*, prefixes* (a list; one string is a list of one;
//                       "prefix": x, as in the YAML, is read as "prefixes": [x])
//   port-acl            vm_name*, direction*, action*, and one of remote_ip_address
//                       (ANY, an address or a prefix) or remote_mac_address
//                       (Add-VMNetworkAdapterAcl; json_acl.cc)
//   port-extended-acl   vm_name*, direction*, action*, weight*, local_ip_address (ANY),
//                       remote_ip_address (ANY), local_port (ANY), remote_port (ANY),
//                       protocol (ANY), stateful (false), idle_session_timeout (255)
//                       (Add-VMNetworkAdapterExtendedAcl)
// ACL values are spelled as config/acl_text.h reads them (Hyper-V's words),
// canonical as it writes them; stateful is a JSON boolean (also "$true").
// `port` is a dataplane port number; a name is accepted where the caller
// gives a resolver (FromJsonOptions::port_by_name). Unlike the YAML, a
// provider-address's mac is optional here (zero when absent, which
// ValidatePolicy refuses unless the daemon fills it in), and a lookup
// record's provider_address must be an address ("local" is the YAML's).
// null counts as absent.
//
// Errors name the field and the value as JSON:
//   mac: "60006000010" is not a MAC address (600060000101, 60-00-60-00-01-01 or 60:00:60:00:01:01)
// Checks here are about one value (its form, the range of its type, the VSID
// range); whole-policy rules are ValidatePolicy's (config/policy/validate.h).
//
// Thread: any; pure functions. Never throws.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/policy/model.h"

namespace hnv::config {

enum class Kind : uint8_t {
  kLookupRecord,
  kCustomerRoute,
  kProviderAddress,
  kProviderRoute,
  kVmNetworkAdapter,
  kRoutingDomain,
  kVirtualSubnet,
  kPortAcl,
  kPortExtendedAcl,
};
inline constexpr Kind kAllKinds[] = {
    Kind::kLookupRecord,     Kind::kCustomerRoute, Kind::kProviderAddress, Kind::kProviderRoute,
    Kind::kVmNetworkAdapter, Kind::kRoutingDomain, Kind::kVirtualSubnet,   Kind::kPortAcl,
    Kind::kPortExtendedAcl};

const char* KindName(Kind kind);  // "lookup-record"
std::optional<Kind> ParseKind(std::string_view name);
// "lookup-record, customer-route, ..." for messages.
std::string KindNames();

enum class FieldType : uint8_t {
  kIpAddr,
  kIpPrefix,
  kIpPrefixList,
  kMac,
  kGuid,
  kRule,
  kRecordType,
  kString,
  kVsid,       // 4096..16777214
  kUint32,     // metric
  kPrefixLen,  // 0..128
  kVlan,       // 0..4094
  kPort,       // 0..65535, or a port name
  kOnOff,      // "On" / "Off" (also on/off, true/false, JSON booleans)
  kTrueFalse,  // a JSON boolean (also "true", "$false", ...)
  kAclAddress,    // ANY, an address or a prefix (acl_text.h)
  kPortRange,     // ANY, N or N-M
  kAclProtocol,   // ANY, TCP, UDP, ICMP, ICMPv6 or 0..255
  kAclDirection,  // Inbound, Outbound, Both
  kAclAction,     // Allow, Deny, Meter
};

struct FieldSpec {
  const char* name;
  FieldType type;
  bool required;  // in kFull mode
};
std::span<const FieldSpec> Fields(Kind kind);
const FieldSpec* FindField(Kind kind, std::string_view name);
// "customer_address, vsid, mac, ..." for messages.
std::string FieldNames(Kind kind);

struct JsonError {
  std::string field;    // "mac", "prefixes[1]", "[3].vsid"; empty for the object as a whole
  std::string message;  // "\"6000x\" is not a number"
  std::string ToString() const { return field.empty() ? message : field + ": " + message; }
};

// The value of one field in its canonical JSON form, or the error message
// (without the field name). A port name stays a string.
struct FieldResult {
  std::optional<nlohmann::json> value;
  std::string error;
};
FieldResult NormalizeField(FieldType type, const nlohmann::json& value);

enum class Mode : uint8_t {
  kFull,     // an object to create: required fields must be there
  kPartial,  // an object to match or update (set, remove, filters): any subset
};

struct FromJsonOptions {
  Mode mode = Mode::kFull;
  // Resolves a port given by name; without it only numbers are ports.
  std::function<std::optional<uint16_t>(std::string_view name)> port_by_name;
};

template <typename T>
struct FromJsonResult {
  std::optional<T> value;            // set when error is unset
  std::vector<std::string> present;  // the fields given, in Fields() order
  std::optional<JsonError> error;

  bool Has(std::string_view field) const {
    for (const std::string& f : present)
      if (f == field) return true;
    return false;
  }
};

FromJsonResult<LookupRecord> LookupRecordFromJson(const nlohmann::json& j,
                                                  const FromJsonOptions& options = {});
FromJsonResult<CustomerRoute> CustomerRouteFromJson(const nlohmann::json& j,
                                                    const FromJsonOptions& options = {});
FromJsonResult<ProviderAddress> ProviderAddressFromJson(const nlohmann::json& j,
                                                        const FromJsonOptions& options = {});
FromJsonResult<ProviderRoute> ProviderRouteFromJson(const nlohmann::json& j,
                                                    const FromJsonOptions& options = {});
FromJsonResult<VmPort> VmPortFromJson(const nlohmann::json& j, const FromJsonOptions& options = {});
FromJsonResult<RoutingDomain> RoutingDomainFromJson(const nlohmann::json& j,
                                                    const FromJsonOptions& options = {});
FromJsonResult<VirtualSubnet> VirtualSubnetFromJson(const nlohmann::json& j,
                                                    const FromJsonOptions& options = {});
FromJsonResult<PortAcl> PortAclFromJson(const nlohmann::json& j,
                                        const FromJsonOptions& options = {});
FromJsonResult<PortExtendedAcl> PortExtendedAclFromJson(const nlohmann::json& j,
                                                        const FromJsonOptions& options = {});

// Canonical objects with every field.
nlohmann::json ToJson(const LookupRecord& r);
nlohmann::json ToJson(const CustomerRoute& r);
nlohmann::json ToJson(const ProviderAddress& a);
nlohmann::json ToJson(const ProviderRoute& r);
nlohmann::json ToJson(const VmPort& v);
nlohmann::json ToJson(const RoutingDomain& d);
nlohmann::json ToJson(const VirtualSubnet& s);
nlohmann::json ToJson(const PortAcl& a);
nlohmann::json ToJson(const PortExtendedAcl& a);

// The objects of one kind in a policy, as `get` returns them (an array).
nlohmann::json KindToJson(const Policy& p, Kind kind);
// Appends every object of `array` (a `get` result) to the matching section of
// *p. Errors are prefixed with the element: "[3].mac: ...".
std::optional<JsonError> AppendFromJson(Kind kind, const nlohmann::json& array, Policy* p,
                                        const FromJsonOptions& options = {});

// Checks one object of `kind` (every field it has, and in kFull mode the
// required ones) and returns it in canonical form with only the fields given.
FromJsonResult<nlohmann::json> NormalizeObject(Kind kind, const nlohmann::json& j,
                                               const FromJsonOptions& options = {});

}  // namespace hnv::config
