// Internals of LoadGatewayConfig (gateway_config.h): a tenant file's
// `tenant:` section (config/README.md "Gateway configuration") read into a
// CompartmentSpec, with the origin of every value, then checked in the two
// phases of a load:
//  1. ReadTenant (one file: keys, types, values) and CheckTenants (across
//     tenants and against the gateway's ports: unique names, namespaces,
//     routing domains and (port, VLAN) pairs; interface names and
//     addresses; routes' interfaces and families);
//  2. ResolveTenant, only when phase 1 found nothing: against the policy
//     (the routing domain, the gateway VSID and CA, its lookup record, the
//     default MAC and MTU), then the routes' next hops against the now
//     known interface subnets.
//
// Not an API: use gateway_config.h. Thread: any; allocates.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/compartment_spec.h"
#include "config/yaml_nat.h"
#include "config/yaml_origin.h"
#include "config/yaml_policy.h"
#include "config/yaml_reader.h"

namespace hnv::config::yaml {

struct TenantDraft {
  int file = 0;
  std::string file_name;
  FieldOrigin section;   // the `tenant:` key
  CompartmentSpec spec;  // as read; defaults where a key is absent
  bool has_namespace = false;
  bool has_mac = false;
  bool has_vm_mtu = false;
  bool has_vm_address = false;
  FieldOrigin name, rdid, netns, max_routes;
  FieldOrigin vm, vsid, address, mac, vm_interface, vm_mtu;
  struct External {
    FieldOrigin item, interface, port, vlan, mac, mtu;
    bool has_vlan = false;
    bool port_resolved = false;  // CheckTenants found the port
    std::vector<FieldOrigin> addresses;
  };
  std::vector<External> external;  // parallel to spec.external
  struct Route {
    FieldOrigin item, destination, next_hop, interface, metric;
    bool has_next_hop = false;
  };
  std::vector<Route> routes;  // parallel to spec.routes
  NatDraft nat;               // nat: and load_balancers: (config/yaml_nat.h)
};

// Values of the tenant schema. Each *Problem returns "" when the value is
// fine, else the message naming it.
//   interface: a Linux interface name (1..15 bytes, no '/', ':' or
//   whitespace, not "." or ".."), and not "lo" (the namespace has one).
std::string InterfaceNameProblem(const std::string& name);
//   namespace: a file name in /run/netns that `ip netns` takes: letters,
//   digits, '.', '_', '-', at most 255, not starting with '.' or '-'.
std::string NamespaceNameProblem(const std::string& name);
// "10.1.3.2/24": an address with the length of its subnet, host bits set.
std::optional<IfAddress> ParseIfAddress(const std::string& text, std::string* error);
// An IPv4 interface address that is its subnet's network or broadcast
// address (lengths up to 30).
std::string HostAddressProblem(const IfAddress& a);
// The subnet of "10.1.3.2/24": "10.1.3.0/24".
IpPrefix SubnetOf(const IfAddress& a);

// Reads the `tenant:` section of the file `r` reads.
TenantDraft ReadTenant(Reader& r, const Value& v);

// Phase 1 across `tenants` (in file order): sets each default namespace
// (`namespace_prefix` + name) and each external port's index. `files` are the
// load's files (for "file:line" in messages).
void CheckTenants(std::vector<TenantDraft>* tenants, const std::string& namespace_prefix,
                  const std::vector<PortSpec>& ports, const PolicyBuilder& b,
                  const std::vector<std::string>& files, ErrorList* errors);

// Phase 2 for one tenant whose id is set: the routing domain, the gateway
// VSID and CA against the policy, then the next hops; sets vm_mac, vm_mtu
// and vm_port. Returns false when it reported an error.
bool ResolveTenant(TenantDraft* t, const PolicyBuilder& b, const std::vector<std::string>& files,
                   ErrorList* errors);

}  // namespace hnv::config::yaml
