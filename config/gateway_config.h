// hnv-gateway's configuration: a gateway host file (the host file's sections,
// no VM network adapters, plus `gateway:`) and one file per tenant in the
// tenants directory (a `tenant:` section, and usually an include of the
// tenant's shared policy file). LoadGatewayConfig reads them all, builds one
// CompartmentSpec per tenant and one Policy for the HNV dataplane, and
// validates the whole; every error names the file, the line and the field.
// The schema is in config/README.md ("Gateway configuration").
//
// Thread: any; allocates and reads files; never on the per-packet path.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/compartment_spec.h"
#include "config/host_config.h"

namespace hnv::config {

struct GatewayConfig {
  // The dataplane: host name, control socket, ports, and the policy of every
  // file, plus one VmPort per compartment ("compartment <name>", port
  // kFirstVirtualPort + id, the gateway CA's MAC, the gateway VSID).
  HostConfig host;
  std::string namespace_prefix;  // default "hnv-"
  std::string state_dir;         // default "/var/lib/hnv/<host name>"
  std::string tenants_dir;       // as resolved: relative to the gateway file's directory
  // In tenant file order (by file name); ids are stable (LoadGatewayConfig).
  std::vector<CompartmentSpec> compartments;
  std::vector<std::string> tenant_files;  // tenants_dir/<name>.yaml, sorted by name
};

// The keys the root mapping of a gateway file, or of a file it includes,
// may have (a host file's and the gateway's own sections); the store's
// importer reads host and gateway files with them too.
inline constexpr std::string_view kGatewayFileKeys[] = {
    "include",         "host",
    "ports",           "provider_addresses",
    "provider_routes", "vm_network_adapters",
    "routing_domains", "lookup_records",
    "gateway",         "tenant",
    "site_to_site",    "bgp",  // s2s (issue 12): config/yaml_s2s.h
    "point_to_site",
    "nat",             "load_balancers",  // tenant files: config/yaml_nat.h
};

struct GatewayLoadResult {
  std::optional<GatewayConfig> config;  // set when errors is empty
  std::vector<ConfigError> errors;
};

// `previous_ids` maps tenant names to the compartment ids they had (the
// running configuration's): a tenant found there keeps its id (when below
// kMaxCompartments and not kept by an earlier tenant file); any
// other takes the lowest id below kMaxCompartments that no tenant of
// this load keeps or took before it (in file order).
GatewayLoadResult LoadGatewayConfig(const std::string& path,
                                    const std::map<std::string, uint32_t>& previous_ids = {});

}  // namespace hnv::config
