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
// A read that fails (a new tenant's, a resync's: the store went away again)
// is tried again by every later Poll until it succeeds (pending_reads()).
//
// Whole revisions. etcd delivers one watch's events of a revision together,
// but a write spread over several of the mirror's watches (a migration: the
// tenant's VM, two hosts' placement and the generation) arrives as separate
// responses, after a reconnection as much as 100 ms apart (etcd catches up
// watches one by one). So the state is only known whole at a revision when
// every watch the write touched has delivered it: every policy write puts the
// generation key with a manifest of what it touched (documents.h
// GenerationDoc); when the generation's event at R arrives, each of the
// mirror's watches the manifest names must have delivered R, or have been
// read at R or later, and a change to hosts, placement or a tenant at R
// seen before the generation's event at R waits for it too (a tenant read
// anew reads the generation at the same revision for that). consistent()
// says the state holds every policy write through revision() whole;
// AcceptIncomplete() gives up waiting (the follower's bounded fallback when
// what was expected does not come, e.g. a key written without the
// generation). Learned records (hosts' own, no generation) apply at once
// and do not count in revision().
//
// The host's own learned records go into the state at once (PutLocal,
// EraseLocal), before the store echoes them, so that a policy computed in
// between keeps them; the echo writes the same value.
//
// Thread: Start and Poll on the owner's thread (which reads state()); the
// stream's thread only queues updates. wake_fd() is readable while updates
// wait, for an event loop.
#pragma once

#include <algorithm>
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

// What changed in the mirror's state since the last TakeChanges(), by
// range: enough for a host to tell whether its policy can have changed.
struct MirrorChanges {
  bool everything = false;             // (re)read whole: Start, a resync of a shared range
  bool generation = false;             // the generation key
  std::set<std::string> hosts;         // host documents
  std::set<uint32_t> learned_vsids;    // learned records, by VSID
  std::set<std::string> tenants;       // carried tenants: events, loaded, dropped
  bool placement = false;              // the host's placement index
  bool any() const {
    return everything || generation || placement || !hosts.empty() || !learned_vsids.empty() ||
           !tenants.empty();
  }
};

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
  // The state holds every policy write through revision() whole (as of the
  // last Poll or Start).
  bool consistent() const { return consistent_; }
  // The store revision through which the policy part of the state is known
  // whole, as of the last time it was: the generation's (as read or last
  // delivered), or what AcceptIncomplete took.
  int64_t revision() const { return whole_revision_; }
  // What the state waits for ("" when consistent).
  std::string Waiting() const;
  // Takes the state as it is: forgets what it waited for, revision() covers
  // the changes applied so far. Returns what was waited for.
  std::string AcceptIncomplete();
  const std::string& host() const { return host_; }
  // The store revision each carried tenant is current to (its last event,
  // or when it was read), for the host's status.
  const std::map<std::string, int64_t>& tenant_revisions() const { return tenant_revision_; }
  // A key of the state set or erased here, not by the store (the host's own
  // learned records, before their echo).
  void PutLocal(const KeyValue& kv);
  void EraseLocal(const std::string& key);
  // What changed since the last call (and forgets it).
  MirrorChanges TakeChanges();
  // Reads that failed and wait for the store (tenants to load, ranges to resync).
  size_t pending_reads() const { return reload_.size() + missing_tenants_; }
  bool connected() const { return stream_ && stream_->connected(); }
  int resyncs() const { return resyncs_; }
  int disconnects() const { return disconnects_; }
  // Why the stream last broke ("" while it never did).
  const std::string& disconnect_reason() const { return disconnect_reason_; }
  // Errors that left part of the store unwatched for a while (a watch etcd
  // refused, a read that failed); the first kMaxErrors.
  const std::vector<std::string>& errors() const { return errors_; }
  static constexpr size_t kMaxErrors = 100;
  int wake_fd() const { return wake_fd_; }

  // Queues an update as the stream would (tests deliver a write's responses
  // in an order they choose), and the watch whose range holds `key` (0: none).
  void DeliverForTest(WatchUpdate u) { OnUpdate(u); }
  int64_t WatchOfForTest(const std::string& key) const;

 private:
  struct Range {
    enum class Role : uint8_t { kGeneration, kHosts, kLearned, kPlacement, kTenant };
    Role role;
    std::string key;
    std::string end;
    std::string tenant;  // kTenant
    int64_t through = 0;  // delivered (or read) through this revision
    bool written_by_writers() const {
      return role == Role::kHosts || role == Role::kPlacement || role == Role::kTenant;
    }
    // A write with this manifest touched this range.
    bool TouchedBy(const GenerationDoc& g, const std::string& host) const;
  };
  void OnUpdate(WatchUpdate& u);
  // Reads a range whole (at `revision`, 0: the latest) into the state and
  // watches it from the next revision under a new watch id (etcd may keep a
  // cancelled watch's id, so none is used twice). Returns the id, 0 on error.
  int64_t Load(const Range& range, int64_t revision, EtcdStatus* status);
  // Load at the latest revision, with the generation read at the same
  // revision: a write not yet delivered that the range already holds is
  // then waited for (its generation event).
  int64_t LoadLatest(const Range& range, EtcdStatus* status);
  // The store's latest revision, with the generation's mod revision at it
  // waited for (required_); 0 on error.
  int64_t LatestRevision(EtcdStatus* status);
  // Reads a range whole again (compacted, or behind a generation read
  // anew); a failed read waits in reload_.
  bool Resync(const Range& range, bool* changed);
  // Drops the expectations met and sets consistent_.
  void Reconcile();
  void Apply(const WatchUpdate& u, bool* changed);
  // Notes a key's change in changes_ by the range it is in.
  void Note(const Range& range, const std::string& key);
  // Adds and drops tenants after the placement index changed (and loads
  // those whose read failed before).
  void FollowPlacement(bool* changed);
  // Reads again the ranges whose resync failed.
  void RetryReads(bool* changed);

  EtcdClient* client_;
  std::string host_;
  StoreState state_;
  std::unique_ptr<WatchStream> stream_;
  std::map<int64_t, Range> ranges_;  // by watch id
  std::map<std::string, int64_t> tenant_watch_;
  std::map<std::string, int64_t> tenant_revision_;
  std::vector<Range> reload_;   // resyncs that failed: read again
  size_t missing_tenants_ = 0;  // tenants of the placement whose read failed
  int64_t next_id_ = 1;
  int resyncs_ = 0;
  int disconnects_ = 0;
  std::string disconnect_reason_;
  std::vector<std::string> errors_;
  std::string last_read_error_;  // Resync's
  MirrorChanges changes_;
  // Consistency (see the top): the generations delivered whose watches have
  // not all delivered them yet, by revision.
  std::map<int64_t, GenerationDoc> expected_;
  int64_t generation_through_ = 0;  // the generation range's Range::through
  int64_t required_ = 0;            // a writer's change seen up to here: the generation must follow
  int64_t accepted_ = 0;            // AcceptIncomplete's revision
  bool consistent_ = true;
  int64_t whole_revision_ = 0;  // revision()

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WatchUpdate> queue_;
  int wake_fd_ = -1;
};

}  // namespace hnv::store
