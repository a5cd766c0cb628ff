// Today's YAML files into the store's documents (README.md "Applying YAML"):
// what `hnvctl --store URL apply FILE...` writes.
//
// Each file is, by its sections, one of:
//   - a host file (`host:`): loaded and validated exactly as hnv-vswitch
//     loads it (LoadHostConfig); gives the host's document (settings, ports,
//     provider addresses and routes) and its VM network adapters;
//   - a gateway file (`host:` and `gateway:`): as hnv-gateway loads it
//     (LoadGatewayConfig, with the compartment ids the store already gave);
//     gives the gateway's document and each tenant file's compartment;
//   - a tenant file (neither): routing domains and lookup records.
// The routing domains and lookup records of every file read (includes too)
// become tenants: one per routing domain, named after the gateway tenant
// that has its RDID, else after its name (lower-case, other characters as
// '-'). A lookup record whose PA is `local` is a tenant's local record; any
// other belongs to the host with that PA (in these files or the store): the
// records with one MAC on one VSID (and one type) are one VM on that host,
// named after the VM network adapter with that MAC and VSID, else the
// record's vm_name, else the store's VM of that MAC, else "<tenant>-<MAC>".
// An adapter without records is a VM without addresses. The same element
// read from several files (a tenant file every host includes) counts once.
//
// A tenant of the files replaces the store's whole (its VMs not in the
// files go), except its gateway compartment when its gateway's file is not
// among the files (host and tenant files alone keep the store's); a host of
// the files replaces its document; the store's VMs of
// other tenants that an adapter here names move to this host and port.
//
// Errors are at the YAML file, line and field; the OriginTable maps each
// document's elements back to them for the store's validation.
//
// Thread: any; reads files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/host_config.h"
#include "config/store/host_policy.h"
#include "config/store/store_state.h"

namespace hnv::store {

struct ImportResult {
  std::map<std::string, HostDoc> hosts;
  std::map<std::string, TenantDoc> tenants;
  // The imported tenants' VMs (all of them), and VMs of other tenants of the
  // store that an adapter moved.
  std::map<std::string, std::map<std::string, VmDoc>> vms;
  OriginTable origins;
  std::vector<config::ConfigError> errors;
};

ImportResult ImportFiles(const std::vector<std::string>& files, const StoreState& current);

}  // namespace hnv::store
