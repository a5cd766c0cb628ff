// StoreBinding: a daemon following the central policy store instead of its
// YAML file (`--store URL --host NAME`, daemon/shell.h's StoreOptions). It
// is the one piece both hnv-vswitch and hnv-gateway use for it, so that
// their Program classes only say how they apply a policy.
//
// Theory of operation. Start connects (etcd endpoints, TLS with this host's
// certificate: its CN is its etcd user, whose role lets it write only its
// own status and learned records) and starts a store::StoreFollower
// (config/store/store_follower.h) on its own thread, then waits for the
// first policy (the daemon needs its ports before it can build its
// dataplane); while the store is unreachable or has no such host it waits,
// up to `wait`, and then says why. From then on, the program's Poll takes
// each new policy (Next, never blocking: the follower's thread did the
// store calls, the computing and the validation) and applies it as a diff,
// then reports with Applied; records its dataplane learns go to Learned,
// and PortsGone forgets the learned records of VM ports a policy removed.
//
// While following the store, the policy is the store's: the operations that
// would change it locally (new, set, remove, apply) are refused with a
// pointer to `hnvctl --store`; the `store` operation shows the follower's
// state (connected, the store's generation and the one applied, resyncs).
// SIGHUP has nothing to reload.
//
// Thread: the control thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/gateway_config.h"
#include "config/host_config.h"
#include "config/store/store_follower.h"
#include "daemon/operations.h"
#include "daemon/shell.h"

namespace hnv::daemon {

// How long a daemon waits at start for its first policy from the store.
inline constexpr std::chrono::milliseconds kStoreStartWait{60'000};

class StoreBinding {
 public:
  explicit StoreBinding(StoreOptions options);
  ~StoreBinding();

  // Registers `store` and refuses new/set/remove/apply (after the program's
  // own registrations).
  void RegisterOperations(Operations& ops);

  // Connects, starts following and waits up to `wait` for the first policy.
  std::optional<store::FollowedPolicy> Start(std::chrono::milliseconds wait, std::string* error);
  // A new policy, if one waits.
  std::optional<store::FollowedPolicy> Next();
  void Applied(const store::FollowedPolicy& p, bool applied, std::vector<std::string> errors,
               size_t records);
  void Learned(const LookupRecord& record);
  // The learned records of VM ports in `before` and not in `after` go.
  void PortsGone(const std::vector<VmPort>& before, const std::vector<VmPort>& after);
  // A clean stop: the status and learned records go with the lease.
  void Stop();

  const StoreOptions& options() const { return options_; }
  // "store http://...: host NAME"
  std::string Describe() const;

  // What the daemons would have loaded from YAML: the host's ports and
  // policy (control socket /run/hnv/<host>.sock unless --socket says).
  static config::HostConfig HostConfigOf(const store::FollowedPolicy& p);
  // hnv-gateway's: the same plus the compartments, the namespace prefix and
  // the state directory of the gateway's document.
  static config::GatewayConfig GatewayConfigOf(const store::FollowedPolicy& p);

 private:
  StoreOptions options_;
  std::unique_ptr<store::EtcdClient> client_;
  std::unique_ptr<store::StoreFollower> follower_;
};

}  // namespace hnv::daemon
