// Reclaimer: the one way memory the workers may still be reading is freed
// — after an RCU grace period on the dataplane's rte_rcu_qsbr, through
// DPDK's QSBR defer queue (rte_rcu_qsbr_dq).
//
// Theory of operation. A writer (the control thread) unpublishes something
// (swaps a snapshot pointer, clears a hash slot, drops a route's adjacency)
// and retires it: Retire(fn, ctx, arg) records the grace-period token and
// the call. fn(ctx, arg) runs once every registered reader has reported a
// quiescent state since (workers do once per loop iteration), in retirement
// order: by Reclaim (cheap when nothing is due; the writers call it on their
// way), by a Retire that finds the queue full (it reclaims, and if nothing
// is due yet waits for a grace period: never an allocation, never a lost
// entry), or by Synchronize (waits, then runs everything). The destructor
// runs what is left: by then no reader may run.
// The policy tables, their hash tables and the gateway's tables retire
// through one Reclaimer: the Dataplane's (or, for a table made alone, its
// own). A released function must not call Retire (it runs inside the
// queue's own reclaim).
//
// Thread contract: every member from the single writer thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

struct rte_rcu_qsbr;
struct rte_rcu_qsbr_dq;

namespace hnv {

class Reclaimer {
 public:
  using Fn = void (*)(void* ctx, uint64_t arg);
  // `capacity`: entries waiting at most before Retire has to wait for a
  // grace period.
  static std::unique_ptr<Reclaimer> Create(rte_rcu_qsbr* qsv, const std::string& name,
                                           uint32_t capacity, std::string* error);
  ~Reclaimer();
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  void Retire(Fn fn, void* ctx, uint64_t arg);
  // For rare, structural retirements (a closure; allocates).
  void Retire(std::function<void()> release);
  template <typename T>
  void Delete(const T* p) {
    if (p != nullptr) Retire([](void* q, uint64_t) { delete static_cast<const T*>(q); }, const_cast<T*>(p), 0);
  }

  void Reclaim();
  void Synchronize();
  uint32_t pending() const { return pending_; }
  rte_rcu_qsbr* qsv() const { return qsv_; }

 private:
  Reclaimer(rte_rcu_qsbr* qsv) : qsv_(qsv) {}
  // The defer queue's free function: runs `n` entries that are due.
  static void RunDue(void* self, void* entries, unsigned int n);
  rte_rcu_qsbr* qsv_;
  rte_rcu_qsbr_dq* dq_ = nullptr;
  uint32_t pending_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace hnv
