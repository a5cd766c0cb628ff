// hnvctl --store URL: the same commands against the central policy store
// (config/store/README.md) instead of one daemon's control socket.
//
//   apply FILE... [--wait]          today's YAML files (host, gateway, tenant
//                                   files) validated against the whole store
//                                   and written in one transaction
//   new|set|remove KIND ..., New-/Set-/Remove-NetVirtualization... [--wait]
//                                   one change (a host's provider addresses,
//                                   routes and VM adapters need --host NAME)
//   migrate VM --to HOST [--port PORT] [--wait]
//   get KIND ..., Get-..., show     the policy as host --host NAME computes it
//   status                          each host's applied generation against
//                                   the store's (hosts without one are down)
//   delete-tenant NAME, delete-host NAME
//   store init --hosts A,B,... [--writers W,...] [--root-password P]
//                                   etcd users and roles (config/store/roles.h)
//
// --wait returns when every host the write concerns (WriteResult::hosts)
// published a status at the write's revision (config/store/store_status.h),
// at most --wait-timeout seconds (30), and fails naming the hosts that did
// not or that refused. A write that validation refuses prints each error at
// its file, line and field and writes nothing; a concurrent writer's change
// is a conflict (--retries N reads the store again and retries).
//
// Thread: the caller's; prints to stdout, errors to stderr.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace hnv::ctl {

struct StoreArgs {
  std::string url;        // --store URL (or $HNV_STORE)
  std::string root;       // --store-root PREFIX ("" = /hnv/v1/)
  std::string ca_file;    // --store-ca FILE
  std::string cert_file;  // --store-cert FILE
  std::string key_file;   // --store-key FILE
  std::string user;       // --store-user NAME
  std::string password;   // --store-password P (or $HNV_STORE_PASSWORD)
  std::string host;       // --host NAME
  int retries = 0;        // --retries N
};

// Runs `words` (the command after hnvctl's options); returns the exit code.
int RunStoreCommand(const StoreArgs& args, std::vector<std::string> words, bool as_json,
                    std::optional<int> timeout_ms);

}  // namespace hnv::ctl
