// Whole-store validation (README.md "Validation"): what the central policy
// store guarantees before anything is written, as the chapter's VMM does.
//
// Across the data center:
//   - names: hosts (letters, digits, '.', '_', '-'), tenants (letters,
//     digits, '-', '_'), VMs (1..255 printable characters);
//   - an RDID belongs to one tenant, a VSID to one tenant, a VM name to one
//     VM, a provider address to one host;
//   - a VM is in a virtual subnet of its tenant, on a host of the store, on
//     a port of that host (a VM host's, not a gateway's; not an uplink) that
//     no other VM uses; an L2Only or GatewayWildcard VM has no addresses;
//   - a tenant's gateway is a gateway of the store; on one gateway the
//     compartment ids, namespaces and (port, VLAN) pairs are unique; each
//     external port is a port of the gateway without a provider address; the
//     gateway CA is the address of a VM of the tenant on that gateway, on the
//     gateway VSID, with the compartment's MAC.
// For each tenant and each host that carries it (host_policy.h): the policy
// that host would apply for that tenant, with the host's provider addresses
// and routes, passes ValidatePolicy (dataplane/policy/validate.h): CAs and
// MACs unique inside the routing domain, CAs inside their subnets, the
// gateway's VSID, every VM's PA reachable from that host (on the subnet of
// one of its PAs or covered by one of its provider routes), ...
//
// Errors are config::ConfigErrors: for an element imported from YAML at its
// file, line and YAML path (OriginTable); otherwise at the store key and
// field ("store: tenants/contoso/vms/Contoso3.mac: ..."). A per-host error
// that not every host of the tenant has names the hosts that have it.
//
// Thread: any; pure functions.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "config/host_config.h"
#include "config/store/host_policy.h"
#include "config/store/store_state.h"

namespace hnv::store {

// What a change touched: only rules about these (and the pairs of tenant and
// host they concern) are checked. `all`: everything.
struct ValidationScope {
  bool all = true;
  std::set<std::string> tenants;
  std::set<std::string> hosts;
};

std::vector<config::ConfigError> ValidateStore(const StoreState& state,
                                               const ValidationScope& scope,
                                               const OriginTable* table = nullptr);

}  // namespace hnv::store
