// One hnvctl change (config/policy_ops.h: the short forms and the chapter's
// cmdlets) as an edit of the store's documents, with the same identity
// rules, matching and messages as on a host: the part of the store the
// change is about is turned into a Policy, config::ApplyChange edits it, and
// the result is turned back into documents (vm_records.h).
//
//   lookup-record       a tenant: the one whose virtual subnet the record's
//                       `vsid` is (required in the store). A record of a
//                       subnet's first address (the DFGW), or with
//                       provider_address `local`, is the tenant's local
//                       record (each host's own PA); any other is a VM's, on
//                       the host whose PA it carries: setting its
//                       provider_address moves the VM (its adapter stays
//                       behind: `hnvctl migrate` moves both).
//   customer-route      the tenant of its `rdid` (required).
//   virtual-subnet      the tenant of its `vsid` (a new one: of its `rdid`).
//   routing-domain      a tenant: `new` makes one (named after the routing
//                       domain's name), `remove` removes it and its VMs.
//   provider-address, provider-route
//                       the host named by `host` (hnvctl --host NAME).
//   vm-network-adapter  a VM's adapter on `host`: the VM named vm_name (or
//                       the VM with that MAC on that VSID, then renamed), on
//                       that host and port; `remove` detaches it (the VM and
//                       its records stay).
//
// Thread: any; pure functions.
#pragma once

#include <string>

#include "config/policy_ops.h"
#include "config/store/writer.h"

namespace hnv::store {

StoreWriter::Made MakeChange(const StoreState& state, const config::Change& change,
                             const std::string& host);

}  // namespace hnv::store
