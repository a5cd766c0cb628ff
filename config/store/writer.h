// Writing the policy store (README.md "Writing"): every change is computed
// against the store as read, validated against the whole of it
// (validate_store.h), and written in one etcd transaction that holds only if
// the store's policy is still what was read: all or nothing.
//
// How a change is made safe against a concurrent writer: every policy change
// rewrites the generation key (and adds one to it), so "the generation key's
// mod revision is still the one read" means "no policy key changed since it
// was read". The transaction compares exactly that; when it fails, nothing is
// written and the writer reports a conflict naming the generation it read and
// the one now in the store (with `retries`, it reads the store again,
// redoes the change and validates it again first). Learned records and
// statuses, written by hosts, are not policy and do not conflict.
//
// A transaction holds the documents that change, their placement index keys
// and the generation: etcd must accept that many operations in one
// transaction (its --max-txn-ops, 128 by default: about 60 VMs per tenant
// bundle; the lab and tests start etcd with more).
//
// Thread: one writer, one thread (it keeps its own copy of the store).
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/host_config.h"
#include "config/policy_ops.h"
#include "config/store/etcd_client.h"
#include "config/store/host_policy.h"
#include "config/store/store_state.h"

namespace hnv::store {

// A set of document changes.
struct StoreEdit {
  std::map<std::string, HostDoc> hosts;     // put (replace)
  std::set<std::string> remove_hosts;
  std::map<std::string, TenantDoc> tenants;  // put (replace)
  std::set<std::string> remove_tenants;      // with their VMs
  // Per tenant, VM -> its new document, or nullopt to remove it.
  std::map<std::string, std::map<std::string, std::optional<VmDoc>>> vms;
  // Tenants whose VMs not in `vms` are removed (a tenant bundle replaces
  // the tenant whole).
  std::set<std::string> replace_vms;
};

struct WriteResult {
  enum class Outcome : uint8_t {
    kApplied,    // written
    kUnchanged,  // the store already says this: nothing written
    kInvalid,    // refused by validation (errors)
    kConflict,   // another writer changed the store after it was read
    kFailed,     // the store said no (unreachable, permission, limits): message
  };
  Outcome outcome = Outcome::kFailed;
  std::vector<config::ConfigError> errors;
  std::string message;
  uint64_t generation = 0;  // after the write (kApplied), else the one read
  int64_t revision = 0;     // the write's store revision (kApplied)
  std::set<std::string> tenants;  // the tenants it changed
  // The hosts whose policy it changes: those that carry a changed tenant, a
  // changed host, and those that carry a tenant with a VM on a changed host,
  // before or after (the hosts `hnvctl apply --wait` waits for).
  std::set<std::string> hosts;
  size_t puts = 0;
  size_t deletes = 0;

  bool ok() const { return outcome == Outcome::kApplied || outcome == Outcome::kUnchanged; }
  // One line per error, or the message.
  std::string ToString() const;
};

class StoreWriter {
 public:
  StoreWriter(EtcdClient* client, Layout layout = Layout());

  // Reads the whole store (the writer does it before its first change and
  // after a conflict).
  EtcdStatus Refresh();
  const StoreState& state() const { return state_; }
  void set_retries(int retries) { retries_ = retries; }

  // `hnvctl --store URL apply FILE...` (import.h).
  WriteResult ApplyFiles(const std::vector<std::string>& files);
  // One hnvctl change (config/policy_ops.h) in the store: lookup records,
  // customer routes, virtual subnets and routing domains change a tenant;
  // provider addresses, provider routes and VM network adapters change
  // `host` (changes.h).
  WriteResult ApplyChange(const config::Change& change, const std::string& host);
  // `hnvctl migrate VM --to HOST [--port PORT]`: the VM's records take the
  // new host's PA on every host, its adapter moves (to PORT, or a port of
  // the same name there), in one transaction.
  WriteResult MigrateVm(const std::string& vm, const std::string& to_host,
                        const std::string& port = "");
  WriteResult RemoveTenant(const std::string& tenant);
  WriteResult RemoveHost(const std::string& host);

  // Validates and writes an edit computed against state(); `origins` for
  // errors at YAML lines. `make` recomputes the edit after a refresh (for
  // retries); it returns the edit or errors.
  struct Made {
    StoreEdit edit;
    std::vector<config::ConfigError> errors;
    const OriginTable* origins = nullptr;
  };
  WriteResult Write(const std::function<Made(const StoreState&)>& make, const std::string& what);

 private:
  WriteResult Commit(const StoreEdit& edit, const OriginTable* origins, const std::string& what);

  EtcdClient* client_;
  StoreState state_;
  bool loaded_ = false;
  int retries_ = 0;
};

}  // namespace hnv::store
