// The policy store's contents as documents (documents.h), at one revision:
// what a writer validates against and a host computes its policy from.
//
// Filled from etcd keys: Load reads every key under the layout's root at one
// revision (paged, one snapshot); Put and Erase apply single keys, as a watch
// delivers them. A key whose document does not parse is kept out and listed
// in bad(), with its error: one bad document never hides the others.
//
// With `keep_raw`, the policy keys' values and mod revisions are kept too, so
// a writer can diff its new documents against them and condition its
// transaction on exactly what it read.
//
// Thread: one owner; not synchronised.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "config/store/documents.h"
#include "config/store/etcd_client.h"
#include "config/store/layout.h"

namespace hnv::store {

class StoreState {
 public:
  explicit StoreState(Layout layout = Layout(), bool keep_raw = false)
      : layout_(std::move(layout)), keep_raw_(keep_raw) {}

  const Layout& layout() const { return layout_; }
  bool keep_raw() const { return keep_raw_; }

  // One key as read or as a watch's PUT event delivers it.
  void Put(const KeyValue& kv);
  // One key gone (a watch's DELETE event).
  void Erase(const std::string& key);
  // Drops every key in [key, range_end), or the key alone when range_end is
  // empty (etcd's convention), before a resync of that range.
  void EraseRange(const std::string& key, const std::string& range_end);

  // The policy generation (0: never written) and its key's mod revision.
  uint64_t generation = 0;
  int64_t generation_mod_revision = 0;
  // The store revision this state is of (Load), or the last event's.
  int64_t revision = 0;

  std::map<std::string, HostDoc> hosts;                     // by name
  std::map<std::string, TenantDoc> tenants;                 // by name
  std::map<std::string, std::map<std::string, VmDoc>> vms;  // by tenant, then VM name
  // placement[host][tenant] = the VMs of that tenant on that host (the index
  // keys as stored, not as the VMs say).
  std::map<std::string, std::map<std::string, std::set<std::string>>> placement;
  std::map<std::string, LearnedDoc> learned;  // by key
  std::map<std::string, StatusDoc> status;    // by host
  std::map<std::string, std::string> bad;     // key -> why its document was refused

  // Indexes of the VM documents (kept by Put and Erase):
  // VM name -> the tenants that have a VM of that name (one, when valid);
  std::map<std::string, std::set<std::string>> vm_names;
  // host -> tenant -> its VMs on that host, as the VM documents say;
  std::map<std::string, std::map<std::string, std::set<std::string>>> host_vms;
  // (host, port) -> "tenant/vm" of the VMs attached to it.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> port_users;

  struct Raw {
    std::string value;
    int64_t mod_revision = 0;
  };
  // keep_raw: every policy key (generation, hosts, tenants, placement).
  const std::map<std::string, Raw>& raw() const { return raw_; }

  // The VM named `name` in any tenant, or nullptr.
  const VmDoc* FindVm(const std::string& name) const;

 private:
  bool Policy(Layout::Key::Kind kind) const;
  void IndexVm(const VmDoc& vm, bool add);
  void EraseVm(const std::string& tenant, const std::string& name);

  Layout layout_;
  bool keep_raw_;
  std::map<std::string, Raw> raw_;
};

// Every key under the state's root, at one revision (the latest), into a
// fresh state.
EtcdStatus LoadState(EtcdClient& client, StoreState* state);

}  // namespace hnv::store
