// etcd users and roles for the policy store (README.md "Roles"): what
// `hnvctl --store URL store init` sets up, so that a host may write only its
// own status and learned records, and only writers may change the policy.
//
//   root                 etcd's administrator (needed to enable auth)
//   <writer>             role hnv-writer: READWRITE on the whole root
//   <host>, each host    role hnv-host-<host>: READ on the whole root,
//                        READWRITE on <root>status/<host> and on the prefix
//                        <root>learned/<host>/
//
// Users made without a password sign in only with a client certificate
// whose CN is their name (etcd's --client-cert-auth). Running it again adds
// what is missing (existing users, roles and grants stay); auth is enabled
// last.
//
// Thread: any.
#pragma once

#include <string>
#include <vector>

#include "config/store/etcd_client.h"
#include "config/store/layout.h"

namespace hnv::store {

struct RolesPlan {
  std::vector<std::string> hosts;
  std::vector<std::string> writers = {"hnv-writer"};
  std::string root_password;  // "": root signs in by certificate only
  bool enable_auth = true;
};

// Applies the plan; *done lists what was made ("user host1", "role
// hnv-host-host1", ...). Stops at the first error.
EtcdStatus InitRoles(EtcdClient& client, const Layout& layout, const RolesPlan& plan,
                     std::vector<std::string>* done);

std::string HostRole(const std::string& host);  // "hnv-host-<host>"
inline constexpr const char* kWriterRole = "hnv-writer";

}  // namespace hnv::store
