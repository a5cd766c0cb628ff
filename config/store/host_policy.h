// One host's policy computed from the store (README.md "Per-host policy"):
// what `hnv-vswitch --store` or `hnv-gateway --store` applies, and what a
// writer validates for every host a change concerns.
//
// A host carries, as HNV does, every VM network (tenant) with a VM on it; a
// gateway also every tenant whose gateway it is. For each such tenant: its
// routing domain, virtual subnets and customer routes; the lookup records of
// all its VMs, wherever they run, each with the PA of the VM's host (its
// first PA of the CA's family, else its first: `provider_address: local`'s
// rule); the tenant's local records (DFGW) with this host's PA; the Dynamic
// records learned by any host for an L2Only VM of the tenant (kept only
// while that VM is where the record says, and never over a static CA); and
// the VM adapters of this host (ports by name from the host's ports). Then
// the host's own settings, provider addresses and routes; on a gateway, one
// compartment per tenant (gateway/compartment_spec.h) and its virtual VM
// port, as LoadGatewayConfig makes them.
//
// Elements come in a stable order (tenants, VMs and hosts by name; lists in
// document order), so the policy's dump is a golden.
//
// Thread: any; pure functions of the state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/host_config.h"
#include "config/store/store_state.h"
#include "config/yaml_origin.h"
#include "dataplane/policy/model.h"
#include "config/compartment_spec.h"

namespace hnv::store {

// Where each element of a composed policy came from, for error messages: a
// YAML file, line and path when it was imported from one, else the store
// key and field. Element ids: "host/<h>/settings", "host/<h>/pa/<i>",
// "host/<h>/route/<i>", "tenant/<t>/rd", "tenant/<t>/subnet/<i>",
// "tenant/<t>/route/<i>", "tenant/<t>/local/<i>", "tenant/<t>/gateway",
// "vm/<t>/<vm>/record/<k>" (k: the address's index), "vm/<t>/<vm>/port".
struct OriginTable {
  OriginTable() { files.push_back("store"); }
  std::vector<std::string> files;  // [0] "store"; then YAML files
  std::map<std::string, config::yaml::ElementOrigin> elements;
};

// Builds one host's policy, tenant by tenant; with an OriginTable, the
// origin of every element too (PolicyOrigins, parallel to the policy).
class PolicyComposer {
 public:
  PolicyComposer(const StoreState& state, const HostDoc& host, const OriginTable* table);

  // Settings, provider addresses and routes.
  void AddHost();
  void AddTenant(const TenantDoc& tenant);

  Policy& policy() { return policy_; }
  const config::yaml::PolicyOrigins& origins() const { return origins_; }
  std::vector<config::CompartmentSpec>& compartments() { return compartments_; }
  // What could not be composed (a VM on a host the store does not have, a
  // port the host does not have): the rest is still there.
  std::vector<std::string>& errors() { return errors_; }

 private:
  void Origin(std::vector<config::yaml::ElementOrigin>* section, const std::string& id,
              std::string path, std::initializer_list<std::pair<const char*, std::string>> fields);
  void AddVm(const TenantDoc& t, const VmDoc& vm, Family family);
  void AddLearned(size_t first_record, const std::map<std::string, const VmDoc*>& l2only);

  const StoreState& state_;
  const HostDoc& host_;
  const OriginTable* table_;
  Policy policy_;
  config::yaml::PolicyOrigins origins_;
  std::vector<config::CompartmentSpec> compartments_;
  std::vector<std::string> errors_;
};

struct HostPolicy {
  Policy policy;
  std::vector<config::PortSpec> ports;  // the host's DPDK ports
  std::vector<std::string> tenants;     // carried, by name
  std::vector<config::CompartmentSpec> compartments;  // a gateway's
  std::vector<std::string> errors;
};

// The tenants `host` carries (by name).
std::vector<std::string> TenantsOfHost(const StoreState& state, const std::string& host);
// The hosts that carry `tenant` (by name).
std::vector<std::string> HostsOfTenant(const StoreState& state, const std::string& tenant);

// nullopt when the store has no such host.
std::optional<HostPolicy> ComputeHostPolicy(const StoreState& state, const std::string& host);

// The routing domain's address family (its first subnet's first prefix;
// IPv4 when it has none).
Family TenantFamily(const TenantDoc& t);

}  // namespace hnv::store
