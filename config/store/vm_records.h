// Lookup records as the YAML and the chapter's cmdlets write them, turned
// into the store's VMs (documents.h) and back: the one mapping that both
// `apply FILE` (import.h) and the cmdlets (changes.h) use.
//
// A tenant's records with one MAC on one VSID and one type are one VM; their
// PA says the host (the host with that provider address); their CAs are the
// VM's addresses (Static), or none (L2Only, GatewayWildcard: one record
// each). All of one VM's records carry one PA and one rule. A VM is named
// after its records' VMName, else the VM the store already has with that
// MAC, VSID and type (whose name and port are kept while it stays on its
// host), else "<tenant>-<MAC>" (with "-L2Only" or "-GatewayWildcard").
//
// Thread: any; pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/store/documents.h"
#include "config/store/store_state.h"

namespace hnv::store {

struct GroupError {
  size_t record;      // index into the records given
  std::string field;  // model field: "pa", "rule", "type", "vsid"
  std::string message;
};

struct GroupedVm {
  VmDoc vm;                     // name and port set by NameVms
  std::vector<size_t> records;  // the records it came from, in order
};

// Provider address -> host name for every host of the state, those of
// `override_hosts` replacing the state's of the same name.
std::map<IpAddr, std::string> PaHosts(const StoreState& state,
                                      const std::map<std::string, HostDoc>& override_hosts = {});

// Groups the records (none local, all of `tenant`) into VMs.
std::vector<GroupedVm> GroupRecords(const std::string& tenant,
                                    const std::vector<LookupRecord>& records,
                                    const std::map<IpAddr, std::string>& pa_host,
                                    std::vector<GroupError>* errors);

// Names the VMs that have no name yet, after `known` (the store's VMs of the
// tenant, may be null); keeps a known VM's port while it stays on its host.
void NameVms(const std::string& tenant, const std::map<std::string, VmDoc>* known,
             std::vector<GroupedVm>* vms);

// The lookup records of one VM (the same on every host), with its host's PA
// for each CA's family (HostPa); `family` is the routing domain's, for the
// record without a CA. Empty, and *error set, when the host has no PA.
std::vector<LookupRecord> VmRecords(const VmDoc& vm, const HostDoc& host, Family family,
                                    std::string* error);

}  // namespace hnv::store
