// A lease kept alive: what a host publishes under it (its status, its learned
// records) disappears when the host dies or loses the store for longer than
// the lease's time to live.
//
// The keeper grants a lease of `ttl_seconds` and refreshes it on its own
// thread every third of it over etcd's LeaseKeepAlive stream. When the lease
// is lost (etcd says it expired, or no refresh succeeded within the TTL,
// e.g. the store was unreachable), the keys under it are gone on the store:
// the keeper grants a new lease as soon as the store answers and calls
// `on_granted` with it, so the owner writes its keys again. `on_granted` is
// also called for the first lease.
//
// Thread: id() and Stop from any thread; on_granted runs on the keeper's
// thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "config/store/etcd_client.h"

namespace hnv::store {

class LeaseKeeper {
 public:
  LeaseKeeper(EtcdClient* client, int64_t ttl_seconds, std::function<void(int64_t id)> on_granted);
  ~LeaseKeeper();
  LeaseKeeper(const LeaseKeeper&) = delete;
  LeaseKeeper& operator=(const LeaseKeeper&) = delete;

  // The current lease, 0 while there is none.
  int64_t id() const { return id_.load(std::memory_order_acquire); }
  // How many leases were granted (1 after the first; more after losses).
  int grants() const { return grants_.load(std::memory_order_acquire); }
  // Stops refreshing; with `revoke`, revokes the lease so its keys go now
  // (a clean shutdown) instead of after the TTL.
  void Stop(bool revoke);

 private:
  void Run();
  // Refreshes `id` until it is lost (true) or the keeper stops (false).
  bool KeepAlive(int64_t id);
  bool Sleep(std::chrono::milliseconds d);  // false: stopping

  EtcdClient* client_;
  int64_t ttl_;
  std::function<void(int64_t)> on_granted_;
  std::atomic<int64_t> id_{0};
  std::atomic<int> grants_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  void* live_ctx_ = nullptr;  // grpc::ClientContext of the live stream, under mu_
  std::thread thread_;
};

}  // namespace hnv::store
