// What one host (or gateway) keeps of the store (README.md "Following the
// store"): exactly the keys its policy is computed from (host_policy.h),
// kept current by one etcd watch stream.
//
// Watched ranges: every host document (the PAs of the hosts its VMs' records
// point at), the generation, every learned record, the host's own placement
// index, and each tenant with a VM on the host (tenants/<t>/: its spec and
// VMs). Start reads them all at one revision and watches from the next; a
// tenant that gains its first VM here is read and watched from then on, and
// one that loses its last is dropped.
//
// Faults: when the store is unreachable the mirror keeps what it has (the
// host keeps forwarding with the last policy); the stream reconnects by
// itself and resumes every watch from the revision after the last event it
// delivered, so changes made meanwhile arrive in order and none twice. When
// the history it needs was compacted meanwhile, etcd cancels the watch: the
// mirror then reads that range whole again and watches it anew (resyncs()).
//
// Thread: Start and Poll on the owner's thread (which reads state()); the
// stream's thread only queues updates. wake_fd() is readable while updates
// wait, for an event loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "config/store/etcd_client.h"
#include "config/store/etcd_watch.h"
#include "config/store/store_state.h"

namespace hnv::store {

class StoreMirror {
 public:
  StoreMirror(EtcdClient* client, Layout layout, std::string host);
  ~StoreMirror();
  StoreMirror(const StoreMirror&) = delete;
  StoreMirror& operator=(const StoreMirror&) = delete;

  // Reads what the host needs at one revision and starts watching. On an
  // error (store unreachable) nothing is kept: call again.
  EtcdStatus Start();
  // Applies the updates that arrived; waits up to `timeout` for the first
  // when none is there. True when the state changed.
  bool Poll(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  const StoreState& state() const { return state_; }
  const std::string& host() const { return host_; }
  // The store revision each carried tenant is current to (its last event,
  // or when it was read), for the host's status.
  const std::map<std::string, int64_t>& tenant_revisions() const { return tenant_revision_; }
  bool connected() const { return stream_ && stream_->connected(); }
  int resyncs() const { return resyncs_; }
  int disconnects() const { return disconnects_; }
  // Why the stream last broke ("" while it never did).
  const std::string& disconnect_reason() const { return disconnect_reason_; }
  // Errors that leave part of the store unwatched (a watch etcd refused).
  const std::vector<std::string>& errors() const { return errors_; }
  int wake_fd() const { return wake_fd_; }

 private:
  struct Range {
    enum class Role : uint8_t { kGeneration, kHosts, kLearned, kPlacement, kTenant };
    Role role;
    std::string key;
    std::string end;
    std::string tenant;  // kTenant
  };
  void OnUpdate(WatchUpdate& u);
  // Reads a range whole (at `revision`, 0: the latest) into the state and
  // watches it from the next revision under a new watch id (etcd may keep a
  // cancelled watch's id, so none is used twice). Returns the id, 0 on error.
  int64_t Load(const Range& range, int64_t revision, EtcdStatus* status);
  void Apply(const WatchUpdate& u, bool* changed);
  // Adds and drops tenants after the placement index changed.
  void FollowPlacement(bool* changed);

  EtcdClient* client_;
  std::string host_;
  StoreState state_;
  std::unique_ptr<WatchStream> stream_;
  std::map<int64_t, Range> ranges_;  // by watch id
  std::map<std::string, int64_t> tenant_watch_;
  std::map<std::string, int64_t> tenant_revision_;
  int64_t next_id_ = 1;
  int resyncs_ = 0;
  int disconnects_ = 0;
  std::string disconnect_reason_;
  std::vector<std::string> errors_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchUpdate> queue_;
  int wake_fd_ = -1;
};

}  // namespace hnv::store
