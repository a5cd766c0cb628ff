// StoreFollower: a host (or gateway) following the policy store — what
// `hnv-vswitch --store URL --host NAME` and `hnv-gateway --store ...` run
// (through daemon/store_binding.h), and what the benchmark's simulated
// hosts run without ports (README.md "Following the store").
//
// Theory of operation. The follower owns a thread, a StoreMirror (the part
// of the store this host's policy is computed from, on one watch stream) and
// a HostPublisher (its status and learned records under its lease). The
// thread reads the store (again and again with a backoff while it is
// unreachable), then waits for the mirror's updates; after each batch that
// can change this host's policy (MirrorChanges: a carried tenant, a host a
// carried VM runs on, this host's document, placement, learned records of a
// carried VSID) it computes the host's policy (ComputeHostPolicy) and
// validates it (ValidatePolicy). A valid policy is handed to the owner
// (Take, with wake_fd() readable while one waits; a newer one replaces one
// not yet taken); an invalid one is not, and the status says why while the
// host keeps running its last policy. A batch that changes only the store's
// generation needs no new policy: the status follows it at most once a
// second (status_interval), so that `hnvctl status` shows the host current.
//
// Whole revisions: the follower computes (and labels with a revision) only
// a state the mirror holds whole (StoreMirror::consistent(): every watch a
// write touched delivered it). While the rest of a write is on its way,
// changes wait in the mirror. When it does not come within
// consistency_wait with the stream up (a key written without the
// generation, or a watch stuck),
// the follower takes the state as it is: the policy says so
// (FollowedPolicy::incomplete), Health counts it and last_error says what
// was missing.
//
// The owner (the daemon's control thread) applies the policy as a diff and
// says so with Applied(); the status (generation and revision applied, each
// carried tenant's revision, errors, record count) is then written under the
// host's lease. Records the dataplane learns (Learned) are published when
// their PA is one of this host's (the VM is here: the host that has it is
// the one that says where it is), and at once put into the mirror's state,
// so that the next policy keeps them before the store echoes them;
// PortGone(vsid, mac) forgets them when the VM's port goes.
//
// Faults: while the store is unreachable the owner keeps its last policy
// (nothing is handed over); the mirror reconnects and resumes from its
// revision, or reads again whole after a compaction, and the follower
// computes again. Writes that failed (status, learned records) are written
// again once the stream is back (HostPublisher::Flush) or with a new lease.
//
// Thread: the public methods from one owner thread (Health from any); the
// follower's thread does every store call, so the owner never waits for
// the store.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/store/host_policy.h"
#include "config/store/host_publisher.h"
#include "config/store/store_mirror.h"

namespace hnv::store {

struct FollowerOptions {
  std::string host;  // this host's name in the store
  Layout layout;
  int64_t status_ttl_s = 10;  // the lease of the status and learned records
  bool publish = true;        // false: status and learned records are not written
  std::chrono::milliseconds status_interval{1000};  // generation-only status updates
  // How long a write's missing part is waited for before the state is taken as it is.
  std::chrono::milliseconds consistency_wait{2000};
};

// One policy for the host, computed and validated on the follower's thread.
struct FollowedPolicy {
  uint64_t seq = 0;  // 1, 2, ... in the order computed
  HostDoc host;      // this host's document (ports, role, a gateway's namespace prefix)
  HostPolicy policy;  // policy.errors: parts that could not be composed (left out)
  uint64_t generation = 0;
  int64_t revision = 0;  // the store revision it is computed at
  std::map<std::string, int64_t> tenant_revisions;
  std::chrono::steady_clock::time_point computed;
  // Not empty: computed from a state not known whole (what it waited for in vain).
  std::string incomplete;
};

class StoreFollower {
 public:
  // `client` outlives the follower.
  StoreFollower(EtcdClient* client, FollowerOptions options);
  ~StoreFollower();
  StoreFollower(const StoreFollower&) = delete;
  StoreFollower& operator=(const StoreFollower&) = delete;

  void Start();
  // With `revoke`, the lease goes at once (status and learned records with
  // it: a clean stop); else they live out its TTL.
  void Stop(bool revoke);

  // The newest policy not yet taken, waiting up to `wait` for one.
  std::optional<FollowedPolicy> Take(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Readable while a policy waits to be taken.
  int wake_fd() const { return wake_fd_; }

  // The owner applied `p` (applied = false: it refused it and runs the
  // previous one); `errors` say what of it does not run. `records`: lookup
  // records in the running policy.
  void Applied(const FollowedPolicy& p, bool applied, std::vector<std::string> errors,
               size_t records);
  // A Dynamic record the dataplane learned.
  void Learned(const LookupRecord& record);
  // A VM's port went (migrated away, removed): its learned records go.
  void PortGone(uint32_t vsid, const MacAddr& mac);

  struct Health {
    bool started = false;    // the store was read once
    bool connected = false;  // the watch stream is up
    uint64_t generation = 0;  // the store's, as last seen
    int64_t revision = 0;
    uint64_t applied_generation = 0;
    int64_t applied_revision = 0;
    int resyncs = 0;
    int disconnects = 0;
    int64_t lease = 0;
    uint64_t policies = 0;  // computed and handed over
    uint64_t incomplete = 0;  // states taken without the rest of a write (consistency_wait)
    std::string last_error;  // why the store could not be read, or the policy was refused
  };
  Health health() const;
  const std::string& host() const { return options_.host; }

 private:
  struct Task {
    enum class Kind : uint8_t { kStatus, kLearn, kPortGone } kind;
    StatusDoc status;
    LookupRecord record;
  };
  void Run();
  // Waits for the mirror or a task, at most `timeout`; false: stopping.
  bool Wait(std::chrono::milliseconds timeout);
  void RunTasks();
  bool Relevant(const MirrorChanges& c) const;
  void Compute();
  void PublishStatus(StatusDoc doc);
  void Refused(std::string why);
  void Post(Task t);

  EtcdClient* client_;
  FollowerOptions options_;
  std::unique_ptr<StoreMirror> mirror_;
  std::unique_ptr<HostPublisher> publisher_;
  std::thread thread_;
  int task_fd_ = -1;  // eventfd: tasks or stop
  int wake_fd_ = -1;  // eventfd: a policy waits

  mutable std::mutex mu_;  // everything below
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Task> tasks_;
  std::optional<FollowedPolicy> pending_;
  Health health_;
  StatusDoc last_status_;  // as last published (the applied part)
  uint64_t applied_seq_ = 0;  // the last policy Applied (0: none yet)

  // The follower thread's own (seq_ is read under mu_ by Applied's check).
  uint64_t seq_ = 0;
  std::vector<std::string> carried_;  // tenants of the last computed policy
  std::chrono::steady_clock::time_point last_status_time_;
  bool generation_behind_ = false;  // the store's generation moved, status not yet
  bool refused_ = false;            // the store's current policy is refused
  // Since when the mirror's state is not whole (nullopt: it is).
  std::optional<std::chrono::steady_clock::time_point> waiting_since_;
  std::string incomplete_;  // for the next policy: what the state was taken without
};

}  // namespace hnv::store
