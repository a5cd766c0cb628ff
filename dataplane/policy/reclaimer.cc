// rte_rcu_qsbr_dq_* are experimental in DPDK 22.11.
#define ALLOW_EXPERIMENTAL_API 1

#include "dataplane/policy/reclaimer.h"

#include <rte_errno.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/policy/tsan.h"

namespace hnv {
namespace {

struct Entry {
  Reclaimer::Fn fn;
  void* ctx;
  uint64_t arg;
};

// Under ThreadSanitizer only. The grace period before a free is checked in
// DPDK's uninstrumented librte_rcu (rte_rcu_qsbr_dq_reclaim), so TSan does
// not see the acquire of the readers' quiescent counters that orders the free
// after their last use; their release is seen (the inline
// rte_rcu_qsbr_quiescent). Acquiring each counter here, before the frees,
// shows TSan that order.
void AcquireReaders([[maybe_unused]] rte_rcu_qsbr* v) {
#ifdef HNV_THREAD_SANITIZER
  for (uint32_t i = 0; i < v->max_threads; ++i) (void)__atomic_load_n(&v->qsbr_cnt[i].cnt, __ATOMIC_ACQUIRE);
#endif
}

}  // namespace

void Reclaimer::RunDue(void* self, void* e, unsigned int n) {
  auto* r = static_cast<Reclaimer*>(self);
  AcquireReaders(r->qsv_);
  auto* entries = static_cast<Entry*>(e);
  for (unsigned int i = 0; i < n; ++i) {
    entries[i].fn(entries[i].ctx, entries[i].arg);
    --r->pending_;
  }
}

std::unique_ptr<Reclaimer> Reclaimer::Create(rte_rcu_qsbr* qsv, const std::string& name,
                                             uint32_t capacity, std::string* error) {
  if (qsv == nullptr) {
    *error = name + ": no RCU variable";
    return nullptr;
  }
  std::unique_ptr<Reclaimer> r(new Reclaimer(qsv));
  rte_rcu_qsbr_dq_parameters p{};
  const std::string dq_name = name.substr(0, RTE_RCU_QSBR_DQ_NAMESIZE - 1);
  p.name = dq_name.c_str();
  p.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE;  // one writer thread
  p.size = capacity < 64 ? 64 : capacity;
  r->capacity_ = p.size;
  p.esize = sizeof(Entry);
  // Enqueues reclaim what is due once a quarter of the queue is waiting.
  p.trigger_reclaim_limit = p.size / 4;
  p.max_reclaim_size = 256;
  p.free_fn = RunDue;
  p.p = r.get();
  p.v = qsv;
  r->dq_ = rte_rcu_qsbr_dq_create(&p);
  if (r->dq_ == nullptr) {
    *error = name + ": RCU defer queue: " + rte_strerror(rte_errno);
    return nullptr;
  }
  return r;
}

Reclaimer::~Reclaimer() {
  if (dq_ == nullptr) return;
  Synchronize();  // no reader may run by now: this returns at once
  rte_rcu_qsbr_dq_delete(dq_);
}

void Reclaimer::Retire(Fn fn, void* ctx, uint64_t arg) {
  if (pending_ >= capacity_) {
    Reclaim();
    // Full even after reclaiming what was due (a reader has not passed a
    // quiescent state for a long while): wait for the readers.
    if (pending_ >= capacity_) Synchronize();
  }
  Entry e{fn, ctx, arg};
  ++pending_;
  while (rte_rcu_qsbr_dq_enqueue(dq_, &e) != 0) Synchronize();  // not expected: room was made
}

void Reclaimer::Retire(std::function<void()> release) {
  auto* f = new std::function<void()>(std::move(release));
  Retire(
      [](void* p, uint64_t) {
        auto* g = static_cast<std::function<void()>*>(p);
        (*g)();
        delete g;
      },
      f, 0);
}

void Reclaimer::Reclaim() {
  if (pending_ != 0) rte_rcu_qsbr_dq_reclaim(dq_, ~0u, nullptr, nullptr, nullptr);
}

void Reclaimer::Synchronize() {
  if (pending_ == 0) return;
  rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID);
  Reclaim();
}

}  // namespace hnv
