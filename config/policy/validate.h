// Whole-policy validation (DESIGN §3 "Validation", the chapter's "Control
// plane"). The control plane validates a Policy before any of it reaches the
// dataplane; a policy with errors is rejected as a whole and the running one
// stays in place.
//
// Every error names the offending element and field as a path into the model
// ("records[3].mac", "subnets[1].prefixes[0]", "settings.underlay_mtu"), which
// the YAML layer maps to file:line, and a message that names the offending
// value and the rule it breaks ("16777215 is outside 4096..16777214").
//
// Rules, per section (the paths are the ones reported):
//   settings          underlay_mtu 1280..9216; outer_ttl >= 1.
//   routing_domains   rdid not the nil GUID and unique.
//   subnets           vsid in 4096..16777214 and unique; rdid exists; at least
//                     one prefix, at most one per family, host bits clear,
//                     length IPv4 8..30 / IPv6 16..126, first address unicast;
//                     one address family per routing domain (its first prefix
//                     fixes it); no two prefixes of one routing domain overlap.
//   records           vsid valid and exists; MAC not zero or multicast; PA a
//                     unicast address, reachable (inside a local PA's subnet or
//                     covered by a provider route) for TranslationMethodEncap;
//                     Static/Dynamic: CA set, of the routing domain's family,
//                     inside its subnet's prefix, not the network (or IPv4
//                     broadcast) address; L2Only/GatewayWildcard: CA
//                     unspecified (0.0.0.0 or ::, of the routing domain's
//                     family); the first address (DFGW) only on a Static
//                     record, whose PA must be one of this host's PAs; CA
//                     unique inside a routing domain (so one DFGW record per
//                     VSID); MAC unique inside a routing domain, except that an
//                     L2Only record and the Dynamic records learned against it
//                     share their MAC (same VSID and PA, one L2Only).
//   customer_routes   rdid exists; vsid valid, exists, in that routing domain;
//                     destination well formed and of the routing domain's
//                     family, and for an on-link route inside the VSID's
//                     prefix; next hop of that family, on-link (unspecified)
//                     or inside a subnet of the routing domain, not its DFGW or
//                     network address, and the route's VSID is that subnet's;
//                     no two routes with the same (rdid, destination, metric);
//                     one gateway (non-on-link next hop) address per routing
//                     domain, and the gateway's VSID holds nothing but the
//                     gateway (records with its CA or its MAC, GatewayWildcard
//                     records) and the DFGW record; VM ports likewise.
//   provider_addresses  unicast, unique; prefix length IPv4 8..32 / IPv6
//                     16..128; MAC not zero or multicast; VLAN 0..4094.
//   provider_routes   destination well formed and unique; next hop of the
//                     destination's family, on the subnet of a PA of that port;
//                     port has a provider address of that family.
//   vm_ports          port unique and not a provider (uplink) port; MAC not zero
//                     or multicast; vsid valid and exists; (vsid, MAC) unique.
//
// Errors come back all at once, in model order: sections in Policy member
// order, elements by index, fields in struct order. O(n log n) in the number
// of elements; a million records validate in well under a second or two.
// One lookup-record change to a valid policy is validated with the same
// rules, messages and order in O(log n) by ValidateRecordChange
// (record_index.h), against indexes its caller keeps.
// Thread: any; pure function of its argument.
#pragma once

#include <string>
#include <vector>

#include "dataplane/policy/model.h"

namespace hnv {

struct PolicyError {
  std::string path;     // "records[3].mac"
  std::string message;  // "010000000000 is a multicast MAC; a lookup record needs a unicast MAC"

  // "records[3].mac: 010000000000 is a multicast MAC; ..."
  std::string ToString() const;
  friend bool operator==(const PolicyError&, const PolicyError&) = default;
};

// Empty when the policy is valid; otherwise every error found, in model order.
std::vector<PolicyError> ValidatePolicy(const Policy& p);

}  // namespace hnv
