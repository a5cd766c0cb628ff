// The hosts' statuses as writers and operators see them (README.md
// "Status"): what `hnvctl --store URL status` prints, and how `hnvctl apply
// --wait` knows that every host a write concerns has applied it.
//
// A host's status (documents.h StatusDoc, written by its StoreFollower under
// its lease) says the store revision it has processed and the generation it
// runs; a write at revision r has reached a host when its status' revision
// is r or later (with no errors: applied; with errors: refused or partly
// applied, the errors say why). A host whose lease expired (dead, or cut
// from the store for longer than its TTL) has no status.
//
// Thread: any; each call blocks for at most its timeout (or the client's).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "config/store/documents.h"
#include "config/store/etcd_client.h"
#include "config/store/layout.h"

namespace hnv::store {

struct StoreStatus {
  uint64_t generation = 0;  // the store's
  int64_t revision = 0;     // the store's, when read
  std::map<std::string, HostDoc> hosts;      // by name
  std::map<std::string, StatusDoc> status;   // by host: those alive
  std::map<std::string, std::string> bad;    // unreadable documents: key -> why
};

EtcdStatus ReadStoreStatus(EtcdClient& client, const Layout& layout, StoreStatus* out);

// How each awaited host answered.
struct HostReached {
  std::optional<StatusDoc> status;      // its status at `revision` or later (nullopt: none in time)
  std::chrono::milliseconds after{0};   // when, from the call
};

// Waits until each of `hosts` has a status at `revision` or later, at most
// `timeout`. Returns false (with what was reached) when the time ran out or
// the store could not be read (*error).
bool WaitForHosts(EtcdClient& client, const Layout& layout, const std::set<std::string>& hosts,
                  int64_t revision, std::chrono::milliseconds timeout,
                  std::map<std::string, HostReached>* reached, std::string* error);

}  // namespace hnv::store
