#include "config/store/roles.h"

namespace hnv::store {
namespace {

using Permission = EtcdClient::Permission;

// etcd says "already exists" for a user or role made by an earlier run.
bool Made(const EtcdStatus& st, const std::string& what, std::vector<std::string>* done) {
  if (st.ok()) {
    done->push_back(what);
    return true;
  }
  return st.message.find("already exists") != std::string::npos;
}

}  // namespace

std::string HostRole(const std::string& host) { return "hnv-host-" + host; }

EtcdStatus InitRoles(EtcdClient& client, const Layout& layout, const RolesPlan& plan,
                     std::vector<std::string>* done) {
  const std::string& root = layout.root();
  const std::string root_end = PrefixEnd(root);
  EtcdStatus st;
  auto user = [&](const std::string& name, const std::string& password) {
    st = client.UserAdd(name, password);
    return Made(st, "user " + name, done);
  };
  auto role = [&](const std::string& name) {
    st = client.RoleAdd(name);
    return Made(st, "role " + name, done);
  };
  auto grant = [&](const std::string& r, const std::string& key, const std::string& end,
                   Permission p, const char* what) {
    st = client.RoleGrantPermission(r, key, end, p);
    if (st.ok()) done->push_back("role " + r + ": " + what + " " + key + (end.empty() ? "" : "*"));
    return st.ok();
  };
  auto member = [&](const std::string& u, const std::string& r) {
    st = client.UserGrantRole(u, r);
    if (st.ok()) done->push_back("user " + u + ": role " + r);
    return st.ok();
  };
  if (!user("root", plan.root_password) || !role("root") || !member("root", "root")) return st;
  if (!plan.writers.empty()) {
    if (!role(kWriterRole) ||
        !grant(kWriterRole, root, root_end, Permission::kReadWrite, "readwrite"))
      return st;
    for (const std::string& w : plan.writers)
      if (!user(w, "") || !member(w, kWriterRole)) return st;
  }
  for (const std::string& h : plan.hosts) {
    const std::string r = HostRole(h);
    const std::string learned = layout.LearnedHostPrefix(h);
    if (!role(r) || !grant(r, root, root_end, Permission::kRead, "read") ||
        !grant(r, layout.Status(h), "", Permission::kReadWrite, "readwrite") ||
        !grant(r, learned, PrefixEnd(learned), Permission::kReadWrite, "readwrite") ||
        !user(h, "") || !member(h, r))
      return st;
  }
  if (plan.enable_auth) {
    st = client.AuthEnable();
    if (!st.ok()) return st;
    done->push_back("auth enabled");
  }
  return {};
}

}  // namespace hnv::store
