// Simulated hosts for the store benchmark (README.md "Benchmark"): many
// hosts in one process, each the store-and-apply logic of a daemon
// following the store, without ports: a StoreFollower (its own mirror, watch
// stream, lease and status; config/store/store_follower.h) whose owner
// applies each policy as the daemon's control thread does, less the DPDK
// tables: the policy copied out (StoreBinding::HostConfigOf), diffed
// against the running one record by record (what PolicyTables::Apply walks),
// indexed (RecordIndex, as hnv-vswitch keeps it), then Applied() (the
// status). A few apply threads play the hosts' control threads, each
// waiting on its hosts' wake_fd()s (epoll).
//
// Thread: the constructor, WaitApplied and the destructor from one thread;
// the apply threads record when each host applied what.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/policy/record_index.h"
#include "config/store/store_follower.h"

namespace hnv::store::bench {

using Clock = std::chrono::steady_clock;

class SimHosts {
 public:
  // Host i uses clients[i % clients.size()].
  SimHosts(const std::vector<EtcdClient*>& clients, const Layout& layout,
           const std::vector<std::string>& hosts, int apply_threads);
  ~SimHosts();

  // Until every host applied a policy of `revision` or later (false: not
  // within `timeout`).
  bool WaitApplied(int64_t revision, std::chrono::milliseconds timeout);
  // The same with one revision per host (0: that host need not apply anything).
  bool WaitApplied(const std::vector<int64_t>& revisions, std::chrono::milliseconds timeout);
  // When each host first applied a policy of `revision` or later (a
  // time_point{} for a host that did not).
  std::vector<Clock::time_point> AppliedAt(int64_t revision) const;
  // Lookup records in the hosts' running policies, summed.
  size_t records() const;
  size_t size() const { return hosts_.size(); }
  uint64_t applies() const { return applies_.load(); }

 private:
  struct Host {
    std::unique_ptr<StoreFollower> follower;
    std::unique_ptr<RecordIndex> running;
    std::vector<std::pair<int64_t, Clock::time_point>> applied;  // (revision, when), in order
  };
  void ApplyLoop(size_t first, size_t step);
  void Apply(Host& h, FollowedPolicy p);

  std::vector<Host> hosts_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> applies_{0};
  mutable std::mutex mu_;  // Host::applied, Host::running (written by the apply threads)
};

}  // namespace hnv::store::bench
